import { describe, expect, it } from "vitest";
import type { RolloutAnalysis, RolloutSpec } from "../../../src/api/types.js";
import { type Placement, place } from "../../../src/placement/select.js";
import { type AnalysisContext, evaluateAnalysis } from "../../../src/rollout/analysis.js";
import { batchReplicas, revisionsAtBatch, rolledBackRevisions, sourceRevisions } from "../../../src/rollout/batches.js";
import { readControls } from "../../../src/rollout/controls.js";
import { formatDuration } from "../../../src/rollout/planner.js";
import { type ClusterRolloutPhase, readRolloutState } from "../../../src/rollout/state.js";
import { startableClusters } from "../../../src/rollout/waves.js";
import { aCluster, aWave } from "../builders.js";

describe("batchReplicas", () => {
  it.each<{ name: string; rollout: RolloutSpec | undefined; total: number; want: number[] }>([
    { name: "defaults to one batch of everything", rollout: undefined, total: 10, want: [10] },
    {
      name: "resolves counts and percentages, rounding up",
      rollout: { batches: [{ replicas: 1 }, { replicas: "50%" }, { replicas: "100%" }] },
      total: 5,
      want: [1, 3, 5],
    },
    { name: "gives a small canary at least one replica", rollout: { batches: [{ replicas: "10%" }, { replicas: "100%" }] }, total: 3, want: [1, 3] },
    { name: "caps counts at the total", rollout: { batches: [{ replicas: 4 }, { replicas: 20 }] }, total: 6, want: [4, 6] },
    { name: "never decreases", rollout: { batches: [{ replicas: 5 }, { replicas: 2 }] }, total: 10, want: [5, 5] },
    { name: "is all zeros for a zero total", rollout: { batches: [{ replicas: "50%" }, { replicas: "100%" }] }, total: 0, want: [0, 0] },
  ])("$name", ({ rollout, total, want }) => {
    expect(batchReplicas(rollout, total)).toEqual(want);
  });
});

describe("revisionsAtBatch", () => {
  const order = ["v1", "v2", "v3"];
  it.each([
    { name: "scales the only source down as the target grows", sources: { v1: 10 }, batch: 3, total: 10, want: { v1: 7, v3: 3 } },
    { name: "takes replicas from the oldest source first", sources: { v1: 4, v2: 6 }, batch: 5, total: 10, want: { v1: 0, v2: 5, v3: 5 } },
    { name: "keeps sources at 0 listed at 100%", sources: { v1: 4, v2: 6 }, batch: 10, total: 10, want: { v1: 0, v2: 0, v3: 10 } },
    { name: "does not scale sources that fit under the total", sources: { v1: 3 }, batch: 5, total: 10, want: { v1: 3, v3: 5 } },
    { name: "never scales the target below what it had", sources: { v1: 2, v3: 8 }, batch: 1, total: 10, want: { v1: 2, v3: 8 } },
    { name: "starts a fresh cluster with the target alone", sources: {}, batch: 2, total: 4, want: { v3: 2 } },
  ])("$name", ({ sources, batch, total, want }) => {
    const got = revisionsAtBatch({
      order,
      target: "v3",
      sources: Object.entries(sources).map(([name, replicas]) => ({ name, replicas })),
      batchReplicas: batch,
      total,
    });
    expect(Object.fromEntries(got.map((r) => [r.name, r.replicas]))).toEqual(want);
    expect(got.map((r) => r.name)).toEqual(order.filter((n) => n in want));
  });

  it("drops a revision that left appRevisions", () => {
    const got = revisionsAtBatch({
      order: ["v2", "v3"],
      target: "v3",
      sources: [
        { name: "v1", replicas: 5 },
        { name: "v2", replicas: 5 },
      ],
      batchReplicas: 2,
      total: 10,
    });
    expect(got).toEqual([
      { name: "v2", replicas: 5 },
      { name: "v3", replicas: 2 },
    ]);
  });

  it("restores sources and lists the target at 0 on rollback", () => {
    expect(rolledBackRevisions(order, "v3", [{ name: "v1", replicas: 10 }])).toEqual([
      { name: "v1", replicas: 10 },
      { name: "v3", replicas: 0 },
    ]);
    expect(
      sourceRevisions(
        ["v2"],
        [
          { name: "v1", replicas: 1 },
          { name: "v2", replicas: 2 },
        ],
      ),
    ).toEqual([{ name: "v2", replicas: 2 }]);
  });
});

