// The fleet-scale headline: N ApplicationDeployments on a local fleet (hub + staging, prod-eu,
// prod-us) that this case starts in a temp dir and always stops. The controller runs in this
// process (leader election off, embedded Git repository in a temp dataDir, default intervals).
//
//   N: `--scale N` on the command line (`--scale 100,300,1000` runs each in turn, each on a fresh
//   fleet), else FLOTILLA_BENCH_SCALE, else 100.
//   Mode: `--mode push|pull|mixed` (a list runs each in turn, each on a fresh fleet), else
//   FLOTILLA_BENCH_MODE, else push. Pull: every member registered as `cluster add --mode pull`
//   does (registerPullCluster: the agent's hub identity, no member credential on the hub), the
//   controller serves its repository at 127.0.0.1:<free port>/env.git, and one `flotilla agent`
//   process per member (startLocalAgent, as `flotilla up --mode pull`) fetches it and applies.
//   Mixed: prod-eu pulled, the others pushed. Agents are started after the baseline, waited for
//   until each has written its SyncReport, and always stopped (SIGTERM, SIGKILL 10 s later; a
//   SIGKILL when this process exits). Figure names carry the mode ("fleet (pull): ..."; push keeps
//   "fleet: ...") and every figure its `mode`.
//
// Measured:
//   (a) first apply → every deployment `status.phase == Healthy` for its current generation
//       (a watch of ApplicationDeployments on the hub, checked every second);
//   (b) peak RSS of this process (sampled every 250 ms) and the controller's CPU seconds
//       (process.cpuUsage deltas, plus its template worker process from /proc/<pid>/stat, plus
//       this process's exited children from /proc/self/stat cutime + cstime: in pull mode the
//       controller's `git http-backend` runs) from the first apply to all Healthy. The fleet runs
//       in a detached supervisor process (as `flotilla fleet up --detach`) that also hosts its node
//       simulators, so they are not counted here (their CPU shows in the fleet's line); both
//       figures are also reported minus a baseline of this process taken before the controller
//       starts. Each agent's CPU (/proc/<pid>/stat) over the same window, per deployment placed
//       on its member, and its peak RSS (VmHWM);
//   (c) idle CPU (% of one core) over a window after all are Healthy: 60 s for N <= 100, else
//       300 s (FLOTILLA_BENCH_IDLE_S overrides), raw and minus the pre-controller baseline;
//       FLOTILLA_BENCH_PROFILE_IDLE=<file.cpuprofile> writes a CPU profile of the idle window
//       (FLOTILLA_BENCH_PROFILE_RAMP=<file> one of the ramp from first apply to all Healthy;
//       FLOTILLA_BENCH_HEAP_SNAPSHOT=<file.heapsnapshot> a heap snapshot when all are Healthy);
//       each agent's CPU over the same window; FLOTILLA_BENCH_PROFILE_AGENTS=<dir> has every agent
//       write a CPU profile of its whole life there (agent-<cluster>.cpuprofile, when it stops);
//   (d) one deployment's image changed while the others sit idle: time until the Deployment on
//       every cluster it is placed on carries the new image (each member polled every 50 ms),
//       FLOTILLA_BENCH_CHANGES times (default 10) one after another, each once the deployment is
//       Healthy again: the first change's time from the apply, and the p99 of all from the apply
//       and from the controller's commit (the mtime of env.git/refs/heads/main when it first moved);
//   (e) the web UI the controller serves: the list of all N in Chromium and GET /api/deployments
//       (fleet-ui.ts), after (d) so the browser disturbs no other figure.
// The controller logs warnings and errors to a file in the temp dir; the case reports how many
// and the most frequent messages (nothing goes to the terminal), and the same of each agent's log
// (kept in the system temp dir when it has warnings or errors, when the run failed, or when
// FLOTILLA_LOG_LEVEL is set: the agents log at that level).

import type { ChildProcess } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import https from "node:https";
import { Session } from "node:inspector/promises";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { writeHeapSnapshot } from "node:v8";
import { KubeConfig, Watch } from "@kubernetes/client-node";
import { destination, pino } from "pino";
import { AGENT_REPORT_NAME, pullNamespace } from "../../src/api/pull.js";
import type { ApplicationDeployment, ComponentSpec, Manifest } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { ensureControllerNamespace, installToHub, registerClusters } from "../../src/cli/install.js";
import { pulledMembers, startLocalAgent } from "../../src/cli/local-agents.js";
import { registerPullCluster } from "../../src/cli/pull-cluster.js";
import { Controller } from "../../src/controller/controller.js";
import { type FleetInfo, startDetachedFleet, stopFleet } from "../../src/fleet/index.js";
import { deploymentOf, objectHealth } from "../../src/sync/health.js";
import { KubeClient } from "../../src/kube/client.js";
import { growthBetween } from "./counters.js";
import { uiOnFleet } from "./fleet-ui.js";
import { type FleetMode, fleetTag, SERIES } from "./fleet-mode.js";
import { cpuBetween, descendantCpu, nodeChildren, peakRssBytes, processCpuS, reapedChildrenCpuS } from "./process-cpu.js";
import type { BenchCase, BenchFigure, BenchOptions } from "./types.js";

export const NAMESPACES = 10;
const SAMPLE_MS = 250;
const BASELINE_MS = 15_000;
const GiB = 2 ** 30;
const MiB = 2 ** 20;

