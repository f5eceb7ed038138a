// Fault injection on a fleet of this file's own (the shared fleet must not lose an API server):
// a member's API server stopped for 60 s in the middle of a rollout, and the hub's API server
// restarted under a running controller. The controller is the compiled CLI, run as in production
// (default probe and resync periods), so what it survives here it survives there.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment, Cluster } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { type FleetCluster, type RunningFleet, startFleet } from "../../src/fleet/index.js";
import { freePorts } from "../../src/fleet/ports.js";
import { CANARY_V2_STEPS } from "./support/canary.js";
import { kubeConfig, kubectl, orAbsent, waitFor, withNamespace } from "./support/fleet.js";
import { DEPLOYMENT_LOG_FORMAT, deploymentLines } from "./support/git-log.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "src", "cli", "main.js");
const MEMBERS = ["staging", "prod-eu", "prod-us"];
const OUTAGE_MS = 60_000;

let fleet: RunningFleet | undefined;
let fleetDir = "";
let dataDir = "";
let controller: ChildProcess | undefined;
let opsPort = 0;

function own(name: string): FleetCluster {
  const c = fleet?.clusters.find((x) => x.name === name);
  if (!c) throw new Error(`no cluster ${name} in this file's fleet`);
  return c;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function opsStatus(path: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${opsPort}${path}`, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
  return res?.status ?? 0;
}

async function getDeployment(namespace: string, name: string): Promise<ApplicationDeployment | undefined> {
  return (await orAbsent(
    kubeConfig(own("hub"))
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "applicationdeployments", name }),
  )) as ApplicationDeployment | undefined;
}

async function getCluster(name: string): Promise<Cluster | undefined> {
  return (await orAbsent(
    kubeConfig(own("hub")).makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: "flotilla.dev", version: "v1alpha1", plural: "clusters", name }),
  )) as Cluster | undefined;
}

function readyOf(c: Cluster | undefined) {
  return c?.status?.conditions?.find((x) => x.type === "Ready");
}

async function deploymentOn(cluster: string, namespace: string, name: string) {
  return orAbsent(kubeConfig(own(cluster)).makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name }));
}

async function applyOnHub(doc: unknown): Promise<void> {
  await kubectl(own("hub"), ["apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-"], { input: toYaml(doc) });
}

function gitLog(): string[] {
  return deploymentLines(
    execFileSync("git", ["--git-dir", join(dataDir, "env.git"), "log", `--format=${DEPLOYMENT_LOG_FORMAT}`, "main"], { encoding: "utf8" }),
  ).reverse();
}

/** The rollout steps of `<ns>/frontend` to v2, oldest first, as the Git log records them. */
function v2Steps(ns: string): string[] {
  return gitLog()
    .filter((l) => l.startsWith(`${ns}/frontend: v2`))
    .map((l) => l.slice(`${ns}/frontend: `.length));
}

async function canary(namespace: string): Promise<ApplicationDeployment> {
  const example = parseYamlStream(await readFile(join(ROOT, "examples", "webservice-canary", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  const full: ApplicationDeployment = { ...example, metadata: { name: "frontend", namespace } };
  const v2 = full.spec.appRevisions[1]!;
  // No pause (nobody promotes here) and a short soak, so the rollout runs by itself.
  v2.rollout!.batches = [{ replicas: 1 }, { replicas: "50%", wait: "2s" }, { replicas: "100%" }];
  v2.rollout!.analysis!.interval = "1s";
  return full;
}

/** The quickstart's worker under another name (component included, so objects do not collide). */
async function worker(namespace: string, name: string, image: string): Promise<ApplicationDeployment> {
  const doc = parseYamlStream(await readFile(join(ROOT, "examples", "quickstart", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  const ad: ApplicationDeployment = { ...doc, metadata: { name, namespace } };
  const rev = ad.spec.appRevisions[0]!;
  rev.rollout = { replicas: 2 };
  const component = rev.template.spec.components[0]!;
  component.name = name;
  (component.settings as { image: string }).image = image;
  return ad;
}

function startController(): ChildProcess {
  const log = openSync(join(dataDir, "controller.log"), "a");
  const child = spawn(
    process.execPath,
    [
      CLI,
      "controller",
      "--kubeconfig",
      own("hub").kubeconfigPath,
      "--data-dir",
      dataDir,
      "--metrics-addr",
      `127.0.0.1:${opsPort}`,
      "--git-serve-addr",
      "off",
      // Its default port 8081 is the one `flotilla up` (up.test.ts, run at the same time) wants.
      "--ui-addr",
      "off",
      "--no-leader-elect",
      "--resync",
      "1m",
    ],
    { stdio: ["ignore", log, log] },
  );
  closeSync(log);
  return child;
}

describe("faults on the local fleet", () => {
  beforeAll(async () => {
    fleetDir = await mkdtemp(join(tmpdir(), "flotilla-faults-fleet-"));
    fleet = await startFleet({ dir: fleetDir, members: MEMBERS });
    const hub = kubeConfig(own("hub"));
    await installToHub({ kubeConfig: hub, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(hub, fleet.members);
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-faults-"));
    [opsPort] = (await freePorts(1)) as [number];
    controller = startController();
    await waitFor(async () => (await opsStatus("/readyz")) === 200, { timeoutMs: 60_000, message: "the controller to be ready" });
  }, 300_000);

  afterAll(async () => {
    if (controller && controller.exitCode === null) {
      const exited = new Promise((r) => controller?.once("exit", r));
      controller.kill("SIGTERM");
      await Promise.race([exited, sleep(10_000)]);
      controller.kill("SIGKILL");
    }
    await fleet?.stop();
    if (!process.env.FLOTILLA_KEEP_FLEET_DIR) {
      await rm(fleetDir, { recursive: true, force: true });
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    } else {
      console.log(`faults: fleet in ${fleetDir}, controller data and log in ${dataDir}`);
    }
  }, 120_000);

  it("reports a member stopped for 60 s mid-rollout Unreachable, rolls the others on as the waves allow, and syncs it when it returns", async () => {
    const hub = own("hub");
    await withNamespace(hub, async (ns) => {
      const full = await canary(ns);
      const clusterState = async (name: string) => (await getDeployment(ns, "frontend"))?.status?.rollout?.clusters?.find((c) => c.name === name);
      await applyOnHub({ ...full, spec: { ...full.spec, appRevisions: [full.spec.appRevisions[0]!] } });
      await waitFor(async () => (await getDeployment(ns, "frontend"))?.status?.phase === "Healthy", {
        timeoutMs: 150_000,
        intervalMs: 1_000,
        message: "v1 Healthy",
      });

      // v2 starts in staging; prod-us, the production wave's second cluster, goes away.
      await applyOnHub(full);
      await waitFor(() => v2Steps(ns).length > 0, { timeoutMs: 60_000, intervalMs: 200, message: "v2's first batch in staging" });
      const stoppedAt = Date.now();
      let startingAt = 0;
      await fleet!.stopApiServer("prod-us");
      try {
        const down = await waitFor(
          async () => {
            const ready = readyOf(await getCluster("prod-us"));
            return ready?.status === "False" ? ready : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 250, message: "Cluster prod-us to be reported not Ready" },
        );
        const clusterUnreachableMs = Date.now() - stoppedAt;
        expect(down.reason).toBe("Unreachable");
        expect(down.message).toMatch(/^unreachable: /);

        const reported = await waitFor(
          async () => {
            const ad = await getDeployment(ns, "frontend");
            return ad?.status?.clusters?.find((c) => c.name === "prod-us" && /unreachable/i.test(c.message ?? "")) ? ad : undefined;
          },
          { timeoutMs: 30_000, intervalMs: 250, message: "the deployment's status to report prod-us unreachable" },
        );
        const deploymentUnreachableMs = Date.now() - stoppedAt;
        const synced = reported.status?.conditions?.find((c) => c.type === "Synced");
        expect(synced).toMatchObject({ status: "False", reason: "ClusterUnreachable" });
        expect(synced?.message).toContain("prod-us: cluster is unreachable");
        expect(reported.status?.clusters?.find((c) => c.name === "prod-us")?.health).toBe("Unknown");

        // The waves go on without it: staging, then prod-eu (production's first cluster).
        await waitFor(async () => (await clusterState("staging"))?.state === "Completed", {
          timeoutMs: 120_000,
          intervalMs: 500,
          message: "staging to complete",
        });
        await waitFor(async () => (await clusterState("prod-eu"))?.state === "Completed", {
          timeoutMs: 120_000,
          intervalMs: 500,
          message: "prod-eu to complete",
        });
        expect((await deploymentOn("prod-eu", ns, "frontend-v2"))?.status?.readyReplicas).toBe(4);

        // prod-us's first batch is in Git, but it cannot be applied: the rollout holds there.
        await waitFor(async () => (await clusterState("prod-us"))?.batch === 1, { timeoutMs: 60_000, intervalMs: 500, message: "prod-us's first batch" });
        await sleep(Math.max(5_000, stoppedAt + OUTAGE_MS - Date.now()));
        const held = await getDeployment(ns, "frontend");
        const prodUs = held?.status?.rollout?.clusters?.find((c) => c.name === "prod-us");
        expect(prodUs).toMatchObject({ state: "Progressing", batch: 1 });
        expect(prodUs?.message).toBe("prod-us: cluster is unreachable; the batch is applied when it answers again");
        expect(held?.status?.phase).toBe("Degraded");
        expect(held?.status?.stableRevision).toBe("v1");
        expect(held?.status?.clusters?.find((c) => c.name === "prod-us")?.message).toMatch(/unreachable/);
        expect(v2Steps(ns).filter((s) => s.includes("(prod-us)"))).toEqual([
          "v2 completed in wave production (prod-eu); v2 batch 1/3 in wave production (prod-us)",
        ]);
        console.log(
          `faults: prod-us stopped; Cluster Ready=False (Unreachable) after ${seconds(clusterUnreachableMs)}, deployment status after ${seconds(deploymentUnreachableMs)}; outage ${seconds(Date.now() - stoppedAt)}`,
        );
      } finally {
        startingAt = Date.now();
        await fleet!.startApiServer("prod-us");
      }

      // Back: it is synced to the commit it missed, and the rollout finishes there. What prod-us
      // shows in the deployment's status is recorded as it changes, for the test output.
      const returnedAt = Date.now();
      const timeline: string[] = [];
      let memberReadyMs = 0; // when prod-us's own controllers had the first v2 pod ready
      let watching = true;
      const recorder = (async () => {
        let last = "";
        while (watching) {
          // Only a record for the test output: a read that fails (prod-us still starting) is a line of it.
          let line: string;
          try {
            const ad = await getDeployment(ns, "frontend");
            const c = ad?.status?.clusters?.find((x) => x.name === "prod-us");
            const r = ad?.status?.rollout?.clusters?.find((x) => x.name === "prod-us");
            const live = await deploymentOn("prod-us", ns, "frontend-v2");
            if (live?.status?.readyReplicas && !memberReadyMs) memberReadyMs = Date.now() - returnedAt;
            line = `${c?.health}, ${r?.state} at batch ${r?.batch}: ${r?.message || c?.message || ""}`;
          } catch (error) {
            line = `read failed: ${(error as Error).message}`;
          }
          if (line !== last) timeline.push(`  +${seconds(Date.now() - returnedAt)} ${line}`);
          last = line;
          await sleep(250);
        }
      })();
      let v2: Awaited<ReturnType<typeof deploymentOn>>;
      let syncedMs = 0;
      let readyMs = 0;
      let healthyMs = 0;
      let done: ApplicationDeployment | undefined;
      try {
        v2 = await waitFor(() => deploymentOn("prod-us", ns, "frontend-v2"), { timeoutMs: 120_000, intervalMs: 250, message: "frontend-v2 on prod-us" });
        syncedMs = Date.now() - returnedAt;
        await waitFor(async () => readyOf(await getCluster("prod-us"))?.status === "True", {
          timeoutMs: 60_000,
          intervalMs: 250,
          message: "Cluster prod-us Ready again",
        });
        readyMs = Date.now() - returnedAt;
        done = await waitFor(
          async () => {
            const a = await getDeployment(ns, "frontend");
            return a?.status?.phase === "Healthy" && a.status.stableRevision === "v2" ? a : undefined;
          },
          { timeoutMs: 180_000, intervalMs: 500, message: "v2 Healthy and stable everywhere" },
        );
        healthyMs = Date.now() - returnedAt;
      } finally {
        watching = false;
        await recorder;
      }
      for (const c of MEMBERS) {
        expect((await deploymentOn(c, ns, "frontend-v2"))?.status?.readyReplicas).toBe(4);
        expect((await deploymentOn(c, ns, "frontend-v1"))?.spec?.replicas).toBe(0);
      }
      expect(v2?.spec?.template.spec?.containers[0]?.image).toBe("nginx:1.27");
      expect(done?.status?.conditions?.find((c) => c.type === "Synced")?.status).toBe("True");
      // No step lost or repeated: the same audit trail as a rollout without the outage.
      expect(v2Steps(ns)).toEqual(CANARY_V2_STEPS);
      console.log(
        [
          `faults: prod-us's API server started again (ready after ${seconds(returnedAt - startingAt)}); from its readiness:`,
          `  v2 applied there after ${seconds(syncedMs)}, Cluster Ready after ${seconds(readyMs)}, first v2 pod ready there after ${seconds(memberReadyMs)}, rollout Healthy after ${seconds(healthyMs)}`,
          "prod-us in the deployment's status:",
          ...timeline,
        ].join("\n"),
      );
    });
  }, 600_000);

  it("recovers from a restart of the hub's API server and handles changes made right after it returns", async () => {
    const hub = own("hub");
    await withNamespace(hub, async (ns) => {
      await applyOnHub(await worker(ns, "steady", "myimage-v1"));
      await applyOnHub(await worker(ns, "doomed", "myimage-v1"));
      for (const name of ["steady", "doomed"]) {
        await waitFor(async () => (await getDeployment(ns, name))?.status?.phase === "Healthy", {
          timeoutMs: 120_000,
          intervalMs: 500,
          message: `${name} Healthy`,
        });
      }
      const readyBefore = await Promise.all(["prod-eu", "prod-us"].map(async (c) => readyOf(await getCluster(c))));
      expect(readyBefore.map((r) => r?.status)).toEqual(["True", "True"]);

      const stoppedAt = Date.now();
      await fleet!.stopApiServer("hub");
      try {
        // Down long enough for the watches to fail and back off, and for a cluster probe to run.
        await sleep(35_000);
        expect(controller?.exitCode).toBeNull();
        expect(await opsStatus("/healthz")).toBe(200);
        expect(await opsStatus("/readyz")).toBe(503);
      } finally {
        await fleet!.startApiServer("hub");
      }
      const returnedAt = Date.now();
      console.log(`faults: hub API server down for ${seconds(returnedAt - stoppedAt)}`);

      // At once: a new deployment, a change to an existing one and a deletion (retried only while
      // the hub finishes starting). Whether the controller's watches are still backing off when they
      // land depends on the machine (on a quiet one they are back first, /readyz 200); the line
      // below records which, and the handling is asserted either way.
      const retry = (what: string, fn: () => Promise<unknown>) =>
        waitFor(
          async () => {
            await fn();
            return true;
          },
          { timeoutMs: 30_000, intervalMs: 200, message: what },
        );
      await retry("create fresh", async () => applyOnHub(await worker(ns, "fresh", "myimage-v1")));
      await retry("change steady", async () => applyOnHub(await worker(ns, "steady", "myimage-v1.1")));
      await retry("delete doomed", () => kubectl(hub, ["delete", "ad", "doomed", "-n", ns, "--wait=false"]));
      const changesMadeMs = Date.now() - returnedAt;
      const readyAtChanges = await opsStatus("/readyz");

      await waitFor(async () => (await opsStatus("/readyz")) === 200, { timeoutMs: 60_000, intervalMs: 100, message: "/readyz to recover" });
      const readyMs = Date.now() - returnedAt;
      await waitFor(
        async () => {
          const [fresh, steady, doomed] = await Promise.all([getDeployment(ns, "fresh"), getDeployment(ns, "steady"), getDeployment(ns, "doomed")]);
          return (
            fresh?.status?.phase === "Healthy" &&
            steady?.status?.phase === "Healthy" &&
            steady.status.observedGeneration === steady.metadata.generation &&
            doomed === undefined
          );
        },
        { timeoutMs: 120_000, intervalMs: 250, message: "fresh Healthy, steady's change Healthy and doomed deleted" },
      );
      const handledMs = Date.now() - returnedAt;

      for (const c of ["prod-eu", "prod-us"]) {
        expect((await deploymentOn(c, ns, "fresh-v1"))?.status?.availableReplicas).toBe(2);
        expect((await deploymentOn(c, ns, "steady-v1"))?.spec?.template.spec?.containers[0]?.image).toBe("myimage-v1.1");
        await waitFor(async () => (await deploymentOn(c, ns, "doomed-v1")) === undefined, { timeoutMs: 30_000, message: `doomed-v1 gone from ${c}` });
      }
      const log = gitLog();
      expect(log.some((l) => l.startsWith(`${ns}/fresh: `))).toBe(true);
      expect(log).toContain(`${ns}/doomed: delete`);
      // The members never looked unreachable because the hub was: their Ready condition did not flip.
      for (const [i, c] of ["prod-eu", "prod-us"].entries()) {
        const ready = readyOf(await getCluster(c));
        expect(ready?.status).toBe("True");
        expect(ready?.lastTransitionTime).toBe(readyBefore[i]?.lastTransitionTime);
      }
      expect(controller?.exitCode).toBeNull();
      expect(await opsStatus("/healthz")).toBe(200);
      console.log(
        `faults: hub back; changes made ${seconds(changesMadeMs)} after (the controller's /readyz then: ${readyAtChanges}), /readyz 200 after ${seconds(readyMs)}, every change handled after ${seconds(handledMs)}`,
      );
    });
  }, 300_000);
});
