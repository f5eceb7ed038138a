// Evaluates templates in a separate Node process under a deadline and a heap limit, so a template
// that runs away inside a single native call (a huge $string, $length or $distinct, the final
// serialization) costs a killed process, never a blocked or crashed controller. It must never
// let the controller wait on a worker without a deadline, nor keep the controller alive when idle.
//
// Why a process and not a worker thread: a worker thread's `resourceLimits` are best-effort. One
// large allocation (`$length($pad("", 400000000))` grows a single array) aborts the whole process
// with "FATAL ERROR: Reached heap limit" instead of ending the worker (nodejs/node#47224). A child
// process with --max-old-space-size dies alone. The round trip costs the same (~50 µs).

import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { defineRe2RegExp } from "./re2-regexp.js";
import {
  type EvaluateRequest,
  parseVersion,
  type ReplyError,
  templateWorkerMain,
  versionAtLeast,
  type WorkerBudget,
  type WorkerConfig,
  type WorkerMessage,
} from "./template-worker-body.js";

/** One evaluation to run. */
export interface WorkerJob {
  source: string;
  input: unknown;
  budget: WorkerBudget;
  origin: { definition: string; field: string };
}

/** How an evaluation ended: expected outcomes, so the caller words one error per case. */
export type WorkerResult =
  | { outcome: "value"; json: unknown }
  /** The template raised an error (JSONata's, a JavaScript one, or the output budget). */
  | { outcome: "error"; error: ReplyError }
  /** Still running at the deadline: the process was killed. */
  | { outcome: "timeout"; timeoutMs: number }
  /** The process died while evaluating: out of memory (SIGABRT from V8's heap limit) or a crash. */
  | { outcome: "died"; memoryMb: number; code: number | null; signal: NodeJS.Signals | null; stderr: string };

export interface TemplateWorkerOptions {
  /** Heap limit of the worker process (V8's old generation), in MiB. */
  memoryMb: number;
  /** What the worker is started with: module paths and the refusal messages. */
  config: WorkerConfig;
  /** Time the worker process may take to start and load JSONata, in ms. Default 30,000. */
  startupTimeoutMs?: number;
}

/**
 * Grace after the template's own time budget before the process is killed. JSONata checks its
 * timeout between steps and answers with a precise error; the hard deadline is for a single step
 * that never returns, and the serialization after the last step.
 */
export function hardDeadlineMs(timeoutMs: number): number {
  return timeoutMs + Math.max(50, Math.ceil(timeoutMs / 4));
}

/**
 * How many times the deadline of one evaluation is extended because the worker process was
 * starved (it used less than half the budget in CPU time): a loaded machine, not the template,
 * used up the time. The worker retries a starved JSONata timeout twice itself, so this covers those
 * retries and a little more; a runaway template on a starved machine is stopped after at most
 * (1 + STARVED_EXTENSIONS) hard deadlines.
 */
export const STARVED_EXTENSIONS = 4;

/** CPU time (user + system) a process has used, in ms, from /proc; undefined where there is no /proc. */
export function processCpuMs(pid: number): number | undefined {
  try {
    // Fields after the command (which may hold spaces and parentheses): state is 3rd, utime 14th, stime 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? ticks * (1000 / CLOCK_TICKS_PER_SECOND) : undefined;
  } catch {
    return undefined;
  }
}

/** USER_HZ, the unit of /proc's CPU times: 100 on every Linux architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;

const STDERR_TAIL = 4096;

interface Pending {
  id: number;
  job: WorkerJob;
  resolve: (result: WorkerResult) => void;
  reject: (error: Error) => void;
  /** The worker process's CPU time when the job was sent, ms (undefined without /proc). */
  cpuAtSend?: number | undefined;
  extensions?: number;
}

/** The program the worker process runs: self-contained functions from their source text. */
function program(config: WorkerConfig): string {
  return [
    '"use strict";',
    `const defineRe2RegExp = ${defineRe2RegExp.toString()};`,
    `const parseVersion = ${parseVersion.toString()};`,
    `const versionAtLeast = ${versionAtLeast.toString()};`,
    `(${templateWorkerMain.toString()})(${JSON.stringify(config)}, { defineRe2RegExp, versionAtLeast }, require);`,
  ].join("\n");
}

/** Where the worker finds its two libraries: the copies this module resolves, wherever it runs from. */
export function defaultWorkerModules(): Pick<WorkerConfig, "jsonata" | "re2js"> {
  const require = createRequire(import.meta.url);
  return { jsonata: require.resolve("jsonata"), re2js: require.resolve("re2js") };
}

/** One long-lived worker process, started on first use, replaced after it is killed or dies. */
export class TemplateWorker {
  private readonly options: TemplateWorkerOptions;
  private child: ChildProcess | undefined;
  private ready = false;
  private stderr = "";
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private timer: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;

  constructor(options: TemplateWorkerOptions) {
    this.options = options;
  }

  /** The worker process's pid while it runs (for diagnostics and fault tests). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Evaluate one job; jobs run one at a time, in order. */
  run(job: WorkerJob): Promise<WorkerResult> {
    if (this.closed) return Promise.reject(new Error("the template worker is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, resolve, reject });
      this.pump();
    });
  }

