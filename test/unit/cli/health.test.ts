// `flotilla health` through its function (runHealth) and its command line: files and folders,
// Lists, the three outputs, the exit codes, a file that is not an object, and KIND/NAME read from
// a fake cluster. The statuses come from objectHealth, so these tests only pin objects whose
// status no rule change would move (a ready Deployment, a failed Job, a rolling Deployment).

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseYamlStream, toYaml } from "../../../src/api/serialize.js";
import type { Manifest } from "../../../src/api/types.js";
import {
  type HealthCluster,
  type HealthCommandOptions,
  type HealthEntry,
  registerHealthCommand,
  resolveResource,
  runHealth,
  type ServedResource,
} from "../../../src/cli/health.js";
import type { ObjectRef } from "../../../src/kube/refs.js";

// ---------- builders ----------

function aDeployment(name: string, ready: boolean): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "shop", generation: 2 },
    spec: { replicas: 2 },
    status: { observedGeneration: 2, replicas: 2, updatedReplicas: ready ? 2 : 1, availableReplicas: ready ? 2 : 1 },
  };
}

function aFailedJob(name: string): Manifest {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name, namespace: "shop" },
    status: { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded", message: "Job has reached the specified backoff limit" }] },
  };
}

function aConfigMap(name: string): Manifest {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "shop" }, data: { a: "1" } };
}

// ---------- running ----------

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function health(options: Partial<HealthCommandOptions>, cluster?: HealthCluster): Promise<Run> {
  const run: Run = { code: -1, stdout: "", stderr: "" };
  run.code = await runHealth(
    { filename: [], refs: [], output: "json", ...options },
    {
      stdout: (t) => {
        run.stdout += t;
      },
      stderr: (t) => {
        run.stderr += t;
      },
      ...(cluster ? { connect: () => cluster } : {}),
    },
  );
  return run;
}

/** The array of entries that -o json prints. */
function json(run: Run): HealthEntry[] {
  const entries = JSON.parse(run.stdout) as HealthEntry[];
  expect(Array.isArray(entries)).toBe(true);
  return entries;
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "flotilla-health-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function write(path: string, text: string): Promise<string> {
  const full = join(tmp, path);
  await mkdir(join(full, ".."), { recursive: true });
  await writeFile(full, text);
  return full;
}

const docs = (...objects: unknown[]) => objects.map((o) => `---\n${toYaml(o)}`).join("");

describe("flotilla health -f", () => {
  it("reports one entry per object with the file it came from, through folders and multi-document files", async () => {
    const dir = join(tmp, "folder");
    await write("folder/web.yaml", docs(aDeployment("web", true), aConfigMap("settings")));
    await write("folder/nested/api.json", JSON.stringify(aDeployment("api", true)));
    await write("folder/notes.txt", "not a manifest, not read");
    const run = await health({ filename: [dir] });
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(json(run)).toEqual([
      {
        file: join(dir, "nested/api.json"),
        apiVersion: "apps/v1",
        kind: "Deployment",
        namespace: "shop",
        name: "api",
        status: "Healthy",
        message: expect.any(String),
      },
      {
        file: join(dir, "web.yaml"),
        apiVersion: "apps/v1",
        kind: "Deployment",
        namespace: "shop",
        name: "web",
        status: "Healthy",
        message: expect.any(String),
      },
      { file: join(dir, "web.yaml"), apiVersion: "v1", kind: "ConfigMap", namespace: "shop", name: "settings", status: "Healthy", message: expect.any(String) },
    ]);
  });

  it("names files as given, so a relative -f gives paths relative to the working directory", async () => {
    const file = await write("relative/web.yaml", toYaml(aDeployment("web", true)));
    const given = relative(process.cwd(), file);
    expect(json(await health({ filename: [given] }))[0]?.file).toBe(given);
  });

  it("opens a List, and a typed list whose items carry no apiVersion or kind, into their items", async () => {
    const list = { apiVersion: "v1", kind: "List", items: [aDeployment("web", true), aFailedJob("migrate")] };
    const { apiVersion: _a, kind: _k, ...bare } = aConfigMap("bare");
    const typed = { apiVersion: "v1", kind: "ConfigMapList", metadata: { resourceVersion: "7" }, items: [bare] };
    const file = await write("list.yaml", docs(list, typed));
    const entries = json(await health({ filename: [file] }));
    expect(entries.map((e) => `${e.apiVersion} ${e.kind}/${e.name} ${e.status}`)).toEqual([
      "apps/v1 Deployment/web Healthy",
      "batch/v1 Job/migrate Degraded",
      "v1 ConfigMap/bare Healthy",
    ]);
  });

  it("uses objectHealth's status and message, not rules of its own", async () => {
    const file = await write("rolling.yaml", toYaml(aDeployment("web", false)));
    const { objectHealth } = await import("../../../src/sync/health.js");
    const expected = objectHealth(aDeployment("web", false));
    expect(json(await health({ filename: [file] }))[0]).toMatchObject({ status: expected.status, message: expected.message });
    expect(expected.status).toBe("Progressing");
  });
});

