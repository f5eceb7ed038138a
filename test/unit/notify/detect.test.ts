import { describe, expect, it } from "vitest";
import type { ApplicationDeploymentStatus, RolloutClusterStatus } from "../../../src/api/types.js";
import { type DeploymentRef, rolloutEvents, standingEvents, syncEvent } from "../../../src/notify/detect.js";

const ref: DeploymentRef = { namespace: "team-a", name: "frontend", generation: 3, uid: "u-1" };
const T0 = "2026-12-03T10:00:00.000Z";
const T1 = "2026-12-03T10:01:00.000Z";
const T2 = "2026-12-03T10:02:00.000Z";

function cluster(name: string, wave: string, state: string, batch: number, since = T1, message?: string): RolloutClusterStatus {
  return { name, wave, state, batch, batches: 3, since, revisions: [], sources: [], ...(message ? { message } : {}) };
}

/** A status in the middle of v2's rollout, with the given per-cluster states. */
function status(
  clusters: RolloutClusterStatus[],
  over: Partial<ApplicationDeploymentStatus> = {},
  rollout: Record<string, unknown> = {},
): ApplicationDeploymentStatus {
  return {
    phase: "Progressing",
    targetRevision: "v2",
    stableRevision: "v1",
    commit: "c0ffee0000000000000000000000000000000000",
    conditions: [{ type: "Ready", status: "False", reason: "Progressing", message: "v2 is rolling out" }],
    rollout: { revision: "v2", startedAt: T0, wave: "staging", batch: 1, batches: 3, state: "Progressing", since: T1, message: "", clusters, ...rollout },
    ...over,
  };
}

const paused = status([cluster("staging", "staging", "Paused", 1)], { phase: "Paused" }, { state: "Paused" });
const progressing = status([cluster("staging", "staging", "Progressing", 1, T0)]);

