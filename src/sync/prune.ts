// Prune: delete live objects Flotilla owns whose files disappeared from the cluster's folder.
// Candidates come from two places (see planPrune); every candidate is checked against the live
// object right before deletion. It never deletes a Namespace, an object without Flotilla's
// ownership labels, or an object another controller created (controller ownerReference).

import { objectFailure } from "../api/errors.js";
import { LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/labels.js";
import type { Manifest } from "../api/types.js";
import { changeOf } from "./apply.js";
import { deploymentOf } from "./health.js";
import type { ClusterApi } from "../kube/cluster-api.js";
import { formatRef, refOf } from "../kube/refs.js";
import { applyWaves } from "./order.js";
import { type ObjectChange, objectKey } from "./types.js";

/** Kinds Flotilla never deletes, whatever their labels say. */
export const NEVER_PRUNED: ReadonlySet<string> = new Set(["Namespace"]);

/** Why a live object may not be deleted by Flotilla, or undefined when it may. */
export function pruneRefusal(live: Manifest): string | undefined {
  if (NEVER_PRUNED.has(live.kind)) return `${live.kind}s are never deleted by Flotilla`;
  const labels = live.metadata.labels ?? {};
  if (labels[LABEL_MANAGED_BY] !== MANAGED_BY_VALUE) return `not owned by Flotilla (no ${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE} label); left in place`;
  if (!labels[LABEL_APP]) return `has no ${LABEL_APP} label, so it belongs to no deployment folder; left in place`;
  const controller = (live.metadata as { ownerReferences?: { controller?: boolean; kind: string; name: string }[] }).ownerReferences?.find((r) => r.controller);
  if (controller) return `created by ${controller.kind}/${controller.name}; its controller deletes it`;
  return undefined;
}

export interface PrunePlanInput {
  /** Objects of the previously applied commit (empty when unknown, e.g. after a restart). */
  previous: readonly Manifest[];
  /** Objects of the commit being applied. */
  desired: readonly Manifest[];
  /** Live objects seen while observing the desired kinds (lists per kind and namespace). */
  seen: readonly Manifest[];
}

/**
 * Objects to delete (pure), in prune order is decided by the caller. The union of:
 * 1. previous − desired: files that disappeared between the two commits (any kind, any namespace);
 * 2. the safety net: live objects of the kinds and namespaces the sync listed anyway that are
 *    owned, belong to a deployment of this cluster (its `flotilla.dev/app` label names a
 *    deployment present in previous or desired) and are not desired. This catches leftovers the
 *    diff cannot see (the previous commit is unknown after a restart, a deletion failed earlier)
 *    without listing every kind in the cluster.
 */
export function planPrune(input: PrunePlanInput): Manifest[] {
  const desiredKeys = new Set(input.desired.map(objectKey));
  const out = new Map<string, Manifest>();
  for (const p of input.previous) {
    const key = objectKey(p);
    if (!desiredKeys.has(key) && !NEVER_PRUNED.has(p.kind)) out.set(key, p);
  }
  const apps = new Set<string>();
  for (const o of [...input.previous, ...input.desired]) {
    const app = o.metadata.labels?.[LABEL_APP];
    if (app) apps.add(app);
  }
  for (const live of input.seen) {
    const key = objectKey(live);
    const app = live.metadata.labels?.[LABEL_APP];
    if (desiredKeys.has(key) || out.has(key) || !app || !apps.has(app)) continue;
    if (pruneRefusal(live) === undefined) out.set(key, live);
  }
  return [...out.values()];
}

/**
 * Delete candidates in reverse apply order (dependents first; a wave at a time). Each is read
 * first (unless `live` already holds it) and deleted with its uid as precondition, so an object
 * recreated by someone else in between is not touched. Objects already gone produce no change.
 */
export async function pruneObjects(
  client: ClusterApi,
  candidates: readonly Manifest[],
  options: { live?: ReadonlyMap<string, Manifest>; signal?: AbortSignal } = {},
): Promise<{ changes: ObjectChange[]; failedObjects: Manifest[] }> {
  const changes: ObjectChange[] = [];
  const failedObjects: Manifest[] = [];
  for (const wave of applyWaves(candidates).reverse()) {
    if (options.signal?.aborted) break;
    await Promise.all(
      wave.map(async (candidate) => {
        try {
          const live = options.live?.get(objectKey(candidate)) ?? (await client.get(refOf(candidate)));
          if (!live) return;
          const refusal = pruneRefusal(live);
          if (refusal) {
            changes.push({ ...changeOf(live, "skipped", `not pruned: ${refusal}`), deployment: deploymentOf(candidate) });
            return;
          }
          const uid = live.metadata.uid;
          const deleted = await client.delete(refOf(candidate), uid ? { uid } : {});
          if (deleted) changes.push(changeOf(live, "deleted", "pruned: its file is no longer in the env repo"));
        } catch (error) {
          failedObjects.push(candidate);
          const e = objectFailure(error, formatRef(refOf(candidate)));
          changes.push(changeOf(candidate, "failed", `prune failed: ${e.message}`, { error: e }));
        }
      }),
    );
  }
  return { changes, failedObjects };
}
