// `flotilla validate --kube-version` and `flotilla render --kube-version` (issue #22 item 2):
// rendered objects checked against one Kubernetes version's API, through the commands themselves.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { toYaml } from "../../../src/api/serialize.js";
import type { Cluster, JsonObject } from "../../../src/api/types.js";
import { kubeVersions } from "../../../src/render/kube-schema.js";
import { flotilla } from "./render-commands.js";
import { aComponent, aDeployment, aRevision } from "../builders.js";

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "flotilla-kube-version-"));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});
afterEach(() => {
  vi.restoreAllMocks();
});

async function file(name: string, ...docs: unknown[]): Promise<string> {
  const path = join(tmp, name);
  await writeFile(path, docs.map((d) => `---\n${toYaml(d)}`).join(""));
  return path;
}

/** A deployment of one k8s-objects component rendering `objects` as given. */
function rawObjects(objects: JsonObject[]): unknown {
  return aDeployment("raw")
    .withRevision(aRevision("v1").withComponent(aComponent("things", "k8s-objects").withSettings({ objects })))
    .build();
}

const cronJob = (apiVersion: string): JsonObject => ({
  apiVersion,
  kind: "CronJob",
  metadata: { name: "nightly" },
  spec: { schedule: "0 1 * * *", jobTemplate: { spec: { template: { spec: { restartPolicy: "Never", containers: [{ name: "a", image: "a" }] } } } } },
});

const cluster = (name: string, version?: string): Cluster => ({
  apiVersion: "flotilla.dev/v1alpha1",
  kind: "Cluster",
  metadata: { name },
  spec: {},
  ...(version ? { status: { version } } : {}),
});

describe("flotilla validate --kube-version", { timeout: 60_000 }, () => {
  it("exits 1 naming the component, the object, the field and the version of a removed apiVersion, with the one to use", async () => {
    const app = await file("cronjob-beta.yaml", rawObjects([cronJob("batch/v1beta1")]));
    expect(await flotilla("validate", "-f", app, "--kube-version", "1.24")).toMatchObject({ code: 0 });
    const run = await flotilla("validate", "-f", app, "--kube-version", "1.25");
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      "1 problem(s):\n" +
        `  ${app}: spec.appRevisions[0].template.spec.components[0]: renders CronJob/team-a/nightly: apiVersion: batch/v1beta1 CronJob is not served by Kubernetes 1.25 (removed in 1.25). Use apiVersion batch/v1.\n`,
    );
  });

  it("reports unknown fields and wrong types as items of -o json, and still exits 1", async () => {
    const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { port: 8080 }, dta: {} };
    const app = await file("configmap.yaml", rawObjects([configMap]));
    const run = await flotilla("validate", "-f", app, "--kube-version", "1.30", "-o", "json");
    expect(run.code).toBe(1);
    const items = (JSON.parse(run.stdout) as { items: Array<{ message: string; fix: string }> }).items;
    expect(items.map((i) => i.message)).toEqual([
      "renders ConfigMap/team-a/settings: data.port: must be a string (got 8080) for Kubernetes 1.30",
      'renders ConfigMap/team-a/settings: dta: unknown field "dta" (ConfigMap has no such field) for Kubernetes 1.30',
    ]);
    expect(items.map((i) => i.fix)).toEqual(['Quote the value in YAML ("8080").', 'Did you mean "data"?']);
  });

  it("renders the built-in definitions' version-aware apiVersions for the version it checks", async () => {
    const app = await file(
      "cron-task.yaml",
      aDeployment("reports")
        .withRevision(aRevision("v1").withComponent(aComponent("report", "cron-task").withSettings({ image: "r:1", schedule: "0 1 * * *" })))
        .build(),
    );
    for (const version of ["1.20", "1.21", kubeVersions().newest]) {
      expect(await flotilla("validate", "-f", app, "--kube-version", version)).toEqual({
        code: 0,
        stdout: `1 document(s) valid; rendered objects fit Kubernetes ${version}\n`,
        stderr: "",
      });
    }
  });

  it("notes, and does not fail, objects of kinds Kubernetes does not build in", async () => {
    const route = { apiVersion: "gateway.networking.k8s.io/v1", kind: "HTTPRoute", metadata: { name: "web" }, spec: { anything: true } };
    const app = await file("route.yaml", rawObjects([route]));
    const run = await flotilla("validate", "-f", app, "--kube-version", "1.25");
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      "note: HTTPRoute/team-a/web (gateway.networking.k8s.io/v1) not checked: gateway.networking.k8s.io is not an API group built into Kubernetes (a CRD's schema is the cluster's)\n",
    );
  });

  it.each([["1.19"], ["2.0"], ["one-twenty"]])("refuses --kube-version %s with exit 2 and the versions it covers", async (version) => {
    const app = await file("plain.yaml", rawObjects([cronJob("batch/v1")]));
    const run = await flotilla("validate", "-f", app, "--kube-version", version);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: --kube-version: /);
    expect(run.stderr).toContain(
      version === "one-twenty" ? "is not a Kubernetes version. Give MAJOR.MINOR" : `the schemas cover 1.20 to ${kubeVersions().newest}`,
    );
  });
});