const say = (line: string) => process.stdout.write(`  [fleet] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function kubeConfigFrom(file: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  return kc;
}

/** Deterministic shape of deployment i: 1–3 components, worker/webservice, 1–2 replicas. */
export function deployment(i: number, image = `registry.example/app-${i}:v1`): ApplicationDeployment {
  const count = 1 + (i % 3);
  const app = `app-${String(i).padStart(4, "0")}`;
  const components: ComponentSpec[] = [];
  for (let c = 0; c < count; c++) {
    const webservice = (i + c) % 2 === 1;
    components.push({
      // Object names derive from component names (`<component>-<revision>`), and ~N/10 deployments
      // share a namespace: prefix with the app so no two deployments render the same object.
      name: `${app}-${c === 0 ? "backend" : webservice ? `web-${c}` : `worker-${c}`}`,
      type: webservice ? "webservice" : "worker",
      settings: webservice
        ? { image: c === 0 ? image : `registry.example/web-${i}-${c}:v1`, ports: [{ port: 8080 }] }
        : { image: c === 0 ? image : `registry.example/worker-${i}-${c}:v1`, cmd: ["sleep", "3600"] },
      ...(c === 0 && !webservice ? { traits: [{ name: "autoscaler", properties: { min: 1, max: 3 } }] } : {}),
    });
  }
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: app, namespace: `bench-${i % NAMESPACES}`, labels: { "bench.flotilla.dev/fleet": "true" } },
    spec: {
      appRevisions: [{ name: "v1", template: { spec: { components } }, rollout: { replicas: 1 + (i % 2) } }],
      placementStrategies: i % 2 === 0 ? [{ clusterSelector: { labels: { usage: "production" } } }] : [{ name: "all" }],
    },
  };
}

/** Run `fn` over `items` with at most `limit` at once. */
export async function pool<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

/** RSS and CPU of this process, sampled every 250 ms; `mark()` starts a new measurement window. */
class Sampler {
  private timer: NodeJS.Timeout;
  private peak = 0;
  private windowStart = process.cpuUsage();
  private windowT0 = performance.now();
  constructor() {
    this.sample();
    this.timer = setInterval(() => this.sample(), SAMPLE_MS);
    this.timer.unref();
  }
  private sample(): void {
    this.peak = Math.max(this.peak, process.memoryUsage().rss);
  }
  mark(): void {
    this.sample();
    this.peak = process.memoryUsage().rss;
    this.windowStart = process.cpuUsage();
    this.windowT0 = performance.now();
  }
  /** Peak RSS (bytes), CPU seconds and wall seconds since the last mark. */
  read(): { peakRss: number; cpuS: number; wallS: number } {
    this.sample();
    const d = process.cpuUsage(this.windowStart);
    return { peakRss: this.peak, cpuS: (d.user + d.system) / 1e6, wallS: (performance.now() - this.windowT0) / 1000 };
  }
  stop(): void {
    clearInterval(this.timer);
  }
}

/** Selected figures from the controller's /metrics. */
async function controllerMetrics(port: number | undefined): Promise<{
  reconciles: Record<string, number>;
  avgReconcileMs: number;
  syncs: Record<string, number>;
  commits: number;
  statusWrites: number;
  memberRequests: Record<string, number>;
}> {
  const out = {
    reconciles: {} as Record<string, number>,
    avgReconcileMs: Number.NaN,
    syncs: {} as Record<string, number>,
    commits: 0,
    statusWrites: 0,
    memberRequests: {} as Record<string, number>,
  };
  if (port === undefined) return out;
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  let count = 0;
  for (const line of text.split("\n")) {
    let m = /^flotilla_reconcile_total\{result="([^"]+)"\} (\S+)/.exec(line);
    if (m?.[1]) out.reconciles[m[1]] = Number(m[2]);
    m = /^flotilla_sync_total\{[^}]*result="([^"]+)"[^}]*\} (\S+)/.exec(line);
    if (m?.[1]) out.syncs[m[1]] = (out.syncs[m[1]] ?? 0) + Number(m[2]);
    m = /^flotilla_reconcile_duration_seconds_sum (\S+)/.exec(line);
    if (m) sum = Number(m[1]);
    m = /^flotilla_reconcile_duration_seconds_count (\S+)/.exec(line);
    if (m) count = Number(m[1]);
    m = /^flotilla_git_commits_total (\S+)/.exec(line);
    if (m) out.commits = Number(m[1]);
    m = /^flotilla_status_writes_total (\S+)/.exec(line);
    if (m) out.statusWrites = Number(m[1]);
    m = /^flotilla_cluster_requests_total\{[^}]*verb="([^"]+)"[^}]*\} (\S+)/.exec(line);
    if (m?.[1]) out.memberRequests[m[1]] = (out.memberRequests[m[1]] ?? 0) + Number(m[2]);
  }
  out.avgReconcileMs = count ? (sum / count) * 1000 : Number.NaN;
  return out;
}

/** Warn/error lines of the controller log: total and the most frequent messages. */
async function logSummary(file: string): Promise<{ warnings: number; errors: number; top: string[] }> {
  const text = await readFile(file, "utf8").catch(() => "");
  const counts = new Map<string, number>();
  let warnings = 0;
  let errors = 0;
  for (const line of text.split("\n")) {
    if (!line) continue;
    try {
      const entry = JSON.parse(line) as { level?: number; msg?: string; err?: unknown };
      if ((entry.level ?? 0) < 40) continue; // debug/info lines, kept only when asked for
      if ((entry.level ?? 0) >= 50) errors++;
      else warnings++;
      const err = typeof entry.err === "string" ? entry.err : ((entry.err as { message?: string } | undefined)?.message ?? "");
      const key = `${entry.msg ?? ""}${err ? `: ${err.replace(/\d+/g, "#").slice(0, 160)}` : ""}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    } catch {
      // a partial last line
    }
  }
  const top = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([k, v]) => `${v}× ${k}`);
  return { warnings, errors, top };
}

interface PhaseCount {
  healthy: number;
  total: number;
  phases: Record<string, number>;
}

function phaseOf(ad: ApplicationDeployment): string {
  return ad.status?.observedGeneration === ad.metadata.generation ? (ad.status?.phase ?? "None") : "Stale";
}

/** A watch that starts again whenever the server ends it, until `stop()`. */
function keepWatching<T>(kc: KubeConfig, path: string, query: Record<string, string>, onEvent: (type: string, obj: T) => void): { stop: () => void } {
  let stopped = false;
  let abort: AbortController | undefined;
  const start = async (): Promise<void> => {
    if (stopped) return;
    abort = await new Watch(kc)
      .watch(path, query, onEvent, () => void sleep(200).then(start)) // the server ends watches now and then
      .catch(() => {
        void sleep(1_000).then(start);
        return undefined;
      });
  };
  void start();
  return {
    stop: () => {
      stopped = true;
      abort?.abort();
    },
  };
}

/**
 * Each bench deployment's phase ("Stale" until its status is for its current generation), kept
 * from a watch: polling with a LIST every second cost the hub's API server as much as a
 * hundred status writes at N = 1,000, on the same two cores the controller is measured on.
 * `healthyAt` is when each last turned Healthy (performance.now()).
 */
function watchPhases(kc: KubeConfig): { read: () => PhaseCount; healthyAt: ReadonlyMap<string, number>; stop: () => void } {
  const byKey = new Map<string, string>();
  const healthyAt = new Map<string, number>();
  const watch = keepWatching(
    kc,
    "/apis/flotilla.dev/v1alpha1/applicationdeployments",
    { labelSelector: "bench.flotilla.dev/fleet=true" },
    (type, obj: ApplicationDeployment) => {
      const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
      if (type === "DELETED") byKey.delete(key);
      else if (type === "ADDED" || type === "MODIFIED") {
        const phase = phaseOf(obj);
        if (phase === "Healthy" && byKey.get(key) !== "Healthy") healthyAt.set(key, performance.now());
        byKey.set(key, phase);
      }
    },
  );
  return {
    read: () => {
      const out: PhaseCount = { healthy: 0, total: byKey.size, phases: {} };
      for (const phase of byKey.values()) {
        out.phases[phase] = (out.phases[phase] ?? 0) + 1;
        if (phase === "Healthy") out.healthy++;
      }
      return out;
    },
    healthyAt,
    stop: watch.stop,
  };
}

/**
 * When the members' Deployments of each bench deployment last turned Healthy by the controller's
 * own rule (performance.now()), from one watch per member: how long after that the hub reports
 * the deployment Healthy is the reporting lag. Opt-in (FLOTILLA_BENCH_MEMBER_READY=1): this
 * process parses every status update of thousands of Deployments, CPU the controller's figure
 * would then include.
 */
