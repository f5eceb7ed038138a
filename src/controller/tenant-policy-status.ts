// Keeps each TenantPolicy's status current (src/tenancy/status.ts computes it): told that
// something it depends on changed (a policy, a namespace's labels, a Cluster), it waits a moment so
// a burst costs one pass, then writes the status of every policy whose status differs from what
// the informer shows. Nothing is written when nothing changed, so a resync or a restart costs no
// hub write. A failed write is retried on the next pass, which a failure schedules.

import { canonicalize } from "../api/serialize.js";
import type { Cluster, TenantPolicy, TenantPolicyStatus } from "../api/types.js";
import type { TenantNamespace } from "../tenancy/policy.js";
import { tenantPolicyStatus } from "../tenancy/status.js";

export interface TenantPolicyStatusOptions {
  policies: () => readonly TenantPolicy[];
  /** The hub's namespaces with their labels, or undefined when they are not watched. */
  namespaces: () => readonly TenantNamespace[] | undefined;
  clusters: () => readonly Cluster[];
  /** Whether the caches are listed: a pass before that could write a status from half the facts. */
  ready: () => boolean;
  write: (name: string, status: TenantPolicyStatus) => Promise<void>;
  onError: (name: string, error: unknown) => void;
  /** How long changes are gathered before a pass, ms. Default 500. */
  delayMs?: number;
  /** When a pass failed or the caches were not ready, ms until the next. Default 5,000. */
  retryMs?: number;
}

export class TenantPolicyStatusWriter {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /**
   * The status last written this term, by the policy's uid (a policy deleted and created again
   * under its name starts without status): the informer may not show the write yet.
   */
  private readonly written = new Map<string, string>();

  constructor(private readonly o: TenantPolicyStatusOptions) {}

  /** Something a status depends on changed. */
  changed(): void {
    this.schedule(this.o.delayMs ?? 500);
  }

  /** Resolves when no pass is due or running (tests). */
  async settled(): Promise<void> {
    while (this.timer || this.running) await (this.running ?? new Promise((r) => setTimeout(r, 10)));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.pass().then((retry) => {
        this.running = undefined;
        const again = this.again;
        this.again = false;
        if (again || retry) this.schedule(again ? (this.o.delayMs ?? 500) : (this.o.retryMs ?? 5_000));
      });
    }, ms);
    this.timer.unref?.();
  }

  /** Writes what differs; true when it should run again later (caches not ready, a write failed). */
  private async pass(): Promise<boolean> {
    if (!this.o.ready()) return true;
    const namespaces = this.o.namespaces();
    const clusters = this.o.clusters();
    let failed = false;
    for (const policy of this.o.policies()) {
      const name = policy.metadata.name;
      const id = policy.metadata.uid ?? name;
      const status = tenantPolicyStatus(policy, namespaces, clusters);
      // Canonical key order: the API server hands objects back with their keys sorted.
      const text = JSON.stringify(canonicalize(status));
      if (text === JSON.stringify(canonicalize(policy.status ?? {})) || this.written.get(id) === text) continue;
      try {
        await this.o.write(name, status);
        this.written.set(id, text);
      } catch (e) {
        // A policy deleted meanwhile has nothing to write to; anything else is tried again.
        if ((e as { code?: number }).code === 404) continue;
        failed = true;
        this.o.onError(name, e);
      }
    }
    return failed;
  }
}
