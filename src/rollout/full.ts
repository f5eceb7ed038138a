// The simplest plan: the target revision (the last of spec.appRevisions) at full replicas in
// every selected cluster. `flotilla render` uses it; the progressive planner replaces it in the
// controller while keeping the same output shape (render targets).

import type { ApplicationDeployment, Cluster } from "../api/types.js";
import type { Placement } from "../placement/select.js";
import type { RenderTarget, RevisionPlan } from "../render/render.js";

export function targetRevision(deployment: ApplicationDeployment): { name: string; replicas: number } {
  const revisions = deployment.spec.appRevisions;
  const target = revisions[revisions.length - 1];
  if (!target) throw new Error("spec.appRevisions is empty");
  return { name: target.name, replicas: target.rollout?.replicas ?? 1 };
}

/** Render targets with the target revision fully rolled out on every selected cluster. */
export function fullRolloutTargets(deployment: ApplicationDeployment, placement: Placement, clusters: Cluster[]): RenderTarget[] {
  return targetsOnEveryCluster(placement, clusters, [targetRevision(deployment)]);
}

/** One render target per selected cluster with the same `revisions`, the wave's overrides attached. */
export function targetsOnEveryCluster(placement: Placement, clusters: readonly Cluster[], revisions: RevisionPlan[]): RenderTarget[] {
  const byName = new Map(clusters.map((c) => [c.metadata.name, c]));
  const targets: RenderTarget[] = [];
  for (const wave of placement.waves) {
    for (const name of wave.clusters) {
      const cluster = byName.get(name);
      if (!cluster) continue;
      targets.push({
        cluster: {
          name,
          labels: cluster.metadata.labels ?? {},
          ...(cluster.status?.version ? { version: cluster.status.version } : {}),
        },
        wave: wave.name,
        ...(wave.strategy.overrides ? { overrides: wave.strategy.overrides } : {}),
        revisions,
      });
    }
  }
  return targets;
}
