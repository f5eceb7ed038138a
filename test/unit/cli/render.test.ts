// `flotilla render` and `flotilla validate` as a user runs them (see compiled-cli.ts).

import { spawnSync } from "node:child_process";
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

/**
 * A stream of JSON documents, one after another, as jq reads it: each top-level value parsed on
 * its own, anything else between them (but white space) an error.
 */
function parseJsonStream(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0;
  let start = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === "\\") escaped = true;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") {
      if (depth++ === 0) start = i;
    } else if (c === "}" || c === "]") {
      if (--depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
    } else if (depth === 0 && !/\s/.test(c)) throw new Error(`not a JSON stream: ${JSON.stringify(c)} at offset ${i}`);
  }
  if (depth !== 0 || inString) throw new Error("not a JSON stream: the last document is cut off");
  return docs;
}

interface List {
  apiVersion: string;
  kind: string;
  items: Manifest[];
}

const names = (list: List) => list.items.map((m) => `${m.kind}/${m.metadata.name}`);

/** What kubectl makes of a stream, read with its own decoder and no server (`--local`): the objects as `-o name` prints them. */
function kubectlNames(stream: string): string[] {
  const run = spawnSync("kubectl", ["annotate", "--local", "-f", "-", "flotilla.dev/checked=true", "-o", "name"], {
    input: stream,
    encoding: "utf8",
    // No kubeconfig of the user's: --local never talks to a server, and must not need one.
    env: { PATH: process.env.PATH ?? "", HOME: tmp },
  });
  expect(run.error, "kubectl not found: run scripts/install-control-plane.sh").toBeUndefined();
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return run.stdout.split("\n").filter(Boolean);
}

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

describe("flotilla validate -o json|yaml", { timeout: 60_000 }, () => {
  it("prints the problems as a List of data, and still exits 1", async () => {
    const file = join(tmp, "bad-for-json.yaml");
    const d = aDeployment("bad")
      .withRevision(aRevision("v1").withComponent(aComponent("backend", "worker").withSettings({ image: 42 })))
      .build();
    await writeFile(file, toYaml(d));
    const run = await flotilla("validate", "-f", file, "-o", "json");
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 1, stderr: "" });
    const list = JSON.parse(run.stdout) as { apiVersion: string; kind: string; items: Array<Record<string, string>> };
    expect(list).toMatchObject({ apiVersion: "v1", kind: "List" });
    expect(list.items).toContainEqual(
      expect.objectContaining({ file, path: "spec.appRevisions[0].template.spec.components[0].settings.image", message: "must be string (got 42)" }),
    );
    // The same problems as the text, which prints one a line on stderr.
    const text = await flotilla("validate", "-f", file);
    expect(text.stderr).toContain(`${list.items.length} problem(s):`);
    expect(parseYamlStream((await flotilla("validate", "-f", file, "-o", "yaml")).stdout)).toEqual([list]);
  });

  it("prints an empty List and exits 0 when everything is valid", async () => {
    const run = await flotilla("validate", "-f", APP, "-f", CLUSTERS, "-o", "yaml");
    expect(run).toEqual({ code: 0, stdout: "apiVersion: v1\nkind: List\nitems: []\n", stderr: "" });
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

  it("prints with -o json a stream of Lists, one per cluster in name order, holding the YAML's objects", async () => {
    const run = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "-o", "json");
    expect(run.code).toBe(0);
    const lists = parseJsonStream(run.stdout) as List[];
    expect(lists.map((l) => [l.apiVersion, l.kind])).toEqual([
      ["v1", "List"],
      ["v1", "List"],
    ]);
    const yaml = byCluster((await flotilla("render", "-f", APP, "--clusters", CLUSTERS)).stdout);
    expect(lists.map((l) => l.items)).toEqual([yaml.get("prod-eu"), yaml.get("prod-us")]);
    expect(names(lists[0]!)).toEqual(["Deployment/backend-v1", "HorizontalPodAutoscaler/backend-v1"]);
    expect(Object.keys(lists[0]!.items[0]!).slice(0, 3)).toEqual(["apiVersion", "kind", "metadata"]);
    // Two-space indent and a newline after each document.
    expect(run.stdout.startsWith('{\n  "apiVersion": "v1",\n  "kind": "List",\n')).toBe(true);
    expect(run.stdout.match(/^}\n/gm)).toHaveLength(2);
  });

  it("prints a stream kubectl reads with its own decoder", async () => {
    const one = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "--cluster", "prod-eu", "-o", "json");
    expect(one.code).toBe(0);
    expect(kubectlNames(one.stdout)).toEqual(["deployment.apps/backend-v1", "horizontalpodautoscaler.autoscaling/backend-v1"]);
    const both = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "-o", "json");
    expect(kubectlNames(both.stdout)).toHaveLength(4);
  });

  it("keeps only the clusters --cluster names, in name order, in YAML, JSON and --out-dir alike", async () => {
    const yaml = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "--cluster", "prod-us");
    expect(yaml.code).toBe(0);
    expect([...byCluster(yaml.stdout).keys()]).toEqual(["prod-us"]);
    const json = await flotilla(
      "render",
      "-f",
      APP,
      "--clusters",
      CLUSTERS,
      "--cluster",
      "prod-us",
      "--cluster",
      "prod-eu",
      "--cluster",
      "prod-us",
      "-o",
      "json",
    );
    expect(json.code).toBe(0);
    const lists = parseJsonStream(json.stdout) as List[];
    expect(lists).toHaveLength(2);
    const all = byCluster((await flotilla("render", "-f", APP, "--clusters", CLUSTERS)).stdout);
    expect(lists.map((l) => l.items)).toEqual([all.get("prod-eu"), all.get("prod-us")]);
    const dir = join(tmp, "env-one-cluster");
    expect((await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "--cluster", "prod-eu", "--out-dir", dir)).code).toBe(0);
    expect(existsSync(join(dir, "clusters", "prod-eu"))).toBe(true);
    expect(existsSync(join(dir, "clusters", "prod-us"))).toBe(false);
  });

  it("prints a cluster --cluster names that nothing is placed on as empty, saying why on stderr", async () => {
    const run = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "--cluster", "staging", "--cluster", "prod-eu", "-o", "json");
    expect(run.code).toBe(0);
    const lists = parseJsonStream(run.stdout) as List[];
    expect(lists.map((l) => l.items.length)).toEqual([2, 0]); // prod-eu, staging
    expect(run.stderr).toBe("note: nothing is placed on cluster staging (default/example-deploy: label usage=staging does not match usage=production)\n");
    const yaml = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "--cluster", "staging");
    expect(yaml.stdout).toBe("# cluster: staging\n");
  });

  it("exits 1 naming the clusters there are when --cluster names none of them", async () => {
    const run = await flotilla("render", "-f", APP, "--clusters", CLUSTERS, "--cluster", "prod-eu", "--cluster", "prod-ue");
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: "" });
    expect(run.stderr).toBe('error: --cluster: no cluster named "prod-ue" (the clusters are: prod-eu, prod-us, staging).\n');
    const local = await flotilla("render", "-f", APP, "--cluster", "prod-eu");
    expect(local.code).toBe(1);
    expect(local.stderr).toBe('error: --cluster: no cluster named "prod-eu" (without --clusters there is one, named local).\n');
    expect((await flotilla("render", "-f", APP, "--cluster", "local")).code).toBe(0);
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