function watchMemberReadiness(kcs: readonly KubeConfig[]): { readyAt: (deployment: string) => number | undefined; stop: () => void } {
  const objects = new Map<string, { deployment: string; healthy: boolean; since: number }>();
  const watches = kcs.map((kc, member) =>
    keepWatching(kc, "/apis/apps/v1/deployments", { labelSelector: "app.kubernetes.io/managed-by=flotilla" }, (type, live: Manifest) => {
      const key = `${member}/${live.metadata.namespace}/${live.metadata.name}`;
      if (type === "DELETED") return void objects.delete(key);
      if (type !== "ADDED" && type !== "MODIFIED") return;
      const healthy = objectHealth(live).status === "Healthy";
      const was = objects.get(key);
      if (!was || was.healthy !== healthy) objects.set(key, { deployment: deploymentOf(live), healthy, since: performance.now() });
    }),
  );
  return {
    readyAt: (deployment) => {
      let at: number | undefined;
      for (const o of objects.values()) {
        if (o.deployment !== deployment) continue;
        if (!o.healthy) return undefined;
        at = Math.max(at ?? 0, o.since);
      }
      return at;
    },
    stop: () => {
      for (const w of watches) w.stop();
    },
  };
}

/** How long after its members' Deployments turned Healthy each deployment was reported Healthy. */
function reportingLag(
  healthyAt: ReadonlyMap<string, number>,
  members: ReturnType<typeof watchMemberReadiness>,
  t0: number,
): { lastReadyS: number; summary: string } {
  const lags: number[] = [];
  let lastReady = t0;
  for (const [deployment, reported] of healthyAt) {
    const ready = members.readyAt(deployment);
    if (ready === undefined) continue;
    lastReady = Math.max(lastReady, ready);
    lags.push((reported - ready) / 1000);
  }
  lags.sort((a, b) => a - b);
  const at = (q: number) => (lags[Math.min(lags.length - 1, Math.floor(q * lags.length))] ?? Number.NaN).toFixed(1);
  return { lastReadyS: (lastReady - t0) / 1000, summary: `median ${at(0.5)} s, 90th percentile ${at(0.9)} s, most ${at(1)} s (${lags.length} deployments)` };
}

/** Count MODIFIED events of a hub resource (e.g. Cluster status writes) until `stop()`. */
async function countUpdates(kc: KubeConfig, path: string): Promise<{ count: () => number; stop: () => void }> {
  let n = 0;
  const ctrl = await new Watch(kc).watch(
    path,
    { allowWatchBookmarks: false },
    (phase) => {
      if (phase === "MODIFIED") n++;
    },
    () => {},
  );
  return { count: () => n, stop: () => ctrl.abort() };
}

/** A CPU profile of this process from now until stop(), written to `file` (nothing when unset). */
async function startProfile(file: string | undefined): Promise<{ stop(): Promise<void> }> {
  if (!file) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    async stop() {
      const { profile } = await session.post("Profiler.stop");
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
      say(`CPU profile written to ${file}`);
    },
  };
}

/** Where this process's memory is: RSS, the JS heap (used / reserved) and memory outside it. */
function memoryLine(): string {
  const m = process.memoryUsage();
  const mib = (b: number) => (b / MiB).toFixed(0);
  return `rss ${mib(m.rss)} MiB (heap ${mib(m.heapUsed)} used / ${mib(m.heapTotal)} reserved, external ${mib(m.external)}, array buffers ${mib(m.arrayBuffers)})`;
}

/** A heap snapshot (for Chrome DevTools' Memory tab) when the file is given; it forces a full GC first. */
function writeHeapSnapshotTo(file: string | undefined): void {
  if (!file) return;
  const written = writeHeapSnapshot(file);
  say(`heap snapshot written to ${written}; after it: ${memoryLine()}`);
}

