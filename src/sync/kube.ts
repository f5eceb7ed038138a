// A small Kubernetes client for one cluster: server-side apply, get, list by label and delete of
// any kind, with REST paths found by API discovery. It classifies every HTTP failure once, here,
// by status code (ApplyError.retryable), and bounds the requests in flight so a large sync cannot
// flood a member's API server. It never reads or writes whole objects to update them (SSA only).

import http from "node:http";
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { ApplyError, FlotillaError, isRetryableStatus } from "../api/errors.js";
import { FIELD_MANAGER } from "../api/labels.js";
import type { ManagedFieldsEntry, Manifest } from "../api/types.js";

/** Identifies one object on a cluster. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** How a kind is served: its REST collection and whether it lives in a namespace. */
export interface ResourceInfo {
  apiVersion: string;
  kind: string;
  /** Plural resource name, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
}

export interface KubeClientOptions {
  /** The cluster's kubeconfig; its current context is used. */
  kubeConfig: KubeConfig;
  /** Requests in flight at once against this cluster; more wait in a queue. Default 8. */
  maxInFlight?: number;
  /** Per-request timeout in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** Field manager for server-side apply. Default `flotilla`. */
  fieldManager?: string;
  /** How long authentication headers (tokens, exec plugins) are reused, in ms. Default 60 000. */
  authRefreshMs?: number;
  /** Told of every request sent, by verb (metrics). */
  onRequest?: (verb: string) => void;
}

/** One change seen by {@link KubeClient.watchMetadata}: what happened, and the object's metadata. */
export interface MetadataWatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  metadata: {
    name?: string;
    namespace?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    managedFields?: ManagedFieldsEntry[];
  };
}

export interface ReadOptions {
  /**
   * Read from the API server's watch cache instead of a quorum read from etcd, which reads every
   * object of the namespace to filter a few. The read is never older than this client's newest
   * write of the kind (`resourceVersionMatch=NotOlderThan`; the server waits for its cache to
   * catch up), so health read after an apply sees the applied object even when the cache lags,
   * e.g. on another API server of an HA control plane. Per kind, because each kind has its own
   * cache, which reaches a version only with an event of its kind. For health; not for a
   * compare before an apply.
   */
  cached?: boolean;
}

/** The key of a kind across its API versions (one watch cache serves them all). */
function kindOf(ref: { apiVersion: string; kind: string }): string {
  return `${splitApiVersion(ref.apiVersion).group}/${ref.kind}`;
}

/** The server's answer when asked for a resourceVersion it has not reached (e.g. etcd restored from a backup). */
const TOO_LARGE_VERSION = /too large resource version/i;

/** The server no longer keeps the resourceVersion a watch asked for: list again, then watch. */
export class WatchExpiredError extends FlotillaError {
  override name = "WatchExpiredError";
  constructor(readonly object: string) {
    super(`watch of ${object}: resourceVersion too old; list again`);
  }
}

/** Metadata-only representations (meta.k8s.io/v1): a list or a watch reads no spec or status. */
const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const METADATA_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

/** Counts of requests sent, by verb; benchmarks and tests read them. */
export interface RequestStats {
  total: number;
  byVerb: Record<string, number>;
}

