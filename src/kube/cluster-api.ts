// What the sync loop needs of one cluster's API, and nothing more: the seam where unit tests put
// a fake and where the pull-mode agent puts the in-cluster client.

import type { ManagedFieldsEntry, Manifest } from "../api/types.js";
import type { ResourceInfo } from "./discovery.js";
import type { ObjectRef } from "./refs.js";
import type { RequestStats } from "./transport.js";

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

export interface ListOptions extends ReadOptions {
  namespace?: string;
  labelSelector?: string;
}

/** One change seen by {@link ClusterApi.watchMetadata}: what happened, and the object's metadata. */
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

export interface MetadataWatchOptions {
  resourceVersion: string;
  labelSelector?: string;
  timeoutSeconds?: number;
  signal?: AbortSignal;
}

/**
 * Every method fails with a KubeApiError (retryable by status code; `reason` the server's
 * Status.reason), never with a bare Error.
 */
export interface ClusterApi {
  readonly stats: RequestStats;
  /** Server-side apply (force, the client's field manager); returns the live object after it. */
  apply(obj: Manifest, options?: { dryRun?: boolean }): Promise<Manifest>;
  /** The live object, or undefined when it does not exist. */
  get(ref: ObjectRef, options?: ReadOptions): Promise<Manifest | undefined>;
  /** Objects of one kind, in one namespace (or all, or cluster-scoped), matching a label selector. */
  list(apiVersion: string, kind: string, options?: ListOptions): Promise<Manifest[]>;
  /** Delete one object (background propagation); with `uid` only that very object. False when already gone. */
  delete(ref: ObjectRef, options?: { uid?: string }): Promise<boolean>;
  /** How a kind is served; fails with 404 NotFound when the cluster does not serve it. */
  resource(apiVersion: string, kind: string): Promise<ResourceInfo>;
  /** Forget what discovery learnt about a group/version (or everything), e.g. after a CRD changed. */
  forgetDiscovery(apiVersion?: string): void;
  /** The current resourceVersion of a kind's collection (all namespaces), where a watch can start. */
  collectionVersion(apiVersion: string, kind: string, options?: { labelSelector?: string; signal?: AbortSignal }): Promise<string>;
  /**
   * Watch a kind's objects in all namespaces, metadata only; resolves with the last
   * resourceVersion seen when the server ends the watch or the signal aborts; rejects with
   * WatchExpiredError when the version is gone (list again).
   */
  watchMetadata(apiVersion: string, kind: string, options: MetadataWatchOptions, onEvent: (event: MetadataWatchEvent) => void): Promise<string>;
}
