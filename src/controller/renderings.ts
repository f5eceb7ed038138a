// What a deployment renders for each selected cluster, as one fingerprint per cluster with the
// replica counts set aside. The rollout planner compares it with the fingerprint the rollout last
// brought the cluster: a different one means the spec was edited in place, a definition or a wave
// override changed, or the template reads a cluster label that changed — a change that must go
// through the waves — while a replica change (a batch, a new total) leaves it as it is.
//
// Every revision of spec.appRevisions is rendered at one replica, so the fingerprint depends on
// what the templates make of the spec, not on where the rollout stands. Renders come mostly from
// the template cache; the fingerprints of a deployment are kept until one of their inputs changes.

import { createHash } from "node:crypto";
import type { ApplicationDeployment, Cluster } from "../api/types.js";
import type { DefinitionRegistry } from "../definitions/registry.js";
import type { Placement } from "../placement/select.js";
import { renderDeployment } from "../render/render.js";
import type { TemplateCache } from "../render/template-cache.js";
import { targetsOnEveryCluster } from "../rollout/targets.js";

/** The replica count every revision is rendered at for its fingerprint. */
const FINGERPRINT_REPLICAS = 1;

/** What a deployment's fingerprints are computed from. */
export interface RenderingInput {
  deployment: ApplicationDeployment;
  registry: DefinitionRegistry;
  placement: Placement;
  clusters: readonly Cluster[];
  /** The caller's render cache (see template-cache.ts). */
  cache?: TemplateCache;
}

/**
 * Fingerprint per selected cluster. Throws what the renderer throws (the same problems the
 * deployment's own render reports).
 */
export async function renderingFingerprints(input: RenderingInput): Promise<Map<string, string>> {
  const { deployment, registry, placement, clusters, cache } = input;
  const revisions = deployment.spec.appRevisions.map((r) => ({ name: r.name, replicas: FINGERPRINT_REPLICAS }));
  const rendered = await renderDeployment({
    deployment,
    registry,
    targets: targetsOnEveryCluster(placement, clusters, revisions),
    ...(cache ? { cache } : {}),
  });
  return new Map(rendered.map((r) => [r.cluster, createHash("sha256").update(JSON.stringify(r.manifests)).digest("base64url").slice(0, 22)]));
}

/**
 * The fingerprints of each deployment, kept while the deployment's generation, the definitions
 * and the selected clusters (labels, version, wave) stay the same: a reconcile that only reports
 * health renders nothing for them.
 */
export class RenderingCache {
  private readonly kept = new Map<string, { registry: DefinitionRegistry; inputs: string; fingerprints: Map<string, string> }>();

  async get(key: string, input: RenderingInput): Promise<Map<string, string>> {
    const { deployment, registry, placement, clusters } = input;
    const byName = new Map(clusters.map((c) => [c.metadata.name, c]));
    const inputs = JSON.stringify([
      deployment.metadata.generation ?? 0,
      deployment.metadata.labels ?? {},
      placement.waves.map((w) => [w.name, w.clusters.map((n) => [n, byName.get(n)?.metadata.labels ?? {}, byName.get(n)?.status?.version ?? ""])]),
    ]);
    const hit = this.kept.get(key);
    if (hit?.registry === registry && hit.inputs === inputs) return hit.fingerprints;
    const fingerprints = await renderingFingerprints(input);
    this.kept.set(key, { registry, inputs, fingerprints });
    return fingerprints;
  }

  forget(key: string): void {
    this.kept.delete(key);
  }

  clear(): void {
    this.kept.clear();
  }
}
