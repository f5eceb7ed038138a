// What `pause: true` means with several clusters and several waves, and waves that set their own
// batches. The rules, in our words:
// - a batch with `pause: true` pauses every cluster that passes it, in every wave that uses it;
// - one promote releases every cluster paused at that moment, and only those: a cluster reaching
//   the pause later waits for the next promote;
// - a wave with its own `batches` uses them instead of the revision's, so a canary can pause in
//   staging while production goes one whole cluster at a time without a pause.

import { describe, expect, it } from "vitest";
import { ANNOTATION_PROMOTE } from "../../../src/api/labels.js";
import type { ApplicationDeployment, PlacementStrategy, RolloutSpec } from "../../../src/api/types.js";
import { rolloutLines } from "../../../src/cli/status-view.js";
import { aCluster, aDeployment, aRevision, aWave } from "../builders.js";
import { commitLog, FakeFleet, Harness, v1Done } from "./planner-builders.js";

const stage = aCluster("stage-1").withLabel("usage", "staging").build();
const prodEu = aCluster("prod-eu").withLabel("usage", "production").build();
const prodUs = aCluster("prod-us").withLabel("usage", "production").build();

/** v1 running everywhere (4 replicas); v2 rolls out with `rollout`, production shaped by `production`. */
function v2Over(rollout: RolloutSpec, production: Partial<PlacementStrategy> = {}): Harness {
  const v2 = aRevision("v2").build();
  v2.rollout = { replicas: 4, ...rollout };
  const deployment: ApplicationDeployment = aDeployment()
    .withRevision(aRevision("v1").withReplicas(4))
    .withRevision(v2)
    .withWave(aWave("staging").selectingLabel("usage", "staging"))
    .withWave({ ...aWave("production").selectingLabel("usage", "production").build(), ...production })
    .build();
  const fleet = new FakeFleet();
  for (const c of ["stage-1", "prod-eu", "prod-us"]) fleet.seed(c, { v1: 4 });
  const previous = v1Done(
    [
      { name: "stage-1", wave: "staging" },
      { name: "prod-eu", wave: "production" },
      { name: "prod-us", wave: "production" },
    ],
    4,
  );
  return new Harness({ deployment, clusters: [stage, prodEu, prodUs], fleet, previous });
}

const canary: RolloutSpec = { batches: [{ replicas: 1, pause: true }, { replicas: "100%" }] };

describe("planRollout: pause and promote across waves", () => {
  it("pauses every wave at the revision's paused batch: one promote per wave when the waves share the batches", () => {
    const h = v2Over(canary);
    h.run({ until: (p) => p.waitingFor === "promote" });
    expect(h.plans.at(-1)?.state.waitingFor).toBe("promote");
    h.annotate(ANNOTATION_PROMOTE);
    const plans = h.run({ until: (p) => p.waitingFor === "promote" });
    const paused = plans.at(-1);
    expect(paused?.state.clusters.map((c) => [c.name, c.state, c.batch])).toEqual([
      ["stage-1", "Completed", 2],
      ["prod-eu", "Paused", 1],
      ["prod-us", "Paused", 1],
    ]);
    expect(paused?.phase).toBe("Paused");
    expect(paused?.message).toContain("prod-eu: batch 1/2 paused, annotate flotilla.dev/promote=true to continue");
  });

  it("releases every cluster paused at that moment with one promote, and only those", () => {
    const h = v2Over(canary, { maxConcurrency: 1 });
    h.run({ until: (p) => p.waitingFor === "promote" });
    h.annotate(ANNOTATION_PROMOTE);
    h.run({ until: (p) => p.waitingFor === "promote" });
    // prod-eu paused; prod-us not started (maxConcurrency 1): the promote releases prod-eu only,
    // and prod-us pauses at its own canary later.
    expect(h.plans.at(-1)?.state.clusters.map((c) => c.state)).toEqual(["Completed", "Paused", "Pending"]);
    h.annotate(ANNOTATION_PROMOTE);
    const after = h.run({ until: (p) => p.waitingFor === "promote" });
    expect(after.at(-1)?.state.clusters.map((c) => c.state)).toEqual(["Completed", "Completed", "Paused"]);
    expect(after[0]?.consumedAnnotations).toEqual([ANNOTATION_PROMOTE]);
  });

  it("lets a wave set its own batches: a canary with a pause in staging, production one cluster at a time", () => {
    const h = v2Over(canary, { batches: [{ replicas: "100%" }], maxConcurrency: 1 });
    h.run({ until: (p) => p.waitingFor === "promote" });
    h.annotate(ANNOTATION_PROMOTE);
    const plans = h.run({ until: (p) => p.phase === "Healthy" });
    expect(plans.every((p) => p.waitingFor !== "promote")).toBe(true);
    expect(commitLog(h.plans)).toEqual([
      "v2 supersedes v1; v2 batch 1/2 in wave staging (stage-1)",
      "v2 batch 2/2 in wave staging (stage-1)",
      "v2 completed in wave staging (stage-1); v2 batch 1/1 in wave production (prod-eu)",
      "v2 completed in wave production (prod-eu); v2 batch 1/1 in wave production (prod-us)",
      "v2 completed in wave production (prod-us)",
    ]);
    expect(plans.at(-1)?.state.clusters.map((c) => [c.name, c.batches])).toEqual([
      ["stage-1", 2],
      ["prod-eu", 1],
      ["prod-us", 1],
    ]);
  });

  it("shows in `flotilla status` what the rollout waits for and which clusters one promote releases", () => {
    const h = v2Over(canary);
    h.run({ until: (p) => p.waitingFor === "promote" });
    const ad = { ...h.deployment, status: { rollout: h.previous } } as ApplicationDeployment;
    const lines = rolloutLines(ad);
    expect(lines).toContain(
      "  waiting for: promote — `flotilla rollout promote example-deploy` releases every cluster paused now (stage-1); each wave pauses where its own batches say",
    );
    expect(lines.find((l) => l.startsWith("  production"))).toMatch(/^ {2}production +prod-eu +batch 0\/2 +Pending/);
  });
});
