// Pull mode end to end, on a fleet of this file's own (its hub's API server is stopped): the
// controller holds no member credential; an agent process per member (the compiled CLI), with the
// hub identity `cluster add --mode pull` creates, fetches the environment repository from the
// controller's own Git server (behind a proxy the test can cut), applies its cluster's folder and
// reports in SyncReports. The canary writes the same Git history as in push mode; an agent killed
// mid-rollout, the hub stopped 60 s and Git stopped 60 s lose no step and repeat none.

import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { destination, pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream } from "../../src/api/serialize.js";
import type { ApplicationDeployment, Cluster, SyncReport } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { registerPullCluster } from "../../src/cli/pull-cluster.js";
import { Controller } from "../../src/controller/controller.js";
import { type FleetCluster, type RunningFleet, startFleet } from "../../src/fleet/index.js";
import { applyOnHub, CANARY_V2_STEPS, canaryScenario, deploymentOn, getDeployment } from "./support/canary.js";
import { type ControllerProcess, spawnAgent } from "./support/controller-process.js";
import { kubeConfig, kubectl, orAbsent, waitFor, withNamespace } from "./support/fleet.js";
import { DEPLOYMENT_LOG_FORMAT, deploymentLines } from "./support/git-log.js";
import { startTcpProxy, type TcpProxy } from "./support/tcp-proxy.js";

const ROOT = join(import.meta.dirname, "..", "..");
const MEMBERS = ["staging", "prod-eu", "prod-us"];
const OUTAGE_MS = 60_000;

let fleet: RunningFleet | undefined;
let fleetDir = "";
let dataDir = "";
let controller: Controller | undefined;
/** The agents' way to the controller's Git server. */
let gitServer: TcpProxy | undefined;
const agents = new Map<string, ControllerProcess>();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function own(name: string): FleetCluster {
  const c = fleet?.clusters.find((x) => x.name === name);
  if (!c) throw new Error(`no cluster ${name} in this file's fleet`);
  return c;
}

function gitLog(): string {
  return deploymentLines(
    execFileSync("git", ["--git-dir", join(dataDir, "env.git"), "log", `--format=${DEPLOYMENT_LOG_FORMAT}`, "main"], { encoding: "utf8" }),
  ).join("\n");
}

function v2Steps(ns: string): string[] {
  return gitLog()
    .split("\n")
    .filter((l) => l.startsWith(`${ns}/frontend: v2`))
    .reverse()
    .map((l) => l.slice(`${ns}/frontend: `.length));
}

const custom = () => kubeConfig(own("hub")).makeApiClient(CustomObjectsApi);

async function getCluster(name: string): Promise<Cluster | undefined> {
  return (await orAbsent(custom().getClusterCustomObject({ group: "flotilla.dev", version: "v1alpha1", plural: "clusters", name }))) as Cluster | undefined;
}

async function reportsOf(cluster: string): Promise<SyncReport[]> {
  const list = (await custom().listNamespacedCustomObject({
    group: "flotilla.dev",
    version: "v1alpha1",
    namespace: `flotilla-cluster-${cluster}`,
    plural: "syncreports",
  })) as {
    items: SyncReport[];
  };
  return list.items;
}

/** Register a pull Cluster as `cluster add --mode pull` does and start its agent with that hub identity. */
async function toPull(name: string, labels: Record<string, string>): Promise<void> {
  const { hubKubeconfig } = await registerPullCluster({ hub: kubeConfig(own("hub")), name, labels });
  const dir = join(dataDir, `agent-${name}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "hub.kubeconfig"), hubKubeconfig, { mode: 0o600 });
  await startAgent(name);
}

/**
 * Start an agent for a member; `replica` names a second one (its own data volume, the same Lease).
 * Each start logs to a file of its own (`log`), so one process's lines are never read as another's.
 */
async function startAgent(name: string, replica = "", log = `agent${replica}`): Promise<ControllerProcess> {
  const dir = join(dataDir, `agent-${name}`);
  await kubectl(own(name), ["create", "namespace", "flotilla-agent"], { allowFailure: true });
  // No Git token: the agent shows its hub token to the controller's Git server.
  const agent = spawnAgent({
    cluster: name,
    hubKubeconfig: join(dir, "hub.kubeconfig"),
    memberKubeconfig: own(name).kubeconfigPath,
    gitUrl: `http://127.0.0.1:${gitServer!.port}/env.git`,
    dataDir: join(dir, `data${replica}`),
    logFile: join(dir, `${log}.log`),
    args: ["--resync", "5s", "--lease-duration", "5s"],
  });
  agents.set(`${name}${replica}`, agent);
  return agent;
}

const LABELS: Record<string, Record<string, string>> = {
  staging: { usage: "staging", region: "eu" },
  "prod-eu": { usage: "production", region: "eu" },
  "prod-us": { usage: "production", region: "us" },
};

