// The in-memory deployments and clusters of the session: one list fetch each, then kept current by
// ONE EventSource on /api/events (the session cookie authenticates it). Events are applied to the
// maps as they arrive and listeners are told once per short tick, so a burst of 100 events costs
// the list one render; an unchanged summary keeps its object identity, so only changed rows
// re-render. It never polls: after a dropped stream it refetches once, when the stream is back.

import { api } from "./api.js";
import type { ClusterItem, DeploymentDeleted, DeploymentSummary } from "../contract.js";

export type Connection = "connecting" | "live" | "offline";
type Listener = () => void;

export const deploymentKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** How long events are gathered before listeners hear of them. */
const FLUSH_MS = 50;
/** How long to wait before opening a new stream after the server closed one (e.g. a 401 or a restart). */
const RECONNECT_MS = 5000;

export class LiveStore {
  readonly deployments = new Map<string, DeploymentSummary>();
  readonly clusters = new Map<string, ClusterItem>();
  deploymentsLoaded = false;
  clustersLoaded = false;
  loadError: string | undefined;
  connection: Connection = "connecting";
  /** Bumped on every flush that changed a deployment or cluster: views memoise on it. */
  version = 0;

  private readonly listeners = new Set<Listener>();
  private readonly keyListeners = new Map<string, Set<Listener>>();
  private readonly changed = new Set<string>();
  /** A deployment or cluster changed since the last flush (a connection change alone does not bump `version`). */
  private dirty = false;
  private notify = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private source: EventSource | undefined;
  private reconnect: ReturnType<typeof setTimeout> | undefined;
  /** Events that arrive while a list fetch is in flight are replayed on top of its answer. */
  private buffered: Array<() => void> | undefined;
  private hadError = false;
  private started = false;
  private stopped = false;

  constructor(private readonly eventsUrl = "/api/events") {}

  /** Opens the stream and reads the lists; a second call does nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.open();
    void this.refetch();
  }

  stop(): void {
    this.source?.close();
    this.source = undefined;
    this.stopped = true;
    clearTimeout(this.reconnect);
    clearTimeout(this.timer);
  }

  /** Called on every change of the store (after the tick). */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when the deployment `<ns>/<name>` changed (an event named it). */
  subscribeDeployment(key: string, listener: Listener): () => void {
    let set = this.keyListeners.get(key);
    if (!set) {
      set = new Set();
      this.keyListeners.set(key, set);
    }
    set.add(listener);
    return () => set.delete(listener);
  }

  private open(): void {
    if (this.stopped) return;
    this.setConnection("connecting");
    const source = new EventSource(this.eventsUrl);
    this.source = source;
    source.addEventListener("open", () => {
      this.setConnection("live");
      // Events may have been missed while the stream was down: read the lists once more.
      if (this.hadError) void this.refetch();
      this.hadError = false;
    });
    source.addEventListener("error", () => {
      this.hadError = true;
      this.setConnection("offline");
      // EventSource retries by itself after a dropped connection, but not after a refused one.
      if (source.readyState === EventSource.CLOSED && this.source === source) {
        // Refused: maybe the session expired. whoami answers 401 then, and the app's 401 handler
        // sends the user to sign in (which stops this store); otherwise try again in a while.
        api.whoami().catch(() => {});
        clearTimeout(this.reconnect);
        this.reconnect = setTimeout(() => {
          if (this.source === source) this.open();
        }, RECONNECT_MS);
      }
    });
    source.addEventListener("deployment", (e) => this.onEvent(() => this.applyDeployment(JSON.parse((e as MessageEvent<string>).data))));
    source.addEventListener("cluster", (e) => this.onEvent(() => this.applyCluster(JSON.parse((e as MessageEvent<string>).data))));
  }

  private onEvent(apply: () => void): void {
    try {
      if (this.buffered) this.buffered.push(apply);
      else apply();
    } catch {
      // A malformed event is dropped; the next list fetch corrects the picture.
    }
  }

  /** Reads both lists; events arriving meanwhile are applied on top of the answers. */
  async refetch(): Promise<void> {
    this.buffered = [];
    try {
      const [deployments, clusters] = await Promise.all([api.deployments(), api.clusters()]);
      this.deployments.clear();
      for (const d of deployments.items) this.deployments.set(deploymentKey(d.namespace, d.name), d);
      this.clusters.clear();
      for (const c of clusters.items) this.clusters.set(c.name, c);
      this.deploymentsLoaded = true;
      this.clustersLoaded = true;
      this.loadError = undefined;
    } catch (err) {
      this.loadError = (err as Error).message;
    } finally {
      const replay = this.buffered ?? [];
      this.buffered = undefined;
      for (const apply of replay) apply();
      // The lists are what the page waits for: show them now, not a tick later.
      clearTimeout(this.timer);
      this.dirty = true;
      this.flush();
    }
  }

  private applyDeployment(data: DeploymentSummary | DeploymentDeleted): void {
    const key = deploymentKey(data.namespace, data.name);
    if ("deleted" in data && data.deleted) this.deployments.delete(key);
    else this.deployments.set(key, data as DeploymentSummary);
    this.changed.add(key);
    this.dirty = true;
    this.schedule();
  }

  private applyCluster(data: ClusterItem): void {
    this.clusters.set(data.name, data);
    this.dirty = true;
    this.schedule();
  }

  private setConnection(c: Connection): void {
    if (this.connection === c) return;
    this.connection = c;
    this.notify = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.dirty && !this.notify) return;
    if (this.dirty) this.version++;
    this.dirty = false;
    this.notify = false;
    const changed = [...this.changed];
    this.changed.clear();
    for (const l of this.listeners) l();
    for (const key of changed) for (const l of this.keyListeners.get(key) ?? []) l();
  }
}
