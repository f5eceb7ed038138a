// The one Kubernetes client Flotilla uses: server-side apply, get, list, delete and metadata
// watches of any kind, with REST paths found by discovery, for the sync loop, install and the
// cluster prober; and plain requests and object watches by path for the node simulator. It never
// reads or writes whole objects to update them (SSA only) and fails only with KubeApiError.

import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError } from "../api/errors.js";
import { FIELD_MANAGER } from "../api/labels.js";
import type { Manifest } from "../api/types.js";
import type { ClusterApi, ListOptions, MetadataWatchEvent, MetadataWatchOptions, ReadOptions } from "./cluster-api.js";
import { type Credentials, kubeConfigCredentials } from "./credentials.js";
import { Discovery, type ResourceInfo } from "./discovery.js";
import { formatRef, groupKind, groupVersionPath, type ObjectRef, refOf } from "./refs.js";
import { type HttpResult, httpError, isTooLargeResourceVersion } from "./status.js";
import { type RequestStats, Transport } from "./transport.js";
import { type WatchEvent, watchReader } from "./watch.js";

export interface KubeClientOptions {
  /** The cluster's kubeconfig; its current context is used. One of kubeConfig and credentials. */
  kubeConfig?: KubeConfig;
  credentials?: Credentials;
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

/** Metadata-only representations (meta.k8s.io/v1): a list or a watch reads no spec or status. */
const METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
const METADATA_OBJECT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";

/** The server sends a bookmark about once a minute: a longer silence than this past the timeout is a dead connection. */
const WATCH_SILENCE_MARGIN_S = 60;

export class KubeClient implements ClusterApi {
  readonly server: URL;
  private readonly transport: Transport;
  private readonly discovery: Discovery;
  private readonly fieldManager: string;
  /** The newest resourceVersion this client's writes returned, per kind (see ReadOptions.cached). */
  private readonly writtenVersions = new Map<string, bigint>();

  constructor(options: KubeClientOptions) {
    const credentials = options.credentials ?? (options.kubeConfig ? kubeConfigCredentials(options.kubeConfig) : undefined);
    if (!credentials) throw new KubeApiError("no kubeconfig and no credentials given", { object: "kubeconfig", retryable: false });
    this.transport = new Transport({
      credentials,
      ...(options.maxInFlight === undefined ? {} : { maxInFlight: options.maxInFlight }),
      ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
      ...(options.authRefreshMs === undefined ? {} : { authRefreshMs: options.authRefreshMs }),
      ...(options.onRequest ? { onRequest: options.onRequest } : {}),
    });
    this.server = this.transport.server;
    this.discovery = new Discovery(this.transport);
    this.fieldManager = options.fieldManager ?? FIELD_MANAGER;
  }

  get stats(): RequestStats {
    return this.transport.stats;
  }

  /** Close idle keep-alive connections; the client stays usable (sockets reopen on demand). */
  close(): void {
    this.transport.close();
  }

  // ---------- discovery ----------

  resource(apiVersion: string, kind: string, object: string = kind): Promise<ResourceInfo> {
    return this.discovery.resource(apiVersion, kind, object);
  }

  forgetDiscovery(apiVersion?: string): void {
    this.discovery.forget(apiVersion);
  }

  private async path(ref: { apiVersion: string; kind: string; namespace?: string | undefined; name?: string }): Promise<string> {
    const object = formatRef({ kind: ref.kind, namespace: ref.namespace, name: ref.name ?? "*" });
    const info = await this.resource(ref.apiVersion, ref.kind, object);
    let p = groupVersionPath(ref.apiVersion);
    if (info.namespaced) {
      if (!ref.namespace && ref.name !== undefined) {
        throw new KubeApiError("namespaced kind without metadata.namespace", { object: formatRef({ kind: ref.kind, name: ref.name }), retryable: false });
      }
      if (ref.namespace) p += `/namespaces/${encodeURIComponent(ref.namespace)}`;
    }
    p += `/${info.plural}`;
    if (ref.name !== undefined) p += `/${encodeURIComponent(ref.name)}`;
    return p;
  }

  // ---------- verbs ----------

  async apply(obj: Manifest, options: { dryRun?: boolean } = {}): Promise<Manifest> {
    const ref = refOf(obj);
    const query = new URLSearchParams({ fieldManager: this.fieldManager, force: "true" });
    if (options.dryRun) query.set("dryRun", "All");
    const res = await this.transport.request("PATCH", `${await this.path(ref)}?${query}`, {
      verb: "apply",
      body: obj,
      contentType: "application/apply-patch+yaml",
    });
    if (res.status >= 300) throw httpError(res, formatRef(ref), "apply failed");
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
    const key = groupKind(object);
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
    if (asked === undefined || !isTooLargeResourceVersion(res)) return res;
    if (this.writtenVersions.get(cachedKind) === asked) this.writtenVersions.delete(cachedKind);
    return read("0");
  }

