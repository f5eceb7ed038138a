import { describe, expect, it } from "vitest";
import type { ApplicationDeployment, Cluster, RolloutSpec } from "../../../src/api/types.js";
import { aCluster, aDeployment, aRevision, aWave } from "../builders.js";
import { planRollout } from "../../../src/rollout/planner.js";
import { commitLog, Harness, replicasOf } from "./planner-builders.js";

const stage = aCluster("stage-1").withLabel("usage", "staging").build();
const prodEu = aCluster("prod-eu").withLabel("usage", "production").build();
const prodUs = aCluster("prod-us").withLabel("usage", "production").build();
const prodAp = aCluster("prod-ap").withLabel("usage", "production").build();

function twoWaves(rollout: RolloutSpec, options: { maxConcurrency?: number; divided?: Record<string, number> } = {}): ApplicationDeployment {
  const v2 = aRevision("v2").build();
  v2.rollout = { replicas: 10, ...rollout };
  const production = aWave("production").selectingLabel("usage", "production").build();
  if (options.maxConcurrency) production.maxConcurrency = options.maxConcurrency;
  if (options.divided) production.distribution = { mode: "Divided", weights: options.divided };
  return aDeployment()
    .withRevision(aRevision("v1").withReplicas(10))
    .withRevision(v2)
    .withWave(aWave("staging").selectingLabel("usage", "staging"))
    .withWave(production)
    .build();
}

/** A fleet running v1 at 10 everywhere, reached by running v1's own rollout to the end. */
function fleetOnV1(deployment: ApplicationDeployment, clusters: Cluster[]): Harness {
  const v1Only = structuredClone(deployment);
  v1Only.spec.appRevisions = v1Only.spec.appRevisions.slice(0, 1);
  const h = new Harness({ deployment: v1Only, clusters });
  h.run({ until: (p) => p.phase === "Healthy" });
  h.deployment = structuredClone(deployment);
  return h;
}