describe("flotilla health outputs", () => {
  let file: string;
  beforeAll(async () => {
    file = await write("outputs.yaml", docs(aDeployment("web", true), aFailedJob("migrate")));
  });

  it("prints a table with FILE, KIND, NAMESPACE, NAME, STATUS and MESSAGE columns", async () => {
    const run = await health({ filename: [file], output: "table" });
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^FILE\s+KIND\s+NAMESPACE\s+NAME\s+STATUS\s+MESSAGE$/);
    expect(lines[1]).toMatch(new RegExp(`^${file}\\s+Deployment\\s+shop\\s+web\\s+Healthy\\s+\\S`));
    expect(lines[2]).toMatch(new RegExp(`^${file}\\s+Job\\s+shop\\s+migrate\\s+Degraded\\s+job failed`));
    // Columns line up: STATUS starts at the same offset on every line.
    expect(new Set(lines.map((l) => l.search(/(STATUS|Healthy|Degraded)/))).size).toBe(1);
  });

  it("prints the same entries in YAML as in JSON", async () => {
    const asJson = json(await health({ filename: [file], output: "json" }));
    const asYaml = parseYamlStream((await health({ filename: [file], output: "yaml" })).stdout);
    expect(asYaml).toEqual([asJson]);
    expect(asJson).toHaveLength(2);
  });

  it("adds the APIVERSION column with -o wide", async () => {
    const lines = (await health({ filename: [file], output: "wide" })).stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^FILE\s+APIVERSION\s+KIND\s+NAMESPACE\s+NAME\s+STATUS\s+MESSAGE$/);
    expect(lines[1]).toMatch(new RegExp(`^${file}\\s+apps/v1\\s+Deployment\\s+shop\\s+web\\s+Healthy`));
    expect(lines[2]).toMatch(new RegExp(`^${file}\\s+batch/v1\\s+Job\\s+shop\\s+migrate\\s+Degraded`));
  });

  it("refuses an unknown output format with exit 2", async () => {
    const run = await health({ filename: [file], output: "xml" });
    expect(run).toMatchObject({ code: 2, stdout: "" });
    expect(run.stderr).toContain('--output: "xml" is not a format. Use table, wide, json or yaml.');
  });
});

