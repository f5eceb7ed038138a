// The fleet's etcd. One etcd serves every cluster of the fleet: each kube-apiserver stores its
// objects under its own `--etcd-prefix` (/registry/<cluster>), so the clusters share nothing at the
// API level. One process instead of one per cluster saves memory, CPU and start time on small
// machines; the price is a shared fault domain, which is fine for a local fleet (fault injection
// stops API servers, not etcd). It listens on free loopback ports only — never 2379/2380, which a
// system etcd (Debian's etcd-server package starts one) may hold.
import { mkdir } from "node:fs/promises";
import http from "node:http";
import { ProcessStartError } from "./errors.js";
import { logTail, type ManagedProcess, sleep, spawnManaged } from "./processes.js";

export interface EtcdOptions {
  /** Path of the etcd binary. */
  binary: string;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  logFile: string;
}

export function etcdArgs(o: Omit<EtcdOptions, "binary" | "logFile">): string[] {
  const client = `http://127.0.0.1:${o.clientPort}`;
  const peer = `http://127.0.0.1:${o.peerPort}`;
  return [
    "--name=flotilla",
    `--data-dir=${o.dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    // Peer URLs must be set too: their defaults are :2380 even for a single member.
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=flotilla=${peer}`,
    "--initial-cluster-state=new",
    "--listen-metrics-urls=",
    // A throwaway local store: keep it small and fast.
    "--quota-backend-bytes=4294967296",
    "--auto-compaction-retention=5m",
    "--auto-compaction-mode=periodic",
    "--logger=zap",
    "--log-level=warn",
  ];
}

/** The environment without ETCD_* variables: etcd reads them as flags, and a user's could clash. */
export function etcdEnv(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith("ETCD_")));
}

export interface RunningEtcd {
  process: ManagedProcess;
  clientUrl: string;
}

export async function startEtcd(o: EtcdOptions, timeoutMs = 30_000): Promise<RunningEtcd> {
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const proc = spawnManaged({ name: "etcd", command: o.binary, args: etcdArgs(o), logFile: o.logFile, env: etcdEnv() });
  const clientUrl = `http://127.0.0.1:${o.clientPort}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (proc.exitInfo()) {
      throw new ProcessStartError("etcd", `exited with ${JSON.stringify(proc.exitInfo())}`, {
        logFile: o.logFile,
        logTail: await logTail(o.logFile),
      });
    }
    if (await healthy(`${clientUrl}/health`)) return { process: proc, clientUrl };
    await sleep(100);
  }
  await proc.stop();
  throw new ProcessStartError("etcd", `not healthy after ${timeoutMs} ms`, { logFile: o.logFile, logTail: await logTail(o.logFile) });
}

function healthy(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 1_000 }, (res) => {
      let body = "";
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(false));
  });
}
