// The webservice-canary scenario, run by the push-mode controller test and by the pull-mode test
// on the same fleet layout: v1 everywhere; v2 canary in staging (pause, promote, soak, analysis),
// then production one cluster at a time; a broken v3 failed and rolled back in staging only. The
// Git log must record exactly CANARY_V2_STEPS whoever applies the objects.

import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { AppsV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { expect } from "vitest";
import { parseYamlStream, toYaml } from "../../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import type { FleetCluster } from "../../../src/fleet/index.js";
import { kubeConfig, kubectl, orAbsent, waitFor } from "./fleet.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");

export const CANARY_V2_STEPS = [
  "v2 supersedes v1; v2 batch 1/3 in wave staging (staging)",
  "v2 batch 2/3 in wave staging (staging)",
  "v2 batch 3/3 in wave staging (staging)",
  "v2 completed in wave staging (staging); v2 batch 1/3 in wave production (prod-eu)",
  "v2 batch 2/3 in wave production (prod-eu)",
  "v2 batch 3/3 in wave production (prod-eu)",
  "v2 completed in wave production (prod-eu); v2 batch 1/3 in wave production (prod-us)",
  "v2 batch 2/3 in wave production (prod-us)",
  "v2 batch 3/3 in wave production (prod-us)",
  "v2 completed in wave production (prod-us)",
];

export interface CanaryContext {
  ns: string;
  hub: FleetCluster;
  /** The fleet cluster behind a member's name (the shared fleet's, or a test's own). */
  cluster: (name: string) => string | FleetCluster;
  /** The environment repository's log in DEPLOYMENT_LOG_FORMAT lines, newest first. */
  gitLog: () => string;
}

export async function getDeployment(hub: FleetCluster, namespace: string, name: string): Promise<ApplicationDeployment | undefined> {
  return (await orAbsent(
    kubeConfig(hub)
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "applicationdeployments", name }),
  )) as ApplicationDeployment | undefined;
}

export async function applyOnHub(hub: FleetCluster, doc: unknown): Promise<void> {
  await kubectl(hub, ["apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-"], { input: toYaml(doc) });
}

export async function deploymentOn(member: string | FleetCluster, namespace: string, name: string) {
  return orAbsent(kubeConfig(member).makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name }));
}

