// The controller's view of the hub: supervised informers for Flotilla's kinds and the few writes
// it makes (status through the status subresource, finalizers, one-shot annotations, Events).
// Writes are patches: the controller never writes back a whole object it read.

import { CoreV1Api, CustomObjectsApi, type KubeConfig, type KubernetesObject, makeInformer, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { backoffDelay } from "../support/backoff.js";
import { GROUP, VERSION } from "../api/labels.js";
import type { ApplicationDeploymentStatus, ClusterStatus, TenantPolicyStatus } from "../api/types.js";

export const PLURALS = {
  ApplicationDeployment: "applicationdeployments",
  ComponentDefinition: "componentdefinitions",
  TraitDefinition: "traitdefinitions",
  Cluster: "clusters",
  SyncReport: "syncreports",
  GitSource: "gitsources",
  TenantPolicy: "tenantpolicies",
} as const;

export type WatchedKind = keyof typeof PLURALS;

export interface InformerHandlers<T> {
  onChange: (obj: T) => void;
  onDelete: (obj: T) => void;
}

export interface SupervisedInformer<T> {
  list(): readonly T[];
  get(name: string, namespace?: string): T | undefined;
  /** True once the first list completed. */
  readonly synced: boolean;
  /** True while the watch is established: false from a failure until a restart succeeds. */
  readonly watching: boolean;
  /** True while the API server answers 404 for the resource: its CRD is not installed, so none can exist. */
  readonly notServed: boolean;
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  /** First restart delay after a watch error, ms. Default 500. */
  restartDelayMs?: number;
  /**
   * Upper bound of the restart delay, ms. Default 8 000: the hub is the controller's only source
   * of truth, so a hub that returns should be noticed within seconds; a retry costs one request.
   */
  maxRestartDelayMs?: number;
  /**
   * Relist this often even when the watch looks fine, ms: a watch that silently stopped delivering
   * is not trusted forever. Default 300 000.
   */
  relistIntervalMs?: number;
  onError?: (kind: string, error: unknown) => void;
  /**
   * Called when the watch is established again after failing (the cache has caught up with what
   * happened meanwhile): a chance to look again at work that failed while the hub was away.
   */
  onRecovered?: (kind: string) => void;
}

/**
 * An informer that restarts itself: the client library's informer stops on some errors, so every
 * error schedules a restart (relist + watch) with backoff, and a periodic relist guards against a
 * stale watch. The library's start() resolves even when its list or watch failed (the failure is
 * reported as an error event first), so a start counts as a success only if no error came with it.
 */
export function supervisedInformer<T extends KubernetesObject>(
  kc: KubeConfig,
  path: string,
  listFn: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  handlers: InformerHandlers<T>,
  options: SupervisorOptions & { name: string; labelSelector?: string },
): SupervisedInformer<T> {
  // biome-ignore lint/suspicious/noExplicitAny: the library's list type is structurally the same
  const informer = makeInformer<T>(kc, path, listFn as any, options.labelSelector);
  let stopped = false;
  let synced = false;
  let watching = false;
  let notServed = false;
  let failures = 0;
  /** An error was reported since the current start began. */
  let failedSinceStart = false;
  let restartTimer: NodeJS.Timeout | undefined;
  informer.on("add", (o) => handlers.onChange(o));
  informer.on("update", (o) => handlers.onChange(o));
  informer.on("delete", (o) => handlers.onDelete(o));
  const failed = (e: unknown) => {
    // Aborting the request is how the library (and the periodic relist) ends a watch on purpose.
    if (stopped || (e instanceof Error && e.name === "AbortError")) return;
    failedSinceStart = true;
    watching = false;
    notServed = isNotFound(e);
    options.onError?.(options.name, e);
    failures++;
    restart(backoffDelay(failures, { initialMs: options.restartDelayMs ?? 500, maxMs: options.maxRestartDelayMs ?? 8_000 }));
  };
  // "connect" fires before the list; the list is in the cache once start() resolves without error.
  const begin = () => {
    failedSinceStart = false;
    informer.start().then(() => {
      if (failedSinceStart || stopped) return; // the error already scheduled the next attempt
      const recovered = failures > 0;
      synced = true;
      watching = true;
      notServed = false;
      failures = 0;
      if (recovered) options.onRecovered?.(options.name);
    }, failed);
  };
  const restart = (delay: number) => {
    if (stopped || restartTimer) return;
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!stopped) begin();
    }, delay);
  };
  informer.on("error", failed);
  const relist = setInterval(() => {
    void informer.stop().then(() => restart(0));
  }, options.relistIntervalMs ?? 300_000);
  relist.unref();
  begin();
  return {
    list: () => informer.list(),
    get: (name, namespace) => informer.get(name, namespace),
    get synced() {
      return synced;
    },
    get watching() {
      return watching;
    },
    get notServed() {
      return notServed;
    },
    async stop() {
      stopped = true;
      clearInterval(relist);
      if (restartTimer) clearTimeout(restartTimer);
      await informer.stop();
    },
  };
}

