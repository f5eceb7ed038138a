// Tells which objects changed on one member cluster, so health is re-read and drift looked for in
// their deployments only: one metadata-only watch per kind Flotilla applied there (all namespaces,
// Flotilla's label). A settled fleet then costs no reads at all between full resyncs, where polling
// read every object and Pod of the cluster once a minute. Nothing is cached: an event is handed on
// and dropped.

import { backoffDelay } from "../support/backoff.js";
import { type Clock, systemClock } from "../support/clock.js";
import { WatchExpiredError } from "../api/errors.js";
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/labels.js";
import type { ClusterApi } from "../kube/cluster-api.js";
import type { ObservedChange } from "./drift-suspects.js";
import { deploymentOf } from "./health.js";
import { objectKey } from "./types.js";

export interface ChangeWatchOptions {
  client: ClusterApi;
  /** A watched object was added, changed or deleted (`deployment` as its labels name it). */
  onChange: (change: ObservedChange) => void;
  /**
   * Changes of objects of this kind may have been missed (its watch started, or started again from
   * a fresh list): they should be read once.
   */
  onMissed: (kind: KindKey) => void;
  /** First and largest delay before a failed watch starts again, ms. Default 1 000 and 60 000. */
  retryMs?: { initial: number; max: number };
  /** Tells a watch that ended at once from one that ran. Default: the system clock. */
  clock?: Clock;
}

/** `apiVersion|kind`: how a watched kind is named. */
export type KindKey = `${string}|${string}`;

export function kindKey(o: { apiVersion: string; kind: string }): KindKey {
  return `${o.apiVersion}|${o.kind}`;
}

const SELECTOR = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;

export class ChangeWatch {
  private readonly watches = new Map<KindKey, { abort: AbortController; connected: boolean; done: Promise<void> }>();
  private stopped = false;

  constructor(private readonly o: ChangeWatchOptions) {}

  /** Watch exactly these kinds: new ones start, ones no longer listed stop. */
  setKinds(kinds: Iterable<KindKey>): void {
    if (this.stopped) return;
    const wanted = new Set(kinds);
    for (const [key, w] of this.watches) {
      if (wanted.has(key)) continue;
      w.abort.abort();
      this.watches.delete(key);
    }
    for (const key of wanted) {
      if (this.watches.has(key)) continue;
      const abort = new AbortController();
      const entry = { abort, connected: false, done: Promise.resolve() };
      entry.done = this.run(key, entry, abort.signal);
      this.watches.set(key, entry);
    }
  }

  /** True when every kind asked for is being watched (so no change can go unnoticed). */
  get complete(): boolean {
    if (this.watches.size === 0) return false;
    for (const w of this.watches.values()) if (!w.connected) return false;
    return true;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.watches.values()];
    this.watches.clear();
    for (const w of all) w.abort.abort();
    await Promise.all(all.map((w) => w.done));
  }

  private async run(key: KindKey, entry: { connected: boolean }, signal: AbortSignal): Promise<void> {
    const clock = this.o.clock ?? systemClock;
    const [apiVersion, kind] = key.split("|") as [string, string];
    const { initial, max } = this.o.retryMs ?? { initial: 1_000, max: 60_000 };
    let version: string | undefined;
    let failures = 0;
    while (!signal.aborted) {
      let started = clock.now();
      try {
        if (version === undefined) {
          version = await this.o.client.collectionVersion(apiVersion, kind, { labelSelector: SELECTOR, signal });
          // What changed before this list (since the last read, or while a watch was broken) is unknown.
          this.o.onMissed(key);
        }
        entry.connected = true;
        started = clock.now();
        version = await this.o.client.watchMetadata(apiVersion, kind, { resourceVersion: version, labelSelector: SELECTOR, signal }, (event) => {
          if (event.type === "BOOKMARK") return;
          const object = { apiVersion, kind, metadata: { ...event.metadata, name: event.metadata.name ?? "" } };
          this.o.onChange({ type: event.type, key: objectKey(object), deployment: deploymentOf(object), metadata: event.metadata });
        });
        // A server that ends every watch at once would otherwise be asked again in a tight loop.
        if (clock.now() - started < 1_000 && !signal.aborted) throw new Error("the watch ended at once");
        failures = 0;
      } catch (error) {
        entry.connected = false;
        if (signal.aborted) return;
        if (error instanceof WatchExpiredError) {
          version = undefined;
          // A watch that ran for a while just lists again; one refused at once backs off.
          if (clock.now() - started >= 1_000) continue;
        }
        // A broken connection resumes from the last resourceVersion seen: nothing is missed.
        failures++;
        await sleep(backoffDelay(failures, { initialMs: initial, maxMs: max }), signal);
      }
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
