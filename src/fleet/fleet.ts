// Starts and stops a local fleet: one etcd, a kube-apiserver per cluster (`hub` + members), a
// kube-controller-manager per cluster and a node simulator per member, all on loopback with free
// ports. The process that calls startFleet owns the fleet: it runs the simulators and must call
// stop(); if it dies anyway, its children die with it (see processes.ts). It never touches
// processes that are not provably this fleet's.
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { KubeClient } from "../kube/client.js";
import { tokenCredentials } from "../kube/credentials.js";
import { type ApiServerOptions, startApiServerProcess, waitApiServerReady } from "./apiserver.js";
import { HUB_CONTROLLERS, startControllerManager } from "./controller-manager.js";
import { startEtcd } from "./etcd.js";
import { FleetAlreadyRunningError, FleetError, ProcessStartError } from "./errors.js";
import { ensureControlPlane } from "./install.js";
import { newToken, renderTokenFile, serviceAccountKeyPair } from "./keys.js";
import { pemCertificates, renderKubeconfig } from "./kubeconfig.js";
import { NodeSimulator } from "./node-simulator.js";
import { fleetPaths } from "./paths.js";
import { freePorts } from "./ports.js";
import { isAlive, logTail, type ManagedProcess, readCmdline, sleep, sweepFleetProcesses } from "./processes.js";
import { clearFleetFiles, type FleetCluster, type FleetInfo, readFleet, readPidFile, writeFleetInfo, writePidFile } from "./state.js";

/** Members when none are given, with the quickstart's labels. */
export const DEFAULT_MEMBERS = ["staging", "prod-eu", "prod-us"];

/** Labels of well-known member names; other members get `usage: development`. */
export const MEMBER_LABELS: Record<string, Record<string, string>> = {
  staging: { usage: "staging", region: "eu" },
  "prod-eu": { usage: "production", region: "eu" },
  "prod-us": { usage: "production", region: "us" },
};

export function memberLabels(name: string): Record<string, string> {
  return { ...(MEMBER_LABELS[name] ?? { usage: "development" }) };
}

export interface StartFleetOptions {
  /** Fleet directory: kubeconfigs, fleet.json, logs/, state/. Created if missing. */
  dir: string;
  /** Member cluster names (DNS labels, not `hub`). Default staging, prod-eu, prod-us. */
  members?: string[];
  /** Progress lines. Default: nothing. */
  log?: (line: string) => void;
  /** Recorded in fleet.json: whether the owner is a detached supervisor. Default false. */
  detached?: boolean;
  /** Node simulator tuning (see NodeSimulatorOptions). */
  simulator?: { readyDelayMs?: number; crashLoopIntervalMs?: number };
  /** The members' HPA controller period, seconds (see ControllerManagerOptions). Default 15. */
  hpaSyncPeriodSeconds?: number;
}

