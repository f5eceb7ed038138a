// From the planner's per-cluster plan to the renderer's RenderTarget: attaches what the renderer
// needs besides replicas (cluster labels and version, the wave's overrides). Pure.

import type { Cluster } from "../api/types.js";
import type { Placement } from "../placement/select.js";
import type { RenderTarget } from "../render/render.js";
import type { PlannedTarget } from "./planner.js";

/** RenderTargets for the planned clusters; a planned cluster missing from `clusters` is skipped. */
export function toRenderTargets(planned: PlannedTarget[], placement: Placement, clusters: Cluster[]): RenderTarget[] {
  const byName = new Map(clusters.map((c) => [c.metadata.name, c]));
  const waves = new Map(placement.waves.map((w) => [w.name, w]));
  const out: RenderTarget[] = [];
  for (const p of planned) {
    const cluster = byName.get(p.cluster);
    if (!cluster) continue;
    const overrides = waves.get(p.wave)?.strategy.overrides;
    out.push({
      cluster: {
        name: p.cluster,
        labels: cluster.metadata.labels ?? {},
        ...(cluster.status?.version ? { version: cluster.status.version } : {}),
      },
      wave: p.wave,
      ...(overrides ? { overrides } : {}),
      revisions: p.revisions.map((r) => ({ name: r.name, replicas: r.replicas })),
      releaseReplicasToAutoscaler: p.releaseReplicasToAutoscaler,
    });
  }
  return out;
}
