import { describe, expect, it } from "vitest";
import type { RolloutSpec } from "../../../src/api/types.js";
import { aDeployment, aRevision, aWave } from "../builders.js";
import { commitLog, FakeFleet, Harness, persisted, replicasOf, STAGING_CLUSTER, singleStaging, T0 } from "./planner-builders.js";

const staging = STAGING_CLUSTER;

/** One staging cluster running v1 (10 replicas), rolling out v2 with `rollout`. */
function single(rollout: RolloutSpec): Harness {
  return singleStaging(rollout, new FakeFleet());
}

describe("planRollout: batches in one cluster", () => {
  it("moves the target through cumulative batches, scaling the source down, and completes", () => {
    const h = single({ batches: [{ replicas: 1 }, { replicas: "50%" }, { replicas: "100%" }] });
    const plans = h.run({ until: (p) => p.phase === "Healthy" });
    expect(plans.filter((p) => p.changed).map((p) => replicasOf(p, "stage-1"))).toEqual([
      { v1: 9, v2: 1 },
      { v1: 5, v2: 5 },
      { v1: 0, v2: 10 },
      { v1: 0, v2: 10 },
    ]);
    expect(commitLog(plans)).toEqual([
      "v2 supersedes v1; v2 batch 1/3 in wave staging (stage-1)",
      "v2 batch 2/3 in wave staging (stage-1)",
      "v2 batch 3/3 in wave staging (stage-1)",
      "v2 completed in wave staging (stage-1)",
    ]);
    const last = plans[plans.length - 1];
    expect(last?.targets[0]?.releaseReplicasToAutoscaler).toBe(true);
    expect(last?.state).toMatchObject({ revision: "v2", state: "Completed", batch: 3, batches: 3, wave: "staging" });
    expect(plans.slice(0, -1).every((p) => p.targets[0]?.releaseReplicasToAutoscaler === false)).toBe(true);
  });

  it("defaults to one batch of 100%", () => {
    const h = single({});
    const first = h.step();
    expect(replicasOf(first, "stage-1")).toEqual({ v1: 0, v2: 10 });
    expect(first.summary).toBe("v2 supersedes v1; v2 batch 1/1 in wave staging (stage-1)");
  });

  it("rolls out a first revision to an empty cluster", () => {
    const deployment = aDeployment()
      .withRevision(aRevision("v1").withReplicas(4).withBatches(2, 4))
      .withWave(aWave("staging").selectingLabel("usage", "staging"))
      .build();
    const h = new Harness({ deployment, clusters: [staging] });
    const plans = h.run({ until: (p) => p.phase === "Healthy" });
    expect(plans.filter((p) => p.changed).map((p) => replicasOf(p, "stage-1"))).toEqual([{ v1: 2 }, { v1: 4 }, { v1: 4 }]);
    expect(commitLog(plans)[0]).toBe("v1 batch 1/2 in wave staging (stage-1)");
  });

  it("takes over a cluster already running the target without scaling it down", () => {
    const deployment = aDeployment()
      .withRevision(aRevision("v1").withReplicas(10).withBatches(1, "100%"))
      .withWave(aWave("staging").selectingLabel("usage", "staging"))
      .build();
    const h = new Harness({ deployment, clusters: [staging], fleet: new FakeFleet().seed("stage-1", { v1: 10 }) });
    const plans = h.run({ max: 5 });
    expect(plans.every((p) => replicasOf(p, "stage-1")?.v1 === 10)).toBe(true);
  });

  it("waits for healthy replicas of the batch before the next one", () => {
    const h = single({ batches: [{ replicas: 2 }, { replicas: "100%" }] });
    h.fleet.lagging.add("stage-1");
    h.step();
    const waiting = h.run({ max: 3 });
    expect(waiting.every((p) => !p.changed && p.waitingFor === "healthy replicas" && p.phase === "Progressing")).toBe(true);
    expect(waiting[0]?.message).toMatch(/stage-1: waiting for the batch's commit to be applied/);
    h.fleet.lagging.delete("stage-1");
    h.fleet.apply(h.plans[h.plans.length - 1]?.targets ?? []);
    expect(h.step().summary).toBe("v2 batch 2/2 in wave staging (stage-1)");
  });
});

describe("planRollout: pause and promote", () => {
  it("stays paused until promoted, then consumes the annotation and continues", () => {
    const h = single({ batches: [{ replicas: 1, pause: true }, { replicas: "100%" }] });
    h.step();
    const paused = h.run({ max: 3, tick: "1h" });
    expect(paused.map((p) => [p.phase, p.waitingFor, p.changed, p.state.state])).toEqual([
      ["Paused", "promote", false, "Paused"],
      ["Paused", "promote", false, "Paused"],
      ["Paused", "promote", false, "Paused"],
    ]);
    expect(paused[0]?.requeueAfterMs).toBeUndefined();
    h.annotate("flotilla.dev/promote");
    const promoted = h.step();
    expect(promoted.consumedAnnotations).toEqual(["flotilla.dev/promote"]);
    expect(promoted.summary).toBe("v2 batch 2/2 in wave staging (stage-1)");
    expect(replicasOf(promoted, "stage-1")).toEqual({ v1: 0, v2: 10 });
    expect(h.deployment.metadata.annotations?.["flotilla.dev/promote"]).toBeUndefined();
  });

  it("consumes a promote given before the pause without approving it", () => {
    const h = single({ batches: [{ replicas: 1, pause: true }, { replicas: "100%" }] });
    h.annotate("flotilla.dev/promote");
    const first = h.step();
    expect(first.consumedAnnotations).toEqual(["flotilla.dev/promote"]);
    expect(first.message).toMatch(/flotilla.dev\/promote ignored: no batch is paused/);
    expect(h.step().phase).toBe("Paused");
  });

  it("pauses after the last batch too, completing on promote", () => {
    const h = single({ batches: [{ replicas: "100%", pause: true }] });
    h.step();
    expect(h.step().phase).toBe("Paused");
    h.annotate("flotilla.dev/promote");
    const done = h.step();
    expect(done.summary).toBe("v2 completed in wave staging (stage-1)");
    expect(done.phase).toBe("Healthy");
  });
});

describe("planRollout: soak", () => {
  it("soaks for the batch's wait after it is healthy, reporting what is left", () => {
    const h = single({ batches: [{ replicas: 5, wait: "30s" }, { replicas: "100%" }] });
    h.step(); // batch 1 committed; the fleet syncs at once
    h.clock.advance("5s");
    const soaking = h.step(); // healthy now: the soak starts here
    expect([soaking.waitingFor, soaking.requeueAfterMs, soaking.state.state, soaking.changed]).toEqual(["soak 30s", 30_000, "Soaking", false]);
    h.clock.advance("20s");
    expect([h.step().waitingFor, h.plans[h.plans.length - 1]?.requeueAfterMs]).toEqual(["soak 10s", 10_000]);
    h.clock.advance("9999ms");
    expect(h.step().changed).toBe(false);
    h.clock.advance(1);
    expect(h.step().summary).toBe("v2 batch 2/2 in wave staging (stage-1)");
  });

  it("goes back to waiting for health when the batch turns unhealthy while soaking", () => {
    const h = single({ batches: [{ replicas: 5, wait: "1m" }, { replicas: "100%" }] });
    h.step();
    h.step();
    // Its pods stop being ready (the cluster still reports, at the batch's commit).
    h.fleet.broken.add("v2");
    h.fleet.apply(h.plans[0]?.targets ?? []);
    const back = h.step();
    expect([back.state.state, back.waitingFor]).toEqual(["Progressing", "healthy replicas"]);
    expect(back.state.clusters[0]?.message).toMatch(/stage-1: v2 0\/5 ready \(Degraded\)/);
  });

  it("keeps soaking while the cluster is not seen at the batch's commit (nothing is known about the batch then)", () => {
    const h = single({ batches: [{ replicas: 5, wait: "1m" }, { replicas: "100%" }] });
    h.step();
    h.step();
    h.fleet.lagging.add("stage-1");
    h.fleet.apply(h.plans[0]?.targets ?? []);
    const blind = h.step();
    expect([blind.state.state, blind.waitingFor, blind.changed]).toEqual(["Soaking", "sync", false]);
  });
});

describe("planRollout: analysis", () => {
  it("advances when the success condition holds", () => {
    const h = single({ batches: [{ replicas: 5 }, { replicas: "100%" }], analysis: { successCondition: "revision.readyReplicas == revision.replicas" } });
    h.step();
    const next = h.step();
    expect(next.summary).toBe("v2 batch 2/2 in wave staging (stage-1)");
    expect(next.state.analysis).toMatchObject({ cluster: "stage-1", batch: 1, result: "Successful", at: new Date(T0).toISOString() });
  });

  it("keeps analysing until the success condition holds, at the analysis interval", () => {
    const h = single({ batches: [{ replicas: 5 }, { replicas: "100%" }], analysis: { successCondition: "elapsed >= 60", interval: "15s" } });
    h.step();
    const running = h.step();
    expect([running.waitingFor, running.state.state, running.requeueAfterMs, running.state.analysis?.result]).toEqual([
      "analysis",
      "Analyzing",
      15_000,
      "Running",
    ]);
    h.clock.advance("59s");
    expect(h.step().changed).toBe(false);
    h.clock.advance("1s");
    expect(h.step().summary).toBe("v2 batch 2/2 in wave staging (stage-1)");
  });

  it("fails the rollout when the failure condition holds", () => {
    const h = single({ batches: [{ replicas: 5 }, { replicas: "100%" }], analysis: { failureCondition: "revision.restarts > 3" } });
    h.fleet.restarts.set("v2", 4);
    h.step();
    const failed = h.step();
    expect([failed.phase, failed.state.state, failed.changed]).toEqual(["Failed", "Failed", false]);
    expect(failed.message).toMatch(/v2 failed in stage-1: batch 1\/2: failureCondition revision.restarts > 3 holds/);
    expect(failed.state.analysis?.result).toBe("Failed");
    expect(replicasOf(failed, "stage-1")).toEqual({ v1: 5, v2: 5 });
  });

  it("fails on the failure condition already during the soak", () => {
    const h = single({ batches: [{ replicas: 5, wait: "10m" }, { replicas: "100%" }], analysis: { failureCondition: "revision.restarts > 3" } });
    h.step();
    expect(h.step().state.state).toBe("Soaking");
    h.fleet.restarts.set("v2", 9);
    h.fleet.apply(h.plans[0]?.targets ?? []);
    expect(h.step().phase).toBe("Failed");
  });

  it("fails when the success condition still does not hold at the progress deadline", () => {
    const h = single({ batches: [{ replicas: 5 }, { replicas: "100%" }], analysis: { successCondition: "false" }, progressDeadline: "2m" });
    h.step();
    const waiting = h.step();
    expect(waiting.requeueAfterMs).toBe(10_000);
    h.clock.advance("118s");
    expect(h.step().requeueAfterMs).toBe(2000);
    h.clock.advance("2s");
    const failed = h.step();
    expect(failed.phase).toBe("Failed");
    expect(failed.message).toMatch(/analysis did not succeed within progressDeadline 2m/);
  });

  it("fails at once on an expression that does not compile", () => {
    const h = single({ batches: [{ replicas: 5 }, { replicas: "100%" }], analysis: { successCondition: "revision.replicas >" } });
    h.step();
    const failed = h.step();
    expect(failed.phase).toBe("Failed");
    expect(failed.message).toMatch(/spec.appRevisions\[1\].rollout.analysis.successCondition/);
  });
});

describe("planRollout: progress deadline and rollback", () => {
  const broken = (autoRollback: boolean) => {
    const h = single({ batches: [{ replicas: 2 }, { replicas: "100%" }], progressDeadline: "5m", autoRollback });
    h.fleet.broken.add("v2");
    return h;
  };

  it("reports Degraded while the target is unhealthy and requeues at the deadline", () => {
    const h = broken(false);
    h.step();
    const waiting = h.step();
    expect([waiting.phase, waiting.waitingFor, waiting.requeueAfterMs]).toEqual(["Degraded", "healthy replicas", 300_000]);
    expect(waiting.message).toMatch(/stage-1: v2 0\/2 ready \(Degraded\)/);
  });

  it("stops where it is, Failed, without autoRollback", () => {
    const h = broken(false);
    h.step();
    h.clock.advance("5m");
    const failed = h.step();
    expect([failed.phase, failed.changed, failed.summary]).toEqual(["Failed", false, ""]);
    expect(failed.message).toMatch(/batch 1\/2 not healthy within progressDeadline 5m/);
    expect(replicasOf(failed, "stage-1")).toEqual({ v1: 8, v2: 2 });
    h.clock.advance("1h");
    const later = h.step();
    expect([later.phase, later.changed]).toEqual(["Failed", false]);
  });

  it("rolls back with autoRollback: the target to 0 and the source restored", () => {
    const h = broken(true);
    h.step();
    h.clock.advance("5m");
    const rolled = h.step();
    expect([rolled.phase, rolled.changed, rolled.state.state]).toEqual(["Failed", true, "RolledBack"]);
    expect(replicasOf(rolled, "stage-1")).toEqual({ v1: 10, v2: 0 });
    expect(rolled.summary).toMatch(/^v2 rolled back in wave staging \(stage-1\): stage-1: batch 1\/2 not healthy within progressDeadline 5m/);
    expect(h.step().changed).toBe(false);
  });
});

describe("planRollout: steady state", () => {
  it("returns the same targets and no step once everything is rolled out and healthy", () => {
    const h = single({ batches: [{ replicas: 5 }, { replicas: "100%" }] });
    h.run({ until: (p) => p.phase === "Healthy" });
    const done = h.plans[h.plans.length - 1];
    const again = h.run({ max: 3, tick: "1h" });
    for (const p of again) {
      expect([p.changed, p.summary, p.phase, p.consumedAnnotations]).toEqual([false, "", "Healthy", []]);
      expect(p.targets).toEqual(done?.targets);
      expect(p.requeueAfterMs).toBeUndefined();
    }
    expect(again[2]?.state.since).toBe(done?.state.since);
  });

  it("applies a later change of rollout.replicas to a completed rollout", () => {
    const h = single({});
    h.run({ until: (p) => p.phase === "Healthy" });
    const rev = h.deployment.spec.appRevisions[1];
    if (rev?.rollout) rev.rollout.replicas = 12;
    const scaled = h.step();
    expect([scaled.changed, scaled.summary]).toEqual([true, "v2: replicas updated"]);
    expect(replicasOf(scaled, "stage-1")).toEqual({ v1: 0, v2: 12 });
  });

  it("prunes a revision removed from appRevisions", () => {
    const h = single({});
    h.run({ until: (p) => p.phase === "Healthy" });
    h.deployment.spec.appRevisions.shift();
    const pruned = h.step();
    expect(pruned.changed).toBe(true);
    expect(replicasOf(pruned, "stage-1")).toEqual({ v2: 10 });
  });

  it("persists a state that survives the status schema untouched", () => {
    const h = single({ batches: [{ replicas: 5, wait: "1m" }, { replicas: "100%" }], analysis: { successCondition: "true" } });
    for (const p of h.run({ max: 6, tick: "30s" })) expect(persisted(p.state)).toEqual(JSON.parse(JSON.stringify(p.state)));
  });
});
