// How a wave's replica total is spread over its clusters (`placementStrategies[].distribution`).
// Pure and deterministic: the same clusters and weights always give the same counts, whatever
// order the clusters arrive in, so a re-run of the planner never moves a replica by accident.

import type { Distribution } from "../api/types.js";

export interface DistributeOptions {
  /** `rollout.replicas` of the target revision. */
  total: number;
  /** The wave's selected clusters (any order). */
  clusters: string[];
  /** Default `{mode: "Duplicated"}`: every cluster gets the whole total. */
  distribution?: Distribution | undefined;
}

/**
 * Per-cluster total of the target revision.
 *
 * - `Duplicated` (default): every cluster runs `total` replicas.
 * - `Divided`: `total` is split by weight (a cluster without a weight counts 1; when every
 *   weight is 0 the split is even). Each cluster first gets the floor of its exact share; the
 *   replicas left over go one each to the clusters with the largest remainders (Hamilton's
 *   largest-remainder method), ties broken by cluster name ascending. The counts always sum
 *   to `total` and no cluster is more than one replica off its exact share.
 */
export function distributeReplicas(options: DistributeOptions): Map<string, number> {
  const clusters = [...new Set(options.clusters)].sort();
  const out = new Map<string, number>();
  if (options.distribution?.mode !== "Divided") {
    for (const c of clusters) out.set(c, options.total);
    return out;
  }
  if (clusters.length === 0) return out;
  const given = clusters.map((c) => Math.max(0, options.distribution?.weights?.[c] ?? 1));
  const weights = given.every((w) => w === 0) ? given.map(() => 1) : given;
  const sum = weights.reduce((a, b) => a + b, 0);
  // Integer arithmetic: share_i = total * w_i / sum, kept as quotient + remainder so ties are exact.
  const shares = clusters.map((name, i) => {
    const scaled = options.total * (weights[i] as number);
    return { name, floor: Math.floor(scaled / sum), remainder: scaled % sum };
  });
  let left = options.total - shares.reduce((a, s) => a + s.floor, 0);
  const order = [...shares].sort((a, b) => b.remainder - a.remainder || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const extra = new Set<string>();
  for (const s of order) {
    if (left <= 0) break;
    extra.add(s.name);
    left--;
  }
  for (const s of shares) out.set(s.name, s.floor + (extra.has(s.name) ? 1 : 0));
  return out;
}