describe("planRollout: waves", () => {
  it("rolls out wave by wave, starting production only when staging completed", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: "50%" }, { replicas: "100%" }] }), [stage, prodEu, prodUs]);
    const plans = h.run({ until: (p) => p.phase === "Healthy" });
    expect(commitLog(plans)).toEqual([
      "v2 supersedes v1; v2 batch 1/2 in wave staging (stage-1)",
      "v2 batch 2/2 in wave staging (stage-1)",
      "v2 completed in wave staging (stage-1); v2 batch 1/2 in wave production (prod-eu, prod-us)",
      "v2 batch 2/2 in wave production (prod-eu, prod-us)",
      "v2 completed in wave production (prod-eu, prod-us)",
    ]);
    const beforeProduction = plans.filter((p) => p.state.wave === "staging");
    expect(beforeProduction.every((p) => replicasOf(p, "prod-eu")?.v2 === undefined && replicasOf(p, "prod-eu")?.v1 === 10)).toBe(true);
    expect(plans.find((p) => p.state.wave === "production")?.state).toMatchObject({ wave: "production", batch: 1, batches: 2 });
  });

  it("never touches production while staging fails and rolls back", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: "50%" }, { replicas: "100%" }], progressDeadline: "1m", autoRollback: true }), [
      stage,
      prodEu,
      prodUs,
    ]);
    h.fleet.broken.add("v2");
    const plans = h.run({ max: 10, tick: "20s" });
    for (const p of plans) {
      expect(replicasOf(p, "prod-eu")).toEqual({ v1: 10 });
      expect(replicasOf(p, "prod-us")).toEqual({ v1: 10 });
    }
    const last = plans.at(-1);
    if (!last) throw new Error("the planner made no plan");
    expect(last.phase).toBe("Failed");
    expect(replicasOf(last, "stage-1")).toEqual({ v1: 10, v2: 0 });
    expect(last.state.clusters.map((c) => [c.name, c.state])).toEqual([
      ["stage-1", "RolledBack"],
      ["prod-eu", "Pending"],
      ["prod-us", "Pending"],
    ]);
  });

  it("limits the clusters of a wave in flight to maxConcurrency, in name order", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: "50%" }, { replicas: "100%" }] }, { maxConcurrency: 2 }), [stage, prodEu, prodUs, prodAp]);
    const plans = h.run({ until: (p) => p.phase === "Healthy" });
    for (const p of plans) {
      const inFlight = p.state.clusters.filter((c) => c.wave === "production" && !["Pending", "Completed"].includes(c.state));
      expect(inFlight.length).toBeLessThanOrEqual(2);
    }
    expect(commitLog(plans).filter((s) => s.includes("batch 1/2 in wave production"))).toEqual([
      "v2 completed in wave staging (stage-1); v2 batch 1/2 in wave production (prod-ap, prod-eu)",
      "v2 completed in wave production (prod-ap, prod-eu); v2 batch 1/2 in wave production (prod-us)",
    ]);
    // While prod-eu runs batch 1 (5 of 10 on v2), prod-us, the third cluster, has not been touched.
    const waiting = plans.filter((p) => replicasOf(p, "prod-eu")?.v2 === 5);
    expect(waiting.length).toBeGreaterThan(0);
    for (const p of waiting) expect(replicasOf(p, "prod-us")).toEqual({ v1: 10 });
  });

  it("divides rollout.replicas over a Divided wave by weight", () => {
    const h = fleetOnV1(twoWaves({}, { divided: { "prod-eu": 2, "prod-us": 1 } }), [stage, prodEu, prodUs]);
    const last = h.run({ until: (p) => p.phase === "Healthy" }).pop();
    expect(replicasOf(last!, "stage-1")).toEqual({ v1: 0, v2: 10 });
    expect(replicasOf(last!, "prod-eu")?.v2).toBe(7);
    expect(replicasOf(last!, "prod-us")?.v2).toBe(3);
  });

  it("rolls a cluster that joins a completed wave through the batches, from nothing", () => {
    const deployment = twoWaves({ batches: [{ replicas: 1, pause: true }, { replicas: "100%" }] });
    const h = fleetOnV1(deployment, [stage, prodEu]);
    h.run({ max: 3 });
    h.annotate("flotilla.dev/promote");
    h.run({ max: 3 });
    h.annotate("flotilla.dev/promote");
    expect(h.run({ until: (p) => p.phase === "Healthy" }).pop()?.phase).toBe("Healthy");
    h.clusters = [...h.clusters, prodUs];
    const joined = h.step();
    expect(joined.summary).toBe("prod-us joined wave production; v2 batch 1/2 in wave production (prod-us)");
    expect(replicasOf(joined, "prod-us")).toEqual({ v2: 1 });
    expect(replicasOf(joined, "prod-eu")).toEqual({ v1: 0, v2: 10 });
    expect(h.step().phase).toBe("Paused");
  });

  it("holds an unreachable cluster at its first batch, saying so, while the rest of the wave goes on; it completes once it answers", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: "50%" }, { replicas: "100%" }] }, { maxConcurrency: 1 }), [stage, prodEu, prodUs]);
    h.fleet.unreachable.add("prod-us");
    const held = h.run({ max: 12 });
    expect(commitLog(held)).toEqual([
      "v2 supersedes v1; v2 batch 1/2 in wave staging (stage-1)",
      "v2 batch 2/2 in wave staging (stage-1)",
      "v2 completed in wave staging (stage-1); v2 batch 1/2 in wave production (prod-eu)",
      "v2 batch 2/2 in wave production (prod-eu)",
      "v2 completed in wave production (prod-eu); v2 batch 1/2 in wave production (prod-us)",
    ]);
    const last = held[held.length - 1]!;
    expect(last.phase).toBe("Progressing");
    expect(last.state.clusters.find((c) => c.name === "prod-us")).toMatchObject({
      state: "Progressing",
      batch: 1,
      message: "prod-us: cluster is unreachable; the batch is applied when it answers again",
    });
    expect(last.message).toContain("prod-us: cluster is unreachable");
    h.fleet.unreachable.delete("prod-us");
    h.fleet.apply(last.targets);
    const after = h.run({ until: (p) => p.phase === "Healthy" });
    expect(commitLog(after)).toEqual(["v2 batch 2/2 in wave production (prod-us)", "v2 completed in wave production (prod-us)"]);
  });

  it("drops a cluster that leaves the placement", () => {
    const h = fleetOnV1(twoWaves({}), [stage, prodEu, prodUs]);
    h.run({ until: (p) => p.phase === "Healthy" });
    h.clusters = [stage, prodEu];
    const left = h.step();
    expect(left.changed).toBe(true);
    expect(left.summary).toBe("prod-us left the placement");
    expect(left.targets.map((t) => t.cluster)).toEqual(["stage-1", "prod-eu"]);
  });
});

