// The controller as a real process (the compiled CLI, `dist/src/cli/main.js controller`), so fault
// tests can SIGKILL it: no cleanup runs, no lease is released, nothing is flushed. Each process
// logs (pino JSON) to its own file, kept for a failing test to be read afterwards.
//
//   const c = spawnController({ kubeconfig, dataDir, logFile, args: ["--no-leader-elect"] });
//   await c.kill();                  SIGKILL, resolves once the process has exited
//   await c.stop();                  SIGTERM (a clean stop: the leader releases its lease)
//   await c.logLine((l) => ...)      waits for a log line matching the predicate

import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./fleet.js";

const CLI = join(import.meta.dirname, "..", "..", "..", "dist", "src", "cli", "main.js");

export interface ControllerProcessOptions {
  /** The hub's kubeconfig. */
  kubeconfig: string;
  /** `--data-dir` (the embedded Git repository goes to `<dataDir>/env.git`). */
  dataDir: string;
  /** Where stdout and stderr go (appended). */
  logFile: string;
  /** More flags, e.g. `["--no-leader-elect"]` or `["--namespace", ns, "--lease-duration", "5s"]`. */
  args?: string[];
  /** Extra environment. */
  env?: NodeJS.ProcessEnv;
}

export interface ControllerProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** `Date.now()` when it was spawned. */
  readonly startedAt: number;
  readonly logFile: string;
  /** True once the process has exited. */
  readonly exited: boolean;
  /**
   * SIGKILL a running process; resolves once it has exited. Rejects when the process had already
   * exited: a kill that lands on nothing would test nothing.
   */
  kill(): Promise<void>;
  /** SIGKILL if still running (for clean-up); resolves once it has exited. */
  ensureKilled(): Promise<void>;
  /** SIGTERM; resolves once it has exited. */
  stop(): Promise<void>;
  /** The parsed JSON log lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Wait for a log line matching `match`; returns it. */
  logLine(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export function spawnController(options: ControllerProcessOptions): ControllerProcess {
  return spawnCli(
    // Free ports: several controllers run at once (a later --git-serve-addr in args wins). No web
    // UI unless asked: its default port 8081 is the one `flotilla up` (up.test.ts) wants.
    [
      "controller",
      "--kubeconfig",
      options.kubeconfig,
      "--data-dir",
      options.dataDir,
      "--metrics-addr",
      "127.0.0.1:0",
      "--git-serve-addr",
      "127.0.0.1:0",
      "--ui-addr",
      "off",
      ...(options.args ?? []),
    ],
    options,
  );
}

export interface AgentProcessOptions {
  cluster: string;
  /** The agent's identity on the hub. */
  hubKubeconfig: string;
  /** The member's kubeconfig. */
  memberKubeconfig: string;
  gitUrl: string;
  dataDir: string;
  logFile: string;
  /** More flags, e.g. `["--no-leader-elect"]`. */
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/** `flotilla agent` as a real process (SIGKILL-able like the controller). */
export function spawnAgent(options: AgentProcessOptions): ControllerProcess {
  return spawnCli(
    [
      "agent",
      "--cluster",
      options.cluster,
      "--hub-kubeconfig",
      options.hubKubeconfig,
      "--kubeconfig",
      options.memberKubeconfig,
      "--git-url",
      options.gitUrl,
      "--data-dir",
      options.dataDir,
      "--metrics-addr",
      "127.0.0.1:0",
      ...(options.args ?? []),
    ],
    options,
  );
}

function spawnCli(args: string[], options: { logFile: string; env?: NodeJS.ProcessEnv }): ControllerProcess {
  const fd = openSync(options.logFile, "a");
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ["ignore", fd, fd], env: { ...process.env, ...options.env } });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${CLI}`);
  const startedAt = Date.now();
  let exited = false;
  const exit = new Promise<void>((resolve) => {
    child.once("exit", () => {
      exited = true;
      resolve();
    });
  });
  const signal = async (s: NodeJS.Signals) => {
    if (!exited) child.kill(s);
    await exit;
  };
  const killRunning = async () => {
    if (exited)
      throw new Error(
        `${args[0]} pid ${child.pid} had already exited (code ${child.exitCode}, signal ${child.signalCode}) before it was killed; see ${options.logFile}`,
      );
    await signal("SIGKILL");
  };
  const logLines = () =>
    readFileSync(options.logFile, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => {
        try {
          return JSON.parse(l) as Record<string, unknown>;
        } catch {
          return {};
        }
      });
  return {
    child,
    pid: child.pid,
    startedAt,
    logFile: options.logFile,
    get exited() {
      return exited;
    },
    kill: killRunning,
    ensureKilled: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM"),
    logLines,
    logLine: (match, timeoutMs = 30_000) =>
      waitFor(() => logLines().find(match), { timeoutMs, intervalMs: 100, message: `a log line of ${args[0]} pid ${child.pid} in ${options.logFile}` }),
  };
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence, so a run can be replayed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The seed of a fault test: `fixed` (known to land every kind of fault, so CI is deterministic),
 * FLOTILLA_FAULT_SEED=<n> to replay a run, or FLOTILLA_FAULT_SEED=random to explore new ones.
 */
export function faultSeed(fixed: number): number {
  const fromEnv = process.env.FLOTILLA_FAULT_SEED;
  if (fromEnv === "random") return Math.floor(Math.random() * 0x100000000);
  if (fromEnv !== undefined && fromEnv !== "") {
    const n = Number(fromEnv);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`FLOTILLA_FAULT_SEED=${fromEnv}: use an integer from 0 to 4294967295`);
    return n;
  }
  return fixed;
}
