// An in-memory stand-in for one cluster's API behind the ClusterApi interface, for unit tests of
// the sync code: objects by key, resourceVersions that move only when an object changes (as a
// server-side apply that changes nothing leaves the version), uid preconditions on delete, kinds
// served by a small discovery table, and failures a test plants per verb and object. It does not
// merge like the API server; a test that needs the server's merge rules belongs to integration.

import { isRetryableStatus, KubeApiError } from "../../src/api/errors.js";
import type { Manifest } from "../../src/api/types.js";
import type { ClusterApi, ListOptions, MetadataWatchEvent, MetadataWatchOptions } from "../../src/kube/cluster-api.js";
import type { ResourceInfo } from "../../src/kube/discovery.js";
import { formatRef, type ObjectRef } from "../../src/kube/refs.js";
import type { RequestStats } from "../../src/kube/transport.js";

type Verb = "apply" | "dryRun" | "get" | "list" | "delete";

/** What each call asked for, in order. */
export interface FakeCall {
  verb: Verb;
  object: string;
}

const SERVED: Record<string, ResourceInfo> = Object.fromEntries(
  [
    ["v1", "Namespace", "namespaces", false],
    ["v1", "ConfigMap", "configmaps", true],
    ["v1", "Secret", "secrets", true],
    ["v1", "Service", "services", true],
    ["v1", "Pod", "pods", true],
    ["apps/v1", "Deployment", "deployments", true],
    ["apiextensions.k8s.io/v1", "CustomResourceDefinition", "customresourcedefinitions", false],
  ].map(([apiVersion, kind, plural, namespaced]) => [`${apiVersion}|${kind}`, { apiVersion, kind, plural, namespaced }] as [string, ResourceInfo]),
);

function keyOf(ref: { kind: string; namespace?: string | undefined; name: string }): string {
  return formatRef(ref);
}

function refOf(obj: Manifest): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, ...(obj.metadata.namespace ? { namespace: obj.metadata.namespace } : {}) };
}

export class FakeCluster implements ClusterApi {
  readonly stats: RequestStats = { total: 0, byVerb: {} };
  readonly calls: FakeCall[] = [];
  private readonly objects = new Map<string, Manifest>();
  private readonly failures = new Map<string, KubeApiError>();
  private version = 100;
  private uids = 0;

  /** Put an object on the cluster as someone else wrote it (no call recorded). */
  seed(obj: Manifest): Manifest {
    const stored = this.store(structuredClone(obj));
    return structuredClone(stored);
  }

  /** The object as stored, or undefined. */
  peek(kind: string, name: string, namespace?: string): Manifest | undefined {
    const found = this.objects.get(keyOf({ kind, name, namespace }));
    return found && structuredClone(found);
  }

  /** Make every `verb` call on `object` (as formatRef names it) fail with an HTTP status, until cleared. */
  failOn(verb: Verb, object: string, status: number, reason: string): void {
    this.failures.set(
      `${verb} ${object}`,
      new KubeApiError(`${verb} failed: planted (HTTP ${status})`, { object, status, reason, retryable: isRetryableStatus(status) }),
    );
  }

  clearFailures(): void {
    this.failures.clear();
  }

  callsOf(verb: Verb): string[] {
    return this.calls.filter((c) => c.verb === verb).map((c) => c.object);
  }

  private record(verb: Verb, object: string): void {
    this.calls.push({ verb, object });
    this.stats.total++;
    this.stats.byVerb[verb] = (this.stats.byVerb[verb] ?? 0) + 1;
    const failure = this.failures.get(`${verb} ${object}`);
    if (failure) throw failure;
  }

  private served(apiVersion: string, kind: string, object: string): ResourceInfo {
    const info = SERVED[`${apiVersion}|${kind}`];
    if (!info)
      throw new KubeApiError(`the cluster does not serve kind ${kind} in ${apiVersion}`, { object, status: 404, reason: "NotFound", retryable: false });
    return info;
  }