describe("planRollout: controls", () => {
  it("rolls back every cluster the rollout touched on abort", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: "50%", pause: true }, { replicas: "100%" }] }), [stage, prodEu]);
    h.run({ max: 2 });
    h.annotate("flotilla.dev/abort");
    const aborted = h.step();
    expect(aborted.consumedAnnotations).toEqual(["flotilla.dev/abort"]);
    expect([aborted.phase, aborted.changed]).toEqual(["Failed", true]);
    expect(aborted.summary).toBe("v2 rolled back in wave staging (stage-1): aborted by flotilla.dev/abort");
    expect(replicasOf(aborted, "stage-1")).toEqual({ v1: 10, v2: 0 });
    expect(replicasOf(aborted, "prod-eu")).toEqual({ v1: 10 });
  });

  it("ignores an abort with nothing to roll back, and consumes it", () => {
    const h = fleetOnV1(twoWaves({}), [stage]);
    h.run({ until: (p) => p.phase === "Healthy" });
    h.deployment.spec.appRevisions.push({ ...structuredClone(h.deployment.spec.appRevisions[1]!), name: "v3" });
    h.fleet.lagging.add("stage-1");
    h.annotate("flotilla.dev/abort");
    const plan = h.step();
    expect(plan.consumedAnnotations).toEqual(["flotilla.dev/abort"]);
    expect(plan.state.clusters[0]?.state).toBe("Progressing");
  });

  it("restarts a failed rollout from its first batch on retry", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: 2 }, { replicas: 6 }, { replicas: "100%" }], progressDeadline: "1m" }), [stage]);
    h.step();
    h.fleet.broken.add("v2");
    h.step();
    h.run({ max: 6, tick: "30s", until: (p) => p.phase === "Failed" });
    expect(replicasOf(h.plans[h.plans.length - 1]!, "stage-1")).toEqual({ v1: 4, v2: 6 });
    h.fleet.broken.delete("v2");
    h.annotate("flotilla.dev/retry");
    const retried = h.step();
    expect(retried.consumedAnnotations).toEqual(["flotilla.dev/retry"]);
    expect(retried.summary).toBe("v2 retried from batch 1; v2 batch 1/3 in wave staging (stage-1)");
    expect(replicasOf(retried, "stage-1")).toEqual({ v1: 8, v2: 2 });
    expect(retried.phase).toBe("Progressing");
    expect(h.run({ until: (p) => p.phase === "Healthy" }).pop()?.phase).toBe("Healthy");
  });

  it("retries after an automatic rollback", () => {
    const h = fleetOnV1(twoWaves({ progressDeadline: "1m", autoRollback: true }), [stage]);
    h.fleet.broken.add("v2");
    h.run({ max: 6, tick: "30s", until: (p) => p.state.state === "RolledBack" });
    h.fleet.broken.delete("v2");
    h.annotate("flotilla.dev/retry");
    expect(replicasOf(h.step(), "stage-1")).toEqual({ v1: 0, v2: 10 });
  });

  it("ignores a retry when nothing failed", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: 5, pause: true }, { replicas: 10 }] }), [stage]);
    h.run({ max: 2 });
    h.annotate("flotilla.dev/retry");
    const plan = h.step();
    expect([plan.consumedAnnotations, plan.changed, plan.phase]).toEqual([["flotilla.dev/retry"], false, "Paused"]);
    expect(plan.message).toMatch(/flotilla.dev\/retry ignored: the rollout has not failed/);
  });

  it("pauses on spec.suspend without changing anything, and does not count the pause against deadlines", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: 5 }, { replicas: 10 }], progressDeadline: "2m" }), [stage]);
    h.fleet.lagging.add("stage-1");
    const first = h.step();
    h.deployment.spec.suspend = true;
    h.annotate("flotilla.dev/promote");
    h.clock.advance("1m");
    const paused = h.run({ max: 3, tick: "10m" });
    for (const p of paused) {
      expect([p.phase, p.changed, p.consumedAnnotations, p.state.state]).toEqual(["Paused", false, [], "Suspended"]);
      expect(p.targets).toEqual(first.targets);
    }
    expect(paused[2]?.state.since).toBe(paused[0]?.state.since);
    h.deployment.spec.suspend = false;
    const resumed = h.step();
    expect([resumed.phase, resumed.waitingFor]).toEqual(["Progressing", "healthy replicas"]);
    expect(resumed.requeueAfterMs).toBe(60_000);
  });

  it("supersedes a running rollout with a newer revision at once", () => {
    const h = fleetOnV1(twoWaves({ batches: [{ replicas: 4, pause: true }, { replicas: 10 }] }), [stage]);
    h.run({ max: 2 });
    expect(replicasOf(h.plans[h.plans.length - 1]!, "stage-1")).toEqual({ v1: 6, v2: 4 });
    const v3 = aRevision("v3").build();
    v3.rollout = { replicas: 10, batches: [{ replicas: 5 }, { replicas: 10 }] };
    h.deployment.spec.appRevisions.push(v3);
    const superseded = h.step();
    expect(superseded.summary).toBe("v3 supersedes v2; v3 batch 1/2 in wave staging (stage-1)");
    // 5 of v3 come from the oldest source first: v1 6 → 1, v2 keeps 4.
    expect(replicasOf(superseded, "stage-1")).toEqual({ v1: 1, v2: 4, v3: 5 });
    expect(superseded.state.clusters[0]?.sources).toEqual([
      { name: "v1", replicas: 6 },
      { name: "v2", replicas: 4 },
    ]);
    expect(h.run({ until: (p) => p.phase === "Healthy" }).pop()?.targets[0]?.revisions).toEqual([
      { name: "v1", replicas: 0 },
      { name: "v2", replicas: 0 },
      { name: "v3", replicas: 10 },
    ]);
  });

  it("lets a newer revision replace a failed one", () => {
    const h = fleetOnV1(twoWaves({ progressDeadline: "1m", autoRollback: true }), [stage]);
    h.fleet.broken.add("v2");
    h.run({ max: 6, tick: "30s", until: (p) => p.phase === "Failed" });
    h.deployment.spec.appRevisions.push({ ...structuredClone(h.deployment.spec.appRevisions[1]!), name: "v3" });
    const next = h.step();
    expect(next.phase).toBe("Progressing");
    expect(replicasOf(next, "stage-1")).toEqual({ v1: 0, v2: 0, v3: 10 });
  });
});

