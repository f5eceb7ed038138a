// Where the local fleet keeps its files. One place, so `up`, `down`, the supervisor and the tests
// agree on the layout of a fleet directory and on where the control-plane binaries live.
import { homedir } from "node:os";
import path from "node:path";

/** Kubernetes version the install script builds; the binaries' cache is keyed by it. */
export const K8S_VERSION = "v1.20.2";
/** The install script's BUILD_ID: part of the cache path, so a binary from an older recipe is rebuilt. */
export const CONTROL_PLANE_BUILD = "2";

/** Layout of a fleet directory (default `.flotilla`). Every path is absolute. */
export interface FleetPaths {
  dir: string;
  /** What is running: servers, kubeconfigs, labels, pids (see FleetInfo). */
  fleetJson: string;
  /** The pid of the process that owns the fleet (runs the node simulators and stops the rest). */
  pidFile: string;
  logs: string;
  etcdData: string;
  /** Per-cluster state (tokens, service-account keys, serving certificates). */
  clusterDir(cluster: string): string;
  kubeconfig(cluster: string): string;
  log(name: string): string;
}

export function fleetPaths(dir: string): FleetPaths {
  const abs = path.resolve(dir);
  return {
    dir: abs,
    fleetJson: path.join(abs, "fleet.json"),
    pidFile: path.join(abs, "fleet.pid"),
    logs: path.join(abs, "logs"),
    etcdData: path.join(abs, "state", "etcd"),
    clusterDir: (cluster) => path.join(abs, "state", cluster),
    kubeconfig: (cluster) => path.join(abs, `${cluster}.kubeconfig`),
    log: (name) => path.join(abs, "logs", `${name}.log`),
  };
}

/** `FLOTILLA_CACHE_DIR`, default `~/.cache/flotilla`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLOTILLA_CACHE_DIR || path.join(homedir(), ".cache", "flotilla");
}

/** `FLOTILLA_K8S_BIN_DIR`, default `<cache>/kubernetes/v1.20.2-<build>/bin` (same rule as the install script). */
export function k8sBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.FLOTILLA_K8S_BIN_DIR || path.join(cacheDir(env), "kubernetes", `${K8S_VERSION}-${CONTROL_PLANE_BUILD}`, "bin");
}