  /** Stop the process and refuse what is still queued. */
  async close(): Promise<void> {
    this.closed = true;
    const waiting = [...(this.current ? [this.current] : []), ...this.queue.splice(0)];
    this.current = undefined;
    for (const p of waiting) p.reject(new Error("the template worker was closed before the evaluation finished"));
    await this.stop();
  }

  private pump(): void {
    if (this.current || this.queue.length === 0 || this.closed) return;
    if (!this.child) this.start();
    if (!this.ready) return;
    const next = this.queue.shift() as Pending;
    this.current = next;
    const request: EvaluateRequest = { id: next.id, ...next.job };
    next.cpuAtSend = this.child?.pid === undefined ? undefined : processCpuMs(this.child.pid);
    next.extensions = 0;
    this.arm(next);
    this.child?.send(request);
  }

  /** A ref'd timer: while an evaluation is out, it is what keeps the controller's loop alive. */
  private arm(pending: Pending): void {
    this.timer = setTimeout(() => this.expire(pending), hardDeadlineMs(pending.job.budget.timeoutMs));
  }

  private start(): void {
    const env: NodeJS.ProcessEnv = { ...process.env, TZ: "UTC" };
    // The worker needs none of the controller's options (an inspector port, loaders, a heap size).
    delete env.NODE_OPTIONS;
    const child = spawn(process.execPath, [`--max-old-space-size=${this.options.memoryMb}`, "--input-type=commonjs", "-e", program(this.options.config)], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env,
      serialization: "json",
    });
    this.child = child;
    this.ready = false;
    this.stderr = "";
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      if (this.child === child) this.stderr = (this.stderr + chunk).slice(-STDERR_TAIL);
    });
    child.on("message", (message: WorkerMessage) => this.receive(child, message));
    // "close", not "exit": by then stderr is read to the end (V8's out-of-memory report included).
    child.on("close", (code: number | null, signal: NodeJS.Signals | null) => this.exited(child, code, signal));
    child.on("error", (error) => this.failStart(child, error));
    // Idle, the worker must not keep the controller (or a test run) alive.
    child.unref();
    child.channel?.unref();
    (child.stderr as { unref?: () => void } | null)?.unref?.();
    this.timer = setTimeout(
      () => this.failStart(child, new Error(`the template worker did not start within ${this.options.startupTimeoutMs ?? 30_000} ms`)),
      this.options.startupTimeoutMs ?? 30_000,
    );
  }

  private receive(child: ChildProcess, message: WorkerMessage): void {
    if (this.child !== child) return;
    if ("ready" in message) {
      clearTimeout(this.timer);
      this.ready = true;
      this.pump();
      return;
    }
    const current = this.current;
    if (!current || current.id !== message.id) return;
    clearTimeout(this.timer);
    this.current = undefined;
    current.resolve("error" in message ? { outcome: "error", error: message.error } : { outcome: "value", json: message.json });
    this.pump();
  }

  private expire(pending: Pending): void {
    // Timers run before I/O in an event loop turn: after this process was blocked for longer than
    // the deadline, the answer may already wait in the pipe. Let it be read first.
    setImmediate(() => {
      if (this.current !== pending) return;
      if (this.starved(pending)) {
        pending.extensions = (pending.extensions ?? 0) + 1;
        this.arm(pending);
        return;
      }
      this.current = undefined;
      void this.stop();
      pending.resolve({ outcome: "timeout", timeoutMs: pending.job.budget.timeoutMs });
      this.pump();
    });
  }

  /** Did the worker use less than half the budget in CPU time since the job was sent (and may it wait longer)? */
  private starved(pending: Pending): boolean {
    const pid = this.child?.pid;
    if ((pending.extensions ?? 0) >= STARVED_EXTENSIONS || pid === undefined || pending.cpuAtSend === undefined) return false;
    const now = processCpuMs(pid);
    return now !== undefined && now - pending.cpuAtSend < pending.job.budget.timeoutMs / 2;
  }

  private exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    const wasReady = this.ready;
    this.forget();
    const current = this.current;
    this.current = undefined;
    if (current) {
      current.resolve({ outcome: "died", memoryMb: this.options.memoryMb, code, signal, stderr: this.stderr });
    } else if (!wasReady) {
      this.failQueue(new Error(`the template worker exited while starting (code ${code}, signal ${signal}): ${this.stderr}`));
      return;
    }
    this.pump();
  }

  /** The process could not be started or spoken to: refuse what waits, the next job tries afresh. */
  private failStart(child: ChildProcess, error: Error): void {
    if (this.child !== child) return;
    void this.stop();
    const current = this.current;
    this.current = undefined;
    const failure = new Error(`could not run the template worker: ${error.message}`, { cause: error });
    current?.reject(failure);
    this.failQueue(failure);
  }

  private failQueue(error: Error): void {
    for (const p of this.queue.splice(0)) p.reject(error);
  }

  /** Forget the current process (its late events are ignored) and clear its timer. */
  private forget(): ChildProcess | undefined {
    const child = this.child;
    this.child = undefined;
    this.ready = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    return child;
  }

  private stop(): Promise<void> {
    const child = this.forget();
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }
}