describe("planRollout: resume after a restart", () => {
  const scenario = () =>
    twoWaves(
      { batches: [{ replicas: 1, pause: true }, { replicas: "50%", wait: "30s" }, { replicas: "100%" }], analysis: { successCondition: "elapsed >= 20" } },
      { maxConcurrency: 1 },
    );

  /** A fixed script of clock ticks and promotes, so two runs see the same world. */
  function drive(h: Harness): string[] {
    const log: string[] = [];
    for (let i = 0; i < 40; i++) {
      if (i % 5 === 4) h.annotate("flotilla.dev/promote");
      const plan = h.step();
      if (plan.changed) log.push(plan.summary);
      log.push(`${plan.phase}|${plan.waitingFor ?? ""}|${plan.requeueAfterMs ?? ""}|${plan.state.wave}|${plan.state.batch}|${plan.state.state}`);
      h.clock.advance("10s");
    }
    return log;
  }

  it("gives the same sequence of steps from persisted status as an uninterrupted run", () => {
    const memory = fleetOnV1(scenario(), [stage, prodEu, prodUs]);
    memory.throughStatus = false;
    // Every call of this one starts like a freshly restarted controller: state only from status.
    const restarted = fleetOnV1(scenario(), [stage, prodEu, prodUs]);
    const uninterrupted = drive(memory);
    expect(drive(restarted)).toEqual(uninterrupted);
    expect(uninterrupted.filter((l) => !l.includes("|"))).toEqual([
      "v2 supersedes v1; v2 batch 1/3 in wave staging (stage-1)",
      "v2 batch 2/3 in wave staging (stage-1)",
      "v2 batch 3/3 in wave staging (stage-1)",
      "v2 completed in wave staging (stage-1); v2 batch 1/3 in wave production (prod-eu)",
      "v2 batch 2/3 in wave production (prod-eu)",
      "v2 batch 3/3 in wave production (prod-eu)",
      "v2 completed in wave production (prod-eu); v2 batch 1/3 in wave production (prod-us)",
      "v2 batch 2/3 in wave production (prod-us)",
      "v2 batch 3/3 in wave production (prod-us)",
      "v2 completed in wave production (prod-us)",
    ]);
    expect(uninterrupted[uninterrupted.length - 1]).toMatch(/^Healthy\|/);
  });

  it("computes step N+1 again, identically, when step N's state is fed in again (a crash before persisting)", () => {
    const h = fleetOnV1(scenario(), [stage, prodEu, prodUs]);
    const first = h.inputs.length;
    drive(h);
    for (let i = first; i < h.inputs.length; i++) {
      const replay = planRollout(structuredClone(h.inputs[i]!));
      const original = h.plans[i]!;
      expect({ summary: replay.summary, targets: replay.targets, state: replay.state, phase: replay.phase }).toEqual({
        summary: original.summary,
        targets: original.targets,
        state: original.state,
        phase: original.phase,
      });
    }
  });

  // A restarted controller plans before its sync workers have reported: the clusters are not
  // synced and report nothing. That must not be read as a verdict on the batch in flight.
  const restartedMidBatch = (rollout: RolloutSpec, until: (h: Harness) => boolean): Harness => {
    const h = fleetOnV1(twoWaves(rollout), [stage, prodEu]);
    for (let i = 0; i < 30 && !until(h); i++) {
      h.step();
      if (!until(h)) h.clock.advance("1s");
    }
    expect(until(h)).toBe(true);
    return h;
  };
  const stateOf = (h: Harness, cluster: string) => h.previous?.clusters?.find((c) => c.name === cluster);

  it("keeps a soak's clock while a restarted controller has not seen the cluster yet", () => {
    const h = restartedMidBatch(
      { batches: [{ replicas: 1 }, { replicas: "50%", wait: "30s" }, { replicas: "100%" }] },
      (x) => stateOf(x, "stage-1")?.state === "Soaking",
    );
    const soakingSince = stateOf(h, "stage-1")?.since;
    h.clock.advance("10s");
    h.fleet.unobserved.add("stage-1");
    const blind = h.step();
    expect(blind.changed).toBe(false);
    expect(blind.waitingFor).toBe("sync");
    expect(stateOf(h, "stage-1")).toMatchObject({ state: "Soaking", since: soakingSince });
    // Seen again 21 s later: the soak that began before the restart has ended, so batch 3 goes out.
    h.fleet.unobserved.delete("stage-1");
    h.clock.advance("21s");
    expect(h.step().summary).toBe("v2 batch 3/3 in wave staging (stage-1)");
  });

  it("does not pass an analysis on a cluster a restarted controller has not seen yet", () => {
    const h = restartedMidBatch(
      { batches: [{ replicas: 2 }, { replicas: "100%" }], analysis: { successCondition: "revision.restarts == 0 && elapsed >= 60" }, progressDeadline: "10m" },
      (x) => stateOf(x, "stage-1")?.state === "Analyzing",
    );
    // The canary crash-loops (ready, but restarting); a blind look would see 0 restarts and pass it.
    h.fleet.restarts.set("v2", 5);
    h.fleet.apply(h.plans.at(-1)!.targets);
    h.fleet.unobserved.add("stage-1");
    h.clock.advance("2m");
    const blind = h.step();
    expect(blind.changed).toBe(false);
    expect(stateOf(h, "stage-1")).toMatchObject({ state: "Analyzing", batch: 1 });
    h.fleet.unobserved.delete("stage-1");
    const seen = h.step();
    expect(seen.changed).toBe(false);
    expect(seen.waitingFor).toBe("analysis");
  });
});