  private store(obj: Manifest): Manifest {
    const key = keyOf(refOf(obj));
    const had = this.objects.get(key);
    obj.metadata.uid = had?.metadata.uid ?? obj.metadata.uid ?? `uid-${++this.uids}`;
    const { resourceVersion: _before, ...hadMeta } = had?.metadata ?? {};
    const { resourceVersion: _after, ...newMeta } = obj.metadata;
    const same = had !== undefined && JSON.stringify({ ...had, metadata: hadMeta }) === JSON.stringify({ ...obj, metadata: newMeta });
    obj.metadata.resourceVersion = same && had.metadata.resourceVersion ? had.metadata.resourceVersion : String(++this.version);
    this.objects.set(key, obj);
    return obj;
  }

  /** The object an apply leaves: the desired fields over the live object's, status and uid kept. */
  private merged(obj: Manifest): Manifest {
    const live = this.objects.get(keyOf(refOf(obj)));
    const next = structuredClone({ ...(live ?? {}), ...obj }) as Manifest;
    next.metadata = { ...structuredClone(live?.metadata ?? {}), ...structuredClone(obj.metadata) };
    if (live?.status !== undefined) next.status = structuredClone(live.status);
    return next;
  }

  async apply(obj: Manifest, options: { dryRun?: boolean } = {}): Promise<Manifest> {
    const object = formatRef(refOf(obj));
    this.record(options.dryRun ? "dryRun" : "apply", object);
    const info = this.served(obj.apiVersion, obj.kind, object);
    if (info.namespaced && !obj.metadata.namespace) throw new KubeApiError("namespaced kind without metadata.namespace", { object, retryable: false });
    if (info.namespaced && !this.objects.has(keyOf({ kind: "Namespace", name: obj.metadata.namespace as string }))) {
      throw new KubeApiError(`apply failed: namespaces "${obj.metadata.namespace}" not found (HTTP 404)`, {
        object,
        status: 404,
        reason: "NotFound",
        retryable: false,
      });
    }
    const next = this.merged(obj);
    if (options.dryRun) {
      const live = this.objects.get(keyOf(refOf(obj)));
      next.metadata.resourceVersion = live?.metadata.resourceVersion ?? "";
      return next;
    }
    return structuredClone(this.store(next));
  }

  async get(ref: ObjectRef): Promise<Manifest | undefined> {
    const object = formatRef(ref);
    this.record("get", object);
    this.served(ref.apiVersion, ref.kind, object);
    const found = this.objects.get(keyOf(ref));
    return found && structuredClone(found);
  }

  async list(apiVersion: string, kind: string, options: ListOptions = {}): Promise<Manifest[]> {
    const object = `${kind}/${options.namespace ?? "*"}`;
    this.record("list", object);
    this.served(apiVersion, kind, object);
    const [labelKey, labelValue] = (options.labelSelector ?? "").split("=");
    return [...this.objects.values()]
      .filter((o) => o.kind === kind && (options.namespace === undefined || o.metadata.namespace === options.namespace))
      .filter((o) => !labelKey || o.metadata.labels?.[labelKey] === labelValue)
      .map((o) => structuredClone(o));
  }

  async delete(ref: ObjectRef, options: { uid?: string } = {}): Promise<boolean> {
    const object = formatRef(ref);
    this.record("delete", object);
    const key = keyOf(ref);
    const live = this.objects.get(key);
    if (!live) return false;
    if (options.uid && live.metadata.uid !== options.uid) {
      throw new KubeApiError("delete failed: Precondition failed: UID in precondition does not match (HTTP 409)", {
        object,
        status: 409,
        reason: "Conflict",
        retryable: true,
      });
    }
    this.objects.delete(key);
    return true;
  }

  async resource(apiVersion: string, kind: string): Promise<ResourceInfo> {
    return this.served(apiVersion, kind, kind);
  }

  forgetDiscovery(): void {}

  async collectionVersion(): Promise<string> {
    return String(this.version);
  }

  /** Sends nothing and ends at once: sync unit tests do not watch. */
  async watchMetadata(_apiVersion: string, _kind: string, options: MetadataWatchOptions, _onEvent: (event: MetadataWatchEvent) => void): Promise<string> {
    return options.resourceVersion;
  }
}
