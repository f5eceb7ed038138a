// The web UI's live updates (`GET /api/events`, server-sent events): one fan-out fed by the
// controller's informer handlers. A change is serialized once and written to every open stream
// whose user may see it, so many browsers cost one serialization per change and the hub nothing
// (no watch per browser). Each stream re-checks its user's access when the cached review expires,
// and ends when the token stops being valid; a stream that cannot keep up is closed, never buffered
// without bound.

import type { ServerResponse } from "node:http";
import type { NamespaceScope } from "./auth.js";
import type { ClusterItem, DeploymentSummary } from "./views.js";

/** What one stream's user may see. */
export interface StreamAccess {
  deployments: NamespaceScope;
  /** May list Clusters. */
  clusters: boolean;
}

export interface StreamOptions {
  /** Streams open at once at most; one more is refused (503). Default 256. */
  maxStreams?: number;
  /** A comment line this often keeps proxies from closing an idle stream, ms. Default 15,000. */
  heartbeatMs?: number;
  /** A stream with more than this many bytes not yet sent is closed (the browser reconnects). Default 4 MiB. */
  maxBufferedBytes?: number;
  /** Milliseconds now. Default Date.now. */
  now?: () => number;
}

export interface OpenStream {
  /** The access this stream starts with. */
  access: StreamAccess;
  /** How long `access` holds, ms; then `refresh` is asked again. */
  ttlMs: number;
  /** The user's access now; undefined ends the stream (token no longer valid). Never rejects. */
  refresh: () => Promise<StreamAccess | undefined>;
}

interface Stream {
  res: ServerResponse;
  access: StreamAccess;
  expires: number;
  ttlMs: number;
  refresh: OpenStream["refresh"];
  refreshing: boolean;
}

function mayList(scope: NamespaceScope, namespace: string): boolean {
  return scope.all || scope.namespaces.has(namespace);
}

export function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export class EventStreams {
  private readonly streams = new Set<Stream>();
  private readonly maxStreams: number;
  private readonly maxBuffered: number;
  private readonly now: () => number;
  private readonly heartbeat: NodeJS.Timeout;
  /** The last frame sent per object, so an update that changes nothing the UI shows sends nothing. */
  private readonly last = new Map<string, string>();
  /** Frames serialized so far (one per change, whatever the number of streams): for tests and the bench. */
  serialized = 0;

  constructor(o: StreamOptions = {}) {
    this.maxStreams = o.maxStreams ?? 256;
    this.maxBuffered = o.maxBufferedBytes ?? 4 * 1024 * 1024;
    this.now = o.now ?? Date.now;
    this.heartbeat = setInterval(() => this.broadcast(() => ": heartbeat\n\n"), o.heartbeatMs ?? 15_000);
    this.heartbeat.unref();
  }

  get size(): number {
    return this.streams.size;
  }

  /** Start a stream on `res`; false (nothing written) when the cap is reached. */
  open(res: ServerResponse, o: OpenStream): boolean {
    if (this.streams.size >= this.maxStreams) return false;
    const stream: Stream = { res, access: o.access, ttlMs: o.ttlMs, expires: this.now() + o.ttlMs, refresh: o.refresh, refreshing: false };
    this.streams.add(stream);
    res.writeHead(200, { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache, no-store", "x-accel-buffering": "no" });
    // The retry hint: a browser whose stream was closed comes back in 3 s.
    res.write("retry: 3000\n: connected\n\n");
    res.on("close", () => this.streams.delete(stream));
    return true;
  }

  /** Drop what was last sent of an object (it changed while no stream was open). */
  forget(kind: "deployment" | "cluster", key: string): void {
    this.last.delete(`${kind}\0${key}`);
  }

  /** A deployment changed (or appeared). */
  deployment(summary: DeploymentSummary): void {
    const key = `deployment\0${summary.namespace}/${summary.name}`;
    if (this.streams.size === 0) return void this.last.delete(key);
    const text = frame("deployment", summary);
    if (this.last.get(key) === text) return;
    this.last.set(key, text);
    this.serialized++;
    this.broadcast((s) => (mayList(s.access.deployments, summary.namespace) ? text : undefined));
  }

  deploymentDeleted(namespace: string, name: string): void {
    this.last.delete(`deployment\0${namespace}/${name}`);
    const text = frame("deployment", { namespace, name, deleted: true });
    this.serialized++;
    this.broadcast((s) => (mayList(s.access.deployments, namespace) ? text : undefined));
  }

  /** A cluster changed; a user who may not list every namespace sees only their deployments on it. */
  cluster(item: ClusterItem): void {
    const key = `cluster\0${item.name}`;
    if (this.streams.size === 0) return void this.last.delete(key);
    const text = frame("cluster", item);
    if (this.last.get(key) === text) return;
    this.last.set(key, text);
    this.serialized++;
    this.broadcast((s) => {
      if (!s.access.clusters) return undefined;
      if (s.access.deployments.all) return text;
      const scope = s.access.deployments;
      return frame("cluster", { ...item, deployments: item.deployments.filter((d) => mayList(scope, d.slice(0, d.indexOf("/")))) });
    });
  }

  clusterDeleted(name: string): void {
    this.last.delete(`cluster\0${name}`);
    const text = frame("cluster", { name, deleted: true });
    this.serialized++;
    this.broadcast((s) => (s.access.clusters ? text : undefined));
  }

  /** End every stream (the server stops). */
  close(): void {
    clearInterval(this.heartbeat);
    for (const s of this.streams) s.res.end();
    this.streams.clear();
  }

  private broadcast(textFor: (s: Stream) => string | undefined): void {
    const now = this.now();
    for (const s of this.streams) {
      if (s.expires <= now) this.recheck(s);
      const text = textFor(s);
      if (text === undefined) continue;
      if (s.res.writableLength > this.maxBuffered) {
        // A browser that stopped reading: closed; it reconnects and reloads the list.
        this.streams.delete(s);
        s.res.destroy();
        continue;
      }
      s.res.write(text);
    }
  }

  /** Ask the user's access again; meanwhile the stream keeps the old answer. */
  private recheck(s: Stream): void {
    if (s.refreshing) return;
    s.refreshing = true;
    void s.refresh().then((access) => {
      s.refreshing = false;
      if (!this.streams.has(s)) return;
      if (access === undefined) {
        this.streams.delete(s);
        s.res.end(frame("signout", { reason: "the token is no longer valid" }));
        return;
      }
      s.access = access;
      s.expires = this.now() + s.ttlMs;
    });
  }
}
