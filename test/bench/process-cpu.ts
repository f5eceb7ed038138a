// CPU seconds of the local fleet's processes (etcd, the API servers, the controller managers),
// read from /proc: during a ramp they share the two cores with the controller, so where the
// machine's CPU went says whether a ramp waited on CPU or on something else.

import { readdirSync, readFileSync, readlinkSync, realpathSync } from "node:fs";
import { growthBetween } from "./counters.js";

const TICKS_PER_S = 100; // USER_HZ on Linux

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** Its own CPU seconds (utime + stime). */
  cpuS: number;
  /** CPU seconds of its children that exited and were waited for (cutime + cstime). */
  reapedS: number;
}

function readStat(pid: string): ProcStat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm is in parentheses and may contain spaces; the fields after it are space-separated.
    const close = text.lastIndexOf(")");
    const comm = text.slice(text.indexOf("(") + 1, close);
    const f = text.slice(close + 2).split(" ");
    // f[0] is field 3 (state): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
    return {
      pid: Number(pid),
      ppid: Number(f[1]),
      comm,
      cpuS: (Number(f[11]) + Number(f[12])) / TICKS_PER_S,
      reapedS: (Number(f[13]) + Number(f[14])) / TICKS_PER_S,
    };
  } catch {
    return undefined; // exited between readdir and read
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/**
 * CPU seconds so far of every descendant of this process, keyed by `named` for the processes it
 * names (e.g. "agent prod-eu"), else "<command> <cluster>" where the command line names one of
 * `clusters` (e.g. "kube-apiserver prod-eu"), else "<command>".
 */
export function descendantCpu(clusters: readonly string[], named: ReadonlyMap<number, string> = new Map()): Map<string, number> {
  const all = readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(readStat)
    .filter((s): s is ProcStat => s !== undefined);
  const children = new Map<number, ProcStat[]>();
  for (const s of all) children.set(s.ppid, [...(children.get(s.ppid) ?? []), s]);
  const out = new Map<string, number>();
  const stack = [...(children.get(process.pid) ?? [])];
  while (stack.length) {
    const s = stack.pop() as ProcStat;
    stack.push(...(children.get(s.pid) ?? []));
    const name = named.get(s.pid);
    if (name !== undefined) {
      out.set(name, (out.get(name) ?? 0) + s.cpuS);
      continue;
    }
    const line = cmdline(s.pid);
    const cluster = clusters.find((c) => line.includes(`/${c}`) || line.includes(`${c}.`) || line.includes(`=${c}`));
    const key = cluster ? `${s.comm} ${cluster}` : s.comm;
    out.set(key, (out.get(key) ?? 0) + s.cpuS);
  }
  return out;
}

/** "name: CPU s" for every process that used CPU between two readings, the busiest first, and the total. */
export function cpuBetween(before: Map<string, number>, after: Map<string, number>): { totalS: number; lines: string[] } {
  const delta = growthBetween(before, after);
  return { totalS: delta.reduce((a, [, v]) => a + v, 0), lines: delta.map(([k, v]) => `${k} ${v.toFixed(0)}`) };
}

/**
 * CPU seconds so far of one process: its own and its exited children's (a pull-mode agent), or
 * undefined once it is gone.
 */
export function processCpuS(pid: number): number | undefined {
  const s = readStat(String(pid));
  return s && s.cpuS + s.reapedS;
}

/**
 * CPU seconds of this process's children that have exited and been waited for. `process.cpuUsage()`
 * leaves them out; in pull mode they are the controller's `git http-backend` runs, one per fetch.
 * (The fleet's processes count here only once they exit, at the end.)
 */
export function reapedChildrenCpuS(): number {
  return readStat(String(process.pid))?.reapedS ?? 0;
}

/** Peak resident set of a process so far (VmHWM of /proc/<pid>/status), bytes; undefined once it is gone. */
export function peakRssBytes(pid: number): number | undefined {
  try {
    const kib = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return kib === undefined ? undefined : Number(kib) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * This process's direct children that run this same Node binary and are not in `except` (the
 * agents): the controller's template worker (src/definitions/template-worker.ts), which renders
 * in a child process. `process.cpuUsage()` leaves its CPU out.
 */
export function nodeChildren(except: ReadonlySet<number> = new Set()): number[] {
  const node = realpathSync(process.execPath);
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .map(readStat)
    .filter((s): s is ProcStat => s !== undefined && s.ppid === process.pid && !except.has(s.pid))
    .filter((s) => {
      try {
        return readlinkSync(`/proc/${s.pid}/exe`) === node;
      } catch {
        return false; // exited meanwhile
      }
    })
    .map((s) => s.pid);
}