  async get(ref: ObjectRef, options: ReadOptions = {}): Promise<Manifest | undefined> {
    const path = await this.path(ref);
    const res = await this.readFromCacheOrNot(options.cached ? groupKind(ref) : undefined, (version) =>
      this.transport.request("GET", version === undefined ? path : `${path}?resourceVersion=${version}`, { verb: "get" }),
    );
    if (res.status === 404) return undefined;
    if (res.status >= 300) throw httpError(res, formatRef(ref), "get failed");
    return res.body as Manifest;
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<Manifest[]> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    const base = await this.path({ apiVersion, kind, namespace: options.namespace });
    const object = `${kind}/${options.namespace ?? "*"}`;
    // Items of a list carry no apiVersion/kind; restore them so callers see whole objects.
    const items = (body: unknown) => ((body as { items?: Manifest[] }).items ?? []).map((item) => ({ ...item, apiVersion, kind }));
    if (options.cached) {
      // The watch cache answers in one page: a limit with a version would send the list to etcd.
      const res = await this.readFromCacheOrNot(groupKind({ apiVersion, kind }), (version = "0") => {
        const q = new URLSearchParams(query);
        q.set("resourceVersion", version);
        if (version !== "0") q.set("resourceVersionMatch", "NotOlderThan");
        return this.transport.request("GET", `${base}?${q}`, { verb: "list" });
      });
      if (res.status >= 300) throw httpError(res, object, "list failed");
      return items(res.body);
    }
    const out: Manifest[] = [];
    let cont: string | undefined;
    do {
      if (cont) query.set("continue", cont);
      query.set("limit", "500");
      const res = await this.transport.request("GET", `${base}?${query}`, { verb: "list" });
      if (res.status >= 300) throw httpError(res, object, "list failed");
      out.push(...items(res.body));
      cont = (res.body as { metadata?: { continue?: string } }).metadata?.continue || undefined;
    } while (cont);
    return out;
  }

  /** Reads one object's metadata only. */
  async collectionVersion(apiVersion: string, kind: string, options: { labelSelector?: string; signal?: AbortSignal } = {}): Promise<string> {
    const query = new URLSearchParams({ limit: "1" });
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    const path = `${await this.path({ apiVersion, kind })}?${query}`;
    const res = await this.transport.request("GET", path, { verb: "list", accept: METADATA_LIST, ...(options.signal ? { signal: options.signal } : {}) });
    if (res.status >= 300) throw httpError(res, `${kind}/*`, "list failed");
    const version = (res.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
    if (!version) throw new KubeApiError("list returned no resourceVersion", { object: `${kind}/*`, retryable: true });
    return version;
  }

  /** A status change still arrives (it moves the resourceVersion). A watch holds a connection of its own. */
  async watchMetadata(apiVersion: string, kind: string, options: MetadataWatchOptions, onEvent: (event: MetadataWatchEvent) => void): Promise<string> {
    let last = options.resourceVersion;
    await this.streamWatch<{ metadata?: MetadataWatchEvent["metadata"] }>(
      await this.path({ apiVersion, kind }),
      `${kind}/*`,
      { ...options, accept: METADATA_OBJECT },
      (event) => {
        const metadata = event.object.metadata ?? {};
        if (metadata.resourceVersion) last = metadata.resourceVersion;
        onEvent({ type: event.type, metadata });
      },
    );
    return last;
  }

  /** One watch of a collection from `resourceVersion`, until the server ends it or the signal aborts. */
  private async streamWatch<T>(
    collection: string,
    object: string,
    options: MetadataWatchOptions & { accept?: string },
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<void> {
    const timeoutSeconds = options.timeoutSeconds ?? 290;
    const query = new URLSearchParams({
      watch: "1",
      allowWatchBookmarks: "true",
      resourceVersion: options.resourceVersion,
      timeoutSeconds: String(timeoutSeconds),
    });
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    await this.transport.stream(
      `${collection}?${query}`,
      {
        verb: "watch",
        idleTimeoutMs: (timeoutSeconds + WATCH_SILENCE_MARGIN_S) * 1000,
        ...(options.accept ? { accept: options.accept } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      watchReader<T>(object, onEvent),
    );
  }

  async delete(ref: ObjectRef, options: { uid?: string } = {}): Promise<boolean> {
    const body: Record<string, unknown> = { apiVersion: "v1", kind: "DeleteOptions", propagationPolicy: "Background" };
    if (options.uid) body.preconditions = { uid: options.uid };
    const res = await this.transport.request("DELETE", await this.path(ref), { verb: "delete", body });
    if (res.status === 404) return false;
    if (res.status >= 300) throw httpError(res, formatRef(ref), "delete failed");
    return true;
  }

  // ---------- by path (the node simulator's kubelet verbs) ----------

  /** One request by REST path; answers any status (the caller decides what each means). */
  async send<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; contentType?: string } = {},
  ): Promise<{ status: number; body: T | undefined }> {
    const res = await this.transport.request(method, path, { verb: method.toLowerCase(), ...options });
    return { status: res.status, body: typeof res.body === "object" ? (res.body as T) : undefined };
  }

  /**
   * Watch whole objects of a collection path from `resourceVersion` until the server ends the
   * watch, or the signal aborts (resolves). Rejects with WatchExpiredError when the version is gone.
   */
  watch<T>(
    path: string,
    options: { resourceVersion: string; timeoutSeconds?: number; signal?: AbortSignal },
    onEvent: (event: WatchEvent<T>) => void,
  ): Promise<void> {
    return this.streamWatch<T>(path, path, options, onEvent);
  }
}
