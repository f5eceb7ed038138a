// A controller killed with SIGKILL at random points of a rollout, ten times in a row, and started
// again each time, resumes where it was: the rollout finishes with exactly the Git history and the
// final state of an uninterrupted run — no step lost, none repeated. The controller runs as a real
// process (the compiled CLI) so it can be killed; the uninterrupted reference runs first, on the
// same controller, in another namespace.
//
// Kill points are of two kinds: some time (0–1.5 s) after a step's commit appeared, which lands
// anywhere (during syncs, health checks, status writes, a restarted controller's start-up), and
// the instant the hub shows the status record the controller writes just before a step's commit
// (the write-ahead record), which lands between that record and the commit.
// The controllers wait a moment between a step's record and its commit (PAUSE_AFTER_RECORD_MS), so
// every record kill lands there. The kill points come from a seeded PRNG: CI runs a fixed seed
// whose points hold both kinds; the seed is printed and named in any failure,
// FLOTILLA_FAULT_SEED=<seed> replays a run and FLOTILLA_FAULT_SEED=random tries a new one. The controllers' logs (and the env
// repository) are kept when the test fails, or always with FLOTILLA_KEEP_LOGS=1.

import { execFile, execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AppsV1Api, CustomObjectsApi, Watch } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { CANARY_V2_STEPS } from "./support/canary.js";
import { type ControllerProcess, faultSeed, seededRandom, spawnController } from "./support/controller-process.js";
import { hub, kubeConfig, kubectl, members, waitFor, withNamespace } from "./support/fleet.js";
import { DEPLOYMENT_LOG_FORMAT, deploymentLog } from "./support/git-log.js";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const KILLS = 10;
/** Of which this many at a step's status record, the others at a delay after a step. */
const RECORD_KILLS = 4;
/** Kill points wait for one of the first LAST_ANCHOR + 1 steps, then up to MAX_DELAY_MS more. */
const LAST_ANCHOR = CANARY_V2_STEPS.length - 2;
const MAX_DELAY_MS = 1_500;
/** The seed CI runs: its kill points put 4 record kills at steps 2, 3, 7 and 8 and 6 delay kills between. */
const FIXED_SEED = 20_261_202;
/**
 * The controllers under test wait this long between a step's status record and its commit, so a
 * record kill lands between the two every time rather than racing the commit.
 */
const PAUSE_AFTER_RECORD_MS = 1_000;

let dataDir: string;
let controller: ControllerProcess | undefined;
let spawned = 0;
let failed = false;

function startController(): ControllerProcess {
  spawned++;
  return spawnController({
    kubeconfig: hub().kubeconfigPath,
    dataDir,
    logFile: join(dataDir, `controller-${spawned}.log`),
    args: ["--no-leader-elect", "--resync", "1m"],
    env: { FLOTILLA_FAULT_PAUSE_AFTER_RECORD_MS: String(PAUSE_AFTER_RECORD_MS) },
  });
}

const gitDir = () => join(dataDir, "env.git");
const custom = () => kubeConfig("hub").makeApiClient(CustomObjectsApi);

async function getDeployment(namespace: string): Promise<ApplicationDeployment | undefined> {
  return (await custom()
    .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "applicationdeployments", name: "frontend" })
    .catch(() => undefined)) as ApplicationDeployment | undefined;
}

/** Every commit of `<ns>/frontend`, oldest first: subject (without the prefix) and oid. */
async function commitsOf(ns: string): Promise<Array<{ oid: string; subject: string }>> {
  const { stdout } = await run("git", ["--git-dir", gitDir(), "log", `--format=${DEPLOYMENT_LOG_FORMAT}`, "main"], { encoding: "utf8" });
  const prefix = `${ns}/frontend: `;
  return deploymentLog(stdout)
    .map((l) => ({ oid: l.oid, subject: l.line }))
    .filter((c) => c.subject.startsWith(prefix))
    .map((c) => ({ oid: c.oid, subject: c.subject.slice(prefix.length) }))
    .reverse();
}

/** The v2 steps of `<ns>/frontend` in Git, oldest first. */
async function v2Steps(ns: string): Promise<string[]> {
  return (await commitsOf(ns)).map((c) => c.subject).filter((s) => s.startsWith("v2"));
}

