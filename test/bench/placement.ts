// Placement benchmark: one deployment with three waves — a label selector, a matchExpressions
// selector and a CEL condition — placed against 1,000 generated Clusters. Every cluster gets a
// decision (and a reason) per call, so this is the cost the controller pays per reconcile.

import type { Cluster, PlacementStrategy } from "../../src/api/types.js";
import { place } from "../../src/placement/select.js";
import type { BenchCase, BenchFigure } from "./types.js";

const CLUSTERS = 1000;
const WARMUP = 50;
const CALLS = 300;
/** Cold calls: each against freshly generated Cluster objects, as after every Cluster changed. */
const COLD_CALLS = 30;
const TARGET_MS = 5;

const USAGES = ["staging", "production", "development"] as const;
const REGIONS = ["eu", "us", "ap", "sa"] as const;
const TIERS = ["core", "edge", "regional"] as const;

/** Deterministic clusters: a mix of names, usages, regions and tiers so every wave selects some. */
export function generateClusters(count: number): Cluster[] {
  const out: Cluster[] = [];
  for (let i = 0; i < count; i++) {
    const usage = USAGES[i % USAGES.length] ?? "development";
    const region = REGIONS[Math.floor(i / 3) % REGIONS.length] ?? "eu";
    const tier = TIERS[Math.floor(i / 12) % TIERS.length] ?? "core";
    const prefix = usage === "production" ? "prod" : usage === "staging" ? "stage" : "dev";
    const name = `${prefix}-${region}-${String(i).padStart(4, "0")}`;
    out.push({
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "Cluster",
      metadata: { name, labels: { usage, region, tier, "topology.kubernetes.io/zone": `${region}-${i % 3}` } },
      spec: { kubeconfigSecretRef: { namespace: "flotilla-system", name: `cluster-${name}`, key: "kubeconfig" }, ...(i % 97 === 0 ? { paused: true } : {}) },
      status: {
        version: "v1.20.2",
        conditions: [{ type: "Ready", status: i % 89 === 0 ? "False" : "True", reason: "Probed", message: "", lastTransitionTime: "2024-01-01T00:00:00Z" }],
      },
    });
  }
  // Registration order is not name order: place() sorts; make it do the work.
  return out.reverse();
}

export const STRATEGIES: PlacementStrategy[] = [
  { name: "staging", clusterSelector: { labels: { usage: "staging", region: "eu" } } },
  {
    name: "canary",
    clusterSelector: {
      matchExpressions: [
        { key: "region", operator: "In", values: ["eu", "us"] },
        { key: "tier", operator: "NotIn", values: ["edge"] },
        { key: "usage", operator: "Exists" },
      ],
    },
  },
  { name: "production", clusterSelector: { condition: 'cluster.labels["tier"] != "edge" && cluster.name.startsWith("prod")' } },
];

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length * p)] ?? 0;
}

export const placementBench: BenchCase = {
  group: "placement",
  async run(): Promise<BenchFigure[]> {
    const clusters = generateClusters(CLUSTERS);
    let selected = 0;
    for (let i = 0; i < WARMUP; i++) place(STRATEGIES, clusters, { requireReady: true, deployment: "bench/placement" });
    const samples: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const start = process.hrtime.bigint();
      const result = place(STRATEGIES, clusters, { requireReady: true, deployment: "bench/placement" });
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
      selected = result.decisions.filter((d) => d.selected).length;
    }
    const freshSets = Array.from({ length: COLD_CALLS }, () => generateClusters(CLUSTERS));
    const cold: number[] = [];
    for (const fresh of freshSets) {
      const start = process.hrtime.bigint();
      place(STRATEGIES, fresh, { requireReady: true, deployment: "bench/placement" });
      cold.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    const median = percentile(samples, 0.5);
    const how = `median of ${CALLS} place() calls after ${WARMUP} warm-up calls; 3 waves (labels, matchExpressions, CEL condition) × ${CLUSTERS} generated Clusters, requireReady; ${selected} selected; the same Cluster objects each call, as the controller places every deployment against its informer cache`;
    return [
      {
        name: `placement: 3 waves × ${CLUSTERS.toLocaleString("en")} clusters (median)`,
        value: median,
        unit: "ms/op",
        how,
        target: `<= ${TARGET_MS} ms`,
        met: median <= TARGET_MS,
      },
      {
        name: `placement: 3 waves × ${CLUSTERS.toLocaleString("en")} clusters (p95)`,
        value: percentile(samples, 0.95),
        unit: "ms/op",
        how: how.replace("median", "95th percentile"),
      },
      {
        name: `placement: 3 waves × ${CLUSTERS.toLocaleString("en")} new clusters (median)`,
        value: percentile(cold, 0.5),
        unit: "ms/op",
        how: `median of ${COLD_CALLS} place() calls, each against ${CLUSTERS} newly generated Cluster objects (every Cluster changed since the last placement: CEL values converted again)`,
      },
    ];
  },
};
