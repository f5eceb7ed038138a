// `flotilla up --mode pull|mixed` on the local fleet: which members are pulled, and one
// `flotilla agent` process per pulled member (the fleet has no container runtime, so the agent
// runs beside the fleet as the controller does). Each agent has the hub identity
// `cluster add --mode pull` creates, the member's kubeconfig and the controller's Git server.

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { FlotillaError } from "../api/errors.js";

export type UpMode = "push" | "pull" | "mixed";

/** The member pulled in mixed mode: production's first cluster, so the quick start crosses both modes. */
export const MIXED_PULL_MEMBER = "prod-eu";

export function parseUpMode(value: string): UpMode {
  if (value === "push" || value === "pull" || value === "mixed") return value;
  throw new FlotillaError(
    `--mode: "${value}" is not push, pull or mixed (pull: an agent per member; mixed: ${MIXED_PULL_MEMBER} pulls, the others are pushed).`,
  );
}

/** The members an agent syncs in this mode. */
export function pulledMembers(mode: UpMode, members: readonly string[]): string[] {
  if (mode === "pull") return [...members];
  if (mode === "mixed") return members.includes(MIXED_PULL_MEMBER) ? [MIXED_PULL_MEMBER] : members.slice(0, 1);
  return [];
}

export interface LocalAgentOptions {
  dir: string;
  cluster: string;
  /** The agent's hub kubeconfig (its token: written with mode 0600). */
  hubKubeconfig: string;
  memberKubeconfigPath: string;
  gitUrl: string;
  detach: boolean;
  /** Options for the agent's node process before its script (the fleet bench's `--cpu-prof`). */
  nodeArgs?: readonly string[];
}

function agentDir(dir: string, cluster: string): string {
  return join(dir, "agents", cluster);
}

/** Where a local agent writes its log. */
export function localAgentLog(dir: string, cluster: string): string {
  return join(dir, "logs", `agent-${cluster}.log`);
}

/** Start one agent process; with `detach` it outlives this command and `flotilla down` stops it. */
export async function startLocalAgent(o: LocalAgentOptions): Promise<ChildProcess> {
  const dir = agentDir(o.dir, o.cluster);
  mkdirSync(dir, { recursive: true });
  mkdirSync(join(o.dir, "logs"), { recursive: true });
  const hubFile = join(dir, "hub.kubeconfig");
  await writeFile(hubFile, o.hubKubeconfig, { mode: 0o600 });
  const main = fileURLToPath(new URL("./main.js", import.meta.url));
  const fd = openSync(localAgentLog(o.dir, o.cluster), "a");
  const args = [
    ...(o.nodeArgs ?? []),
    main,
    "agent",
    "--cluster",
    o.cluster,
    "--hub-kubeconfig",
    hubFile,
    "--kubeconfig",
    o.memberKubeconfigPath,
    "--git-url",
    o.gitUrl,
    "--data-dir",
    join(dir, "data"),
    "--metrics-addr",
    "127.0.0.1:0",
    "--no-leader-elect",
  ];
  const child = spawn(process.execPath, args, { detached: o.detach, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  if (o.detach) {
    child.unref();
    await writeFile(join(dir, "agent.pid"), `${child.pid}\n`);
  }
  return child;
}

/** Stop the agents a detached `up` left running; returns how many were stopped. */
export async function stopLocalAgents(dir: string): Promise<number> {
  const root = join(dir, "agents");
  if (!existsSync(root)) return 0;
  let stopped = 0;
  for (const name of await readdir(root)) {
    const file = join(root, name, "agent.pid");
    if (!existsSync(file)) continue;
    const pid = Number((await readFile(file, "utf8")).trim());
    try {
      if (pid > 0) {
        process.kill(pid, "SIGTERM");
        stopped++;
      }
    } catch {
      // already gone
    }
    await rm(file, { force: true });
  }
  return stopped;
}
