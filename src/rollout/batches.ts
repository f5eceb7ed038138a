// Replica arithmetic of a rollout: the target's cumulative count per batch, and how the sources
// shrink to make room. Pure numbers; knows nothing about clusters, time or health.

import type { PlannedRevisionReplicas, RolloutSpec } from "../api/types.js";
import { resolveBatchReplicas } from "../api/validate.js";

/**
 * The target's cumulative replicas for each batch, given the cluster's total. Default: one batch
 * of 100%. Percentages round up (resolveBatchReplicas); every count is clamped to [0, total] and
 * made non-decreasing, so a spec edited mid-rollout can never ask for less than a passed batch.
 */
export function batchReplicas(rollout: RolloutSpec | undefined, total: number): number[] {
  const batches = rollout?.batches?.length ? rollout.batches : [{ replicas: "100%" }];
  let previous = 0;
  return batches.map((b) => {
    const n = Math.max(previous, Math.min(total, Math.max(0, resolveBatchReplicas(b.replicas, total))));
    previous = n;
    return n;
  });
}

export interface BatchRevisionsOptions {
  /** Names of spec.appRevisions, oldest first: the output order and the scale-down order. */
  order: string[];
  target: string;
  /** Replicas per revision before the rollout started in this cluster. */
  sources: PlannedRevisionReplicas[];
  /** The batch's cumulative target count. */
  batchReplicas: number;
  /** The cluster's total for the target (`rollout.replicas`, or its share when Divided). */
  total: number;
}

/**
 * Revisions of a cluster at a batch.
 *
 * The target gets `max(batch count, what it already had when the rollout started)`, capped at
 * the total: a rollout never scales its own target down (a spec edit that makes an older
 * revision the target again starts where it stands instead of dropping to the first batch).
 * The sources keep their pre-rollout counts, except that whatever would push the sum above the
 * total is taken away from the OLDEST source first (appRevisions order), so the newest source
 * — usually the last good one — keeps capacity longest. Sources never grow. Revisions no longer
 * in appRevisions are dropped (and so pruned); those still listed stay, even at 0, so a rollback
 * is a replica change rather than a re-creation.
 */
export function revisionsAtBatch(options: BatchRevisionsOptions): PlannedRevisionReplicas[] {
  const { order, target, total } = options;
  const known = new Set(order);
  const before = new Map(options.sources.filter((s) => known.has(s.name)).map((s) => [s.name, s.replicas]));
  const targetReplicas = Math.min(total, Math.max(options.batchReplicas, before.get(target) ?? 0));
  const sources = order.filter((n) => n !== target && before.has(n));
  let excess = sources.reduce((sum, n) => sum + (before.get(n) ?? 0), 0) + targetReplicas - total;
  const replicas = new Map<string, number>();
  for (const name of sources) {
    const have = before.get(name) ?? 0;
    const take = Math.max(0, Math.min(have, excess));
    excess -= take;
    replicas.set(name, have - take);
  }
  replicas.set(target, targetReplicas);
  return order.filter((n) => replicas.has(n)).map((name) => ({ name, replicas: replicas.get(name) ?? 0 }));
}

/** A cluster that has not started: its sources as they were, minus revisions no longer listed. */
export function sourceRevisions(order: string[], sources: PlannedRevisionReplicas[]): PlannedRevisionReplicas[] {
  const byName = new Map(sources.map((s) => [s.name, s.replicas]));
  return order.filter((n) => byName.has(n)).map((name) => ({ name, replicas: byName.get(name) ?? 0 }));
}

/**
 * A rolled-back cluster: every revision back at its pre-rollout count, so the target returns to 0
 * (or to what it had, when it was already there before) and stays listed for a fast retry.
 */
export function rolledBackRevisions(order: string[], target: string, sources: PlannedRevisionReplicas[]): PlannedRevisionReplicas[] {
  const byName = new Map(sources.map((s) => [s.name, s.replicas]));
  byName.set(target, byName.get(target) ?? 0);
  return order.filter((n) => byName.has(n)).map((name) => ({ name, replicas: byName.get(name) ?? 0 }));
}
