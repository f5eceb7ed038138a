// `flotilla render` and `flotilla validate` as a user runs them (see compiled-cli.ts).

import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../../src/api/serialize.js";
import type { Manifest } from "../../../src/api/types.js";
import { getPath } from "../../../src/render/merge.js";
import { aComponent, aDeployment, aRevision } from "../builders.js";
import { buildCli, flotilla as run } from "./compiled-cli.js";

const APP = "examples/quickstart/app.yaml";
const CLUSTERS = "examples/quickstart/clusters.yaml";

function flotilla(...args: string[]) {
  return run(args);
}

let tmp: string;

beforeAll(async () => {
  buildCli();
  tmp = await mkdtemp(join(tmpdir(), "flotilla-cli-"));
}, 180_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Split `render` output into { cluster → manifests }. */
function byCluster(stdout: string): Map<string, Manifest[]> {
  const out = new Map<string, Manifest[]>();
  let current = "";
  for (const chunk of stdout.split(/^(?=# cluster: )/m)) {
    const m = /^# cluster: (\S+)\n/.exec(chunk);
    if (!m) continue;
    current = m[1]!;
    out.set(current, parseYamlStream(chunk.slice(m[0].length)) as Manifest[]);
  }
  return out;
}

describe("flotilla validate", { timeout: 60_000 }, () => {
  it("exits 1 and names the field when settings.image is a number", async () => {
    const file = join(tmp, "bad.yaml");
    const d = aDeployment("bad")
      .withRevision(aRevision("v1").withComponent(aComponent("backend", "worker").withSettings({ image: 42 })))
      .build();
    await writeFile(file, toYaml(d));
    const run = await flotilla("validate", "-f", file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("spec.appRevisions[0].template.spec.components[0].settings.image: must be string (got 42)");
    expect(run.stderr).toContain(file);
  });

  it("accepts the quickstart", async () => {
    const run = await flotilla("validate", "-f", APP, "-f", CLUSTERS);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("4 document(s) valid\n");
  });

  it("exits 1 and names an unknown trait with the known ones", async () => {
    const file = join(tmp, "unknown-trait.yaml");
    const d = aDeployment("bad")
      .withRevision(aRevision("v1").withComponent(aComponent("backend", "worker").withSettings({ image: "x" }).withTrait("autoscaller")))
      .build();
    await writeFile(file, toYaml(d));
    const run = await flotilla("validate", "-f", file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('spec.appRevisions[0].template.spec.components[0].traits[0].name: unknown trait "autoscaller"');
    expect(run.stderr).toContain("autoscaler");
  });
});

describe("flotilla render", { timeout: 60_000 }, () => {
  it("prints the production clusters of the quickstart and not staging", async () => {
    const run = await flotilla("render", "-f", APP, "--clusters", CLUSTERS);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("# cluster: prod-eu\n");
    expect(run.stdout).toContain("# cluster: prod-us\n");
    expect(run.stdout).not.toContain("# cluster: staging");
    expect([...byCluster(run.stdout).keys()]).toEqual(["prod-eu", "prod-us"]);
  });

  it("renders backend-v1 with 10 replicas of myimage-v1 and an HPA of 1 to 10 targeting it", async () => {
    const run = await flotilla("render", "-f", APP, "--clusters", CLUSTERS);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const clusters = byCluster(run.stdout);
    // Both production clusters, each with its objects: the loop below must have something to check.
    expect([...clusters.keys()]).toEqual(["prod-eu", "prod-us"]);
    for (const [cluster, manifests] of clusters) {
      expect(manifests.map((m) => m.kind).sort(), cluster).toEqual(["Deployment", "HorizontalPodAutoscaler"]);
      const deployment = manifests.find((m) => m.kind === "Deployment");
      expect(deployment?.metadata, cluster).toMatchObject({ name: "backend-v1", namespace: "default" });
      expect(getPath(deployment, "spec.replicas")).toBe(10);
      expect(getPath(deployment, "spec.template.spec.containers")).toEqual([expect.objectContaining({ name: "backend", image: "myimage-v1" })]);
      const hpa = manifests.find((m) => m.kind === "HorizontalPodAutoscaler");
      expect(getPath(hpa, "spec")).toMatchObject({
        minReplicas: 1,
        maxReplicas: 10,
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "backend-v1" },
      });
      expect(hpa?.metadata.namespace).toBe("default");
    }
  });

  it("prints the same bytes every time", async () => {
    const a = await flotilla("render", "-f", APP, "--clusters", CLUSTERS);
    const b = await flotilla("render", "-f", APP, "--clusters", CLUSTERS);
    // Two successful renders with something in them, or two failures would print the "same" nothing.
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(a.stdout).toContain("kind: Deployment");
    expect(b.stdout).toBe(a.stdout);
  });

  it("renders onto one implicit cluster named local without --clusters", async () => {
    const run = await flotilla("render", "-f", APP);
    expect(run.code).toBe(0);
    expect([...byCluster(run.stdout).keys()]).toEqual(["local"]);
  });

  it("prints JSON with -o json", async () => {
    const run = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "-o", "json");
    expect(run.code).toBe(0);
    const parsed = JSON.parse(run.stdout) as Array<{ cluster: string; manifests: Array<{ kind: string; metadata: { name: string } }> }>;
    expect(parsed.map((c) => c.cluster)).toEqual(["prod-eu", "prod-us"]);
    expect(parsed[0]!.manifests.map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(["Deployment/backend-v1", "HorizontalPodAutoscaler/backend-v1"]);
    expect(Object.keys(parsed[0]!.manifests[0]!).slice(0, 3)).toEqual(["apiVersion", "kind", "metadata"]);
  });

  it("refuses an unknown output format", async () => {
    const run = await flotilla("render", "-f", APP, "-o", "xml");
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--output: "xml" is not a format. Use yaml or json.');
  });

  it("writes the environment-repository layout with --out-dir", async () => {
    const dir = join(tmp, "env");
    const run = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "--out-dir", dir);
    expect(run.code).toBe(0);
    for (const cluster of ["prod-eu", "prod-us"]) {
      const file = join(dir, "clusters", cluster, "default", "example-deploy", "apps.Deployment.backend-v1.yaml");
      const [deployment] = parseYamlStream(await readFile(file, "utf8")) as Manifest[];
      expect(deployment?.metadata.name).toBe("backend-v1");
      expect(getPath(deployment, "spec.replicas")).toBe(10);
      expect(existsSync(join(dir, "clusters", cluster, "default", "example-deploy", "autoscaling.HorizontalPodAutoscaler.backend-v1.yaml"))).toBe(true);
    }
    expect(existsSync(join(dir, "clusters", "staging"))).toBe(false);
  });

  it("exits 1 naming the field when rendering an invalid deployment", async () => {
    const file = join(tmp, "render-bad.yaml");
    const d = aDeployment("bad")
      .withRevision(aRevision("v1").withComponent(aComponent("backend", "nope").withSettings({ image: "x" })))
      .build();
    await writeFile(file, toYaml(d));
    const run = await flotilla("render", "-f", file);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('spec.appRevisions[0].template.spec.components[0].type: unknown component type "nope"');
  });
});
