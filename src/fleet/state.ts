// fleet.json and the pid file: what a running fleet tells other processes (the CLI's `down`, the
// tests, `flotilla up`). Written atomically (temp file + rename) so a reader never sees half a file.
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { fleetPaths } from "./paths.js";

/** One cluster of the fleet, as users and tests see it. */
export interface FleetCluster {
  name: string;
  role: "hub" | "member";
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** `<dir>/<name>.kubeconfig`: cluster-admin (group system:masters) with a static token. */
  kubeconfigPath: string;
  /** The labels a Cluster object for this member should carry (quickstart: usage, region). */
  labels: Record<string, string>;
  /** PEM file of the CA that signed the API server's certificate (also embedded in the kubeconfig). */
  caPath: string;
  /** Bearer token of the user `flotilla-unprivileged`: authenticated, but granted nothing by RBAC. */
  unprivilegedToken: string;
  /** Name of the simulated Node (members only). */
  nodeName?: string;
}

/** The contents of `<dir>/fleet.json`. */
export interface FleetInfo {
  version: 1;
  dir: string;
  /** The process that owns the fleet: runs the node simulators, stops the rest when it stops. */
  ownerPid: number;
  detached: boolean;
  /** `starting` until every cluster is ready, then `running`. */
  state: "starting" | "running";
  startedAt: string;
  etcd: { pid: number; clientUrl: string };
  clusters: Array<FleetCluster & { pids: { apiServer?: number; controllerManager?: number } }>;
}

let writes = 0;

export async function writeFleetInfo(info: FleetInfo): Promise<void> {
  const file = fleetPaths(info.dir).fleetJson;
  // A unique temp file per write: clusters finish booting concurrently and each records its pids.
  const tmp = `${file}.${process.pid}.${writes++}.tmp`;
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** What `<dir>/fleet.json` says, or undefined when there is none (or it is unreadable). */
export async function readFleet(dir: string): Promise<FleetInfo | undefined> {
  try {
    const info = JSON.parse(await readFile(fleetPaths(dir).fleetJson, "utf8")) as FleetInfo;
    return info.version === 1 && Array.isArray(info.clusters) ? info : undefined;
  } catch {
    return undefined;
  }
}

export async function readPidFile(dir: string): Promise<number | undefined> {
  try {
    const pid = Number((await readFile(fleetPaths(dir).pidFile, "utf8")).trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function writePidFile(dir: string, pid: number): Promise<void> {
  await writeFile(fleetPaths(dir).pidFile, `${pid}\n`);
}

/** Remove fleet.json and the pid file (only when the pid file names `ownerPid`, if given). */
export async function clearFleetFiles(dir: string, ownerPid?: number): Promise<void> {
  const paths = fleetPaths(dir);
  if (ownerPid !== undefined && (await readPidFile(dir)) !== ownerPid) return;
  await rm(paths.fleetJson, { force: true });
  await rm(paths.pidFile, { force: true });
}
