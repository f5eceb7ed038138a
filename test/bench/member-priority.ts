// Lowering the scheduling priority of the local fleet's member clusters for one measurement. On the
// bench's machine the members' API servers, controller managers and simulated kubelets share the
// hub's two cores; in production they run on machines of their own. A figure about what a user of
// the hub sees (the web UI) is therefore also taken with those processes at nice 19, beside the
// figure taken as they are, and both are reported.
//
// Linux keeps a nice value per thread, so every thread of each process is set (Go programs run many).

import { readdirSync } from "node:fs";
import { getPriority, setPriority } from "node:os";
import type { FleetInfo } from "../../src/fleet/index.js";

/** The processes that stand in for member clusters: their API servers and controller managers, and the supervisor that runs the node simulators. */
export function memberProcessIds(fleet: FleetInfo, extra: readonly number[] = []): number[] {
  const pids = fleet.clusters.filter((c) => c.role === "member").flatMap((c) => [c.pids.apiServer, c.pids.controllerManager]);
  return [...pids, fleet.ownerPid, ...extra].filter((p): p is number => typeof p === "number" && p > 0);
}

function threadsOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    return []; // the process is gone
  }
}

function setEveryThread(pid: number, priority: number): number {
  let set = 0;
  for (const tid of threadsOf(pid)) {
    try {
      setPriority(tid, priority);
      set++;
    } catch {
      // the thread ended meanwhile
    }
  }
  return set;
}

/**
 * Runs `measure` with every thread of `pids` at nice 19, then puts each process's threads back to
 * the nice value its main thread had (threads started meanwhile included). Returns the threads changed.
 */
export async function withLowPriority<T>(pids: readonly number[], measure: () => Promise<T>): Promise<{ result: T; threads: number }> {
  const before = new Map<number, number>();
  let threads = 0;
  for (const pid of pids) {
    try {
      before.set(pid, getPriority(pid));
    } catch {
      continue; // not running
    }
    threads += setEveryThread(pid, 19);
  }
  try {
    return { result: await measure(), threads };
  } finally {
    for (const [pid, priority] of before) setEveryThread(pid, priority);
  }
}