/** Edit frontend-v1's image on a member by hand; its agent must put Git's image back. */
async function driftAndWaitCorrected(member: string, ns: string, when: string): Promise<void> {
  const image = async () => (await deploymentOn(own(member), ns, "frontend-v1"))?.spec?.template.spec?.containers[0]?.image;
  const want = await image();
  expect(want).toBeDefined();
  await kubectl(own(member), ["set", "image", "deployment/frontend-v1", "*=drifted:by-hand", "-n", ns]);
  const startedAt = Date.now();
  await waitFor(async () => (await image()) === want, { timeoutMs: 45_000, intervalMs: 500, message: `${member}'s agent to correct the drift ${when}` });
  console.log(`pull-mode: ${member}'s agent corrected a drift ${when} in ${seconds(Date.now() - startedAt)}`);
}

/** The canary without pauses (nobody promotes) and a short soak, so the rollout runs by itself. */
async function autoCanary(namespace: string): Promise<ApplicationDeployment> {
  const example = parseYamlStream(await readFile(join(ROOT, "examples", "webservice-canary", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  const full: ApplicationDeployment = { ...example, metadata: { name: "frontend", namespace } };
  const v2 = full.spec.appRevisions[1]!;
  v2.rollout!.batches = [{ replicas: 1 }, { replicas: "50%", wait: "2s" }, { replicas: "100%" }];
  v2.rollout!.analysis!.interval = "1s";
  return full;
}

async function v1Healthy(ns: string, full: ApplicationDeployment): Promise<void> {
  await applyOnHub(own("hub"), { ...full, spec: { ...full.spec, appRevisions: [full.spec.appRevisions[0]!] } });
  await waitFor(async () => (await getDeployment(own("hub"), ns, "frontend"))?.status?.phase === "Healthy", {
    timeoutMs: 150_000,
    intervalMs: 1_000,
    message: "v1 Healthy",
  });
}

async function v2Healthy(ns: string): Promise<ApplicationDeployment> {
  return waitFor(
    async () => {
      const a = await getDeployment(own("hub"), ns, "frontend");
      return a?.status?.phase === "Healthy" && a.status.stableRevision === "v2" ? a : undefined;
    },
    { timeoutMs: 240_000, intervalMs: 1_000, message: "v2 Healthy and stable" },
  );
}

describe("pull mode", () => {
  beforeAll(async () => {
    fleetDir = await mkdtemp(join(tmpdir(), "flotilla-pull-fleet-"));
    fleet = await startFleet({ dir: fleetDir, members: MEMBERS, hpaSyncPeriodSeconds: 5 });
    const hub = kubeConfig(own("hub"));
    await installToHub({ kubeConfig: hub, definitionDirs: [builtinDefinitionsDir()] });
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-pull-"));
    controller = new Controller({
      kubeConfig: hub,
      dataDir,
      resyncIntervalMs: 5_000,
      probeIntervalMs: 3_000,
      leaderElection: false,
      deletionTimeoutMs: 20_000,
      progressRequeueMs: 1_000,
      gitServeAddr: "127.0.0.1:0",
      logger: pino({ level: "debug" }, destination({ dest: join(dataDir, "controller.log"), sync: true })),
    });
    await controller.start();
    gitServer = await startTcpProxy(controller.gitServePort as number);
    for (const name of MEMBERS) await toPull(name, LABELS[name]!);
  }, 300_000);

  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.ensureKilled()));
    await controller?.stop();
    await gitServer?.stop();
    await fleet?.stop();
    if (!process.env.FLOTILLA_KEEP_FLEET_DIR) {
      await rm(fleetDir, { recursive: true, force: true });
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    } else console.log(`pull-mode: fleet in ${fleetDir}, controller and agents in ${dataDir}`);
  }, 120_000);

  it("has every cluster Ready through its agent, with no member credential on the hub", async () => {
    for (const name of MEMBERS) {
      const ready = await waitFor(
        async () => {
          const c = (await getCluster(name))?.status?.conditions?.find((x) => x.type === "Ready");
          return c?.status === "True" ? c : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 500, message: `${name} Ready through its agent` },
      );
      expect(ready.reason).toBe("AgentReporting");
      expect(ready.message).toMatch(/^agent .+ reporting, Kubernetes v1\.20/);
      const agent = (await reportsOf(name)).find((r) => r.metadata.name === "agent");
      expect(agent?.status?.agent?.version).toMatch(/^v1\.20/);
    }
    // No Secret on the hub holds a member's address or token.
    const secrets = await kubeConfig(own("hub")).makeApiClient(CoreV1Api).listSecretForAllNamespaces();
    const text = JSON.stringify(secrets.items.map((s) => Object.values(s.data ?? {}).map((v) => Buffer.from(v, "base64").toString("utf8"))));
    for (const name of MEMBERS) {
      const server = kubeConfig(own(name)).getCurrentCluster()?.server as string;
      expect(text).not.toContain(server);
    }
  }, 120_000);

  it("rolls the canary through the waves with the same Git history as push mode, and rolls back a broken revision", async () => {
    await withNamespace(own("hub"), (ns) => canaryScenario({ ns, hub: own("hub"), cluster: own, gitLog }));
  }, 600_000);

  it("loses no step and repeats none when an agent is killed mid-rollout: its standby replica takes over, the restarted one stands by (a mixed fleet: prod-us pushed)", async () => {
    // prod-us goes back to push mode: its agent stops, the controller connects to it again.
    await agents.get("prod-us")?.stop();
    agents.delete("prod-us");
    await registerClusterFiles(kubeConfig(own("hub")), [own("prod-us")]);
    await kubectl(own("hub"), ["patch", "cluster.flotilla.dev", "prod-us", "--type=merge", "-p", '{"spec":{"mode":"Push"}}']);
    await waitFor(async () => (await getCluster("prod-us"))?.status?.conditions?.find((c) => c.type === "Ready")?.reason === "Reachable", {
      timeoutMs: 60_000,
      message: "prod-us Ready in push mode",
    });
    await withNamespace(own("hub"), async (ns) => {
      const full = await autoCanary(ns);
      await v1Healthy(ns, full);
      await applyOnHub(own("hub"), full);
      // A second staging agent waits on the member's Lease while the first works.
      const standby = await startAgent("staging", "-b");
      await standby.logLine((l) => l.msg === "agent starting");
      // Staging's second batch is in Git: kill the working agent before it can report it.
      await waitFor(() => v2Steps(ns).length >= 2, { timeoutMs: 90_000, intervalMs: 100, message: "staging's second batch" });
      expect(standby.logLines().some((l) => l.msg === "agent working")).toBe(false);
      const killedAt = Date.now();
      await agents.get("staging")!.kill();
      await standby.logLine((l) => l.msg === "agent working", 30_000);
      console.log(`pull-mode: the standby agent took over ${seconds(Date.now() - killedAt)} after the SIGKILL (Lease 5 s)`);
      // Restarted on the killed one's data volume, as its Pod's container would be.
      const restarted = await startAgent("staging", "", "agent-restarted");
      await restarted.logLine((l) => l.msg === "agent starting");
      const done = await v2Healthy(ns);
      expect(v2Steps(ns)).toEqual(CANARY_V2_STEPS);
      expect(done.status?.clusters?.map((c) => [c.name, c.health])).toEqual([
        ["prod-eu", "Healthy"],
        ["prod-us", "Healthy"],
        ["staging", "Healthy"],
      ]);
      for (const c of MEMBERS) expect((await deploymentOn(own(c), ns, "frontend-v2"))?.status?.readyReplicas).toBe(4);
      // One agent works at a time: the restarted one never took the Lease from the standby.
      expect(restarted.logLines().some((l) => l.msg === "agent working")).toBe(false);
      const reporter = (await reportsOf("staging")).find((r) => r.metadata.name === "agent")?.status?.agent?.identity;
      expect(reporter).toBe(standby.logLines().find((l) => l.msg === "agent starting")?.identity);
    });
  }, 600_000);

  it("keeps members at their state and correcting drift while the hub's API server, then Git, is stopped 60 s, and rolls on after each", async () => {
    await withNamespace(own("hub"), async (ns) => {
      const full = await autoCanary(ns);
      await v1Healthy(ns, full);
      await applyOnHub(own("hub"), full);
      await waitFor(() => v2Steps(ns).length >= 1, { timeoutMs: 90_000, intervalMs: 100, message: "staging's first batch" });
      let stoppedAt = Date.now();
      await fleet!.stopApiServer("hub");
      try {
        // Drift on a pull member during the outage: its agent puts it back without the hub.
        await driftAndWaitCorrected("prod-eu", ns, "with the hub down");
        await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
      } finally {
        await fleet!.startApiServer("hub");
      }
      console.log(`pull-mode: hub API server down for ${seconds(Date.now() - stoppedAt)}`);
      // The reports written meanwhile arrive and the rollout goes on: staging completes.
      await waitFor(
        async () => (await getDeployment(own("hub"), ns, "frontend"))?.status?.rollout?.clusters?.find((c) => c.name === "staging")?.state === "Completed",
        {
          timeoutMs: 120_000,
          intervalMs: 500,
          message: "staging to complete after the hub's outage",
        },
      );
      stoppedAt = Date.now();
      await gitServer!.stop();
      try {
        // Staging's completion and prod-eu's first batch are one commit, made as staging completes
        // (before or just after the cut): prod-eu's agent may not have fetched it, and whatever it
        // fetched it keeps applying and correcting while Git is away.
        await waitFor(() => v2Steps(ns).some((step) => step.endsWith("batch 1/3 in wave production (prod-eu)")), {
          timeoutMs: 60_000,
          intervalMs: 100,
          message: "prod-eu's first batch in Git",
        });
        await driftAndWaitCorrected("staging", ns, "with Git down");
        await sleep(Math.max(0, stoppedAt + OUTAGE_MS - Date.now()));
      } finally {
        await gitServer!.start();
      }
      await v2Healthy(ns);
      expect(v2Steps(ns)).toEqual(CANARY_V2_STEPS);
    });
  }, 600_000);
});
