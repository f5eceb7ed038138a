// Child processes of the fleet (etcd, kube-apiserver, kube-controller-manager) and the rules that
// keep them from ever outliving it: each runs in its own process group (so a stop reaches anything
// it forks), dies with its parent even on SIGKILL (setpriv --pdeathsig), and can be found again
// by its command line when a previous fleet crashed. Never kills by name alone.
import { spawn } from "node:child_process";
import { existsSync, openSync, closeSync, readdirSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcessOptions {
  /** Short name for logs and errors, e.g. `prod-eu kube-apiserver`. */
  name: string;
  command: string;
  args: string[];
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Environment of the child. Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  /** Set once the process has exited. */
  exitInfo(): ExitInfo | undefined;
  /** SIGTERM to the process group, then SIGKILL after `timeoutMs` (default 10 s). */
  stop(options?: { timeoutMs?: number }): Promise<void>;
}

const SETPRIV = "/usr/bin/setpriv";
let setprivWorks: boolean | undefined;

/** Whether util-linux `setpriv --pdeathsig` is available to tie children to our lifetime. */
function canUsePdeathsig(): boolean {
  setprivWorks ??= existsSync(SETPRIV);
  return setprivWorks;
}

/** Every process we start, so an unexpected exit of this process can still kill them (see below). */
const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when the owner exits without stopping the fleet (an uncaught error, process.exit):
  // 'exit' handlers must be synchronous, and process.kill is.
  process.on("exit", () => {
    for (const p of live) killGroup(p.pid, "SIGKILL");
  });
}

export function spawnManaged(options: ManagedProcessOptions): ManagedProcess {
  installExitHook();
  const fd = openSync(options.logFile, "a");
  // pdeathsig is kept across execve, so the real binary dies when this (Node) process dies, even
  // by SIGKILL. The new session (detached) keeps Ctrl-C in a terminal from reaching the children
  // directly: the owner stops them in order (controllers, API servers, then etcd).
  const [command, args] = canUsePdeathsig() ? [SETPRIV, ["--pdeathsig", "KILL", "--", options.command, ...options.args]] : [options.command, options.args];
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(command, args, { detached: true, stdio: ["ignore", fd, fd], env: options.env ?? process.env });
  } finally {
    closeSync(fd);
  }
  let info: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("exit", (code, signal) => {
      info = { code, signal };
      live.delete(managed);
      resolve(info);
    });
    child.once("error", () => {
      info ??= { code: -1, signal: null };
      live.delete(managed);
      resolve(info);
    });
  });
  const pid = child.pid ?? -1;
  const managed: ManagedProcess = {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    exitInfo: () => info,
    async stop({ timeoutMs = 10_000 } = {}) {
      if (info !== undefined || pid < 0) return;
      killGroup(pid, "SIGTERM");
      const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), timeoutMs).unref());
      if ((await Promise.race([exited, timer])) === "timeout") {
        killGroup(pid, "SIGKILL");
        await exited;
      }
      // Anything the process forked into its group goes too.
      killGroup(pid, "SIGKILL");
    },
  };
  if (pid > 0) live.add(managed);
  return managed;
}

/** Signal a whole process group (the child was started as its leader); ignores "no such process". */
export function killGroup(pid: number, signal: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The argv of a process from /proc, or undefined if it is gone (or /proc is unavailable). */
export function readCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    if (raw === "") return undefined;
    return raw.replace(/\0$/, "").split("\0");
  } catch {
    return undefined;
  }
}

/** Binaries the fleet starts; used to recognise its processes after a crash. */
export const FLEET_BINARIES = ["etcd", "kube-apiserver", "kube-controller-manager"] as const;

/**
 * Whether argv is one of our control-plane processes for the fleet in `dir`: the binary is one we
 * start and one of its arguments points into the fleet directory (data dir, cert dir, kubeconfig).
 * Both must hold, so a system etcd or another fleet's API server is never touched.
 */
export function isFleetProcess(argv: readonly string[], dir: string): boolean {
  const bin = argv[0] === undefined ? "" : path.basename(argv[0]);
  if (!(FLEET_BINARIES as readonly string[]).includes(bin)) return false;
  const prefix = dir.endsWith("/") ? dir : `${dir}/`;
  return argv.slice(1).some((arg) => arg.includes(prefix));
}

/** Pids of live control-plane processes that belong to the fleet in `dir` (see isFleetProcess). */
export function findFleetProcesses(dir: string): number[] {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const entry of entries) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const argv = readCmdline(Number(entry));
    if (argv && isFleetProcess(argv, dir)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * Stop every leftover control-plane process of the fleet in `dir` (after a crash of its owner):
 * SIGTERM, then SIGKILL after `timeoutMs`. Returns how many were found.
 */
export async function sweepFleetProcesses(dir: string, timeoutMs = 5_000): Promise<number> {
  const pids = findFleetProcesses(dir);
  for (const pid of pids) killGroup(pid, "SIGTERM");
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive) && Date.now() < deadline) await sleep(100);
  for (const pid of pids) if (isAlive(pid)) killGroup(pid, "SIGKILL");
  while (pids.some(isAlive) && Date.now() < deadline + 2_000) await sleep(50);
  return pids.length;
}

/** The last `lines` lines of a log file, for error messages. */
export async function logTail(file: string, lines = 20): Promise<string> {
  try {
    const text = await readFile(file, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