/** A 404 from a list or watch: the API server does not serve the resource (its CRD is missing). */
function isNotFound(e: unknown): boolean {
  const x = e as { code?: unknown; statusCode?: unknown; message?: unknown };
  return x.code === 404 || x.statusCode === 404 || (typeof x.message === "string" && /HTTP-Code: 404\b/.test(x.message));
}

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);

/** JSON Pointer escaping for a key such as `flotilla.dev/promote`. */
function pointerKey(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

export class Hub {
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;

  constructor(readonly kc: KubeConfig) {
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
  }

  /** Our API types keep timestamps as strings (as JSON has them), so they are cast at this edge. */
  informer<T>(kind: WatchedKind, handlers: InformerHandlers<T>, options: SupervisorOptions = {}): SupervisedInformer<T> {
    const plural = PLURALS[kind];
    const path = `/apis/${GROUP}/${VERSION}/${plural}`;
    const listFn = () =>
      kind === "ApplicationDeployment" || kind === "SyncReport" || kind === "GitSource"
        ? this.custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, plural })
        : this.custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural });
    return supervisedInformer<KubernetesObject>(
      this.kc,
      path,
      listFn as () => Promise<{ items: KubernetesObject[] }>,
      handlers as unknown as InformerHandlers<KubernetesObject>,
      { ...options, name: kind },
    ) as unknown as SupervisedInformer<T>;
  }

  /**
   * Replace the whole status (a JSON patch `add`), so fields the controller dropped are gone too.
   * Returns the object's new resourceVersion.
   */
  async patchDeploymentStatus(namespace: string, name: string, status: ApplicationDeploymentStatus): Promise<string | undefined> {
    const updated = await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: PLURALS.ApplicationDeployment, name, body: [{ op: "add", path: "/status", value: status }] },
      jsonPatch,
    );
    return resourceVersionOf(updated);
  }

  /** Replace a TenantPolicy's whole status (a JSON patch `add`: lists that shrank lose their old entries). */
  async patchTenantPolicyStatus(name: string, status: TenantPolicyStatus): Promise<void> {
    await this.custom.patchClusterCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: PLURALS.TenantPolicy, name, body: [{ op: "add", path: "/status", value: status }] },
      jsonPatch,
    );
  }

  async patchClusterStatus(name: string, status: ClusterStatus): Promise<void> {
    await this.custom.patchClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: PLURALS.Cluster, name, body: { status } }, merge);
  }

  /**
   * Replace the finalizer list, guarded by resourceVersion so a concurrent change is not lost.
   * Returns the object's new resourceVersion.
   */
  async setFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string | undefined): Promise<string | undefined> {
    const body = { metadata: { finalizers, ...(resourceVersion ? { resourceVersion } : {}) } };
    const updated = await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURALS.ApplicationDeployment, name, body },
      merge,
    );
    return resourceVersionOf(updated);
  }

  /** Remove one-shot annotations once acted on. */
  async removeAnnotations(namespace: string, name: string, keys: string[]): Promise<void> {
    if (!keys.length) return;
    const body = keys.map((k) => ({ op: "remove", path: `/metadata/annotations/${pointerKey(k)}` }));
    await this.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: PLURALS.ApplicationDeployment, name, body }, jsonPatch);
  }

  async readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined> {
    const secret = await this.core.readNamespacedSecret({ namespace, name });
    const value = secret.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  }
}

function resourceVersionOf(object: unknown): string | undefined {
  const rv = (object as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
  return typeof rv === "string" ? rv : undefined;
}
