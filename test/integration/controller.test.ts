// The controller end to end on the local fleet: kubectl apply on the hub → render → commit → sync
// → status. One controller (embedded Git repository in a temp dir) serves every test of this file;
// each test works in its own namespace.

import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CustomObjectsApi, NetworkingV1Api } from "@kubernetes/client-node";
import { destination, pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment, Cluster } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { Controller } from "../../src/controller/controller.js";
import { LEADER_LABEL } from "../../src/controller/leader-label.js";
import { canaryScenario } from "./support/canary.js";
import { hub, kubeConfig, kubectl, members, orAbsent, uniqueName, waitFor, withNamespace } from "./support/fleet.js";
import { DEPLOYMENT_LOG_FORMAT, deploymentLines } from "./support/git-log.js";

const ROOT = join(import.meta.dirname, "..", "..");
let dataDir: string;
let logFile: string;
let controller: Controller;
const custom = () => kubeConfig("hub").makeApiClient(CustomObjectsApi);

async function getDeployment(namespace: string, name: string): Promise<ApplicationDeployment | undefined> {
  return (await orAbsent(
    custom().getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "applicationdeployments", name }),
  )) as ApplicationDeployment | undefined;
}

async function quickstart(namespace: string, name = "example-deploy"): Promise<ApplicationDeployment> {
  const doc = parseYamlStream(await readFile(join(ROOT, "examples", "quickstart", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  return { ...doc, metadata: { name, namespace } };
}

async function applyOnHub(doc: unknown): Promise<void> {
  await kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-"], { input: toYaml(doc) });
}

async function deploymentOn(cluster: string, namespace: string, name: string) {
  return orAbsent(kubeConfig(cluster).makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name }));
}

function gitLog(): string {
  return deploymentLines(
    execFileSync("git", ["--git-dir", join(dataDir, "env.git"), "log", `--format=${DEPLOYMENT_LOG_FORMAT}`, "main"], { encoding: "utf8" }),
  ).join("\n");
}

function gitFiles(): string {
  return execFileSync("git", ["--git-dir", join(dataDir, "env.git"), "ls-tree", "-r", "--name-only", "main"], { encoding: "utf8" });
}

describe("the controller", () => {
  beforeAll(async () => {
    const hub = kubeConfig("hub");
    await installToHub({ kubeConfig: hub, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(hub, members());
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-controller-"));
    logFile = join(dataDir, "controller.log");
    controller = new Controller({
      kubeConfig: hub,
      dataDir,
      resyncIntervalMs: 5_000,
      probeIntervalMs: 3_000,
      leaderElection: false,
      deletionTimeoutMs: 20_000,
      progressRequeueMs: 1_000,
      logger: pino({ level: "debug" }, destination({ dest: logFile, sync: true })),
    });
    await controller.start();
  }, 180_000);

  afterAll(async () => {
    await controller?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("deploys the quickstart to prod-eu and prod-us only, reports Healthy, and commits to Git", async () => {
    await withNamespace("hub", async (ns) => {
      await applyOnHub(await quickstart(ns));
      const healthy = await waitFor(
        async () => {
          const ad = await getDeployment(ns, "example-deploy");
          return ad?.status?.phase === "Healthy" ? ad : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1_000, message: "the quickstart to become Healthy" },
      );
      for (const cluster of ["prod-eu", "prod-us"]) {
        const d = await deploymentOn(cluster, ns, "backend-v1");
        expect(d?.spec?.replicas).toBe(10);
        expect(d?.status?.availableReplicas).toBe(10);
        expect(d?.spec?.template.spec?.containers[0]?.image).toBe("myimage-v1");
      }
      expect(await deploymentOn("staging", ns, "backend-v1")).toBeUndefined();
      const status = healthy.status!;
      expect(status.observedGeneration).toBe(healthy.metadata.generation);
      expect(status.clusters?.map((c) => c.name)).toEqual(["prod-eu", "prod-us"]);
      expect(status.clusters?.every((c) => c.revisions?.[0]?.readyReplicas === 10)).toBe(true);
      const staging = status.placement?.find((p) => p.cluster === "staging");
      expect(staging).toMatchObject({ selected: false, reason: "label usage=staging does not match usage=production" });
      const ready = status.conditions?.find((c) => c.type === "Ready");
      expect(ready).toMatchObject({ status: "True", reason: "Healthy" });
      // What `kubectl get ad` shows: the Ready condition in its READY and MESSAGE columns.
      const table = (await kubectl("hub", ["get", "ad", "example-deploy", "-n", ns])).stdout.split("\n");
      const readyAt = table[0]?.indexOf("READY") ?? -1;
      expect(readyAt).toBeGreaterThan(0);
      expect(table[1]?.slice(readyAt).split(/\s{2,}/)[0]).toBe("True");
      expect(table[1]).toContain("revision v1 is healthy on every selected cluster");
      expect(status.commit).toMatch(/^[0-9a-f]{40}$/);
      expect(gitFiles()).toContain(`clusters/prod-eu/${ns}/example-deploy/apps.Deployment.backend-v1.yaml`);
      expect(gitFiles()).not.toContain(`clusters/staging/${ns}/example-deploy/`);
      // Every rollout step is one commit: the batch, then the completion (the HPA owns replicas after).
      // (The clusters of a step are listed together when they moved in the same reconcile.)
      const log = gitLog();
      expect(log).toMatch(new RegExp(`${ns}/example-deploy: v1 batch 1/1 in wave wave-1 \\((prod-eu|prod-us)`));
      expect(log).toMatch(new RegExp(`${ns}/example-deploy: v1 completed in wave wave-1 \\((prod-eu|prod-us)`));
      for (const cluster of ["prod-eu", "prod-us"]) expect(log).toMatch(new RegExp(`v1 batch 1/1 in wave wave-1 \\([^)]*${cluster}`));
      expect(status.stableRevision).toBe("v1");
      expect(status.rollout?.state).toBe("Completed");
      execFileSync("git", ["--git-dir", join(dataDir, "env.git"), "fsck", "--strict"]);
    });
  }, 180_000);

  it("deploys examples/production-service Healthy on every cluster, restricted security context and all", async () => {
    await withNamespace("hub", async (ns) => {
      const doc = parseYamlStream(await readFile(join(ROOT, "examples", "production-service", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
      await applyOnHub({ ...doc, metadata: { name: "checkout", namespace: ns } });
      // The fleet has no ingress controller: the test plays one and gives each Ingress an address,
      // without which the Ingress (and so the deployment) stays Progressing, as on a real cluster.
      const addressed = new Set<string>();
      const healthy = await waitFor(
        async () => {
          for (const cluster of ["staging", "prod-eu", "prod-us"]) {
            if (addressed.has(cluster)) continue;
            const api = kubeConfig(cluster).makeApiClient(NetworkingV1Api);
            const ingress = await orAbsent(api.readNamespacedIngress({ namespace: ns, name: "api" }));
            if (!ingress) continue;
            ingress.status = { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } };
            await api.replaceNamespacedIngressStatus({ namespace: ns, name: "api", body: ingress });
            addressed.add(cluster);
          }
          const ad = await getDeployment(ns, "checkout");
          return ad?.status?.phase === "Healthy" ? ad : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 1_000, message: "examples/production-service to become Healthy" },
      );
      expect(healthy.status?.clusters?.map((c) => c.name).sort()).toEqual(["prod-eu", "prod-us", "staging"]);
      for (const cluster of ["staging", "prod-eu", "prod-us"]) {
        const d = await deploymentOn(cluster, ns, "api-v1");
        expect(d?.status?.availableReplicas, cluster).toBe(3);
        const pod = d?.spec?.template.spec;
        expect(pod?.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
        expect(pod?.containers[0]?.securityContext).toMatchObject({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
        expect(pod?.containers[0]?.env?.find((e) => e.name === "DB_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({ name: "checkout-db", key: "password" });
        expect(pod?.containers[0]?.lifecycle?.preStop?.exec?.command).toEqual(["sh", "-c", "sleep 10"]);
        expect(pod?.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.[0]?.podAffinityTerm.topologyKey).toBe(
          "topology.kubernetes.io/zone",
        );
      }
    });
  }, 200_000);

  it("rolls out a changed image", async () => {
    await withNamespace("hub", async (ns) => {
      const doc = await quickstart(ns, "web");
      await applyOnHub(doc);
      await waitFor(async () => (await getDeployment(ns, "web"))?.status?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 1_000 });
      const changed = structuredClone(doc);
      (changed.spec.appRevisions[0]!.template.spec.components[0]!.settings as { image: string }).image = "myimage-v1.1";
      await applyOnHub(changed);
      for (const cluster of ["prod-eu", "prod-us"]) {
        await waitFor(async () => (await deploymentOn(cluster, ns, "backend-v1"))?.spec?.template.spec?.containers[0]?.image === "myimage-v1.1", {
          timeoutMs: 60_000,
          message: `the new image on ${cluster}`,
        });
      }
      const ad = await waitFor(
        async () => {
          const a = await getDeployment(ns, "web");
          return a?.status?.phase === "Healthy" && a.status.observedGeneration === 2 ? a : undefined;
        },
        { timeoutMs: 60_000 },
      );
      expect(ad.status?.conditions?.find((c) => c.type === "Synced")?.status).toBe("True");
    });
  }, 240_000);

  it("reports a deployment Healthy when a change touches one cluster's folder while the other cluster syncs nothing", async () => {
    await withNamespace("hub", async (ns) => {
      // Two waves, one cluster each; only prod-us's folder changes in the second generation.
      const doc = await quickstart(ns, "split");
      doc.spec.appRevisions[0]!.template.spec.components[0]!.traits = [];
      doc.spec.appRevisions[0]!.rollout = { replicas: 2 };
      const usWave = (image: string) => ({
        name: "us",
        clusterSelector: { labels: { usage: "production", region: "us" } },
        overrides: [{ component: "backend", settings: { image } }],
      });
      doc.spec.placementStrategies = [{ name: "eu", clusterSelector: { labels: { usage: "production", region: "eu" } } }, usWave("myimage-us-v1")];
      await applyOnHub(doc);
      await waitFor(async () => (await getDeployment(ns, "split"))?.status?.phase === "Healthy", {
        timeoutMs: 120_000,
        intervalMs: 1_000,
        message: "generation 1 Healthy",
      });
      // prod-eu takes no commit from now on: its folder for this deployment must not need one.
      await kubectl("hub", ["patch", "cluster", "prod-eu", "--type=merge", "-p", '{"spec":{"paused":true}}']);
      try {
        await applyOnHub({ ...doc, spec: { ...doc.spec, placementStrategies: [doc.spec.placementStrategies[0], usWave("myimage-us-v2")] } });
        await waitFor(async () => (await deploymentOn("prod-us", ns, "backend-v1"))?.spec?.template.spec?.containers[0]?.image === "myimage-us-v2", {
          timeoutMs: 60_000,
          message: "the new image on prod-us",
        });
        const ad = await waitFor(
          async () => {
            const a = await getDeployment(ns, "split");
            return a?.status?.phase === "Healthy" && a.status.observedGeneration === 2 ? a : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 1_000, message: "generation 2 Healthy with prod-eu paused" },
        );
        expect(ad.status?.clusters?.map((c) => [c.name, c.health])).toEqual([
          ["prod-eu", "Healthy"],
          ["prod-us", "Healthy"],
        ]);
        expect(ad.status?.conditions?.find((c) => c.type === "Synced")?.status).toBe("True");
        expect((await deploymentOn("prod-eu", ns, "backend-v1"))?.spec?.template.spec?.containers[0]?.image).toBe("myimage-v1");
      } finally {
        await kubectl("hub", ["patch", "cluster", "prod-eu", "--type=merge", "-p", '{"spec":{"paused":false}}']);
      }
    });
  }, 240_000);

  it("reports an invalid deployment with Rendered=False naming the field while a valid one next to it deploys", async () => {
    await withNamespace("hub", async (ns) => {
      const bad = await quickstart(ns, "broken");
      (bad.spec.appRevisions[0]!.template.spec.components[0]!.settings as { image: unknown }).image = 42;
      await applyOnHub(bad);
      await applyOnHub(await quickstart(ns, "fine"));
      const failed = await waitFor(
        async () => {
          const a = await getDeployment(ns, "broken");
          return a?.status?.conditions?.find((c) => c.type === "Rendered" && c.status === "False") ? a : undefined;
        },
        { timeoutMs: 60_000, message: "Rendered=False on the invalid deployment" },
      );
      const rendered = failed.status?.conditions?.find((c) => c.type === "Rendered");
      expect(rendered?.reason).toBe("InvalidSpec");
      expect(rendered?.message).toContain("spec.appRevisions[0].template.spec.components[0].settings.image: must be string (got 42)");
      expect(failed.status?.conditions?.find((c) => c.type === "Stalled")?.status).toBe("True");
      await waitFor(async () => (await getDeployment(ns, "fine"))?.status?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 1_000 });
      expect(gitFiles()).not.toContain(`${ns}/broken/`);
    });
  }, 240_000);

  it("stops a template that loops at its time budget and keeps serving the deployment next to it", async () => {
    await withNamespace("hub", async (ns) => {
      // Cluster-scoped and shared by every test: named after the namespace, deleted at the end.
      const trait = {
        apiVersion: "flotilla.dev/v1alpha1",
        kind: "TraitDefinition",
        metadata: { name: `endless-${ns}` },
        spec: { appliesTo: ["*"], patch: "($loop := function($i) { $i < 0 ? $i : $loop($i + 1) }; $loop(0))" },
      };
      await applyOnHub(trait);
      try {
        const looping = await quickstart(ns, "looping");
        looping.spec.appRevisions[0]!.template.spec.components[0]!.traits = [{ name: trait.metadata.name }];
        await applyOnHub(looping);
        await applyOnHub(await quickstart(ns, "fine"));
        const failed = await waitFor(
          async () => {
            const a = await getDeployment(ns, "looping");
            // (A first reconcile may run before the controller has seen the new TraitDefinition.)
            return a?.status?.conditions?.find((c) => c.type === "Rendered" && c.status === "False" && c.message?.includes("longer than 1000 ms"))
              ? a
              : undefined;
          },
          { timeoutMs: 60_000, message: "Rendered=False with the time budget's message on the deployment whose trait loops" },
        );
        const rendered = failed.status?.conditions?.find((c) => c.type === "Rendered");
        expect(rendered?.reason).toBe("InvalidSpec");
        expect(rendered?.message).toMatch(
          new RegExp(
            `traits\\[0\\]\\.properties: ${trait.metadata.name}\\.spec\\.patch at position \\d+: .*longer than 1000 ms \\(is there an endless loop\\?\\)`,
          ),
        );
        await waitFor(async () => (await getDeployment(ns, "fine"))?.status?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 1_000 });
        expect(gitFiles()).not.toContain(`${ns}/looping/`);
      } finally {
        await kubectl("hub", ["delete", "traitdefinition", trait.metadata.name, "--ignore-not-found"]);
      }
    });
  }, 240_000);

  it("removes a deleted deployment's objects from every member and its folders from Git", async () => {
    await withNamespace("hub", async (ns) => {
      await applyOnHub(await quickstart(ns, "gone"));
      await waitFor(async () => (await getDeployment(ns, "gone"))?.status?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 1_000 });
      expect(gitFiles()).toContain(`clusters/prod-us/${ns}/gone/`);
      await kubectl("hub", ["delete", "ad", "gone", "-n", ns, "--wait=false"]);
      for (const cluster of ["prod-eu", "prod-us"]) {
        await waitFor(async () => (await deploymentOn(cluster, ns, "backend-v1")) === undefined, {
          timeoutMs: 60_000,
          message: `backend-v1 gone from ${cluster}`,
        });
      }
      await waitFor(async () => (await getDeployment(ns, "gone")) === undefined, { timeoutMs: 60_000, message: "the finalizer to be released" });
      expect(gitFiles()).not.toContain(`${ns}/gone/`);
      expect(gitLog()).toContain(`${ns}/gone: delete`);
    });
  }, 240_000);

  it("deletes a deployment without waiting for a paused cluster, which removes its objects when it resumes", async () => {
    await withNamespace("hub", async (ns) => {
      await applyOnHub(await quickstart(ns, "frozen"));
      await waitFor(async () => (await getDeployment(ns, "frozen"))?.status?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 1_000 });
      await kubectl("hub", ["patch", "cluster", "prod-eu", "--type=merge", "-p", '{"spec":{"paused":true}}']);
      try {
        await kubectl("hub", ["delete", "ad", "frozen", "-n", ns, "--wait=false"]);
        await waitFor(async () => (await deploymentOn("prod-us", ns, "backend-v1")) === undefined, {
          timeoutMs: 60_000,
          message: "backend-v1 gone from prod-us",
        });
        await waitFor(async () => (await getDeployment(ns, "frozen")) === undefined, { timeoutMs: 60_000, message: "the finalizer to be released" });
        const reasons = (
          JSON.parse((await kubectl("hub", ["get", "events", "-n", ns, "-o", "json"])).stdout) as { items: { reason: string; message: string }[] }
        ).items;
        // Released because prod-eu is paused, not after the deletion timeout (which says CleanupIncomplete).
        expect(reasons.map((e) => e.reason)).not.toContain("CleanupIncomplete");
        expect(reasons.find((e) => e.reason === "CleanupOnResume")?.message).toBe("the removal reaches prod-eu when it resumes (spec.paused)");
        expect(await deploymentOn("prod-eu", ns, "backend-v1")).toBeDefined();
      } finally {
        await kubectl("hub", ["patch", "cluster", "prod-eu", "--type=merge", "-p", '{"spec":{"paused":false}}']);
      }
      await waitFor(async () => (await deploymentOn("prod-eu", ns, "backend-v1")) === undefined, {
        timeoutMs: 60_000,
        message: "backend-v1 pruned from prod-eu once it resumed",
      });
    });
  }, 240_000);

  it("marks a cluster with a broken kubeconfig unreachable without stalling the others", async () => {
    const name = uniqueName("broken");
    const hub = kubeConfig("hub");
    await kubectl("hub", ["create", "secret", "generic", name, "-n", "flotilla-system", "--from-literal=kubeconfig=this is not a kubeconfig"]);
    const cluster: Cluster = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "Cluster",
      metadata: { name, labels: { usage: "production", region: "moon" } },
      spec: { kubeconfigSecretRef: { namespace: "flotilla-system", name, key: "kubeconfig" } },
    };
    await applyOnHub(cluster);
    try {
      const probed = await waitFor(
        async () => {
          const c = (await hub
            .makeApiClient(CustomObjectsApi)
            .getClusterCustomObject({ group: "flotilla.dev", version: "v1alpha1", plural: "clusters", name })) as Cluster;
          return c.status?.conditions?.find((x) => x.type === "Ready")?.status === "False" ? c : undefined;
        },
        { timeoutMs: 30_000, message: "the broken cluster to be marked not Ready" },
      );
      expect(probed.status?.conditions?.[0]?.reason).toBe("Unreachable");
      expect(probed.status?.conditions?.[0]?.message).toContain("kubeconfig");
      await withNamespace("hub", async (ns) => {
        await applyOnHub(await quickstart(ns, "despite"));
        const ad = await waitFor(
          async () => {
            const a = await getDeployment(ns, "despite");
            const prod = a?.status?.clusters?.filter((c) => c.name === "prod-eu" || c.name === "prod-us") ?? [];
            return prod.length === 2 && prod.every((c) => c.health === "Healthy") ? a : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 1_000, message: "the reachable clusters to be Healthy" },
        );
        const broken = ad.status?.clusters?.find((c) => c.name === name);
        expect(broken?.health).toBe("Unknown");
        expect(broken?.message).toContain("unreachable");
        expect(ad.status?.phase).toBe("Degraded");
      });
    } finally {
      await kubectl("hub", ["delete", "cluster", name, "--wait=false"], { allowFailure: true });
      await kubectl("hub", ["delete", "secret", name, "-n", "flotilla-system"], { allowFailure: true });
    }
  }, 240_000);

  it("rolls a canary through staging then production batch by batch, and rolls back a broken revision in staging only", async () => {
    await withNamespace("hub", (ns) => canaryScenario({ ns, hub: hub(), cluster: (name) => name, gitLog }));
  }, 600_000);

  it("moves an image edited in place through the waves: a broken edit is rolled back in staging and never reaches production", async () => {
    await withNamespace("hub", async (ns) => {
      const example = parseYamlStream(await readFile(join(ROOT, "examples", "webservice-canary", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
      const v1 = structuredClone(example.spec.appRevisions[0]!);
      v1.rollout = { replicas: 2, progressDeadline: "20s", autoRollback: true };
      const withImage = (image: string): ApplicationDeployment => {
        const rev = structuredClone(v1);
        (rev.template.spec.components[0]!.settings as { image: string }).image = image;
        return { ...example, metadata: { name: "frontend", namespace: ns }, spec: { ...example.spec, appRevisions: [rev] } };
      };
      const imageOn = async (cluster: string) => (await deploymentOn(cluster, ns, "frontend-v1"))?.spec?.template?.spec?.containers?.[0]?.image;
      const imagesOn = async () => Object.fromEntries(await Promise.all(["staging", "prod-eu", "prod-us"].map(async (c) => [c, await imageOn(c)] as const)));
      const status = async () => (await getDeployment(ns, "frontend"))?.status;

      await applyOnHub(withImage("nginx:1.26"));
      await waitFor(async () => (await status())?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 1_000, message: "v1 Healthy" });
      expect(await imagesOn()).toEqual({ staging: "nginx:1.26", "prod-eu": "nginx:1.26", "prod-us": "nginx:1.26" });

      // A typo'd image, edited in place: staging gets it, fails its deadline and is restored.
      await applyOnHub(withImage("nginx:1.26-broken"));
      const seen: Array<Record<string, string | undefined>> = [];
      const failed = await waitFor(
        async () => {
          seen.push(await imagesOn());
          const s = await status();
          return s?.phase === "Failed" ? s : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1_000, message: "the broken update to fail" },
      );
      expect(seen.some((images) => images.staging === "nginx:1.26-broken")).toBe(true);
      expect(seen.filter((images) => images["prod-eu"] !== "nginx:1.26" || images["prod-us"] !== "nginx:1.26")).toEqual([]);
      expect(failed.rollout?.update).toBe(2);
      expect(failed.rollout?.clusters?.map((c) => [c.name, c.state])).toEqual([
        ["staging", "RolledBack"],
        ["prod-eu", "Pending"],
        ["prod-us", "Pending"],
      ]);
      await waitFor(async () => (await imageOn("staging")) === "nginx:1.26", { timeoutMs: 30_000, message: "staging restored to nginx:1.26" });
      expect(await imagesOn()).toEqual({ staging: "nginx:1.26", "prod-eu": "nginx:1.26", "prod-us": "nginx:1.26" });

      // A good edit goes through: staging first, production once staging is healthy.
      await applyOnHub(withImage("nginx:1.27"));
      await waitFor(
        async () => {
          const s = await status();
          return s?.phase === "Healthy" && s.rollout?.update === 3 ? s : undefined;
        },
        { timeoutMs: 120_000, intervalMs: 1_000, message: "the good update Healthy everywhere" },
      );
      expect(await imagesOn()).toEqual({ staging: "nginx:1.27", "prod-eu": "nginx:1.27", "prod-us": "nginx:1.27" });
      const steps = gitLog()
        .split("\n")
        .filter((l) => l.startsWith(`${ns}/frontend: v1 update`))
        .reverse()
        .map((l) => l.slice(`${ns}/frontend: `.length));
      expect(steps[0]).toBe("v1 update (generation 2) in wave staging (staging)");
      expect(steps[1]).toMatch(
        /^v1 update \(generation 2\) rolled back in wave staging \(staging\): staging: batch 1\/1 not healthy within progressDeadline 20s/,
      );
      expect(steps.slice(2)).toEqual([
        "v1 update (generation 3) in wave staging (staging)",
        // The example's production wave has maxConcurrency 1: one cluster at a time.
        "v1 update (generation 3) completed in wave staging (staging); v1 update (generation 3) in wave production (prod-eu)",
        "v1 update (generation 3) completed in wave production (prod-eu); v1 update (generation 3) in wave production (prod-us)",
      ]);
    });
  }, 400_000);

  it("never writes a member's kubeconfig token to Git, status, events or logs", async () => {
    const tokens = await Promise.all(
      members().map(async (m) => {
        const kc = kubeConfig(m);
        const token = kc.getCurrentUser()?.token;
        if (!token) throw new Error(`${m.name}: the kubeconfig has no token`);
        return token;
      }),
    );
    expect(tokens.length).toBe(3);
    const gitHistory = execFileSync("git", ["--git-dir", join(dataDir, "env.git"), "log", "-p", "--all", "--format=%B"], {
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
    expect(gitHistory.length).toBeGreaterThan(1000);
    const everything = [
      gitHistory,
      (await kubectl("hub", ["get", "ad", "-A", "-o", "yaml"])).stdout,
      (await kubectl("hub", ["get", "clusters", "-o", "yaml"])).stdout,
      (await kubectl("hub", ["get", "events", "-A", "-o", "yaml"])).stdout,
      await readFile(logFile, "utf8"),
    ];
    expect(everything[4]?.length).toBeGreaterThan(100);
    for (const token of tokens) for (const text of everything) expect(text.includes(token)).toBe(false);
    expect(gitHistory).not.toMatch(/^kind: Secret$/m);
  });
});

describe("leader election", () => {
  it("lets one of two replicas act, labels the leader's Pod for the Services, and hands over when the leader stops", async () => {
    const hub = kubeConfig("hub");
    const namespace = uniqueName("lease");
    await kubectl("hub", ["create", "namespace", namespace]);
    await kubectl("hub", ["create", "serviceaccount", "default", "-n", namespace], { allowFailure: true });
    // Two Pods for the two replicas (never scheduled: the hub has no nodes; only their labels
    // matter). pod-b carries the label from an earlier life as leader, as a container restarted
    // in the same Pod finds it.
    const pod = (name: string, labels: Record<string, string>) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace, labels: { app: "flotilla", ...labels } },
      spec: { automountServiceAccountToken: false, containers: [{ name: "controller", image: "flotilla:test" }] },
    });
    await kubectl("hub", ["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: [pod("pod-a", {}), pod("pod-b", { [LEADER_LABEL]: "true" })] }),
    });
    /** The Pods a Service selecting the leader label would send requests to. */
    const labelled = async () =>
      (await kubectl("hub", ["get", "pods", "-n", namespace, "-l", `${LEADER_LABEL}=true`, "-o", "jsonpath={.items[*].metadata.name}"])).stdout.trim();
    const dirs = [await mkdtemp(join(tmpdir(), "flotilla-a-")), await mkdtemp(join(tmpdir(), "flotilla-b-"))];
    const make = (identity: string, dir: string, podName: string) =>
      new Controller({
        kubeConfig: hub,
        dataDir: dir,
        namespace,
        identity,
        leaderElection: true,
        pod: { name: podName, namespace },
        logger: pino({ level: "silent" }),
      });
    const a = make("replica-a", dirs[0]!, "pod-a");
    const b = make("replica-b", dirs[1]!, "pod-b");
    try {
      await a.start();
      await waitFor(() => a.isLeader, { timeoutMs: 15_000, message: "replica-a to lead" });
      await b.start();
      await waitFor(async () => (await labelled()) === "pod-a", { timeoutMs: 15_000, message: "only pod-a labelled as the leader" });
      await new Promise((r) => setTimeout(r, 5_000));
      expect(b.isLeader).toBe(false);
      expect(await labelled()).toBe("pod-a");
      const lease = await kubectl("hub", ["get", "lease", "flotilla-controller", "-n", namespace, "-o", "jsonpath={.spec.holderIdentity}"]);
      expect(lease.stdout).toBe("replica-a");
      const stoppedAt = Date.now();
      await a.stop();
      // A stopping leader takes its label off before it lets go of the Lease.
      expect(await labelled()).not.toContain("pod-a");
      await waitFor(() => b.isLeader, { timeoutMs: 20_000, message: "replica-b to take over" });
      expect(Date.now() - stoppedAt).toBeLessThan(20_000);
      const after = await kubectl("hub", ["get", "lease", "flotilla-controller", "-n", namespace, "-o", "jsonpath={.spec.holderIdentity}"]);
      expect(after.stdout).toBe("replica-b");
      await waitFor(async () => (await labelled()) === "pod-b", { timeoutMs: 15_000, message: "pod-b labelled as the new leader" });
    } finally {
      await a.stop();
      await b.stop();
      await kubectl("hub", ["delete", "namespace", namespace, "--wait=false"], { allowFailure: true });
      for (const d of dirs) await rm(d, { recursive: true, force: true });
    }
  }, 120_000);
});