export async function canaryScenario(ctx: CanaryContext): Promise<void> {
  const { ns } = ctx;

  const example = parseYamlStream(await readFile(join(ROOT, "examples", "webservice-canary", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  const full: ApplicationDeployment = { ...example, metadata: { name: "frontend", namespace: ns } };
  const v2 = full.spec.appRevisions[1]!;
  v2.rollout!.batches![1]!.wait = "2s";
  v2.rollout!.analysis!.interval = "1s";
  const replicasOf = async (cluster: string, name: string) => (await deploymentOn(ctx.cluster(cluster), ns, name))?.spec?.replicas;
  const clusterState = async (cluster: string) => (await getDeployment(ctx.hub, ns, "frontend"))?.status?.rollout?.clusters?.find((c) => c.name === cluster);
  // Promote with kubectl alone, or with the CLI (which sets the same annotation).
  const promote = () => kubectl(ctx.hub, ["annotate", "ad", "frontend", "-n", ns, "flotilla.dev/promote=true", "--overwrite"]);
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, [join(ROOT, "dist", "src", "cli", "main.js"), ...args, "-n", ns, "--kubeconfig", ctx.hub.kubeconfigPath], {
      encoding: "utf8",
    });

  // v1 alone: Healthy everywhere with 4 replicas.
  await applyOnHub(ctx.hub, { ...full, spec: { ...full.spec, appRevisions: [full.spec.appRevisions[0]!] } });
  await waitFor(async () => (await getDeployment(ctx.hub, ns, "frontend"))?.status?.phase === "Healthy", {
    timeoutMs: 120_000,
    intervalMs: 1_000,
    message: "v1 Healthy",
  });
  for (const c of ["staging", "prod-eu", "prod-us"]) expect(await replicasOf(c, "frontend-v1")).toBe(4);

  // v2: staging's first batch is one canary next to three v1 pods, then a pause.
  await applyOnHub(ctx.hub, full);
  await waitFor(async () => (await clusterState("staging"))?.state === "Paused", {
    timeoutMs: 90_000,
    intervalMs: 1_000,
    message: "staging paused after batch 1",
  });
  expect(await replicasOf("staging", "frontend-v2")).toBe(1);
  expect(await replicasOf("staging", "frontend-v1")).toBe(3);
  expect(await replicasOf("prod-eu", "frontend-v2")).toBeUndefined();
  expect((await getDeployment(ctx.hub, ns, "frontend"))?.status?.phase).toBe("Paused");
  const view = cli("status", "frontend");
  expect(view).toContain("phase: Paused");
  expect(view).toMatch(/staging +staging +batch 1\/3 +Paused/);

  // Promote: batch 2 (2 + 2), soak, analysis, batch 3 (4 + 0); then production, one cluster at a time.
  expect(cli("rollout", "promote", "frontend")).toContain("flotilla.dev/promote=true set");
  await waitFor(async () => (await replicasOf("staging", "frontend-v2")) === 2 && (await replicasOf("staging", "frontend-v1")) === 2, {
    timeoutMs: 60_000,
    message: "staging batch 2",
  });
  await waitFor(async () => (await clusterState("staging"))?.state === "Completed", { timeoutMs: 90_000, intervalMs: 1_000, message: "staging completed" });
  expect(await replicasOf("staging", "frontend-v1")).toBe(0);
  for (const cluster of ["prod-eu", "prod-us"]) {
    await waitFor(async () => (await clusterState(cluster))?.state === "Paused", { timeoutMs: 90_000, intervalMs: 1_000, message: `${cluster} paused` });
    const other = cluster === "prod-eu" ? "prod-us" : "prod-eu";
    if (cluster === "prod-eu") expect(await replicasOf(other, "frontend-v2")).toBeUndefined(); // maxConcurrency 1
    await promote();
    await waitFor(async () => (await clusterState(cluster))?.state === "Completed", {
      timeoutMs: 90_000,
      intervalMs: 1_000,
      message: `${cluster} completed`,
    });
  }
  const done = await waitFor(
    async () => {
      const a = await getDeployment(ctx.hub, ns, "frontend");
      return a?.status?.phase === "Healthy" && a.status.stableRevision === "v2" ? a : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1_000, message: "v2 Healthy and stable" },
  );
  expect(done.metadata.annotations?.["flotilla.dev/promote"]).toBeUndefined();
  const steps = ctx
    .gitLog()
    .split("\n")
    .filter((l) => l.startsWith(`${ns}/frontend: v2`))
    .reverse();
  // git log is the audit trail: one commit per step, staging first, then production one cluster at a time.
  expect(steps.map((l) => l.slice(`${ns}/frontend: `.length))).toEqual(CANARY_V2_STEPS);

  // v3 is broken: staging's canary never becomes ready, the deadline fails it, it is rolled back
  // there, and production never sees v3.
  const v3 = structuredClone(v2);
  v3.name = "v3";
  (v3.template.spec.components[0]!.settings as { image: string }).image = "nginx:1.27-broken";
  v3.rollout!.progressDeadline = "15s";
  await applyOnHub(ctx.hub, { ...full, spec: { ...full.spec, appRevisions: [...full.spec.appRevisions, v3] } });
  const failed = await waitFor(
    async () => {
      const a = await getDeployment(ctx.hub, ns, "frontend");
      return a?.status?.phase === "Failed" ? a : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1_000, message: "v3 Failed" },
  );
  expect(failed.status?.rollout?.clusters?.find((c) => c.name === "staging")?.state).toBe("RolledBack");
  await waitFor(async () => (await replicasOf("staging", "frontend-v3")) === 0, { timeoutMs: 30_000, message: "v3 scaled to 0 in staging" });
  expect(await replicasOf("staging", "frontend-v2")).toBe(4);
  for (const c of ["prod-eu", "prod-us"]) {
    expect(await replicasOf(c, "frontend-v3")).toBeUndefined();
    expect(await replicasOf(c, "frontend-v2")).toBe(4);
  }
  expect(failed.status?.conditions?.find((c) => c.type === "Stalled")?.status).toBe("True");
}
