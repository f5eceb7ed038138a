// Golden tests: every example under examples/*/ rendered with the built-in definitions, through
// the same functions `flotilla render` uses, compared byte for byte with
// test/golden/<example>/<cluster>.yaml. `UPDATE_GOLDEN=1` (re)writes the files instead; read the
// diff before committing it: golden files are reviewed like code.

import { existsSync, readdirSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment, Cluster, Manifest } from "../../src/api/types.js";
import { waveName } from "../../src/api/validate.js";
import { readInputs } from "../../src/cli/inputs.js";
import { FileDefinitionSource } from "../../src/definitions/loader.js";
import { brokenDefinitions, buildRegistry } from "../../src/definitions/registry.js";
import { place } from "../../src/placement/select.js";
import { type RenderTarget, renderDeployment } from "../../src/render/render.js";
import { fullRolloutTargets } from "../../src/rollout/targets.js";

const ROOT = join(import.meta.dirname, "..", "..");
const EXAMPLES = join(ROOT, "examples");
const GOLDEN = import.meta.dirname;
// The package's definitions/ (the CLI finds the same folder relative to dist/).
const DEFINITIONS = join(ROOT, "definitions");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

const HEADER = (example: string, cluster: string) =>
  `# Golden file: examples/${example} rendered for cluster ${cluster} with the built-in definitions.\n` +
  "# Regenerate with UPDATE_GOLDEN=1 npx vitest run --project unit test/golden, then review the diff.\n";

/** Examples present at run time: folders of examples/ that hold an app.yaml. */
function examples(): string[] {
  if (!existsSync(EXAMPLES)) return [];
  return readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(EXAMPLES, e.name, "app.yaml")))
    .map((e) => e.name)
    .sort();
}

const LOCAL: Cluster = { apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: "local" }, spec: {} };

/** As `flotilla render`: placement over clusters.yaml when present, else one implicit cluster `local`. */
function targetsFor(deployment: ApplicationDeployment, clusters: Cluster[] | undefined): RenderTarget[] {
  if (!clusters) {
    const first = deployment.spec.placementStrategies?.[0];
    const placement = { waves: [{ name: waveName(0, first?.name), index: 0, strategy: first ?? {}, clusters: ["local"] }], decisions: [] };
    return fullRolloutTargets(deployment, placement, [LOCAL]);
  }
  return fullRolloutTargets(deployment, place(deployment.spec.placementStrategies, clusters), clusters);
}

/** Rendered files of one example: cluster → YAML stream. */
async function renderExample(example: string): Promise<Map<string, string>> {
  const dir = join(EXAMPLES, example);
  const inputs = await readInputs([join(dir, "app.yaml")]);
  const clusterFile = join(dir, "clusters.yaml");
  const clusterInputs = existsSync(clusterFile) ? await readInputs([clusterFile]) : undefined;
  const problems = [...inputs.problems, ...(clusterInputs?.problems ?? [])];
  if (problems.length) throw new Error(`examples/${example} is invalid:\n${problems.map((p) => `${p.file}: ${p.path}: ${p.message}`).join("\n")}`);
  const docs = await new FileDefinitionSource([DEFINITIONS]).loadDocuments();
  const registry = buildRegistry([...docs, ...inputs.definitions]);
  const broken = brokenDefinitions(registry);
  if (broken.length) throw new Error(`broken definitions: ${broken.map((b) => `${b.name}: ${b.error.message}`).join("\n")}`);
  const clusters = clusterInputs ? [...clusterInputs.clusters, ...inputs.clusters] : inputs.clusters.length ? inputs.clusters : undefined;
  const byCluster = new Map<string, Manifest[]>();
  for (const { doc } of inputs.deployments) {
    for (const c of await renderDeployment({ deployment: doc, registry, targets: targetsFor(doc, clusters) })) {
      byCluster.set(c.cluster, [...(byCluster.get(c.cluster) ?? []), ...c.manifests]);
    }
  }
  const files = new Map<string, string>();
  for (const [cluster, manifests] of [...byCluster].sort(([a], [b]) => (a < b ? -1 : 1))) {
    files.set(`${cluster}.yaml`, HEADER(example, cluster) + manifests.map((m) => `---\n${toYaml(m)}`).join(""));
  }
  return files;
}

const found = examples();

describe("golden files", () => {
  it("finds the examples", () => {
    expect(found).toContain("quickstart");
  });

  it.each(found)("examples/%s renders exactly as its golden files", async (example) => {
    const rendered = await renderExample(example);
    const dir = join(GOLDEN, example);
    if (UPDATE) {
      await mkdir(dir, { recursive: true });
      for (const name of await readdir(dir)) if (!rendered.has(name)) await rm(join(dir, name));
      for (const [name, text] of rendered) await writeFile(join(dir, name), text);
    }
    const present = existsSync(dir) ? (await readdir(dir)).filter((n) => n.endsWith(".yaml")).sort() : [];
    expect(present, `golden files of ${example} (run UPDATE_GOLDEN=1 to create them)`).toEqual([...rendered.keys()]);
    for (const [name, text] of rendered) {
      expect(text, `test/golden/${example}/${name} differs (UPDATE_GOLDEN=1 rewrites it; review the diff)`).toBe(await readFile(join(dir, name), "utf8"));
    }
  });

  it("keeps no golden folder for an example that no longer exists", async () => {
    const folders = (await readdir(GOLDEN, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    if (UPDATE) for (const f of folders) if (!found.includes(f)) await rm(join(GOLDEN, f), { recursive: true });
    const remaining = (await readdir(GOLDEN, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    expect(remaining.filter((f) => !found.includes(f))).toEqual([]);
  });
});