describe("flotilla render --kube-version", { timeout: 60_000 }, () => {
  it("renders for that version where the cluster reports none, and checks each cluster against the version its templates saw", async () => {
    const app = await file("cron-render.yaml", rawObjects([cronJob("batch/v1beta1")]));
    const clusters = await file("clusters.yaml", cluster("old", "v1.20.2"), cluster("new"));
    const run = await flotilla("render", "-f", app, "--clusters", clusters, "--kube-version", "1.25");
    expect(run.code).toBe(1);
    // validate's check (the implicit cluster at 1.25) refuses first, before any cluster is rendered.
    expect(run.stderr).toContain("renders CronJob/team-a/nightly: apiVersion: batch/v1beta1 CronJob is not served by Kubernetes 1.25 (removed in 1.25)");
    expect(run.stdout).toBe("");
    // At 1.24, validate passes; cluster "old" reports 1.20 and "new" takes 1.24: both serve batch/v1beta1.
    const ok = await flotilla("render", "-f", app, "--clusters", clusters, "--kube-version", "1.24");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain("# cluster: new\n");
    expect(ok.stdout).toContain("# cluster: old\n");
  });

  it("refuses what a cluster's own older version does not serve, naming the cluster", async () => {
    const pdb = {
      apiVersion: "policy/v1",
      kind: "PodDisruptionBudget",
      metadata: { name: "web" },
      spec: { minAvailable: 1, selector: { matchLabels: { a: "b" } } },
    };
    const app = await file("pdb.yaml", rawObjects([pdb]));
    const clusters = await file("clusters-pdb.yaml", cluster("old", "v1.20.2"), cluster("new"));
    const run = await flotilla("render", "-f", app, "--clusters", clusters, "--kube-version", "1.25");
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain(
      "spec.appRevisions[0].template.spec.components[0]: cluster old: renders PodDisruptionBudget/team-a/web: apiVersion: policy/v1 PodDisruptionBudget is not served by Kubernetes 1.20 (added in 1.21)",
    );
    expect(run.stderr).not.toContain("cluster new:");
  });

  it("notes, and does not check, a cluster reporting a version the schemas do not cover", async () => {
    const app = await file("cron-ancient.yaml", rawObjects([cronJob("batch/v1beta1")]));
    const clusters = await file("clusters-ancient.yaml", cluster("ancient", "v1.19.16"));
    const run = await flotilla("render", "-f", app, "--clusters", clusters, "--kube-version", "1.24");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("# cluster: ancient\n");
    expect(run.stderr).toBe(
      `note: cluster ancient reports Kubernetes "v1.19.16": its objects are not checked (the schemas cover 1.20 to ${kubeVersions().newest})\n`,
    );
  });

  it("gives the templates the version: the cron-task component renders batch/v1beta1 for 1.20 and batch/v1 for 1.21", async () => {
    const app = await file(
      "cron-task-render.yaml",
      aDeployment("reports")
        .withRevision(aRevision("v1").withComponent(aComponent("report", "cron-task").withSettings({ image: "r:1", schedule: "0 1 * * *" })))
        .build(),
    );
    expect((await flotilla("render", "-f", app, "--kube-version", "1.20")).stdout).toContain("apiVersion: batch/v1beta1\nkind: CronJob\n");
    expect((await flotilla("render", "-f", app, "--kube-version", "1.21")).stdout).toContain("apiVersion: batch/v1\nkind: CronJob\n");
  });
});