/** Records when each v2 step first appears in Git (polled every 100 ms). */
function watchSteps(ns: string): { seen: number[]; stop: () => void } {
  const seen: number[] = [];
  let stopped = false;
  void (async () => {
    while (!stopped) {
      const steps = await v2Steps(ns).catch(() => [] as string[]);
      const now = Date.now();
      for (let i = seen.length; i < steps.length; i++) seen.push(now);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    seen,
    stop: () => {
      stopped = true;
    },
  };
}

/**
 * Status without what legitimately differs between two runs: times, commit ids, the namespace, and
 * the rendering fingerprints (a hash of the manifests, which name the namespace; filesOf compares
 * the files themselves).
 */
function comparable(ad: ApplicationDeployment, ns: string): unknown {
  const times = new Set(["lastTransitionTime", "lastSyncTime", "since", "startedAt", "batchStartedAt", "at"]);
  const text = JSON.stringify(ad.status, (k, v) => (times.has(k) ? undefined : k === "rendering" ? "<fingerprint>" : v));
  return JSON.parse(text.replaceAll(ns, "<ns>").replace(/\b[0-9a-f]{12,40}\b/g, "<commit>"));
}

/** The deployment's files in every cluster folder at the head, with the namespace neutralised. */
function filesOf(ns: string): Record<string, string> {
  const out: Record<string, string> = {};
  const list = execFileSync("git", ["--git-dir", gitDir(), "ls-tree", "-r", "--name-only", "main", "clusters"], { encoding: "utf8" });
  for (const path of list.split("\n").filter((p) => p.includes(`/${ns}/frontend/`))) {
    const content = execFileSync("git", ["--git-dir", gitDir(), "show", `main:${path}`], { encoding: "utf8" });
    out[path.replace(`/${ns}/`, "/<ns>/")] = content.replaceAll(ns, "<ns>");
  }
  return out;
}

function isAncestor(ancestor: string, descendant: string): boolean {
  try {
    execFileSync("git", ["--git-dir", gitDir(), "merge-base", "--is-ancestor", ancestor, descendant]);
    return true;
  } catch {
    return false;
  }
}

interface KillPoint {
  /** Index in CANARY_V2_STEPS of the step to wait for (and for the previous restart). */
  afterStep: number;
  /** `delay`: kill delayMs after that; `record`: kill at the next step's status record. */
  kind: "delay" | "record";
  delayMs: number;
}

function describePoint(p: KillPoint): string {
  return p.kind === "delay" ? `after step ${p.afterStep + 1} +${p.delayMs} ms` : `after step ${p.afterStep + 1} at the next step's status record`;
}

/** Ten kill points spread over the rollout: anchors in step order (repeats allowed), random delays and kinds. */
function killPoints(seed: number): KillPoint[] {
  const random = seededRandom(seed);
  const anchors = Array.from({ length: KILLS }, () => Math.floor(random() * (LAST_ANCHOR + 1))).sort((a, b) => a - b);
  const records = new Set<number>();
  while (records.size < RECORD_KILLS) records.add(Math.floor(random() * KILLS));
  // A record kill lands on the next step's record that no earlier record kill took (the restarted
  // controller commits that step without writing its record again): one with no such step left
  // would wait forever, so it becomes a kill right after its step.
  let recordTaken = 0;
  return anchors.map((afterStep, i) => {
    if (!records.has(i)) return { afterStep, kind: "delay", delayMs: Math.floor(random() * (MAX_DELAY_MS + 1)) };
    const record = Math.max(afterStep + 1, recordTaken + 1);
    if (record >= CANARY_V2_STEPS.length) return { afterStep, kind: "delay", delayMs: 0 };
    recordTaken = record;
    return { afterStep, kind: "record", delayMs: 0 };
  });
}

/**
 * Watches the deployment on the hub and kills the controller the moment its status shows a new
 * step: what some cluster is to run changed (status.rollout.clusters[]: its planned revisions, or
 * its completion, which hands replicas to the autoscaler). The controller writes that record just
 * before the step's commit.
 */
async function watchRecords(
  ns: string,
): Promise<{ killAtNext: (c: ControllerProcess) => Promise<void>; stableCommits: Set<string>; phases: Set<string>; stop: () => void }> {
  const planned = (ad: ApplicationDeployment) =>
    JSON.stringify((ad.status?.rollout?.clusters ?? []).map((c) => [c.name, c.revisions, c.state === "Completed"]));
  /** status.commit of every status that said v2 is the stable revision. */
  const stableCommits = new Set<string>();
  /** Every phase the status showed while watched (with the Ready message, but for Healthy). */
  const phases = new Set<string>();
  let last: string | undefined;
  let armed: (() => void) | undefined;
  let stopped = false;
  let request: AbortController | undefined;
  const start = async (): Promise<void> => {
    request = await new Watch(kubeConfig("hub")).watch(
      `/apis/flotilla.dev/v1alpha1/namespaces/${ns}/applicationdeployments`,
      { fieldSelector: "metadata.name=frontend" },
      (_type, obj: ApplicationDeployment) => {
        if (obj.status?.stableRevision === "v2") stableCommits.add(obj.status.commit ?? "");
        const phase = obj.status?.phase ?? "-";
        phases.add(phase === "Healthy" ? phase : `${phase}: ${obj.status?.conditions?.find((c) => c.type === "Ready")?.message ?? ""}`);
        const now = planned(obj);
        const changed = last !== undefined && now !== last;
        last = now;
        if (changed && armed) {
          armed();
          armed = undefined;
        }
      },
      () => {
        if (!stopped) setTimeout(restart, 200);
      },
    );
  };
  // A watch ends now and then (server timeout, a busy API server): start it again until stopped.
  const restart = () => {
    if (!stopped) start().catch(() => setTimeout(restart, 500));
  };
  await start();
  return {
    killAtNext: (c) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          armed = undefined;
          reject(new Error("no status record of a next step within 120 s"));
        }, 120_000);
        armed = () => {
          clearTimeout(timer);
          c.child.kill("SIGKILL");
          resolve(c.kill());
        };
      }),
    stableCommits,
    phases,
    stop: () => {
      stopped = true;
      request?.abort();
    },
  };
}