describe("notification events from a deployment's status", () => {
  it("starts a rollout when a status first shows a revision's rollout", () => {
    const events = rolloutEvents(ref, undefined, progressing);
    expect(events.map((e) => e.event)).toEqual(["RolloutStarted"]);
    expect(events[0]).toMatchObject({ key: "RolloutStarted/3/v2//", since: T0, time: T0, revision: "v2", stableRevision: "v1", clusters: ["staging"] });
  });

  it("tells BatchPaused once the batch pauses, keyed by generation, revision, wave and batch", () => {
    const events = rolloutEvents(ref, progressing, paused);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      event: "BatchPaused",
      key: "BatchPaused/3/v2/staging/1",
      since: T1,
      wave: "staging",
      batch: 1,
      batches: 3,
      clusters: ["staging"],
      commit: "c0ffee0000000000000000000000000000000000",
      phase: "Paused",
    });
    expect(events[0]?.message).toContain("waiting for promote");
  });

  it("finds nothing new when the status did not move, nor when only the generation changed during a pause", () => {
    expect(rolloutEvents(ref, paused, paused)).toEqual([]);
    expect(rolloutEvents({ ...ref, generation: 4 }, paused, paused)).toEqual([]);
  });

  it("groups clusters paused at the same wave and batch into one event", () => {
    const both = status([cluster("prod-eu", "production", "Paused", 1, T1), cluster("prod-us", "production", "Paused", 1, T2)], { phase: "Paused" });
    const events = standingEvents(ref, both).filter((e) => e.event === "BatchPaused");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ key: "BatchPaused/3/v2/production/1", since: T1, clusters: ["prod-eu", "prod-us"] });
  });

  it("tells RolloutFailed when the phase becomes Failed, naming the failed cluster", () => {
    const failed = status(
      [cluster("staging", "staging", "Failed", 2, T2, "deadline")],
      { phase: "Failed", conditions: [{ type: "Ready", status: "False", reason: "RolloutFailed", message: "v2 failed in staging at batch 2/3: deadline" }] },
      { state: "Failed", since: T2, batch: 2 },
    );
    const events = rolloutEvents(ref, progressing, failed);
    expect(events.map((e) => e.event)).toEqual(["RolloutFailed"]);
    expect(events[0]).toMatchObject({
      key: "RolloutFailed/3/v2/staging/2",
      since: T2,
      clusters: ["staging"],
      message: "v2 failed in staging at batch 2/3: deadline",
    });
  });

  it("tells RolledBack (and RolloutFailed) when the controller rolls the target back", () => {
    const rolled = status(
      [cluster("staging", "staging", "RolledBack", 1, T2, "staging: batch 1/3 missed its deadline")],
      { phase: "Failed" },
      { state: "RolledBack", since: T2 },
    );
    const events = rolloutEvents(ref, progressing, rolled);
    expect(events.map((e) => e.event).sort()).toEqual(["RolledBack", "RolloutFailed"]);
    const back = events.find((e) => e.event === "RolledBack");
    expect(back).toMatchObject({ key: "RolledBack/3/v2/staging/1", clusters: ["staging"] });
    expect(back?.message).toContain("rolled back on staging: staging: batch 1/3 missed its deadline");
  });

  it("tells RolloutFailed for a spec that does not render (phase Failed without a failed cluster)", () => {
    const invalid = status([], { phase: "Failed", conditions: [{ type: "Ready", status: "False", reason: "InvalidSpec", message: "spec.x: bad" }] });
    expect(rolloutEvents(ref, progressing, invalid).map((e) => [e.event, e.message])).toEqual([["RolloutFailed", "spec.x: bad"]]);
  });

  it("tells RolloutCompleted when the target is stable and Healthy, not while it is still becoming healthy", () => {
    const completedButNotHealthy = status(
      [cluster("staging", "staging", "Completed", 3, T2)],
      { phase: "Progressing" },
      { state: "Completed", since: T2, batch: 3 },
    );
    const done = { ...completedButNotHealthy, phase: "Healthy" as const, stableRevision: "v2" };
    expect(rolloutEvents(ref, progressing, completedButNotHealthy)).toEqual([]);
    const events = rolloutEvents(ref, completedButNotHealthy, done);
    expect(events.map((e) => e.event)).toEqual(["RolloutCompleted"]);
    expect(events[0]).toMatchObject({ key: "RolloutCompleted/3/v2//", since: T2, stableRevision: "v2", clusters: ["staging"] });
  });

  it("treats a retried rollout that pauses again at the same batch as a new occurrence (its step time differs)", () => {
    const again = status([cluster("staging", "staging", "Paused", 1, T2)], { phase: "Paused" }, { state: "Paused" });
    const [e] = rolloutEvents(ref, progressing, again);
    expect(e).toMatchObject({ key: "BatchPaused/3/v2/staging/1", since: T2 });
  });

  it("starts a new rollout for an in-place update, keyed by the generation that started it", () => {
    const done = status([cluster("staging", "staging", "Completed", 1, T1)], { phase: "Healthy", stableRevision: "v2" }, { state: "Completed" });
    const update = status([cluster("staging", "staging", "Progressing", 1, T2)], {}, { state: "Progressing", update: 5, since: T2 });
    const events = rolloutEvents({ ...ref, generation: 5 }, done, update);
    expect(events.map((e) => [e.event, e.key, e.time])).toEqual([["RolloutStarted", "RolloutStarted/5/v2//", T2]]);
  });

  it("finds nothing in a status without a rollout", () => {
    expect(standingEvents(ref, undefined)).toEqual([]);
    expect(standingEvents(ref, { phase: "Pending" })).toEqual([]);
  });

  it.each([
    ["SyncFailed", "SyncFailed/3/prod-eu/abcdef012345"],
    ["DriftCorrected", "DriftCorrected/3/prod-eu/abcdef012345"],
  ])("makes a %s sync event keyed per cluster and commit", (type, key) => {
    const e = syncEvent(ref, paused, { type, cluster: "prod-eu", commit: "abcdef0123456789", message: "Deployment/team-a/web: refused" }, new Date(T2));
    expect(e).toMatchObject({
      event: type,
      key,
      time: T2,
      clusters: ["prod-eu"],
      commit: "abcdef0123456789",
      message: "prod-eu: Deployment/team-a/web: refused",
    });
    expect(e?.since).toBeUndefined();
  });

  it("ignores the sync events no Notification can ask for", () => {
    expect(syncEvent(ref, paused, { type: "Synced", cluster: "prod-eu", commit: "abc", message: "" }, new Date(T2))).toBeUndefined();
  });
});