export interface RunningFleet {
  dir: string;
  clusters: FleetCluster[];
  hub: FleetCluster;
  members: FleetCluster[];
  /** Stop everything (simulators, controller managers, API servers, etcd). Idempotent. */
  stop(): Promise<void>;
  /** Stop one cluster's API server (fault injection); its clients see connection refused. */
  stopApiServer(cluster: string): Promise<void>;
  /** Start it again on the same port, with the same certificates and data; resolves when ready. */
  startApiServer(cluster: string): Promise<void>;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function validateMembers(members: readonly string[]): void {
  const seen = new Set<string>();
  for (const m of members) {
    if (!NAME.test(m) || m.length > 40) {
      throw new FleetError(`member name ${JSON.stringify(m)} is not a DNS label. Use lower-case letters, digits and '-', e.g. prod-eu.`);
    }
    if (m === "hub") throw new FleetError(`"hub" is the hub's name; choose another member name.`);
    if (seen.has(m)) throw new FleetError(`member ${m} is listed twice.`);
    seen.add(m);
  }
  if (members.length === 0) throw new FleetError("a fleet needs at least one member cluster.");
}

/** The pid in the pid file if that process is alive and is a Node.js process (not a recycled pid). */
export async function liveOwner(dir: string): Promise<number | undefined> {
  const pid = (await readPidFile(dir)) ?? (await readFleet(dir))?.ownerPid;
  if (pid === undefined || pid === process.pid || !isAlive(pid)) return undefined;
  const argv0 = readCmdline(pid)?.[0] ?? "";
  return /node/.test(argv0) ? pid : undefined;
}

/**
 * Refuse to start over a live fleet; clean up after a dead one (its owner crashed and left
 * processes, or files). Returns the number of leftover processes stopped.
 */
export async function prepareFleetDir(dir: string): Promise<number> {
  const owner = await liveOwner(dir);
  if (owner !== undefined) throw new FleetAlreadyRunningError(dir, owner);
  const swept = await sweepFleetProcesses(fleetPaths(dir).dir);
  await clearFleetFiles(dir);
  return swept;
}

interface ClusterRuntime {
  info: FleetCluster;
  adminToken: string;
  apiOptions: ApiServerOptions;
  apiServer?: ManagedProcess;
  controllerManager?: ManagedProcess;
  simulator?: NodeSimulator;
  client?: KubeClient;
}

/** Fleet directories owned by this process (the pid-file check cannot tell them apart). */
const ownedDirs = new Set<string>();

export async function startFleet(options: StartFleetOptions): Promise<RunningFleet> {
  const log = options.log ?? (() => {});
  const members = options.members ?? DEFAULT_MEMBERS;
  validateMembers(members);
  const paths = fleetPaths(options.dir);
  if (ownedDirs.has(paths.dir)) throw new FleetAlreadyRunningError(paths.dir, process.pid);
  ownedDirs.add(paths.dir);
  try {
    return await startOwnedFleet(options, log, members, paths.dir);
  } catch (err) {
    ownedDirs.delete(paths.dir);
    throw err;
  }
}

async function startOwnedFleet(options: StartFleetOptions, log: (line: string) => void, members: string[], dir: string): Promise<RunningFleet> {
  const paths = fleetPaths(dir);
  const started = Date.now();
  await mkdir(paths.dir, { recursive: true });
  const swept = await prepareFleetDir(paths.dir);
  if (swept > 0) log(`stopped ${swept} leftover process(es) of a previous fleet in ${paths.dir}`);
  const bins = await ensureControlPlane({ log });

  // A fresh fleet every time: old etcd data would carry tokens and objects of a previous run.
  await rm(`${paths.dir}/state`, { recursive: true, force: true });
  await mkdir(paths.logs, { recursive: true });
  await writePidFile(paths.dir, process.pid);

  const names = ["hub", ...members];
  const [etcdClient, etcdPeer, ...apiPorts] = await freePorts(2 + names.length);
  const runtimes = await Promise.all(
    names.map(async (name, i): Promise<ClusterRuntime> => {
      const dir = paths.clusterDir(name);
      await mkdir(`${dir}/pki`, { recursive: true, mode: 0o700 });
      const adminToken = newToken();
      const unprivilegedToken = newToken();
      const keys = await serviceAccountKeyPair();
      await writeFile(
        `${dir}/tokens.csv`,
        renderTokenFile([
          { token: adminToken, user: "flotilla-admin", uid: "flotilla-admin", groups: ["system:masters"] },
          { token: unprivilegedToken, user: "flotilla-unprivileged", uid: "flotilla-unprivileged", groups: [] },
        ]),
        { mode: 0o600 },
      );
      await writeFile(`${dir}/sa.key`, keys.privateKey, { mode: 0o600 });
      await writeFile(`${dir}/sa.pub`, keys.publicKey);
      const port = apiPorts[i] as number;
      const role = name === "hub" ? "hub" : "member";
      return {
        info: {
          name,
          role,
          server: `https://127.0.0.1:${port}`,
          kubeconfigPath: paths.kubeconfig(name),
          labels: role === "hub" ? {} : memberLabels(name),
          caPath: `${dir}/ca.crt`,
          unprivilegedToken,
          ...(role === "member" ? { nodeName: `${name}-node-1` } : {}),
        },
        adminToken,
        apiOptions: {
          cluster: name,
          binary: bins.apiServer,
          port,
          etcdUrl: `http://127.0.0.1:${etcdClient}`,
          certDir: `${dir}/pki`,
          tokenFile: `${dir}/tokens.csv`,
          serviceAccountPublicKey: `${dir}/sa.pub`,
          serviceAccountPrivateKey: `${dir}/sa.key`,
          logFile: paths.log(`${name}-apiserver`),
        },
      };
    }),
  );

  let etcdProcess: ManagedProcess | undefined;
  let stopped = false;
  const info = (state: FleetInfo["state"]): FleetInfo => ({
    version: 1,
    dir: paths.dir,
    ownerPid: process.pid,
    detached: options.detached ?? false,
    state,
    startedAt: new Date(started).toISOString(),
    etcd: { pid: etcdProcess?.pid ?? 0, clientUrl: `http://127.0.0.1:${etcdClient}` },
    clusters: runtimes.map((r) => ({
      ...r.info,
      pids: {
        ...(r.apiServer ? { apiServer: r.apiServer.pid } : {}),
        ...(r.controllerManager ? { controllerManager: r.controllerManager.pid } : {}),
      },
    })),
  });

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.allSettled(runtimes.map((r) => r.simulator?.stop()));
    await Promise.allSettled(runtimes.map((r) => r.controllerManager?.stop()));
    await Promise.allSettled(runtimes.map((r) => r.apiServer?.stop()));
    await etcdProcess?.stop();
    for (const r of runtimes) r.client?.close();
    await clearFleetFiles(paths.dir, process.pid);
    ownedDirs.delete(paths.dir);
    log(`fleet in ${paths.dir} stopped`);
  };