describe("a controller killed mid-rollout", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(kc, members());
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-restart-"));
  }, 120_000);

  afterAll(async () => {
    await controller?.ensureKilled();
    if (failed || process.env.FLOTILLA_KEEP_LOGS) console.log(`[restart] controller logs and the env repo kept in ${dataDir}`);
    else if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("finishes a rollout killed ten times at random points with the Git history and final state of an uninterrupted run", async () => {
    const seed = faultSeed(FIXED_SEED);
    const points = killPoints(seed);
    console.log(`[restart] seed ${seed} (replay with FLOTILLA_FAULT_SEED=${seed}); kill points: ${points.map(describePoint).join(", ")}`);
    try {
      await withNamespace("hub", (ref) => withNamespace("hub", (ns) => rollOutWithKills(ref, ns, points)));
    } catch (err) {
      failed = true;
      if (err instanceof Error) err.message = `[FLOTILLA_FAULT_SEED=${seed}] ${err.message}`;
      throw err;
    }
  }, 600_000);
});

function seedIsFixed(): boolean {
  return !process.env.FLOTILLA_FAULT_SEED;
}

async function rollOutWithKills(ref: string, ns: string, points: KillPoint[]): Promise<void> {
  const example = parseYamlStream(await readFile(join(ROOT, "examples", "webservice-canary", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  const make = (namespace: string): ApplicationDeployment => {
    const full: ApplicationDeployment = { ...structuredClone(example), metadata: { name: "frontend", namespace } };
    const v2 = full.spec.appRevisions[1]!;
    // No pause (nobody promotes here) and a short soak, so the rollout runs by itself.
    v2.rollout!.batches = [{ replicas: 1 }, { replicas: "50%", wait: "2s" }, { replicas: "100%" }];
    v2.rollout!.analysis!.interval = "1s";
    return full;
  };
  const apply = (doc: unknown) => kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-"], { input: toYaml(doc) });
  const v1Only = (d: ApplicationDeployment) => ({ ...d, spec: { ...d.spec, appRevisions: [d.spec.appRevisions[0]!] } });
  const done = (namespace: string, message: string, timeoutMs = 180_000) =>
    waitFor(
      async () => {
        const a = await getDeployment(namespace);
        return a?.status?.phase === "Healthy" && a.status.stableRevision === "v2" && a.status.observedGeneration === a.metadata.generation ? a : undefined;
      },
      { timeoutMs, intervalMs: 500, message },
    );

  controller = startController();
  await Promise.all([apply(v1Only(make(ref))), apply(v1Only(make(ns)))]);
  for (const namespace of [ref, ns]) {
    await waitFor(async () => (await getDeployment(namespace))?.status?.phase === "Healthy", {
      timeoutMs: 120_000,
      intervalMs: 500,
      message: `v1 Healthy in ${namespace}`,
    });
  }

  // The reference: v2 rolled out without interruption.
  const refWatch = watchSteps(ref);
  const refRecords = await watchRecords(ref);
  const refStart = Date.now();
  await apply(make(ref));
  const refDone = await done(ref, "the uninterrupted reference rollout of v2");
  const refDuration = Date.now() - refStart;
  await waitFor(() => refWatch.seen.length === CANARY_V2_STEPS.length, { timeoutMs: 5_000, message: "the reference's steps to be seen" });
  refWatch.stop();
  refRecords.stop();
  const refCommits = await commitsOf(ref);

  // The same rollout, killed at every kill point.
  const watch = watchSteps(ns);
  const records = await watchRecords(ns);
  const settled = await watchRecords(ref);
  const start = Date.now();
  await apply(make(ns));
  const kills: Array<{
    kind: KillPoint["kind"];
    at: number;
    stepsInGit: number;
    phase: string | undefined;
    rollout: string;
    uncommitted: boolean;
    restartedAt: number;
  }> = [];
  for (const p of points) {
    await waitFor(() => watch.seen.length > p.afterStep, {
      timeoutMs: 120_000,
      intervalMs: 50,
      message: `step ${p.afterStep + 1} (${CANARY_V2_STEPS[p.afterStep]})`,
    }).catch(async (error: Error) => {
      // What the rollout waited for says where it stuck.
      const status = (await getDeployment(ns))?.status;
      throw new Error(`${error.message}; phase ${status?.phase}, rollout ${JSON.stringify(status?.rollout)}, clusters ${JSON.stringify(status?.clusters)}`);
    });
    const base = Math.max(watch.seen[p.afterStep]!, kills.at(-1)?.restartedAt ?? 0);
    await new Promise((r) => setTimeout(r, Math.max(0, base + p.delayMs - Date.now())));
    // kill() fails if the controller had died by itself: every kill must land on a live process.
    expect(controller.exited, `controller ${controller.pid} alive before kill ${kills.length + 1}`).toBe(false);
    if (p.kind === "record") await records.killAtNext(controller);
    else await controller.kill();
    const at = Date.now();
    // Nothing runs now: what Git and the hub show is the state the kill left.
    const steps = await v2Steps(ns);
    const ad = await getDeployment(ns);
    const r = ad?.status?.rollout;
    controller = startController();
    kills.push({
      kind: p.kind,
      at,
      stepsInGit: steps.length,
      phase: ad?.status?.phase,
      rollout: r ? `${r.wave ?? "-"} ${r.batch}/${r.batches} ${r.state}` : "-",
      // The status records a step whose commit is not in Git.
      uncommitted: r?.pendingCommit !== undefined && steps.at(-1) !== r.pendingCommit,
      restartedAt: controller.startedAt,
    });
  }
  const final = await done(ns, "v2 Healthy after the kills");
  const duration = Date.now() - start;
  await waitFor(() => watch.seen.length === CANARY_V2_STEPS.length, { timeoutMs: 5_000, message: "every step to be seen" });
  watch.stop();
  records.stop();
  settled.stop();

  // Figures: where each kill landed and how long the restarted controller took to make the next step.
  const recoveries: Array<number | undefined> = kills.map((k, i) => {
    const next = watch.seen.find((t) => t > k.restartedAt);
    const nextKill = kills[i + 1]?.at ?? Number.POSITIVE_INFINITY;
    return next !== undefined && next < nextKill ? next - k.restartedAt : undefined;
  });
  const refGap = (step: number) => (step === 0 ? undefined : refWatch.seen[step]! - refWatch.seen[step - 1]!);
  console.log(`[restart] uninterrupted rollout of v2: ${(refDuration / 1000).toFixed(1)} s; killed ${kills.length} times: ${(duration / 1000).toFixed(1)} s`);
  kills.forEach((k, i) => {
    const next = k.stepsInGit; // index of the step the restarted controller makes next
    const recovery = recoveries[i];
    const gap = refGap(next);
    console.log(
      `[restart] kill ${i + 1} (${describePoint(points[i]!)}): ${((k.at - start) / 1000).toFixed(1)} s into the rollout, ${k.stepsInGit}/${CANARY_V2_STEPS.length} steps in Git` +
        `${k.uncommitted ? " and the next one recorded in status but not committed" : ""}, phase ${k.phase}, rollout ${k.rollout}; ` +
        (recovery === undefined
          ? "killed again before its next step"
          : `next step (${next + 1}) ${(recovery / 1000).toFixed(1)} s after the restart (uninterrupted: ${gap === undefined ? "-" : `${(gap / 1000).toFixed(1)} s`} after the previous step)`),
    );
  });

  // Every kill landed before the rollout was done.
  const midRollout = kills.filter((k) => k.stepsInGit < CANARY_V2_STEPS.length || k.phase !== "Healthy");
  expect(midRollout.length).toBe(KILLS);
  // At least one restart was given the time to make a step (else the kills tested only startup).
  expect(recoveries.filter((r) => r !== undefined).length).toBeGreaterThan(0);
  console.log(
    `[restart] ${midRollout.length}/${KILLS} kills before the rollout was done; ${kills.filter((k) => k.uncommitted).length} between a step's status record and its commit`,
  );
  // The headline case: every record kill left a step recorded in status but not in Git, and the
  // restarted controller committed it (the history check below): there were such kills.
  const recordKills = kills.filter((k) => k.kind === "record");
  if (seedIsFixed()) expect(recordKills.length).toBe(RECORD_KILLS);
  expect(recordKills.length).toBeGreaterThan(0);
  expect(recordKills.map((k) => k.uncommitted)).toEqual(recordKills.map(() => true));

  // The same Git history: v1's steps, then exactly the v2 steps, once each, in order.
  const commits = await commitsOf(ns);
  expect(commits.map((c) => c.subject).filter((s) => s.startsWith("v2"))).toEqual(CANARY_V2_STEPS);
  expect(commits.map((c) => c.subject)).toEqual(refCommits.map((c) => c.subject));
  // The reference, long done, was not disturbed by the restarts: no commit, and its status said
  // Healthy all along — a restarted controller does not report clusters it has not seen yet as
  // "sync in progress" or "waiting for the batch's commit". (Only a member that really did not
  // answer a restarted controller's probe in time, on a loaded machine, may be reported unreachable.)
  expect((await commitsOf(ref)).map((c) => c.oid)).toEqual(refCommits.map((c) => c.oid));
  expect(settled.phases.has("Healthy")).toBe(true);
  expect([...settled.phases].filter((p) => p !== "Healthy" && !p.includes("unreachable"))).toEqual([]);

  // The same final state: status, the files in Git, the objects in the clusters.
  const status = final.status!;
  expect(status).toMatchObject({ phase: "Healthy", targetRevision: "v2", stableRevision: "v2", progress: "done" });
  expect(status.conditions?.find((c) => c.type === "Ready")).toMatchObject({ status: "True", reason: "Healthy" });
  expect(status.conditions?.find((c) => c.type === "Stalled")?.status).toBe("False");
  const lastCommit = commits.at(-1)!.oid;
  expect(status.commit).toBe(lastCommit);
  // v2 was called stable only once its last step was committed (and applied), in both runs.
  expect([...records.stableCommits]).toEqual([lastCommit]);
  expect([...refRecords.stableCommits]).toEqual([refCommits.at(-1)!.oid]);
  expect(status.rollout).toMatchObject({ revision: "v2", wave: "production", batch: 3, batches: 3, state: "Completed" });
  expect(status.rollout?.clusters?.map((c) => [c.name, c.state, c.batch])).toEqual([
    ["staging", "Completed", 3],
    ["prod-eu", "Completed", 3],
    ["prod-us", "Completed", 3],
  ]);
  expect(status.clusters?.map((c) => c.name)).toEqual(["prod-eu", "prod-us", "staging"]);
  for (const c of status.clusters ?? []) {
    expect(c.health, c.name).toBe("Healthy");
    expect(
      c.revisions?.map((r) => [r.name, r.replicas, r.readyReplicas]),
      c.name,
    ).toEqual([
      ["v1", 0, 0],
      ["v2", 4, 4],
    ]);
    expect(isAncestor(lastCommit, c.appliedCommit!), `${c.name} applied ${c.appliedCommit}, not a descendant of ${lastCommit}`).toBe(true);
  }
  expect(comparable(final, ns)).toEqual(comparable(refDone, ref));
  expect(filesOf(ns)).toEqual(filesOf(ref));
  expect(Object.keys(filesOf(ns)).length).toBeGreaterThan(0);
  const apps = (c: string) => kubeConfig(c).makeApiClient(AppsV1Api);
  for (const m of members()) {
    const v2 = await apps(m.name).readNamespacedDeployment({ namespace: ns, name: "frontend-v2" });
    expect(v2.spec?.template.spec?.containers[0]?.image, m.name).toBe("nginx:1.27");
    expect([v2.spec?.replicas, v2.status?.readyReplicas], m.name).toEqual([4, 4]);
    const v1 = await apps(m.name).readNamespacedDeployment({ namespace: ns, name: "frontend-v1" });
    expect(v1.spec?.replicas, m.name).toBe(0);
  }
  execFileSync("git", ["--git-dir", gitDir(), "fsck", "--strict"]);
}
