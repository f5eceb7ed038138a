import { describe, expect, it } from "vitest";
import type { HealthState, Manifest } from "../../../src/api/types.js";
import { objectHealth } from "../../../src/sync/health.js";

const aBatch = (kind: "Job" | "CronJob", spec: Record<string, unknown>, status?: Record<string, unknown>): Manifest => ({
  apiVersion: "batch/v1",
  kind,
  metadata: { name: "nightly", namespace: "team-a", generation: 1 },
  spec,
  ...(status ? { status } : {}),
});
const cond = (type: string, status: string, reason = "") => ({ type, status, reason });

describe("Job health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["a Job without status is Progressing", aBatch("Job", {}), "Progressing"],
    ["a running Job is Progressing", aBatch("Job", {}, { active: 1 }), "Progressing"],
    ["a completed Job is Healthy", aBatch("Job", {}, { conditions: [cond("Complete", "True")] }), "Healthy"],
    ["a failed Job is Degraded", aBatch("Job", {}, { conditions: [cond("Failed", "True", "BackoffLimitExceeded")] }), "Degraded"],
    ["a suspended Job is Suspended", aBatch("Job", { suspend: true }, { conditions: [cond("Suspended", "True", "JobSuspended")] }), "Suspended"],
    [
      "a Job asked to suspend that has not stopped yet is Progressing",
      aBatch("Job", { suspend: true }, { conditions: [cond("Suspended", "False")] }),
      "Progressing",
    ],
    [
      "a Job resumed that still reads as suspended is Progressing",
      aBatch("Job", { suspend: false }, { conditions: [cond("Suspended", "True")] }),
      "Progressing",
    ],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });

  it("says the Job is suspended by spec.suspend", () => {
    expect(objectHealth(aBatch("Job", { suspend: true }, { conditions: [cond("Suspended", "True")] })).message).toBe("job suspended (spec.suspend)");
  });
});

describe("CronJob health", () => {
  const at = (minute: number) => `2026-01-01T10:${String(minute).padStart(2, "0")}:00Z`;
  it.each<[string, Manifest, HealthState]>([
    ["a CronJob never scheduled is Healthy", aBatch("CronJob", { schedule: "* * * * *" }, {}), "Healthy"],
    [
      "a CronJob whose last run succeeded is Healthy",
      aBatch("CronJob", { schedule: "* * * * *" }, { lastScheduleTime: at(5), lastSuccessfulTime: at(6) }),
      "Healthy",
    ],
    [
      "a CronJob whose last scheduled run did not succeed is Degraded",
      aBatch("CronJob", { schedule: "* * * * *" }, { lastScheduleTime: at(6), lastSuccessfulTime: at(4) }),
      "Degraded",
    ],
    [
      "a CronJob with a run in progress is Healthy",
      aBatch("CronJob", { schedule: "* * * * *" }, { active: [{ name: "nightly-1" }], lastScheduleTime: at(6), lastSuccessfulTime: at(4) }),
      "Healthy",
    ],
    [
      "a CronJob that never succeeded yet is Healthy: its Job tells whether the first run fails",
      aBatch("CronJob", { schedule: "* * * * *" }, { lastScheduleTime: at(6) }),
      "Healthy",
    ],
    ["a suspended CronJob is Healthy: suspending the schedule holds no rollout", aBatch("CronJob", { schedule: "* * * * *", suspend: true }, {}), "Healthy"],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });

  it("still says that a CronJob's schedule is suspended", () => {
    expect(objectHealth(aBatch("CronJob", { schedule: "* * * * *", suspend: true }, {})).message).toContain("schedule suspended: spec.suspend");
  });
});
