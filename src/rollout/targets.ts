// From plans to the renderer's RenderTargets: attaches what the renderer needs besides replicas
// (cluster labels and version, the wave's overrides). Two plans produce them: the progressive
// planner's per-cluster plan (the controller), and the simplest plan — the target revision (the
// last of spec.appRevisions) at full replicas on every selected cluster — that `flotilla render`
// uses. Pure.

import type { ApplicationDeployment, Cluster } from "../api/types.js";
import type { Placement, Wave } from "../placement/select.js";
import type { RenderTarget, RevisionPlan } from "../render/render.js";
import type { PlannedTarget } from "./planner.js";

export function targetRevision(deployment: ApplicationDeployment): { name: string; replicas: number } {
  const revisions = deployment.spec.appRevisions;
  const target = revisions[revisions.length - 1];
  if (!target) throw new Error("spec.appRevisions is empty");
  return { name: target.name, replicas: target.rollout?.replicas ?? 1 };
}

function renderTarget(cluster: Cluster, wave: Wave | undefined, waveName: string, revisions: RevisionPlan[]): RenderTarget {
  const overrides = wave?.strategy.overrides;
  return {
    cluster: {
      name: cluster.metadata.name,
      labels: cluster.metadata.labels ?? {},
      ...(cluster.status?.version ? { version: cluster.status.version } : {}),
    },
    wave: waveName,
    ...(overrides ? { overrides } : {}),
    revisions,
  };
}

/** RenderTargets for the planned clusters; a planned cluster missing from `clusters` is skipped. */
export function toRenderTargets(planned: PlannedTarget[], placement: Placement, clusters: Cluster[]): RenderTarget[] {
  const byName = new Map(clusters.map((c) => [c.metadata.name, c]));
  const waves = new Map(placement.waves.map((w) => [w.name, w]));
  const out: RenderTarget[] = [];
  for (const p of planned) {
    const cluster = byName.get(p.cluster);
    if (!cluster) continue;
    const revisions = p.revisions.map((r) => ({ name: r.name, replicas: r.replicas }));
    out.push({ ...renderTarget(cluster, waves.get(p.wave), p.wave, revisions), releaseReplicasToAutoscaler: p.releaseReplicasToAutoscaler });
  }
  return out;
}

/** One render target per selected cluster with the same `revisions`, the wave's overrides attached. */
export function targetsOnEveryCluster(placement: Placement, clusters: readonly Cluster[], revisions: RevisionPlan[]): RenderTarget[] {
  const byName = new Map(clusters.map((c) => [c.metadata.name, c]));
  const targets: RenderTarget[] = [];
  for (const wave of placement.waves) {
    for (const name of wave.clusters) {
      const cluster = byName.get(name);
      if (cluster) targets.push(renderTarget(cluster, wave, wave.name, revisions));
    }
  }
  return targets;
}

/** Render targets with the target revision fully rolled out on every selected cluster. */
export function fullRolloutTargets(deployment: ApplicationDeployment, placement: Placement, clusters: Cluster[]): RenderTarget[] {
  return targetsOnEveryCluster(placement, clusters, [targetRevision(deployment)]);
}
