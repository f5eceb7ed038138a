// One sync of one cluster: make the cluster hold the desired objects of a commit. Creates missing
// namespaces, applies wave by wave (Namespaces, CRDs — then waits for them — then the rest by
// kind), prunes what disappeared, and derives health from the live objects it saw. Input is
// plain data (DesiredState); it knows nothing of Git or of the renderer.

import { LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/labels.js";
import type { Manifest } from "../api/types.js";
import { type AppliedObject, applyWave, changeOf, ensureNamespaces, invalidReason, waitForCrds } from "./apply.js";
import { type Clock, systemClock } from "../support/clock.js";
import { aggregateHealth, type ObservedObject, withRestarts } from "./health.js";
import type { ClusterApi } from "../kube/cluster-api.js";
import { observeLive } from "./observe.js";
import { checkClusterScope } from "./scope-check.js";
import { applyWaves } from "./order.js";
import { planPrune, pruneObjects } from "./prune.js";
import { type IdentitySource, SecretOpener } from "./sealed.js";
import { type DesiredState, type ObjectChange, objectKey, type SyncResult } from "./types.js";

export interface SyncOptions {
  client: ClusterApi;
  desired: DesiredState;
  /** Objects of the previously applied commit, for pruning. Default: none (only the safety net prunes). */
  previous?: readonly Manifest[];
  /** Delete owned objects whose files disappeared. Default true. */
  prune?: boolean;
  /** Stop between waves when aborted (a newer commit arrived); the result is then marked aborted. */
  signal?: AbortSignal;
  /** How long to wait for applied CRDs to become Established, in ms. Default 60 000. */
  crdTimeoutMs?: number;
  /** Clock, for startedAt. Default: the system clock. */
  clock?: Clock;
  /**
   * Only some deployments of the cluster are synced (the others did not change): their objects
   * are read one by one where that costs fewer bytes than listing whole namespaces, and Pods are
   * listed for their apps only. The prune safety net then sees only what was read.
   */
  partial?: boolean;
  /**
   * This cluster's age identity, to open sealed Secrets just before they are applied (read at most
   * once per sync, only when one is applied). Default none: sealed Secrets then fail alone.
   */
  identity?: IdentitySource;
}

export interface SyncOutcome extends SyncResult {
  /** Prune candidates whose deletion failed: keep them in the next "previous" set so they are retried. */
  pruneFailed: Manifest[];
  /** The objects this sync left as desired (created, configured or found unchanged), with their live state. */
  inSync: Array<{ desired: Manifest; live: Manifest }>;
}

export async function syncCluster(options: SyncOptions): Promise<SyncOutcome> {
  const { client, desired, signal } = options;
  const started = new Date((options.clock ?? systemClock).now());
  const t0 = performance.now();
  const changes: ObjectChange[] = [];
  const observed: ObservedObject[] = [];
  const inSync: SyncOutcome["inSync"] = [];

  // Unreadable files, invalid and duplicate objects fail alone, before any request.
  for (const bad of desired.invalid ?? []) {
    changes.push({ object: bad.path, apiVersion: "", kind: "", name: bad.path, deployment: bad.deployment, action: "failed", message: bad.message });
  }
  const valid: Manifest[] = [];
  const keys = new Set<string>();
  for (const obj of desired.objects) {
    const invalid = invalidReason(obj);
    if (invalid) {
      changes.push(changeOf(obj, "failed", `${invalid}; fix the file in the env repo`));
      continue;
    }
    const key = objectKey(obj);
    if (keys.has(key)) {
      changes.push(changeOf(obj, "failed", "the same object appears twice in the cluster folder; the first one was applied"));
      continue;
    }
    keys.add(key);
    valid.push(obj);
  }

  // The deployments' namespaces, unless the folder declares them as objects itself.
  const declared = new Set(valid.filter((o) => o.kind === "Namespace" && o.apiVersion === "v1").map((o) => o.metadata.name));
  const needed = [...new Set(valid.map((o) => o.metadata.namespace).filter((n): n is string => !!n && !declared.has(n)))].sort();
  const ns = await ensureNamespaces(client, needed);
  changes.push(...ns.changes);

  const seen: Manifest[] = [];
  const renamespaced: Manifest[] = [];
  const opener = new SecretOpener(options.identity);
  let aborted = false;
  for (const wave of applyWaves(valid)) {
    if (signal?.aborted) {
      aborted = true;
      break;
    }
    const blocked = wave.filter((o) => o.metadata.namespace && ns.failed.has(o.metadata.namespace));
    for (const o of blocked) {
      // The namespace's own entry belongs to no deployment: say its reason here, where the
      // deployment's status shows it (e.g. a member that grants Flotilla other namespaces only).
      changes.push(changeOf(o, "failed", `namespace ${o.metadata.namespace} is not usable: ${ns.failed.get(o.metadata.namespace!)}`));
      observed.push({ desired: o, live: undefined });
    }
    // Scope is asked per wave: a kind defined by a CRD of an earlier wave is discoverable only now.
    const scoped = await checkClusterScope(
      client,
      wave.filter((o) => !blocked.includes(o)),
    );
    for (const { object, change } of scoped.refused) {
      changes.push(change);
      observed.push({ desired: object, live: undefined });
    }
    const ready: Manifest[] = [];
    for (const { original, object } of scoped.allowed) {
      // Prune plans against `valid` (keyed as the cluster holds the object) and `renamespaced`
      // (keyed as the previous commit's file was), so neither key makes it look removed.
      if (object !== original) {
        valid[valid.indexOf(original)] = object;
        renamespaced.push(original);
      }
      ready.push(object);
    }
    const snapshot = await observeLive(client, ready, options.partial ? { getUpTo: PARTIAL_GET_UP_TO } : {});
    seen.push(...snapshot.seen);
    const applied: AppliedObject[] = await applyWave(client, ready, snapshot.byKey, objectKey, opener);
    applied.forEach((a, i) => {
      changes.push(a.change);
      observed.push({ desired: ready[i]!, live: a.change.action === "skipped" ? undefined : a.live });
      if (a.live && (a.change.action === "created" || a.change.action === "configured" || a.change.action === "unchanged"))
        inSync.push({ desired: ready[i]!, live: a.live });
    });
    const crds = ready.filter(
      (o, i) => o.kind === "CustomResourceDefinition" && applied[i]?.change.action !== "failed" && applied[i]?.change.action !== "skipped",
    );
    if (crds.length > 0) {
      const late = await waitForCrds(client, crds, {
        timeoutMs: options.crdTimeoutMs ?? 60_000,
        ...(signal ? { signal } : {}),
        ...(options.clock ? { clock: options.clock } : {}),
      });
      for (const crd of late) {
        const entry = changes.find((c) => c.kind === crd.kind && c.name === crd.metadata.name);
        if (entry) entry.message += "; not Established in time: objects of its kinds may fail";
      }
    }
  }

  let pruneFailed: Manifest[] = [];
  if (!aborted && options.prune !== false) {
    const live = new Map(seen.map((o) => [objectKey(o), o] as const));
    const candidates = planPrune({ previous: options.previous ?? [], desired: [...valid, ...renamespaced], seen });
    const pruned = await pruneObjects(client, candidates, { live, ...(signal ? { signal } : {}) });
    changes.push(...pruned.changes);
    pruneFailed = pruned.failedObjects;
  }

  return {
    commit: desired.commit,
    changes,
    health: withRestarts(aggregateHealth(observed), await listPods(client, valid, options.partial ?? false)),
    drifted: changes.filter((c) => c.drift && c.drift.length > 0).length,
    failed: changes.filter((c) => c.action === "failed").length,
    aborted,
    startedAt: started.toISOString(),
    durationMs: Math.round(performance.now() - t0),
    pruneFailed,
    inSync,
  };
}

/** Health of the desired objects from their live state, without applying anything (lists only). */
export async function observeHealth(client: ClusterApi, desired: readonly Manifest[], options: { partial?: boolean } = {}): Promise<SyncResult["health"]> {
  const scoped = await checkClusterScope(
    client,
    desired.filter((o) => invalidReason(o) === undefined),
  );
  const valid = [...scoped.allowed.map((a) => a.object), ...scoped.refused.map((r) => r.object)];
  const snapshot = await observeLive(client, valid, { cached: true, ...(options.partial ? { getUpTo: PARTIAL_GET_UP_TO } : {}) });
  const health = aggregateHealth(valid.map((o) => ({ desired: o, live: snapshot.byKey.get(objectKey(o))?.live })));
  return withRestarts(health, await listPods(client, valid, options.partial ?? false));
}

/** In a partial sync, objects of one kind and namespace are read by GET up to this many; more are listed. */
const PARTIAL_GET_UP_TO = 8;

/**
 * Flotilla's Pods in the namespaces of the desired objects (one LIST per namespace, from the API
 * server's watch cache: they only count restarts); none on error.
 * `byApp` narrows each list to the apps of the desired objects (a partial sync).
 */
async function listPods(client: ClusterApi, desired: readonly Manifest[], byApp = false): Promise<Manifest[]> {
  const appsByNamespace = new Map<string, Set<string>>();
  for (const o of desired) {
    if (!o.metadata.namespace) continue;
    const apps = appsByNamespace.get(o.metadata.namespace) ?? new Set<string>();
    const app = o.metadata.labels?.[LABEL_APP];
    if (app) apps.add(app);
    appsByNamespace.set(o.metadata.namespace, apps);
  }
  const lists = await Promise.all(
    [...appsByNamespace]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([namespace, apps]) => {
        let labelSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`;
        if (byApp && apps.size > 0) labelSelector += `,${LABEL_APP} in (${[...apps].sort().join(",")})`;
        return client.list("v1", "Pod", { namespace, labelSelector, cached: true }).catch(() => []);
      }),
  );
  return lists.flat();
}