/** `apiserver_request_total` of one API server, summed by verb and resource[/subresource]. */
export async function apiServerRequests(kc: KubeConfig): Promise<Map<string, number>> {
  const opts: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(opts);
  const server = new URL(kc.getCurrentCluster()?.server ?? "");
  const text = await new Promise<string>((resolve, reject) => {
    const req = https.get({ ...opts, hostname: server.hostname, port: server.port, path: "/metrics" }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve(body));
    });
    req.on("error", reject);
  });
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const label = (name: string) => new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? "";
    const sub = label("subresource");
    const key = `${label("verb")} ${label("resource")}${sub ? `/${sub}` : ""}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return out;
}

/** The most frequent requests between two `apiServerRequests` readings, "VERB resource: count". */
function topRequests(before: Map<string, number>, after: Map<string, number>, limit: number): { total: number; top: string[] } {
  const delta = growthBetween(before, after);
  return { total: delta.reduce((a, [, v]) => a + v, 0), top: delta.slice(0, limit).map(([k, v]) => `${k}: ${v}`) };
}

/** A line per API server: its requests since `before` (one `apiServerRequests` reading per cluster), the most frequent first. */
export async function requestLines(
  clusters: ReadonlyArray<{ name: string; kc: KubeConfig }>,
  before: ReadonlyArray<Map<string, number>>,
  when: string,
  limit: number,
): Promise<string[]> {
  const after = await Promise.all(clusters.map((c) => apiServerRequests(c.kc)));
  return clusters.map((c, i) => {
    const { total, top } = topRequests(before[i] ?? new Map(), after[i] ?? new Map(), limit);
    return `${c.name} API server: ${total} requests ${when}; most frequent: ${top.join(", ")}`;
  });
}

/** A cost of the N-deployment case divided by N: the same series at other scales shows how it grows. */
export function perDeployment(series: string, n: number, total: number, unit: string, how: string): BenchFigure {
  return { name: `${series}, per deployment (N = ${n.toLocaleString("en")})`, value: total / n, unit: `${unit}/deployment`, how, perDeployment: { series, n } };
}

const pct = (cpuS: number, wallS: number) => (wallS > 0 ? (cpuS / wallS) * 100 : 0);

/** Where the machine's CPU went in a window: the fleet's processes and this one, against the cores' capacity. */
export function machineCpuLine(fleetCpu: { totalS: number; lines: string[] }, ownCpuS: number, wallS: number): string {
  const capacity = availableParallelism() * wallS;
  const used = fleetCpu.totalS + ownCpuS;
  return `CPU in the window: ${used.toFixed(0)} of ${capacity.toFixed(0)} CPU s (${pct(used, capacity).toFixed(0)}% of ${availableParallelism()} cores): this process ${ownCpuS.toFixed(0)}, fleet ${fleetCpu.totalS.toFixed(0)} (${fleetCpu.lines.join(", ")})`;
}

interface RunningAgent {
  cluster: string;
  child: ChildProcess;
  /** Its log file, in the run's temp dir. */
  log: string;
}

const running = (a: RunningAgent) => a.child.exitCode === null && a.child.signalCode === null;

/** Stop agent processes: SIGTERM, then SIGKILL for any still running 10 s later. */
async function stopAgents(agents: readonly RunningAgent[]): Promise<void> {
  await Promise.all(
    agents.map(async (a) => {
      const exited = new Promise<void>((resolve) => a.child.once("exit", () => resolve()));
      if (!running(a)) return;
      a.child.kill("SIGTERM");
      const timer = setTimeout(() => a.child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

/**
 * Wait until each agent has written its own SyncReport to the hub (it then works: the Git server
 * answered and the hub took its identity), so its start-up stays out of the ramp's figures.
 * Returns the clusters whose agent has not reported within `timeoutMs`; throws when one exited.
 */
async function waitForAgents(hub: KubeClient, agents: readonly RunningAgent[], timeoutMs: number): Promise<string[]> {
  const waiting = new Set(agents.map((a) => a.cluster));
  const deadline = performance.now() + timeoutMs;
  while (waiting.size && performance.now() < deadline) {
    for (const a of agents) {
      if (!waiting.has(a.cluster)) continue;
      if (!running(a))
        throw new Error(`bench: the agent of ${a.cluster} exited (${a.child.exitCode ?? a.child.signalCode}) before it reported; its log is kept (see below)`);
      const ref = { apiVersion: "flotilla.dev/v1alpha1", kind: "SyncReport", namespace: pullNamespace(a.cluster), name: AGENT_REPORT_NAME };
      if (await hub.get(ref).catch(() => undefined)) waiting.delete(a.cluster);
    }
    if (waiting.size) await sleep(500);
  }
  return [...waiting];
}

/** The env repository's branch head and when it was written (the ref file's mtime: the commit's moment). */
async function headOf(refFile: string): Promise<{ oid: string; atMs: number } | undefined> {
  try {
    const [oid, st] = await Promise.all([readFile(refFile, "utf8"), stat(refFile)]);
    return { oid: oid.trim(), atMs: st.mtimeMs };
  } catch {
    return undefined; // not written yet, or packed
  }
}

interface ChangeTiming {
  /** Seconds from the apply until every target cluster's Deployment carries the image; NaN when not reached in 60 s. */
  fromApplyS: number;
  /** Seconds from the controller's commit (the first new branch head after the apply) to the same moment. */
  fromCommitS: number;
  /** Seconds from the apply per target cluster (NaN: not reached). */
  perCluster: number[];
  /** When the apply was sent and when the commit appeared (ISO times), to match against the agents' logs. */
  appliedAt: string;
  committedAt: string | undefined;
}

const BENCH_DEPLOYMENT = { namespace: "bench-0", name: "app-0000" };

/**
 * Deployment 0's image set to `image` on the hub; the time until the Deployment app-0000-backend-v1
 * on every target carries it (each polled every 50 ms), from the apply and from the controller's
 * commit (the branch ref polled every 10 ms; its mtime is when the commit was written).
 */
async function oneChange(hub: KubeClient, targets: readonly KubeClient[], refFile: string, image: string): Promise<ChangeTiming> {
  const imageOn = async (c: KubeClient) =>
    (
      (await c.get({ apiVersion: "apps/v1", kind: "Deployment", namespace: BENCH_DEPLOYMENT.namespace, name: "app-0000-backend-v1" }).catch(() => undefined)) as
        | { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }
        | undefined
    )?.spec?.template?.spec?.containers?.[0]?.image;
  const before = (await headOf(refFile))?.oid;
  let commitAtMs: number | undefined;
  let done = false;
  const watchHead = (async () => {
    while (!done && commitAtMs === undefined) {
      const head = await headOf(refFile);
      if (head && head.oid !== before) commitAtMs = head.atMs;
      else await sleep(10);
    }
  })();
  const start = performance.now();
  const appliedAt = new Date().toISOString();
  await hub.apply(deployment(0, image) as unknown as Manifest);
  const reached = new Map<number, number>();
  let lastReachedMs = 0; // Date.now(), the clock of the ref's mtime
  while (reached.size < targets.length && performance.now() - start < 60_000) {
    await Promise.all(
      targets.map(async (c, i) => {
        if (reached.has(i) || (await imageOn(c)) !== image) return;
        reached.set(i, (performance.now() - start) / 1000);
        lastReachedMs = Date.now();
      }),
    );
    if (reached.size < targets.length) await sleep(50);
  }
  done = true;
  await watchHead;
  const all = reached.size === targets.length;
  return {
    fromApplyS: all ? Math.max(...reached.values()) : Number.NaN,
    fromCommitS: all && commitAtMs !== undefined ? (lastReachedMs - commitAtMs) / 1000 : Number.NaN,
    perCluster: targets.map((_, i) => reached.get(i) ?? Number.NaN),
    appliedAt,
    committedAt: commitAtMs === undefined ? undefined : new Date(commitAtMs).toISOString(),
  };
}

/** Wait until deployment 0 is Healthy at its current generation again (the next change then starts from rest). */
async function healthyAgain(hub: KubeClient, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const ad = (await hub.get({ apiVersion: "flotilla.dev/v1alpha1", kind: "ApplicationDeployment", ...BENCH_DEPLOYMENT }).catch(() => undefined)) as unknown as
      | ApplicationDeployment
      | undefined;
    if (ad && phaseOf(ad) === "Healthy") return true;
    await sleep(500);
  }
  return false;
}

/** The nearest-rank percentile of `values` (NaN when one is NaN: a change that never arrived). */
function percentile(values: readonly number[], q: number): number {
  if (values.length === 0 || values.some((v) => Number.isNaN(v))) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] as number;
}

export const fleetBench: BenchCase = {
  group: "fleet",
  needsFleet: true,
  scaled: true,
  moded: true,
  async run(n: number, options: BenchOptions): Promise<BenchFigure[]> {
    const mode: FleetMode = options?.mode ?? "push";
    const tag = fleetTag(mode);
    const idleS = Number(process.env.FLOTILLA_BENCH_IDLE_S ?? (n <= 100 ? 60 : 300));
    const changeCount = Math.max(1, Number(process.env.FLOTILLA_BENCH_CHANGES ?? 10));
    const healthyTimeoutMs = Math.max(10 * 60_000, n * 1_500);
    const dir = await mkdtemp(join(tmpdir(), "flotilla-bench-fleet-"));
    const logFile = join(dir, "controller-warnings.log");
    const sampler = new Sampler();
    let fleet: FleetInfo | undefined;
    let controller: Controller | undefined;
    const clients: KubeClient[] = [];
    let keptLog: string | undefined;
    let tracked: ReturnType<typeof watchPhases> | undefined;
    let memberReadiness: ReturnType<typeof watchMemberReadiness> | undefined;
    const agents: RunningAgent[] = [];
    // Whatever happens, no agent outlives this process (the fleet's processes are handled alike).
    const killAgents = () => {
      for (const a of agents) if (running(a)) a.child.kill("SIGKILL");
      // The fleet's supervisor stops its control plane when told to.
      if (fleet) {
        try {
          process.kill(fleet.ownerPid, "SIGTERM");
        } catch {
          // gone already
        }
      }
    };
    process.on("exit", killAgents);
    let failed = true;
    try {
      say(`N = ${n}, ${mode} mode; starting the local fleet in ${dir}`);
      const t0 = Date.now();
      // A supervisor process of its own runs the fleet and its node simulators, so this process's
      // CPU is the controller's (and this bench's watches), not the simulated kubelets'.
      fleet = await startDetachedFleet({ dir, log: (l) => say(l) });
      const supervisorPid = fleet.ownerPid;
      say(`fleet up in ${((Date.now() - t0) / 1000).toFixed(0)} s (supervisor pid ${supervisorPid})`);
      const hubCluster = fleet.clusters.find((c) => c.role === "hub");
      if (!hubCluster) throw new Error(`the fleet in ${dir} has no hub`);
      const hubKc = kubeConfigFrom(hubCluster.kubeconfigPath);
      await installToHub({ kubeConfig: hubKc, definitionDirs: [builtinDefinitionsDir()], log: (l) => say(l) });
      await ensureControllerNamespace(hubKc);
      const members = fleet.clusters.filter((c) => c.role === "member");
      const pulled = pulledMembers(
        mode,
        members.map((m) => m.name),
      );
      const pushed = members.filter((m) => !pulled.includes(m.name));
      if (pushed.length) {
        await registerClusters(
          hubKc,
          await Promise.all(pushed.map(async (m) => ({ name: m.name, labels: m.labels, kubeconfig: await readFile(m.kubeconfigPath, "utf8") }))),
        );
      }
      // Pull members as `cluster add --mode pull` registers them: the agent's hub identity, no member credential on the hub.
      const agentKubeconfigs = new Map<string, string>();
      for (const m of members.filter((x) => pulled.includes(x.name))) {
        agentKubeconfigs.set(m.name, (await registerPullCluster({ hub: hubKc, name: m.name, labels: m.labels })).hubKubeconfig);
      }
      if (pulled.length) say(`pushed: ${pushed.map((m) => m.name).join(", ") || "none"}; pulled (an agent process each): ${pulled.join(", ")}`);
      const hub = new KubeClient({ kubeConfig: hubKc, fieldManager: "flotilla-bench", maxInFlight: 8 });
      clients.push(hub);
      for (let i = 0; i < NAMESPACES; i++) await hub.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: `bench-${i}` } });

      // Baseline: this process with the fleet running and no controller or agents.
      say(`baseline: ${BASELINE_MS / 1000} s with the fleet running and no controller`);
      sampler.mark();
      await sleep(BASELINE_MS);
      const base = sampler.read();
      const baseRss = process.memoryUsage().rss;
      const baseIdlePct = pct(base.cpuS, base.wallS);

      const dataDir = join(dir, "controller");
      controller = new Controller({
        kubeConfig: hubKc,
        dataDir,
        metricsAddr: "127.0.0.1:0",
        // Pull members fetch the environment repository from the controller's own Git server.
        ...(pulled.length ? { gitServeAddr: "127.0.0.1:0" } : {}),
        // The web UI, as `flotilla controller` serves it by default; measured at the end (uiOnFleet).
        uiAddr: "127.0.0.1:0",
        leaderElection: false,
        // FLOTILLA_BENCH_LOG_LEVEL=debug keeps every reconcile and sync event (for timelines).
        logger: pino({ level: process.env.FLOTILLA_BENCH_LOG_LEVEL ?? "warn" }, destination({ dest: logFile, sync: true, mkdir: true })),
      });
      await controller.start();
      say(`controller started (metrics on 127.0.0.1:${controller.opsPort}${pulled.length ? `, Git on 127.0.0.1:${controller.gitServePort}` : ""})`);
      if (pulled.length) {
        const agentProfileDir = process.env.FLOTILLA_BENCH_PROFILE_AGENTS;
        if (controller.gitServePort === undefined)
          throw new Error("bench: the controller serves no Git (gitServePort unset); the agents have nothing to fetch");
        for (const m of members.filter((x) => pulled.includes(x.name))) {
          const child = await startLocalAgent({
            dir,
            cluster: m.name,
            hubKubeconfig: agentKubeconfigs.get(m.name) as string,
            memberKubeconfigPath: m.kubeconfigPath,
            gitUrl: `http://127.0.0.1:${controller.gitServePort}/env.git`,
            detach: false,
            ...(agentProfileDir
              ? { nodeArgs: ["--cpu-prof", "--cpu-prof-interval=5000", `--cpu-prof-dir=${agentProfileDir}`, `--cpu-prof-name=agent-${m.name}.cpuprofile`] }
              : {}),
          });
          agents.push({ cluster: m.name, child, log: join(dir, "logs", `agent-${m.name}.log`) });
        }
        const silent = await waitForAgents(hub, agents, 60_000);
        say(
          silent.length
            ? `agents started; NOT reported within 60 s: ${silent.join(", ")} (their start-up falls in the ramp)`
            : `agents started (pids ${agents.map((a) => `${a.cluster} ${a.child.pid}`).join(", ")}); each has reported to the hub`,
        );
      }
      const agentPids = new Set([...agents.map((a) => a.child.pid as number), supervisorPid]);
      // The processes named in the CPU lines: each agent, and the controller's template worker (a child process that renders).
      const namedNow = () =>
        new Map<number, string>([
          ...agents.map((a): [number, string] => [a.child.pid as number, `agent ${a.cluster}`]),
          [supervisorPid, "fleet supervisor (node simulators)"],
          ...nodeChildren(agentPids).map((pid): [number, string] => [pid, "controller template worker"]),
        ]);
      // CPU seconds of the controller's work outside this process's own threads: its template
      // worker (live) and its exited children (git http-backend runs in pull mode; a killed worker).
      const controllerChildrenCpuS = () => reapedChildrenCpuS() + nodeChildren(agentPids).reduce((sum, pid) => sum + (processCpuS(pid) ?? 0), 0);
      const agentCpu = () => new Map(agents.map((a) => [a.cluster, processCpuS(a.child.pid as number) ?? Number.NaN]));
      const agentCpuBetween = (before: Map<string, number>, after: Map<string, number>) =>
        new Map(agents.map((a) => [a.cluster, (after.get(a.cluster) ?? Number.NaN) - (before.get(a.cluster) ?? Number.NaN)]));
      const agentLine = (cpu: Map<string, number>, wallS: number) =>
        [...cpu].map(([c, s]) => `${c} ${s.toFixed(1)} CPU s (${pct(s, wallS).toFixed(1)}% of a core)`).join(", ");
      say(`applying ${n} deployments`);

      // (a) + (b): first apply → all Healthy.
      const docs = Array.from({ length: n }, (_, i) => deployment(i));
      tracked = watchPhases(hubKc);
      const clusterKcs = [{ name: "hub", kc: hubKc }, ...members.map((m) => ({ name: m.name, kc: kubeConfigFrom(m.kubeconfigPath) }))];
      if (process.env.FLOTILLA_BENCH_MEMBER_READY === "1") memberReadiness = watchMemberReadiness(clusterKcs.slice(1).map((c) => c.kc));
      const requestsBefore = await Promise.all(clusterKcs.map((c) => apiServerRequests(c.kc)));
      const rampProfile = await startProfile(process.env.FLOTILLA_BENCH_PROFILE_RAMP);
      const clusterNames = clusterKcs.map((c) => c.name);
      const fleetCpuBefore = descendantCpu(clusterNames, namedNow());
      const agentRampBefore = agentCpu();
      const childrenRampBefore = controllerChildrenCpuS();
      const reapedRampBefore = reapedChildrenCpuS();
      sampler.mark();
      const applyStart = performance.now();
      await pool(docs, 8, async (d) => void (await hub.apply(d as unknown as Manifest)));
      const appliedS = (performance.now() - applyStart) / 1000;
      say(`applied ${n} in ${appliedS.toFixed(1)} s; waiting for Healthy`);
      let last: PhaseCount = { healthy: 0, total: 0, phases: {} };
      let lastSaid = 0;
      while (performance.now() - applyStart < healthyTimeoutMs) {
        last = tracked.read();
        if (last.healthy === n) break;
        if (performance.now() - lastSaid > 10_000) {
          lastSaid = performance.now();
          say(`${((performance.now() - applyStart) / 1000).toFixed(0)} s: ${JSON.stringify(last.phases)}, ${memoryLine()}`);
        }
        await sleep(1000);
      }
      const healthyS = (performance.now() - applyStart) / 1000;
      await rampProfile.stop();
      say(`at all Healthy: ${memoryLine()}`);
      writeHeapSnapshotTo(process.env.FLOTILLA_BENCH_HEAP_SNAPSHOT);
      tracked.stop();
      memberReadiness?.stop();
      const lag = memberReadiness && reportingLag(tracked.healthyAt, memberReadiness, applyStart);
      if (lag)
        say(
          `members: the last deployment's Deployments were all Healthy at ${lag.lastReadyS.toFixed(1)} s; the hub reported deployments Healthy after their members by ${lag.summary}`,
        );
      const busy = sampler.read();
      // The controller's `git http-backend` runs (pull mode: one per fetch) are children of this process.
      const childrenRampS = controllerChildrenCpuS() - childrenRampBefore;
      const reapedRampS = reapedChildrenCpuS() - reapedRampBefore;
      const hubRampCpuS = busy.cpuS + childrenRampS;
      const agentRamp = agentCpuBetween(agentRampBefore, agentCpu());
      const rampFleetCpu = cpuBetween(fleetCpuBefore, descendantCpu(clusterNames, namedNow()));
      // The descendants' figure has the live template worker and the agents (named); this process's own and its exited children's come on top.
      say(machineCpuLine(rampFleetCpu, busy.cpuS + reapedRampS, busy.wallS));
      if (agents.length) say(`agents during the ramp: ${agentLine(agentRamp, busy.wallS)}`);
      say(
        `controller: ${busy.cpuS.toFixed(1)} CPU s in this process, ${childrenRampS.toFixed(1)} in its children (template worker, ${reapedRampS.toFixed(1)} in exited ones: git http-backend runs in pull mode)`,
      );
      const allHealthy = last.healthy === n;
      const busyMetrics = await controllerMetrics(controller.opsPort);
      say(`${allHealthy ? "all Healthy" : `NOT all Healthy (${JSON.stringify(last.phases)})`} after ${healthyS.toFixed(1)} s; ${JSON.stringify(busyMetrics)}`);
      // Who loaded the fleet's API servers during the ramp (every client: controller, agents, controller
      // managers, node simulators, this bench's watch).
      for (const line of await requestLines(clusterKcs, requestsBefore, "during the ramp", 12)) say(line);

      // (c) idle.
      say(`idle window: ${idleS} s`);
      await sleep(2_000); // let the last status writes and their watch events settle
      sampler.mark();
      const beforeIdle = await controllerMetrics(controller.opsPort);
      const reconcilesBefore = Object.values(beforeIdle.reconciles).reduce((a, b) => a + b, 0);
      const clusterWrites = await countUpdates(hubKc, "/apis/flotilla.dev/v1alpha1/clusters");
      const deploymentWrites = await countUpdates(hubKc, "/apis/flotilla.dev/v1alpha1/applicationdeployments");
      const reportWrites = agents.length ? await countUpdates(hubKc, "/apis/flotilla.dev/v1alpha1/syncreports") : undefined;
      const profile = await startProfile(process.env.FLOTILLA_BENCH_PROFILE_IDLE);
      const fleetIdleBefore = descendantCpu(clusterNames, namedNow());
      const agentIdleBefore = agentCpu();
      const childrenIdleBefore = controllerChildrenCpuS();
      const reapedIdleBefore = reapedChildrenCpuS();
      const idleRequestsBefore = await Promise.all(clusterKcs.map((c) => apiServerRequests(c.kc)));
      await sleep(idleS * 1000);
      const idle = sampler.read();
      const reapedIdleS = reapedChildrenCpuS() - reapedIdleBefore;
      const hubIdleCpuS = idle.cpuS + (controllerChildrenCpuS() - childrenIdleBefore);
      const agentIdle = agentCpuBetween(agentIdleBefore, agentCpu());
      // What the fleet costs by itself once everything runs: a longer ramp pays it for longer.
      say(machineCpuLine(cpuBetween(fleetIdleBefore, descendantCpu(clusterNames, namedNow())), idle.cpuS + reapedIdleS, idle.wallS));
      if (agents.length) say(`agents in the idle window: ${agentLine(agentIdle, idle.wallS)}`);
      for (const line of await requestLines(clusterKcs, idleRequestsBefore, "in the idle window", 6)) say(line);
      await profile.stop();
      clusterWrites.stop();
      deploymentWrites.stop();
      reportWrites?.stop();
      const idleWrites = `hub writes in the window: ${clusterWrites.count()} Cluster updates, ${deploymentWrites.count()} ApplicationDeployment updates${reportWrites ? `, ${reportWrites.count()} SyncReport updates` : ""} (watch MODIFIED events)`;
      say(`idle: ${pct(hubIdleCpuS, idle.wallS).toFixed(1)}% of a core, ${idleWrites}`);
      const idleMetrics = await controllerMetrics(controller.opsPort);
      const idleReconciles = Object.values(idleMetrics.reconciles).reduce((a, b) => a + b, 0) - reconcilesBefore;
      const idleRequests = Object.fromEntries(
        Object.entries(idleMetrics.memberRequests)
          .map(([verb, count]) => [verb, count - (beforeIdle.memberRequests[verb] ?? 0)] as const)
          .filter(([, count]) => count > 0),
      );
      say(`member requests in the idle window: ${JSON.stringify(idleRequests)}`);
      const idlePct = pct(hubIdleCpuS, idle.wallS);

      // (d) changes of one deployment while the others are idle: deployment 0 (production: prod-eu, prod-us), one after another.
      const targets = members.filter((m) => m.labels.usage === "production");
      const memberClients = targets.map((m) => {
        const c = new KubeClient({ kubeConfig: kubeConfigFrom(m.kubeconfigPath), fieldManager: "flotilla-bench" });
        clients.push(c);
        return c;
      });
      const refFile = join(dataDir, "env.git", "refs", "heads", "main");
      const changes: ChangeTiming[] = [];
      for (let k = 1; k <= changeCount; k++) {
        const timing = await oneChange(hub, memberClients, refFile, `registry.example/app-0:v${k + 1}`);
        changes.push(timing);
        say(
          `change ${k}: applied ${timing.appliedAt}, committed ${timing.committedAt ?? "?"}, reached ${targets.map((t, i) => `${t.name} +${(timing.perCluster[i] ?? Number.NaN).toFixed(2)} s`).join(", ")} from the apply`,
        );
        if (Number.isNaN(timing.fromApplyS)) break;
        if (k < changeCount) {
          if (!(await healthyAgain(hub, 120_000))) {
            say(`after change ${k}: app-0000 not Healthy again within 120 s; no more changes`);
            break;
          }
          await sleep(1_000);
        }
      }
      const first = changes[0] as ChangeTiming;
      const fromApply = changes.map((c) => c.fromApplyS);
      const fromCommit = changes.map((c) => c.fromCommitS);
      const perClusterMedian = targets
        .map(
          (t, i) =>
            `${t.name} ${percentile(
              changes.map((c) => c.perCluster[i] ?? Number.NaN),
              0.5,
            ).toFixed(2)} s`,
        )
        .join(", ");
      const changeP99 = percentile(fromApply, 0.99);
      const commitP99 = percentile(fromCommit, 0.99);
      say(
        `one change reached ${first.perCluster.filter((s) => !Number.isNaN(s)).length}/${memberClients.length} clusters in ${first.fromApplyS.toFixed(2)} s; ` +
          `${changes.length} changes: from the apply median ${percentile(fromApply, 0.5).toFixed(2)} s, p99 ${changeP99.toFixed(2)} s; ` +
          `from the commit median ${percentile(fromCommit, 0.5).toFixed(2)} s, p99 ${commitP99.toFixed(2)} s; median per cluster from the apply: ${perClusterMedian}`,
      );

      // (e) the web UI's list of all N, served by this controller.
      const uiFigures = await uiOnFleet({
        hub: hubKc,
        uiPort: controller.uiPort,
        docs,
        fleet,
        memberPids: agents.flatMap((a) => (a.child.pid === undefined ? [] : [a.child.pid])),
        tag,
        say,
      });

      const logs = await logSummary(logFile);
      if (logs.warnings + logs.errors > 0 || process.env.FLOTILLA_BENCH_LOG_LEVEL) {
        keptLog = join(tmpdir(), `flotilla-bench-fleet-${mode}-${n}-controller.log`);
        await copyFile(logFile, keptLog);
        say(`controller warnings/errors kept in ${keptLog}`);
      }
      if (logs.top.length) say(`controller warnings ${logs.warnings}, errors ${logs.errors}; most frequent:\n    ${logs.top.join("\n    ")}`);
      const agentLogs = await Promise.all(agents.map(async (a) => ({ cluster: a.cluster, ...(await logSummary(a.log)) })));
      for (const l of agentLogs.filter((x) => x.top.length))
        say(`agent ${l.cluster}: warnings ${l.warnings}, errors ${l.errors}; most frequent:\n    ${l.top.join("\n    ")}`);
      const agentPeakRss = new Map(agents.map((a) => [a.cluster, peakRssBytes(a.child.pid as number) ?? Number.NaN]));

      const scaled = n.toLocaleString("en");
      const sim = "the fleet's node simulators run in its supervisor process, not counted here";
      const baseRate = base.wallS > 0 ? base.cpuS / base.wallS : 0;
      const hubAboveBaseS = hubRampCpuS - baseRate * busy.wallS;
      const childrenHow = `${busy.cpuS.toFixed(1)} CPU s in this process, ${childrenRampS.toFixed(1)} in the controller's children (its template worker; ${reapedRampS.toFixed(1)} in exited children${pulled.length ? ": git http-backend runs" : ""})`;
      const modeHow = pulled.length
        ? `; ${mode} mode: ${pulled.join(", ")} pulled by an agent process each (flotilla agent, default intervals, fetching from the controller's Git server)${pushed.length ? `, ${pushed.map((m) => m.name).join(", ")} pushed` : ""}`
        : "";
      const figures: BenchFigure[] = [
        {
          name: `${tag}: ${scaled} deployments, first apply → all Healthy`,
          value: allHealthy ? healthyS : Number.NaN,
          unit: "s",
          how: `${scaled} ApplicationDeployments (1–3 worker/webservice components, 1–2 replicas, half on usage=production = 2 clusters, half on all 3, ${NAMESPACES} namespaces) applied 8 at a time (took ${appliedS.toFixed(1)} s); a watch of them until every one is Healthy at its current generation (checked every second) (target <= 180 s applies to 1,000)${modeHow}${allHealthy ? "" : `; NOT reached within ${healthyTimeoutMs / 1000} s: ${JSON.stringify(last.phases)}`}`,
          // The issue's target (<= 3 minutes) is for 1,000 deployments; smaller runs report the figure only.
          ...(n >= 1000 ? { target: "<= 180 s", met: allHealthy && healthyS <= 180 } : {}),
        },
        {
          name: `${tag}: ${scaled} deployments, peak RSS (whole process)`,
          value: busy.peakRss / MiB,
          unit: "MiB",
          how: `process.memoryUsage().rss every ${SAMPLE_MS} ms from the first apply to all Healthy; ${sim}`,
          target: "<= 1 GiB",
          met: busy.peakRss <= GiB,
        },
        {
          name: `${tag}: ${scaled} deployments, peak RSS above the pre-controller baseline`,
          value: (busy.peakRss - baseRss) / MiB,
          unit: "MiB",
          how: `peak RSS minus the RSS with the fleet running and no controller (${(baseRss / MiB).toFixed(0)} MiB)`,
          target: "<= 1 GiB",
          met: busy.peakRss - baseRss <= GiB,
        },
        {
          name: `${tag}: ${scaled} deployments, CPU from first apply to all Healthy`,
          value: hubRampCpuS,
          unit: "CPU s",
          how: `process.cpuUsage() delta plus the controller's child processes (its template worker from /proc/<pid>/stat; exited children from /proc/self/stat cutime + cstime) over ${busy.wallS.toFixed(0)} s (${pct(hubRampCpuS, busy.wallS).toFixed(0)}% of one core): ${childrenHow}; ${sim} (idle baseline ${baseIdlePct.toFixed(1)}% of a core, but they do more work while Pods are being created)`,
        },
        {
          name: `${tag}: ${scaled} deployments, idle CPU after all Healthy (whole process)`,
          value: idlePct,
          unit: "% core",
          how: `process.cpuUsage() delta plus the controller's child processes (template worker, exited children) over ${idleS} s starting 2 s after all were Healthy${pulled.length ? ` (git http-backend: ${reapedIdleS.toFixed(2)} CPU s)` : ""}; ${idleReconciles} reconciles in the window; member requests by verb ${JSON.stringify(idleRequests)}; ${idleWrites}; ${sim}`,
          target: "<= 2 %",
          met: idlePct <= 2,
        },
        {
          name: `${tag}: ${scaled} deployments, idle CPU minus the fleet baseline`,
          value: Math.max(0, idlePct - baseIdlePct),
          unit: "% core",
          how: `the idle figure minus ${baseIdlePct.toFixed(2)}% measured over ${BASELINE_MS / 1000} s with the fleet running and no controller (this process: the bench's own work)`,
          target: "<= 2 %",
          met: idlePct - baseIdlePct <= 2,
        },
        {
          name: `${tag}: one changed deployment reaches its clusters (${scaled} idle)`,
          value: first.fromApplyS,
          unit: "s",
          how: `server-side apply of a new image for app-0000 → the Deployment app-0000-backend-v1 on ${targets.map((t) => t.name).join(" and ")} carries it (each polled every 50 ms; the slower cluster counts); the first of ${changes.length} changes`,
          target: "<= 2 s",
          met: first.fromApplyS <= 2,
        },
        {
          name: `${tag}: a changed deployment reaches its clusters from the apply, p99 of ${changes.length} changes (${scaled} idle)`,
          value: changeP99,
          unit: "s",
          how: `${changes.length} image changes of app-0000 one after another (FLOTILLA_BENCH_CHANGES, default 10), each once the last is Healthy again; nearest-rank p99 (with fewer than 100 changes, the slowest); median ${percentile(fromApply, 0.5).toFixed(2)} s; median per cluster ${perClusterMedian}`,
        },
        {
          name: `${tag}: a changed deployment reaches its clusters from the controller's commit, p99 of ${changes.length} changes (${scaled} idle)`,
          value: commitP99,
          unit: "s",
          how: `the same changes, timed from the controller's commit (the mtime of env.git/refs/heads/main when it first moved after the apply, polled every 10 ms) to the moment the slower cluster carried the image; nearest-rank p99 (with fewer than 100 changes, the slowest); median ${percentile(fromCommit, 0.5).toFixed(2)} s`,
          // The issue's target for pull mode: a commit reaches a member within 1 s (p99).
          ...(pulled.length ? { target: "<= 1 s", met: commitP99 <= 1 } : {}),
        },
        {
          name: `${tag}: ${scaled} deployments, average reconcile`,
          value: busyMetrics.avgReconcileMs,
          unit: "ms",
          how: `flotilla_reconcile_duration_seconds sum/count at all Healthy; reconciles ${JSON.stringify(busyMetrics.reconciles)}, syncs ${JSON.stringify(busyMetrics.syncs)}, ${busyMetrics.commits} commits, ${busyMetrics.statusWrites} status writes, member requests by verb ${JSON.stringify(busyMetrics.memberRequests)}; controller log: ${logs.warnings} warnings, ${logs.errors} errors`,
        },
        perDeployment(SERIES.ramp(mode), n, allHealthy ? healthyS * 1000 : Number.NaN, "ms", "the ramp above divided by N"),
        perDeployment(
          `${tag}: machine CPU of the ramp`,
          n,
          (rampFleetCpu.totalS + busy.cpuS + reapedRampS) * 1000,
          "CPU ms",
          `this process and every fleet process${agents.length ? " and agent" : ""} (from /proc) from the first apply to all Healthy, divided by N`,
        ),
        perDeployment(`${tag}: controller process CPU of the ramp`, n, hubRampCpuS * 1000, "CPU ms", "the CPU figure above divided by N"),
        perDeployment(
          SERIES.hubCpu(mode),
          n,
          hubAboveBaseS * 1000,
          "CPU ms",
          `the CPU figure above minus the baseline's rate (${(baseRate * 100).toFixed(1)}% of a core: this process before the controller started) over the ramp's ${busy.wallS.toFixed(0)} s, divided by N`,
        ),
        perDeployment(`${tag}: peak RSS above the baseline`, n, (busy.peakRss - baseRss) / 1024, "KiB", "the peak RSS above the baseline divided by N"),
      ];
      figures.push(...uiFigures);
      if (agents.length) {
        const totalAgentRampS = [...agentRamp.values()].reduce((a, b) => a + b, 0);
        figures.push(
          perDeployment(
            `${tag}: agents' CPU of the ramp (all members)`,
            n,
            totalAgentRampS * 1000,
            "CPU ms",
            `every agent process's CPU (/proc/<pid>/stat utime + stime + exited children) from the first apply to all Healthy, summed and divided by N: ${agentLine(agentRamp, busy.wallS)}`,
          ),
        );
        for (const a of agents) {
          const member = members.find((m) => m.name === a.cluster);
          // deployment(i): even i on usage=production, odd i on all members.
          const placed = Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === 1 || member?.labels.usage === "production").length;
          const series = `${tag}: agent ${a.cluster} CPU of the ramp per deployment placed on it`;
          figures.push({
            name: `${series} (N = ${scaled})`,
            value: ((agentRamp.get(a.cluster) ?? Number.NaN) * 1000) / placed,
            unit: "CPU ms/deployment",
            how: `the agent process's CPU from the first apply to all Healthy (${(agentRamp.get(a.cluster) ?? Number.NaN).toFixed(1)} CPU s) divided by the ${placed} deployments placed on ${a.cluster}`,
            perDeployment: { series, n },
          });
        }
        const idlePcts = agents.map((a) => [a.cluster, pct(agentIdle.get(a.cluster) ?? Number.NaN, idle.wallS)] as const);
        figures.push({
          name: `${tag}: ${scaled} deployments, idle CPU of the busiest agent`,
          value: Math.max(...idlePcts.map(([, p]) => p)),
          unit: "% core",
          how: `each agent process's CPU (/proc/<pid>/stat) over the same ${idleS} s idle window: ${idlePcts.map(([c, p]) => `${c} ${p.toFixed(2)}%`).join(", ")}; ${reportWrites?.count() ?? 0} SyncReport updates on the hub in the window`,
        });
        figures.push({
          name: `${tag}: ${scaled} deployments, peak RSS of the largest agent`,
          value: Math.max(...agentPeakRss.values()) / MiB,
          unit: "MiB",
          how: `VmHWM of /proc/<pid>/status of each agent process at the end of the run: ${[...agentPeakRss].map(([c, b]) => `${c} ${(b / MiB).toFixed(0)} MiB`).join(", ")}; agent logs: ${agentLogs.map((l) => `${l.cluster} ${l.warnings} warnings, ${l.errors} errors`).join("; ")}`,
        });
      }
      failed = false;
      return figures.map((f) => ({ ...f, mode }));
    } finally {
      tracked?.stop();
      memberReadiness?.stop();
      sampler.stop();
      for (const c of clients) c.close();
      await stopAgents(agents).catch((e: unknown) => say(`stopping the agents: ${String(e)}`));
      process.off("exit", killAgents);
      for (const a of agents) {
        const s = await logSummary(a.log);
        // FLOTILLA_LOG_LEVEL=debug (the agents inherit it) keeps every agent's log, for timelines.
        if (!failed && s.warnings + s.errors === 0 && !process.env.FLOTILLA_LOG_LEVEL) continue;
        const kept = join(tmpdir(), `flotilla-bench-fleet-${mode}-${n}-agent-${a.cluster}.log`);
        await copyFile(a.log, kept).then(
          () => say(`agent ${a.cluster}'s log kept in ${kept}`),
          () => undefined,
        );
      }
      await controller?.stop().catch((e: unknown) => say(`stopping the controller: ${String(e)}`));
      if (fleet) await stopFleet(dir).catch((e: unknown) => say(`stopping the fleet: ${String(e)}`));
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  },
};
