// Every example under examples/*/ rendered with the built-in definitions for Kubernetes 1.20, 1.25
// and the newest version the schemas know (every cluster told that version, as its status would),
// and checked against that version's API: no unknown field, no wrong type, only apiVersions it
// serves. The version-aware templates must pick the apiVersion each version serves best.

import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ApplicationDeployment, Cluster, Manifest } from "../../src/api/types.js";
import { waveName } from "../../src/api/validate.js";
import { readInputs } from "../../src/cli/inputs.js";
import { FileDefinitionSource } from "../../src/definitions/loader.js";
import { buildRegistry } from "../../src/definitions/registry.js";
import { place } from "../../src/placement/select.js";
import { formatKubeSchemaProblem, kubeVersions, validateManifests } from "../../src/render/kube-schema.js";
import { renderDeployment } from "../../src/render/render.js";
import { fullRolloutTargets } from "../../src/rollout/targets.js";

const ROOT = join(import.meta.dirname, "..", "..");
const EXAMPLES = join(ROOT, "examples");
const VERSIONS = ["1.20", "1.25", kubeVersions().newest];

const examples = existsSync(EXAMPLES)
  ? readdirSync(EXAMPLES, { withFileTypes: true })
      .filter((e) => e.isDirectory() && existsSync(join(EXAMPLES, e.name, "app.yaml")))
      .map((e) => e.name)
      .sort()
  : [];

const atVersion = (c: Cluster, version: string): Cluster => ({ ...c, status: { ...c.status, version: `v${version}.0` } });

/** Every object an example renders, placed as `flotilla render` places it, with every cluster at `version`. */
async function renderExample(example: string, version: string): Promise<Manifest[]> {
  const dir = join(EXAMPLES, example);
  const inputs = await readInputs([join(dir, "app.yaml")]);
  const clusterFile = join(dir, "clusters.yaml");
  const clusterInputs = existsSync(clusterFile) ? await readInputs([clusterFile]) : undefined;
  const registry = buildRegistry([...(await new FileDefinitionSource([join(ROOT, "definitions")]).loadDocuments()), ...inputs.definitions]);
  const given = clusterInputs ? [...clusterInputs.clusters, ...inputs.clusters] : inputs.clusters;
  const local: Cluster = { apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: "local" }, spec: {} };
  const clusters = (given.length ? given : [local]).map((c) => atVersion(c, version));
  const manifests: Manifest[] = [];
  for (const { doc } of inputs.deployments) {
    const targets = given.length ? fullRolloutTargets(doc, place(doc.spec.placementStrategies, clusters), clusters) : localTargets(doc, clusters);
    for (const c of await renderDeployment({ deployment: doc, registry, targets })) manifests.push(...c.manifests);
  }
  return manifests;
}

function localTargets(deployment: ApplicationDeployment, clusters: Cluster[]) {
  const first = deployment.spec.placementStrategies?.[0];
  const placement = { waves: [{ name: waveName(0, first?.name), index: 0, strategy: first ?? {}, clusters: ["local"] }], decisions: [] };
  return fullRolloutTargets(deployment, placement, clusters);
}

const apiVersionsOf = (manifests: Manifest[], kind: string): string[] => [...new Set(manifests.filter((m) => m.kind === kind).map((m) => m.apiVersion))];

describe("examples on every Kubernetes version", () => {
  it("finds the examples and checks 1.20, 1.25 and the newest version", () => {
    expect(examples).toContain("quickstart");
    expect(VERSIONS[2]).not.toBe("1.25");
  });

  const cases = examples.flatMap((example) => VERSIONS.map((version) => [example, version] as const));
  it.each(cases)("examples/%s renders for Kubernetes %s into objects that version's API takes", async (example, version) => {
    const manifests = await renderExample(example, version);
    expect(manifests.length).toBeGreaterThan(0);
    const { problems, notes } = validateManifests(manifests, version);
    expect(problems.map(formatKubeSchemaProblem)).toEqual([]);
    expect(notes).toEqual([]);
  });

  it.each(VERSIONS)("picks the apiVersions Kubernetes %s serves best for autoscalers and disruption budgets", async (version) => {
    const all = (await Promise.all(examples.map((e) => renderExample(e, version)))).flat();
    const old = version === "1.20";
    // The quickstart has an autoscaler and the overrides example a PDB: the choice is really made.
    expect(apiVersionsOf(all, "HorizontalPodAutoscaler")).toEqual([old ? "autoscaling/v2beta2" : "autoscaling/v2"]);
    expect(apiVersionsOf(all, "PodDisruptionBudget")).toEqual([old ? "policy/v1beta1" : "policy/v1"]);
  });
});