  try {
    const etcd = await startEtcd({
      binary: bins.etcd,
      dataDir: paths.etcdData,
      clientPort: etcdClient as number,
      peerPort: etcdPeer as number,
      logFile: paths.log("etcd"),
    });
    etcdProcess = etcd.process;
    log(`etcd ready on ${etcd.clientUrl} (pid ${etcd.process.pid})`);
    await writeFleetInfo(info("starting"));

    // Each cluster boots on its own: API servers in parallel (each needs several CPU-seconds),
    // and a cluster's controller manager and simulator start as soon as its API server is ready.
    await Promise.all(
      runtimes.map(async (r) => {
        await bootApiServer(r, log);
        const dir = paths.clusterDir(r.info.name);
        r.controllerManager = startControllerManager({
          cluster: r.info.name,
          binary: bins.controllerManager,
          kubeconfig: r.info.kubeconfigPath,
          serviceAccountPrivateKey: `${dir}/sa.key`,
          rootCaFile: r.info.caPath,
          ...(r.info.role === "hub" ? { controllers: HUB_CONTROLLERS } : {}),
          ...(options.hpaSyncPeriodSeconds === undefined ? {} : { hpaSyncPeriodSeconds: options.hpaSyncPeriodSeconds }),
          logFile: paths.log(`${r.info.name}-controller-manager`),
        });
        await writeFleetInfo(info("starting"));
        if (r.info.nodeName) {
          const simLog = await openLog(paths.log(`${r.info.name}-node-simulator`));
          r.simulator = new NodeSimulator({
            client: r.client as KubeClient,
            nodeName: r.info.nodeName,
            log: simLog,
            ...(options.simulator ?? {}),
          });
          await r.simulator.start();
        }
        await waitClusterUsable(r, paths.logs);
        log(`${r.info.name} ready: ${r.info.server} (kubeconfig ${r.info.kubeconfigPath})`);
      }),
    );
    await writeFleetInfo(info("running"));
    log(`fleet ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    await stop();
    throw err;
  }

  const byName = (name: string): ClusterRuntime => {
    const r = runtimes.find((x) => x.info.name === name);
    if (!r) throw new FleetError(`no cluster named ${name} in this fleet (clusters: ${names.join(", ")})`);
    return r;
  };
  const clusters = runtimes.map((r) => r.info);
  return {
    dir: paths.dir,
    clusters,
    hub: clusters[0] as FleetCluster,
    members: clusters.slice(1),
    stop,
    async stopApiServer(name) {
      const r = byName(name);
      await r.apiServer?.stop();
      log(`${name} kube-apiserver stopped`);
    },
    async startApiServer(name) {
      const r = byName(name);
      if (r.apiServer && !r.apiServer.exitInfo()) return;
      r.apiServer = startApiServerProcess(r.apiOptions);
      await waitApiServerReady(r.apiServer, { cluster: name, port: r.apiOptions.port, token: r.adminToken, logFile: r.apiOptions.logFile });
      await writeFleetInfo(info("running"));
      log(`${name} kube-apiserver started again`);
    },
  };
}

/** Start a cluster's API server (retrying on a port someone took meanwhile), then write its kubeconfig. */
async function bootApiServer(r: ClusterRuntime, log: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    r.apiServer = startApiServerProcess(r.apiOptions);
    try {
      await waitApiServerReady(r.apiServer, {
        cluster: r.info.name,
        port: r.apiOptions.port,
        token: r.adminToken,
        logFile: r.apiOptions.logFile,
      });
      break;
    } catch (err) {
      const portTaken = err instanceof ProcessStartError && /address already in use/.test(await logTail(r.apiOptions.logFile, 40));
      if (!portTaken || attempt >= 3) throw err;
      const [port] = await freePorts(1);
      log(`${r.info.name}: port ${r.apiOptions.port} was taken; retrying on ${port}`);
      r.apiOptions.port = port as number;
      r.info.server = `https://127.0.0.1:${port}`;
    }
  }
  // kube-apiserver wrote its self-signed certificate followed by the CA that signed it.
  const bundle = await readFile(`${r.apiOptions.certDir}/apiserver.crt`, "utf8");
  const certs = pemCertificates(bundle);
  const ca = certs[certs.length - 1];
  if (!ca) throw new FleetError(`${r.apiOptions.certDir}/apiserver.crt holds no certificate`);
  await writeFile(r.info.caPath, ca);
  await writeFile(r.info.kubeconfigPath, renderKubeconfig({ name: r.info.name, server: r.info.server, token: r.adminToken, caPem: ca }), {
    mode: 0o600,
  });
  r.client = new KubeClient({ credentials: tokenCredentials({ server: r.info.server, token: r.adminToken, caPem: ca }), maxInFlight: 48 });
  log(`${r.info.name} kube-apiserver ready on ${r.info.server} (pid ${r.apiServer.pid})`);
}