/** `Kind/namespace/name` (namespaced) or `Kind/name` (cluster-scoped): how objects are named in messages. */
export function formatRef(ref: { kind: string; namespace?: string | undefined; name: string }): string {
  return ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

export function refOf(obj: Manifest): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

/** An HTTP answer: its status code and its body (parsed JSON, or the text when it is not JSON). */
export interface HttpResult {
  status: number;
  body: unknown;
}

/** A counting semaphore: at most `limit` holders at once, FIFO. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(private readonly limit: number) {}
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** How much of a text error page (a proxy's, a load balancer's) a message quotes. */
const TEXT_EXCERPT = 200;

function statusMessage(body: unknown, status: number): string {
  if (body && typeof body === "object" && typeof (body as { message?: unknown }).message === "string") {
    return (body as { message: string }).message;
  }
  if (typeof body === "string") {
    // Markup is noise in a one-line message: keep the words of the page.
    const text = body.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim();
    if (text) return text.length > TEXT_EXCERPT ? `${text.slice(0, TEXT_EXCERPT)}…` : text;
  }
  return `HTTP ${status}`;
}

/**
 * The ApplyError for a failed HTTP answer: what failed, the server's message and the status code,
 * retryable by status code alone (see isRetryableStatus), never by the message text.
 */
export function httpError(res: HttpResult, object: string, what: string): ApplyError {
  return new ApplyError(`${what}: ${statusMessage(res.body, res.status)} (HTTP ${res.status})`, {
    object,
    status: res.status,
    retryable: isRetryableStatus(res.status),
  });
}

/** A response body as JSON; text that is not JSON (a proxy's error page) is kept for the message. */
function parseBody(raw: Buffer): unknown {
  const text = raw.toString("utf8");
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function groupVersionPath(apiVersion: string): string {
  const { group } = splitApiVersion(apiVersion);
  return group === "" ? `/api/${apiVersion}` : `/apis/${apiVersion}`;
}

export class KubeClient {
  readonly server: URL;
  readonly stats: RequestStats = { total: 0, byVerb: {} };
  private readonly onRequest: ((verb: string) => void) | undefined;
  /** The newest resourceVersion this client's writes returned, per kind (see ReadOptions.cached). */
  private readonly writtenVersions = new Map<string, bigint>();
  private readonly kubeConfig: KubeConfig;
  private readonly limiter: Limiter;
  private readonly timeoutMs: number;
  private readonly fieldManager: string;
  private readonly authRefreshMs: number;
  private agent: http.Agent | undefined;
  private tls: https.RequestOptions = {};
  private authAt = 0;
  /** Discovery per group/version: kind → resource. A rejected fetch is dropped so it is retried. */
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(options: KubeClientOptions) {
    const cluster = options.kubeConfig.getCurrentCluster();
    if (!cluster) throw new ApplyError("the kubeconfig has no current cluster", { object: "kubeconfig", retryable: false });
    this.server = new URL(cluster.server);
    this.kubeConfig = options.kubeConfig;
    this.limiter = new Limiter(options.maxInFlight ?? 8);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.fieldManager = options.fieldManager ?? FIELD_MANAGER;
    this.authRefreshMs = options.authRefreshMs ?? 60_000;
    this.onRequest = options.onRequest;
  }

  /** Close idle keep-alive connections; the client stays usable (sockets reopen on demand). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  // ---------- discovery ----------

  /** REST information for a kind; re-discovers its group/version once when the kind is unknown. */
  async resource(apiVersion: string, kind: string, object: string = kind): Promise<ResourceInfo> {
    const known = (await this.discover(apiVersion, false)).get(kind);
    if (known) return known;
    // A kind can appear after the first discovery (a CRD just became Established): look once more.
    const fresh = (await this.discover(apiVersion, true)).get(kind);
    if (fresh) return fresh;
    throw new ApplyError(`the cluster does not serve kind ${kind} in ${apiVersion}; install its CRD or fix apiVersion`, {
      object,
      status: 404,
      retryable: isRetryableStatus(404),
    });
  }

  /** Forget what discovery learnt about a group/version (or everything), e.g. after a CRD changed. */
  forgetDiscovery(apiVersion?: string): void {
    if (apiVersion === undefined) this.discovery.clear();
    else this.discovery.delete(apiVersion);
  }

  private discover(apiVersion: string, refresh: boolean): Promise<Map<string, ResourceInfo>> {
    const cached = this.discovery.get(apiVersion);
    if (cached && !refresh) return cached;
    const pending = (async () => {
      const res = await this.request("GET", groupVersionPath(apiVersion), undefined, "discovery");
      const out = new Map<string, ResourceInfo>();
      if (res.status === 404) return out; // group/version not served (yet)
      if (res.status >= 300) throw this.error(res, apiVersion, `discovery of ${apiVersion} failed`);
      const resources = (res.body as { resources?: { name: string; kind: string; namespaced: boolean }[] }).resources ?? [];
      for (const r of resources) {
        if (r.name.includes("/")) continue; // subresources such as deployments/status
        out.set(r.kind, { apiVersion, kind: r.kind, plural: r.name, namespaced: r.namespaced });
      }
      return out;
    })();
    this.discovery.set(apiVersion, pending);
    pending.catch(() => {
      if (this.discovery.get(apiVersion) === pending) this.discovery.delete(apiVersion);
    });
    return pending;
  }

  private async path(ref: { apiVersion: string; kind: string; namespace?: string | undefined; name?: string }): Promise<string> {
    const object = formatRef({ kind: ref.kind, namespace: ref.namespace, name: ref.name ?? "*" });
    const info = await this.resource(ref.apiVersion, ref.kind, object);
    let p = groupVersionPath(ref.apiVersion);
    if (info.namespaced) {
      if (!ref.namespace && ref.name !== undefined) {
        throw new ApplyError("namespaced kind without metadata.namespace", { object: formatRef({ kind: ref.kind, name: ref.name }), retryable: false });
      }
      if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    }
    p += `/${info.plural}`;
    if (ref.name !== undefined) p += `/${encodeURIComponent(ref.name)}`;
    return p;
  }

  // ---------- verbs ----------

  /** Server-side apply (force, field manager `flotilla`); returns the live object after the apply. */
  async apply(obj: Manifest, options: { dryRun?: boolean } = {}): Promise<Manifest> {
    const ref = refOf(obj);
    const query = new URLSearchParams({ fieldManager: this.fieldManager, force: "true" });
    if (options.dryRun) query.set("dryRun", "All");
    const res = await this.request("PATCH", `${await this.path(ref)}?${query}`, obj, "apply", { contentType: "application/apply-patch+yaml" });
    if (res.status >= 300) throw this.error(res, formatRef(ref), "apply failed");
    if (!options.dryRun) this.noteWrite(obj, (res.body as Manifest).metadata?.resourceVersion);
    return res.body as Manifest;
  }

  /**
   * Remember a write's resourceVersion if it is the kind's newest: cached reads of the kind ask
   * for at least it. Versions are opaque to clients, but every etcd-backed server hands out
   * increasing integers; anything else is not tracked (cached reads then take what the cache has).
   */
  noteWrite(object: { apiVersion: string; kind: string }, resourceVersion: string | undefined): void {
    if (!resourceVersion || !/^\d+$/.test(resourceVersion)) return;
    const v = BigInt(resourceVersion);
    const key = kindOf(object);
    const had = this.writtenVersions.get(key);
    if (had === undefined || v > had) this.writtenVersions.set(key, v);
  }

  /**
   * Run a read with the version a cached read asks for (undefined: an etcd read). When the server
   * never reached that version (its etcd was restored from a backup), forget it and read again
   * from the cache as it is.
   */
  private async readFromCacheOrNot(cachedKind: string | undefined, read: (version: string | undefined) => Promise<HttpResult>): Promise<HttpResult> {
    if (cachedKind === undefined) return read(undefined);
    const asked = this.writtenVersions.get(cachedKind);
    const res = await read(asked === undefined ? "0" : String(asked));
    if (asked === undefined || res.status < 300 || !TOO_LARGE_VERSION.test(statusMessage(res.body, res.status))) return res;
    if (this.writtenVersions.get(cachedKind) === asked) this.writtenVersions.delete(cachedKind);
    return read("0");
  }

  /** The live object, or undefined when it does not exist. `cached`: see ReadOptions. */
  async get(ref: ObjectRef, options: ReadOptions = {}): Promise<Manifest | undefined> {
    const path = await this.path(ref);
    const res = await this.readFromCacheOrNot(options.cached ? kindOf(ref) : undefined, (version) => this.request("GET", version === undefined ? path : `${path}?resourceVersion=${version}`, undefined, "get"));
    if (res.status === 404) return undefined;
    if (res.status >= 300) throw this.error(res, formatRef(ref), "get failed");
    return res.body as Manifest;
  }

  /** Objects of one kind, in one namespace (or all, or cluster-scoped), matching a label selector. */
  async list(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string } & ReadOptions = {},
  ): Promise<Manifest[]> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    const base = await this.path({ apiVersion, kind, namespace: options.namespace });
    if (options.cached) {
      // The watch cache answers in one page: a limit with a version would send the list to etcd.
      const res = await this.readFromCacheOrNot(kindOf({ apiVersion, kind }), (version = "0") => {
        const q = new URLSearchParams(query);
        q.set("resourceVersion", version);
        if (version !== "0") q.set("resourceVersionMatch", "NotOlderThan");
        return this.request("GET", `${base}?${q}`, undefined, "list");
      });
      if (res.status >= 300) throw this.error(res, `${kind}/${options.namespace ?? "*"}`, "list failed");
      return ((res.body as { items?: Manifest[] }).items ?? []).map((item) => ({ ...item, apiVersion, kind }));
    }
    const out: Manifest[] = [];
    let cont: string | undefined;
    do {
      if (cont) query.set("continue", cont);
      query.set("limit", "500");
      const res = await this.request("GET", `${base}?${query}`, undefined, "list");
      if (res.status >= 300) throw this.error(res, `${kind}/${options.namespace ?? "*"}`, "list failed");
      const body = res.body as { items?: Manifest[]; metadata?: { continue?: string } };
      // Items of a list carry no apiVersion/kind; restore them so callers see whole objects.
      for (const item of body.items ?? []) out.push({ ...item, apiVersion, kind });
      cont = body.metadata?.continue || undefined;
    } while (cont);
    return out;
  }

  /**
   * The current resourceVersion of a kind's collection (all namespaces), where a watch can start
   * without missing a change. Reads one object's metadata only.
   */
  async collectionVersion(apiVersion: string, kind: string, options: { labelSelector?: string; signal?: AbortSignal } = {}): Promise<string> {
    const query = new URLSearchParams({ limit: "1" });
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    const path = `${await this.path({ apiVersion, kind })}?${query}`;
    const res = await this.request("GET", path, undefined, "list", { accept: METADATA_LIST, ...(options.signal ? { signal: options.signal } : {}) });
    if (res.status >= 300) throw this.error(res, `${kind}/*`, "list failed");
    const version = (res.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (!version) throw new ApplyError("list returned no resourceVersion", { object: `${kind}/*`, retryable: true });
    return version;
  }

  /**
   * Watch a kind's objects in all namespaces from `resourceVersion`, metadata only (a status
   * change still arrives: it moves the resourceVersion). Events are handed over as they come;
   * resolves with the last resourceVersion seen when the server ends the watch (after about
   * `timeoutSeconds`) or the signal aborts. Rejects with {@link WatchExpiredError} when the server
   * no longer has `resourceVersion` (list again), with an ApplyError on any other failure. A watch
   * holds a connection of its own, outside the in-flight bound of the other verbs.
   */
  async watchMetadata(
    apiVersion: string,
    kind: string,
    options: { resourceVersion: string; labelSelector?: string; timeoutSeconds?: number; signal?: AbortSignal },
    onEvent: (event: MetadataWatchEvent) => void,
  ): Promise<string> {
    const timeoutSeconds = options.timeoutSeconds ?? 290;
    const query = new URLSearchParams({ watch: "1", allowWatchBookmarks: "true", resourceVersion: options.resourceVersion, timeoutSeconds: String(timeoutSeconds) });
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    const path = `${await this.path({ apiVersion, kind })}?${query}`;
    await this.prepare();
    this.stats.total++;
    this.stats.byVerb.watch = (this.stats.byVerb.watch ?? 0) + 1;
    this.onRequest?.("watch");
    let last = options.resourceVersion;
    const object = `${kind}/*`;
    const mod = this.server.protocol === "https:" ? https : http;
    return await new Promise<string>((resolve, reject) => {
      if (options.signal?.aborted) return resolve(last);
      const { headers, ...tls } = this.tls;
      const req = mod.request({
        ...tls,
        protocol: this.server.protocol,
        hostname: this.server.hostname,
        port: this.server.port,
        path: this.server.pathname.replace(/\/$/, "") + path,
        method: "GET",
        agent: false,
        // The server sends a bookmark about once a minute: a longer silence is a dead connection.
        timeout: (timeoutSeconds + 60) * 1000,
        headers: { ...(headers ?? {}), Accept: METADATA_OBJECT },
      });
      const onAbort = () => req.destroy();
      options.signal?.addEventListener("abort", onAbort, { once: true });
      const done = (error?: Error) => {
        options.signal?.removeEventListener("abort", onAbort);
        if (options.signal?.aborted) resolve(last);
        else if (error) reject(error);
        else resolve(last);
      };
      req.on("timeout", () => req.destroy(new Error(`watch silent for ${timeoutSeconds + 60} s`)));
      req.on("error", (cause) => done(new ApplyError(`watch of ${kind} failed: ${cause.message}`, { object, retryable: true, cause })));
      req.on("response", (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const status = res.statusCode ?? 0;
            done(status === 410 ? new WatchExpiredError(object) : this.error({ status, body: parseBody(Buffer.concat(chunks)) }, object, "watch failed"));
          });
          return;
        }
        let pending = "";
        let failure: Error | undefined;
        res.setEncoding("utf8");
        res.on("data", (text: string) => {
          pending += text;
          let newline = pending.indexOf("\n");
          while (newline >= 0 && !failure) {
            const line = pending.slice(0, newline);
            pending = pending.slice(newline + 1);
            newline = pending.indexOf("\n");
            if (!line.trim()) continue;
            let event: { type: MetadataWatchEvent["type"] | "ERROR"; object: { code?: number; message?: string; metadata?: MetadataWatchEvent["metadata"] } };
            try {
              event = JSON.parse(line);
            } catch {
              failure = new ApplyError(`watch of ${kind}: the server sent a line that is not JSON`, { object, retryable: true });
              req.destroy();
              return;
            }
            if (event.type === "ERROR") {
              failure = event.object.code === 410 ? new WatchExpiredError(object) : new ApplyError(`watch of ${kind} failed: ${event.object.message ?? "error event"}`, { object, retryable: true });
              req.destroy();
              return;
            }
            const metadata = event.object.metadata ?? {};
            if (metadata.resourceVersion) last = metadata.resourceVersion;
            onEvent({ type: event.type, metadata });
          }
        });
        res.on("error", (error) => done(failure ?? error));
        res.on("close", () => done(failure));
      });
      req.end();
    });
  }

  /**
   * Delete one object (background propagation). With `uid`, the server refuses to delete a
   * different object of the same name (a precondition), so a verified owner check cannot race.
   * Returns false when the object was already gone.
   */
  async delete(ref: ObjectRef, options: { uid?: string } = {}): Promise<boolean> {
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" };
    if (options.uid) body.preconditions = { uid: options.uid };
    const res = await this.request("DELETE", await this.path(ref), body, "delete");
    if (res.status === 404) return false;
    if (res.status >= 300) throw this.error(res, formatRef(ref), "delete failed");
    return true;
  }

  // ---------- transport ----------

  private error(res: HttpResult, object: string, what: string): ApplyError {
    return httpError(res, object, what);
  }

  private async prepare(): Promise<void> {
    const now = Date.now();
    if (this.agent && now - this.authAt < this.authRefreshMs) return;
    const opts: https.RequestOptions = {};
    await this.kubeConfig.applyToHTTPSOptions(opts);
    const { ca, cert, key, rejectUnauthorized, servername, headers, auth } = opts;
    this.tls = {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
      ...(servername ? { servername } : {}),
      ...(headers ? { headers } : {}),
      ...(auth ? { auth } : {}),
    };
    if (!this.agent) {
      const agentOptions = { keepAlive: true, maxSockets: 16 };
      this.agent =
        this.server.protocol === "https:"
          ? new https.Agent({
              ...agentOptions,
              ...(ca ? { ca } : {}),
              ...(cert ? { cert } : {}),
              ...(key ? { key } : {}),
              ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
              ...(servername ? { servername } : {}),
            })
          : new http.Agent(agentOptions);
    }
    this.authAt = now;
  }

  private request(
    method: string,
    path: string,
    body: unknown,
    verb: string,
    { contentType = "application/json", accept = "application/json", signal }: { contentType?: string; accept?: string; signal?: AbortSignal } = {},
  ): Promise<HttpResult> {
    return this.limiter.run(async () => {
      await this.prepare();
      this.stats.total++;
      this.stats.byVerb[verb] = (this.stats.byVerb[verb] ?? 0) + 1;
      this.onRequest?.(verb);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const mod = this.server.protocol === "https:" ? https : http;
      const basePath = this.server.pathname.replace(/\/$/, "");
      return await new Promise<HttpResult>((resolve, reject) => {
        const req = mod.request(
          {
            protocol: this.server.protocol,
            hostname: this.server.hostname,
            port: this.server.port,
            path: basePath + path,
            method,
            agent: this.agent,
            timeout: this.timeoutMs,
            ...(signal ? { signal } : {}),
            ...(this.tls.auth ? { auth: this.tls.auth } : {}),
            headers: {
              ...(this.tls.headers ?? {}),
              Accept: accept,
              ...(payload === undefined ? {} : { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) }),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks)) }));
            res.on("error", reject);
          },
        );
        req.on("timeout", () => req.destroy(new Error(`request timed out after ${this.timeoutMs} ms`)));
        req.on("error", (cause) =>
          reject(
            new ApplyError(`cannot reach ${this.server.host}: ${cause.message}`, {
              object: `${method} ${path.split("?")[0]}`,
              retryable: isRetryableStatus(undefined),
              cause,
            }),
          ),
        );
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    });
  }
}