describe("evaluateAnalysis", () => {
  const context: AnalysisContext = {
    revision: { name: "v2", replicas: 3, readyReplicas: 3, restarts: 5 },
    clusters: [{ name: "prod-eu", health: "Healthy", replicas: 3, readyReplicas: 3 }],
    cluster: "prod-eu",
    batch: 2,
    batches: 3,
    elapsed: 42.7,
    wave: "production",
  };
  it.each<{ name: string; analysis: RolloutAnalysis | undefined; result: string }>([
    { name: "succeeds without conditions", analysis: undefined, result: "Successful" },
    { name: "succeeds when the success condition holds", analysis: { successCondition: "revision.readyReplicas == revision.replicas" }, result: "Successful" },
    { name: "fails when the failure condition holds", analysis: { successCondition: "true", failureCondition: "revision.restarts > 3" }, result: "Failed" },
    { name: "keeps running while the success condition does not hold", analysis: { successCondition: "elapsed > 60" }, result: "Running" },
    { name: "sees elapsed as whole seconds", analysis: { successCondition: "elapsed == 42" }, result: "Successful" },
    {
      name: "sees the wave, batch and clusters",
      analysis: { successCondition: 'wave == "production" && batch == 2 && clusters.all(c, c.health == "Healthy")' },
      result: "Successful",
    },
    { name: "keeps running when a field is missing", analysis: { successCondition: "revision.latency < 100" }, result: "Running" },
    { name: "errors on an expression that does not compile", analysis: { successCondition: "revision.replicas >" }, result: "Error" },
    { name: "errors on an expression that is not a bool", analysis: { successCondition: "revision.replicas" }, result: "Error" },
  ])("$name", ({ analysis, result }) => {
    expect(evaluateAnalysis({ analysis, context, deployment: "team-a/app", revisionIndex: 1 }).result).toBe(result);
  });
});

describe("startableClusters", () => {
  const clusters = [
    aCluster("s1").withLabel("usage", "staging").build(),
    aCluster("p1").withLabel("usage", "production").build(),
    aCluster("p2").withLabel("usage", "production").build(),
    aCluster("p3").withLabel("usage", "production").build(),
  ];
  const placement: Placement = place(
    [aWave("staging").selectingLabel("usage", "staging").build(), { ...aWave("production").selectingLabel("usage", "production").build(), maxConcurrency: 2 }],
    clusters,
  );
  const phases = (entries: Record<string, ClusterRolloutPhase>) => new Map(Object.entries(entries));
  it.each<{ name: string; phases: Record<string, ClusterRolloutPhase>; want: string[] }>([
    { name: "starts the first wave only", phases: {}, want: ["s1"] },
    { name: "holds the next wave while the first is in flight", phases: { s1: "Soaking" }, want: [] },
    { name: "opens the next wave up to maxConcurrency", phases: { s1: "Completed" }, want: ["p1", "p2"] },
    { name: "fills a slot freed by a completed cluster", phases: { s1: "Completed", p1: "Completed", p2: "Paused" }, want: ["p3"] },
    { name: "does not hold an open wave back for a late joiner of an earlier one", phases: { s1: "Pending", p1: "Progressing" }, want: ["s1", "p2"] },
  ])("$name", ({ phases: p, want }) => {
    expect(startableClusters({ waves: placement.waves, phases: phases(p) })).toEqual(want);
  });
});

describe("readRolloutState", () => {
  it("is undefined for status the planner did not write", () => {
    expect(readRolloutState(undefined)).toBeUndefined();
    expect(readRolloutState({ wave: "production", batch: 2, state: "Analyzing" })).toBeUndefined();
  });
  it("drops a cluster entry it cannot read and keeps the rest", () => {
    const state = readRolloutState({
      revision: "v2",
      startedAt: "2024-05-01T10:00:00.000Z",
      clusters: [
        { name: "a", wave: "w", batch: 1, state: "Progressing", since: "2024-05-01T10:00:00.000Z", revisions: [], sources: [] },
        { name: "b", wave: "w", batch: 1, state: "Exploded", since: "2024-05-01T10:00:00.000Z", revisions: [], sources: [] },
      ],
    });
    expect(state?.clusters.map((c) => c.name)).toEqual(["a"]);
  });
});

describe("small helpers", () => {
  it.each([
    [0, "0s"],
    [20_000, "20s"],
    [1500, "2s"],
    [150_000, "2m30s"],
    [3_900_000, "1h5m"],
  ])("formats %i ms as %s", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
  it("reads the control annotations", () => {
    expect(readControls({ "flotilla.dev/promote": "true", other: "x" })).toEqual({
      promote: true,
      abort: false,
      retry: false,
      present: ["flotilla.dev/promote"],
    });
  });
});
