// The controller's view of the hub: supervised informers for Flotilla's kinds and the few writes
// it makes (status through the status subresource, finalizers, one-shot annotations, Events).
// Writes are patches: the controller never writes back a whole object it read.

import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
} from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/labels.js";
import type { ApplicationDeploymentStatus, ClusterStatus } from "../api/types.js";

export const PLURALS = {
  ApplicationDeployment: "applicationdeployments",
  ComponentDefinition: "componentdefinitions",
  TraitDefinition: "traitdefinitions",
  Cluster: "clusters",
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
  stop(): Promise<void>;
}

export interface SupervisorOptions {
  /** First restart delay after a watch error, ms. Default 500. */
  restartDelayMs?: number;
  /** Upper bound of the restart delay, ms. Default 30 000. */
  maxRestartDelayMs?: number;
  /**
   * Relist this often even when the watch looks fine, ms: a watch that silently stopped delivering
   * is not trusted forever. Default 300 000.
   */
  relistIntervalMs?: number;
  onError?: (kind: string, error: unknown) => void;
}

/**
 * An informer that restarts itself: the client library's informer stops on some errors, so every
 * error schedules a restart (relist + watch) with backoff, and a periodic relist guards against a
 * stale watch.
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
  let failures = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  informer.on("add", (o) => handlers.onChange(o));
  informer.on("update", (o) => handlers.onChange(o));
  informer.on("delete", (o) => handlers.onDelete(o));
  // "connect" fires before the list; the list is in the cache once start() resolves.
  const listed = () => {
    synced = true;
    failures = 0;
  };
  const restart = (delay: number) => {
    if (stopped || restartTimer) return;
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (stopped) return;
      informer.start().then(listed, (e: unknown) => {
        options.onError?.(options.name, e);
        failures++;
        restart(Math.min(options.maxRestartDelayMs ?? 30_000, (options.restartDelayMs ?? 500) * 2 ** failures));
      });
    }, delay);
  };
  informer.on("error", (e: unknown) => {
    options.onError?.(options.name, e);
    failures++;
    restart(Math.min(options.maxRestartDelayMs ?? 30_000, (options.restartDelayMs ?? 500) * 2 ** (failures - 1)));
  });
  const relist = setInterval(() => {
    void informer.stop().then(() => restart(0));
  }, options.relistIntervalMs ?? 300_000);
  relist.unref();
  informer.start().then(listed, (e: unknown) => {
    options.onError?.(options.name, e);
    failures++;
    restart(options.restartDelayMs ?? 500);
  });
  return {
    list: () => informer.list(),
    get: (name, namespace) => informer.get(name, namespace),
    get synced() {
      return synced;
    },
    async stop() {
      stopped = true;
      clearInterval(relist);
      if (restartTimer) clearTimeout(restartTimer);
      await informer.stop();
    },
  };
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
      kind === "ApplicationDeployment"
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

  /** Replace the whole status (a JSON patch `add`), so fields the controller dropped are gone too. */
  async patchDeploymentStatus(namespace: string, name: string, status: ApplicationDeploymentStatus): Promise<void> {
    await this.custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, namespace, plural: PLURALS.ApplicationDeployment, name, body: [{ op: "add", path: "/status", value: status }] },
      jsonPatch,
    );
  }

  async patchClusterStatus(name: string, status: ClusterStatus): Promise<void> {
    await this.custom.patchClusterCustomObjectStatus({ group: GROUP, version: VERSION, plural: PLURALS.Cluster, name, body: { status } }, merge);
  }

  /** Replace the finalizer list, guarded by resourceVersion so a concurrent change is not lost. */
  async setFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string | undefined): Promise<void> {
    const body = { metadata: { finalizers, ...(resourceVersion ? { resourceVersion } : {}) } };
    await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURALS.ApplicationDeployment, name, body },
      merge,
    );
  }

  /** Remove one-shot annotations once acted on. */
  async removeAnnotations(namespace: string, name: string, keys: string[]): Promise<void> {
    if (!keys.length) return;
    const body = keys.map((k) => ({ op: "remove", path: `/metadata/annotations/${pointerKey(k)}` }));
    await this.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace, plural: PLURALS.ApplicationDeployment, name, body },
      jsonPatch,
    );
  }

  async readSecretKey(namespace: string, name: string, key: string): Promise<string | undefined> {
    const secret = await this.core.readNamespacedSecret({ namespace, name });
    const value = secret.data?.[key];
    return value === undefined ? undefined : Buffer.from(value, "base64").toString("utf8");
  }
}