describe("flotilla health exit codes", () => {
  it.each([
    { case: "every object Healthy", objects: [aDeployment("web", true), aConfigMap("c")], code: 0 },
    { case: "one object Progressing", objects: [aDeployment("web", true), aDeployment("api", false)], code: 1 },
    { case: "one object Degraded", objects: [aFailedJob("migrate")], code: 1 },
  ])("exits $code when $case", async ({ objects, code }) => {
    const file = await write(`exit-${code}-${objects.length}.yaml`, docs(...objects));
    expect((await health({ filename: [file] })).code).toBe(code);
  });

  it("exits 2 naming the file when a document is not a Kubernetes object, and still prints the others", async () => {
    const good = await write("mixed/good.yaml", toYaml(aDeployment("web", true)));
    const bad = await write("mixed/bad.yaml", docs(aConfigMap("ok"), { kind: "Widget", spec: {} }, ["a", "list"]));
    const run = await health({ filename: [join(tmp, "mixed")] });
    expect(run.code).toBe(2);
    expect(json(run).map((e) => `${e.file} ${e.name}`)).toEqual([`${bad} ok`, `${good} web`]);
    expect(run.stderr).toContain(`error: ${bad} (document 2): is not a Kubernetes object: it has no apiVersion.`);
    expect(run.stderr).toContain(`error: ${bad} (document 3): is not a Kubernetes object (got a list).`);
  });

  it("assesses an object without a name, and lets the last of a repeated key win as Go's YAML does", async () => {
    const file = await write(
      "lenient.yaml",
      "apiVersion: apps/v1\nkind: Deployment\nmetadata: {generation: 2}\nspec:\n  replicas: 1\n  paused: false\n  paused: true\nstatus: {observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}\n",
    );
    const run = await health({ filename: [file] });
    expect(json(run).map((e) => [e.name, e.status])).toEqual([["", "Suspended"]]);
  });

  it("exits 2 naming the file when it is not valid YAML", async () => {
    const bad = await write("broken.yaml", "kind: [unclosed\n");
    const run = await health({ filename: [bad] });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`^error: ${bad}: .*Fix the YAML syntax\\.\\n$`));
  });

  it("exits 2 naming a path that does not exist", async () => {
    const run = await health({ filename: [join(tmp, "nope")] });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${join(tmp, "nope")}: cannot be read (ENOENT)`);
  });

  it("exits 2 when a folder holds no object", async () => {
    await mkdir(join(tmp, "empty"), { recursive: true });
    const run = await health({ filename: [join(tmp, "empty")] });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("no objects found");
  });

  it("exits 2 when given both files and KIND/NAME, or neither", async () => {
    expect((await health({ filename: [tmp], refs: ["deployment/web"] })).code).toBe(2);
    expect((await health({})).code).toBe(2);
  });
});

// ---------- a cluster ----------

const SERVED: ServedResource[] = [
  { group: "", apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", singular: "configmap", shortNames: ["cm"], namespaced: true },
  { group: "", apiVersion: "v1", kind: "Namespace", plural: "namespaces", singular: "namespace", shortNames: ["ns"], namespaced: false },
  { group: "apps", apiVersion: "apps/v1", kind: "Deployment", plural: "deployments", singular: "deployment", shortNames: ["deploy"], namespaced: true },
  { group: "batch", apiVersion: "batch/v1", kind: "Job", plural: "jobs", singular: "job", shortNames: [], namespaced: true },
  { group: "example.com", apiVersion: "example.com/v2", kind: "Deployment", plural: "deployments", singular: "", shortNames: [], namespaced: true },
];

function aCluster(objects: Manifest[], contextNamespace?: string): HealthCluster & { gets: ObjectRef[] } {
  const gets: ObjectRef[] = [];
  return {
    gets,
    servedResources: async () => SERVED,
    get: async (ref) => {
      gets.push(ref);
      return objects.find(
        (o) => o.apiVersion === ref.apiVersion && o.kind === ref.kind && o.metadata.name === ref.name && o.metadata.namespace === ref.namespace,
      );
    },
    contextNamespace: () => contextNamespace,
    close: () => undefined,
  };
}

describe("resolveResource", () => {
  it.each([
    ["deployment", "apps/v1 Deployment"],
    ["deployments", "apps/v1 Deployment"],
    ["deploy", "apps/v1 Deployment"],
    ["Deployment", "apps/v1 Deployment"],
    ["deployments.apps", "apps/v1 Deployment"],
    ["deployments.example.com", "example.com/v2 Deployment"],
    ["jobs.batch", "batch/v1 Job"],
    ["cm", "v1 ConfigMap"],
    ["ns", "v1 Namespace"],
  ])("resolves %s to %s", (type, expected) => {
    const r = resolveResource(type, SERVED);
    expect(r && `${r.apiVersion} ${r.kind}`).toBe(expected);
  });

  it("resolves nothing for a type the cluster does not serve", () => {
    expect(resolveResource("widgets", SERVED)).toBeUndefined();
    expect(resolveResource("jobs.apps", SERVED)).toBeUndefined();
  });
});

describe("flotilla health KIND/NAME", () => {
  it("reads the objects from the cluster in the given namespace; a missing one is Missing and exits 1", async () => {
    const cluster = aCluster([aDeployment("web", true), aFailedJob("migrate")]);
    const run = await health({ refs: ["deployments.apps/web", "jobs.batch/migrate", "cm/gone", "ns/shop"], namespace: "shop" }, cluster);
    expect(run.code).toBe(1);
    expect(json(run).map((e) => `${e.kind} ${e.namespace}/${e.name} ${e.status}`)).toEqual([
      "Deployment shop/web Healthy",
      "Job shop/migrate Degraded",
      "ConfigMap shop/gone Missing",
      "Namespace /shop Missing",
    ]);
    expect(json(run)[0]).not.toHaveProperty("file");
    expect(cluster.gets.at(-1)).toEqual({ apiVersion: "v1", kind: "Namespace", name: "shop" });
  });

  it("uses the kubeconfig context's namespace, else default, when -n is not given", async () => {
    expect((await health({ refs: ["deployment/web"] }, aCluster([aDeployment("web", true)], "shop"))).code).toBe(0);
    const other = aCluster([]);
    await health({ refs: ["deployment/web"] }, other);
    expect(other.gets[0]?.namespace).toBe("default");
  });

  it("exits 2 for a type the cluster does not serve or a name that is not KIND/NAME", async () => {
    const run = await health({ refs: ["widgets/a", "web", "deployment/web"], namespace: "shop" }, aCluster([aDeployment("web", true)]));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('error: widgets/a: the cluster serves no resource type "widgets"');
    expect(run.stderr).toContain("error: web: is not KIND/NAME");
    expect(json(run).map((e) => e.name)).toEqual(["web"]);
  });

  it("exits 2 naming an object the cluster refuses to read, and still assesses the others", async () => {
    const cluster = aCluster([aDeployment("web", true)]);
    const forbidding: HealthCluster = {
      ...cluster,
      get: async (ref) => (ref.kind === "Job" ? Promise.reject(new Error("get failed: HTTP 403 Forbidden")) : cluster.get(ref)),
    };
    const run = await health({ refs: ["jobs/migrate", "deployment/web"], namespace: "shop" }, forbidding);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("error: jobs/migrate: cannot be read from the cluster: get failed: HTTP 403 Forbidden\n");
    expect(json(run).map((e) => `${e.name} ${e.status}`)).toEqual(["web Healthy"]);
  });

  it("exits 2 when the cluster cannot be read", async () => {
    const down: HealthCluster = { ...aCluster([]), servedResources: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6443")) };
    const run = await health({ refs: ["deployment/web"] }, down);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("cannot read from the cluster: connect ECONNREFUSED");
  });
});

describe("flotilla health on the command line", () => {
  it("is registered with -f and -o, and sets the exit code", async () => {
    const file = await write("cli/bad.yaml", toYaml(aFailedJob("migrate")));
    const program = new Command().exitOverride();
    registerHealthCommand(program);
    let out = "";
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const before = process.exitCode;
    try {
      await program.parseAsync(["node", "flotilla", "health", "-f", file, "-o", "json"]);
      expect(process.exitCode).toBe(1);
    } finally {
      process.exitCode = before;
    }
    expect((JSON.parse(out) as HealthEntry[])[0]).toMatchObject({ file, kind: "Job", name: "migrate", status: "Degraded" });
  });
});