/**
 * A cluster is usable when its controller manager works (the `default` ServiceAccount exists, so
 * Pods pass admission) and, for members, the node is Ready.
 */
async function waitClusterUsable(r: ClusterRuntime, logsDir: string, timeoutMs = 90_000): Promise<void> {
  const client = r.client as KubeClient;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const kcm = r.controllerManager;
    if (kcm?.exitInfo()) {
      throw new ProcessStartError(kcm.name, `exited with ${JSON.stringify(kcm.exitInfo())}`, {
        logFile: kcm.logFile,
        logTail: await logTail(kcm.logFile),
      });
    }
    const sa = await client.send("GET", "/api/v1/namespaces/default/serviceaccounts/default").catch(() => undefined);
    let nodeReady = true;
    if (r.info.nodeName) {
      const node = await client
        .send<{ status?: { conditions?: Array<{ type: string; status: string }> } }>("GET", `/api/v1/nodes/${r.info.nodeName}`)
        .catch(() => undefined);
      nodeReady = node?.status === 200 && (node.body?.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
    }
    const tokens = await client
      .send<{ items?: unknown[] }>("GET", "/api/v1/namespaces/default/secrets?fieldSelector=type%3Dkubernetes.io%2Fservice-account-token")
      .catch(() => undefined);
    if (sa?.status === 200 && nodeReady && (tokens?.body?.items?.length ?? 0) > 0) return;
    await sleep(200);
  }
  throw new FleetError(
    `${r.info.name} did not become usable in ${timeoutMs} ms (no default ServiceAccount token or no Ready node); see the logs in ${logsDir}`,
  );
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function openLog(file: string): Promise<(line: string) => void> {
  const { createWriteStream } = await import("node:fs");
  const stream = createWriteStream(file, { flags: "a" });
  return (line) => stream.write(`${new Date().toISOString()} ${line}\n`);
}

/**
 * Stop the fleet in `dir` whoever owns it (a detached supervisor, or another process): SIGTERM to
 * the owner, SIGKILL if it does not exit in `timeoutMs`, then stop any control-plane process of
 * this fleet that is still alive. Returns whether anything was running.
 */
export async function stopFleet(dir: string, options: { timeoutMs?: number } = {}): Promise<boolean> {
  const abs = fleetPaths(dir).dir;
  const owner = await liveOwner(abs);
  if (owner !== undefined) {
    // Only the owner itself (not its process group: a terminal job may hold unrelated processes);
    // it stops its children, and they die with it if it has to be killed.
    signal(owner, "SIGTERM");
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    while (isAlive(owner) && Date.now() < deadline) await sleep(100);
    if (isAlive(owner)) signal(owner, "SIGKILL");
    while (isAlive(owner) && Date.now() < deadline + 5_000) await sleep(50);
  }
  const swept = await sweepFleetProcesses(abs);
  await clearFleetFiles(abs);
  return owner !== undefined || swept > 0;
}
