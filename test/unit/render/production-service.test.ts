// examples/production-service against the Pod Security Standards `restricted` level: every pod
// template it renders, on every cluster and for an old and a current Kubernetes version, meets each
// control of the level. The local fleet's 1.20 API server has no PodSecurity admission, so this is
// the check that the example would be admitted in a `restricted` namespace.

import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { Cluster, Manifest } from "../../../src/api/types.js";
import { builtinDefinitionsDir, readInputs } from "../../../src/cli/inputs.js";
import { FileDefinitionSource } from "../../../src/definitions/loader.js";
import { buildRegistry } from "../../../src/definitions/registry.js";
import { place } from "../../../src/placement/select.js";
import { type PodTemplate, podSecurityControls, podTemplatesOf } from "../../../src/render/pod-security.js";
import { renderDeployment } from "../../../src/render/render.js";
import { fullRolloutTargets } from "../../../src/rollout/targets.js";

const EXAMPLE = join(import.meta.dirname, "..", "..", "..", "examples", "production-service");

async function renderAt(version: string): Promise<Manifest[]> {
  const inputs = await readInputs([join(EXAMPLE, "app.yaml"), join(EXAMPLE, "clusters.yaml")]);
  expect(inputs.problems).toEqual([]);
  const registry = buildRegistry(await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments());
  const clusters: Cluster[] = inputs.clusters.map((c) => ({ ...c, status: { ...c.status, version } }));
  const deployment = inputs.deployments[0]!.doc;
  const rendered = await renderDeployment({
    deployment,
    registry,
    targets: fullRolloutTargets(deployment, place(deployment.spec.placementStrategies, clusters), clusters),
  });
  return rendered.flatMap((r) => r.manifests);
}

describe.each(["v1.20.2", "v1.31.0"])("examples/production-service rendered for %s", (version) => {
  let manifests: Manifest[];
  let templates: { object: string; template: PodTemplate }[];

  beforeAll(async () => {
    manifests = await renderAt(version);
    templates = manifests.flatMap((m) => podTemplatesOf(m).map((template) => ({ object: `${m.kind}/${m.metadata.name}`, template })));
  });

  it("renders what the example promises: workload, HPA, budget, Service and Ingress on each of the three clusters", () => {
    const kinds = manifests.map((m) => m.kind);
    for (const kind of ["Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Service", "Ingress"])
      expect(
        kinds.filter((k) => k === kind),
        kind,
      ).toHaveLength(3);
    expect(templates).toHaveLength(3);
  });

  it.each(podSecurityControls("restricted").map((c) => [c.name, c] as const))("meets the control %s", (_, control) => {
    expect(templates.flatMap(({ object, template }) => control.check(template).map((p) => `${object}: ${p}`))).toEqual([]);
  });
});
