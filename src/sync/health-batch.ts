// Health of batch/v1 Jobs and CronJobs. A Job is work in progress until it completes or fails; a
// suspended one is Suspended (it runs nothing until resumed). A CronJob is judged by its last
// scheduled run: Degraded when that run did not succeed and nothing is running.

import type { Manifest } from "../api/types.js";
import { condition, degraded, explain, type Health, healthy, joined, num, obj, progressing, suspended } from "./health-common.js";

export function jobHealth(live: Manifest): Health {
  const spec = obj(live.spec);
  const status = obj(live.status);
  const failed = condition(status, "Failed");
  if (failed?.status === "True") return degraded(joined("job failed", explain(failed)));
  const complete = condition(status, "Complete");
  if (complete?.status === "True") return healthy("job completed");
  // Suspended only once the controller says so: until then, pods may still be stopping (or starting).
  const isSuspended = condition(status, "Suspended")?.status === "True";
  if (spec.suspend === true) return isSuspended ? suspended("job suspended (spec.suspend)") : progressing("job being suspended: waiting for its pods to stop");
  if (isSuspended) return progressing("job resuming");
  return progressing(`job running (${num(status.active)} active, ${num(status.succeeded)} succeeded)`);
}

function time(v: unknown): number | undefined {
  const t = typeof v === "string" ? Date.parse(v) : Number.NaN;
  return Number.isNaN(t) ? undefined : t;
}

export function cronJobHealth(live: Manifest): Health {
  const status = obj(live.status);
  const active = Array.isArray(status.active) ? status.active.length : 0;
  const suspendedNote = obj(live.spec).suspend === true ? " (schedule suspended: spec.suspend)" : "";
  if (active > 0) return healthy(`${active} job(s) running${suspendedNote}`);
  const scheduled = time(status.lastScheduleTime);
  const succeeded = time(status.lastSuccessfulTime);
  if (scheduled === undefined) return healthy(`never scheduled yet${suspendedNote}`);
  // Never succeeded at all: the first run may still be in a retry loop of its Job; the Job tells.
  if (succeeded !== undefined && succeeded < scheduled) {
    return degraded(
      `the last scheduled job (${String(status.lastScheduleTime)}) did not succeed; last success ${String(status.lastSuccessfulTime)}${suspendedNote}`,
    );
  }
  return healthy(`last run ${String(status.lastScheduleTime)}${suspendedNote}`);
}
