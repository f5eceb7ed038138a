import { describe, expect, it } from "vitest";
import { TemplateError } from "../../../src/api/errors.js";
import type { Cluster, PlacementStrategy } from "../../../src/api/types.js";
import { BudgetExceededError } from "../../../src/definitions/deadline.js";
import { celCluster, place, selectorMismatch } from "../../../src/placement/select.js";
import { aCluster, aWave } from "../builders.js";
import { guarded } from "../hang-guard.js";

const origin = { definition: "shop", field: "spec.placementStrategies[0].clusterSelector.condition" };

const fleet = (): Cluster[] => [
  aCluster("staging").withLabel("usage", "staging").withLabel("region", "eu").build(),
  aCluster("prod-us").withLabel("usage", "production").withLabel("region", "us").build(),
  aCluster("prod-eu").withLabel("usage", "production").withLabel("region", "eu").withLabel("tier", "core").build(),
  aCluster("edge-1").withLabel("usage", "edge").withLabel("tier", "edge").build(),
];

const production = aWave("production").selectingLabel("usage", "production").build();

describe("selectorMismatch", () => {
  const prodEu = aCluster("prod-eu").withLabel("usage", "production").withLabel("region", "eu").build();

  it.each<[string, PlacementStrategy, string | null]>([
    ["no selector", aWave().build(), null],
    ["a matching label", aWave().selectingLabel("usage", "production").build(), null],
    ["a different label value", aWave().selectingLabel("usage", "staging").build(), "label usage=production does not match usage=staging"],
    ["a missing label", aWave().selectingLabel("gpu", "true").build(), "label gpu is missing (want gpu=true)"],
    ["In with a listed value", aWave().matching("region", "In", ["eu", "us"]).build(), null],
    ["In with another value", aWave().matching("region", "In", ["us", "ap"]).build(), "label region=eu is not in [us, ap]"],
    ["In on a missing label", aWave().matching("zone", "In", ["a"]).build(), "label zone is missing (want one of [a])"],
    ["NotIn with another value", aWave().matching("region", "NotIn", ["us"]).build(), null],
    ["NotIn with an excluded value", aWave().matching("region", "NotIn", ["eu"]).build(), "label region=eu is in the excluded [eu]"],
    ["NotIn on a missing label", aWave().matching("zone", "NotIn", ["a"]).build(), null],
    ["Exists on a present label", aWave().matching("region", "Exists").build(), null],
    ["Exists on a missing label", aWave().matching("zone", "Exists").build(), "label zone is missing"],
    ["DoesNotExist on a missing label", aWave().matching("zone", "DoesNotExist").build(), null],
    ["DoesNotExist on a present label", aWave().matching("region", "DoesNotExist").build(), "label region exists (=eu)"],
    ["a listed name", aWave().selectingNames("prod-eu", "prod-us").build(), null],
    ["an unlisted name", aWave().selectingNames("prod-us").build(), "name prod-eu is not in [prod-us]"],
    ["a true CEL condition", aWave().withCondition('cluster.labels.region == "eu"').build(), null],
    ["a false CEL condition", aWave().withCondition('cluster.name.startsWith("edge")').build(), 'condition cluster.name.startsWith("edge") is false'],
  ])("with %s gives %j", (_what, strategy, expected) => {
    expect(selectorMismatch(strategy.clusterSelector, prodEu, origin)).toBe(expected);
  });

  it("requires every label, expression, name and condition to hold", () => {
    const strategy = aWave()
      .selectingLabel("usage", "production")
      .matching("region", "In", ["eu"])
      .selectingNames("prod-eu")
      .withCondition('cluster.labels.region == "us"')
      .build();
    expect(selectorMismatch(strategy.clusterSelector, prodEu, origin)).toBe('condition cluster.labels.region == "us" is false');
  });

  it("reports a CEL condition that does not compile as a TemplateError naming the field", () => {
    expect(() => selectorMismatch({ condition: "cluster.name ==" }, prodEu, origin)).toThrow(TemplateError);
    expect(() => selectorMismatch({ condition: "cluster.name ==" }, prodEu, origin)).toThrow(/spec\.placementStrategies\[0\]\.clusterSelector\.condition/);
  });

  it("gives a CEL condition the cluster's name, labels, spec, status and version", () => {
    const cluster = aCluster("prod-eu").withLabel("a", "b").withVersion("v1.20.2").paused().build();
    expect(celCluster(cluster)).toEqual({
      name: "prod-eu",
      labels: { a: "b" },
      annotations: {},
      spec: { paused: true },
      status: { version: "v1.20.2" },
      version: "v1.20.2",
    });
  });

  it("evaluates a condition against the Cluster object it is given, not a conversion kept from an earlier version of it", () => {
    const condition = { condition: 'cluster.labels.region == "eu"' };
    const before = aCluster("prod-eu").withLabel("region", "eu").build();
    expect(selectorMismatch(condition, before, origin)).toBeNull();
    expect(selectorMismatch(condition, before, origin)).toBeNull();
    const after = aCluster("prod-eu").withLabel("region", "us").build();
    expect(selectorMismatch(condition, after, origin)).toBe('condition cluster.labels.region == "eu" is false');
  });
});

describe("place", () => {
  it("selects the production clusters and gives a reason for every cluster", () => {
    const { waves, decisions } = place([production], fleet());
    expect(waves).toEqual([expect.objectContaining({ name: "production", index: 0, clusters: ["prod-eu", "prod-us"] })]);
    expect(decisions).toEqual([
      { cluster: "edge-1", selected: false, reason: "label usage=edge does not match usage=production" },
      { cluster: "prod-eu", selected: true, wave: "production", reason: "selected by wave production" },
      { cluster: "prod-us", selected: true, wave: "production", reason: "selected by wave production" },
      { cluster: "staging", selected: false, reason: "label usage=staging does not match usage=production" },
    ]);
  });

  it("selects every cluster in one default wave when there are no strategies", () => {
    const { waves, decisions } = place(undefined, fleet());
    expect(waves.map((w) => [w.name, w.clusters])).toEqual([["wave-1", ["edge-1", "prod-eu", "prod-us", "staging"]]]);
    expect(decisions.every((d) => d.selected)).toBe(true);
  });

  it("names waves without a name wave-<n>", () => {
    const { waves } = place([aWave().selectingLabel("usage", "staging").build(), aWave().selectingLabel("usage", "production").build()], fleet());
    expect(waves.map((w) => [w.name, w.clusters])).toEqual([
      ["wave-1", ["staging"]],
      ["wave-2", ["prod-eu", "prod-us"]],
    ]);
  });

  it("gives a cluster selected by two waves to the first", () => {
    const everything = aWave("everything").build();
    const { waves, decisions } = place([production, everything], fleet());
    expect(waves[0]!.clusters).toEqual(["prod-eu", "prod-us"]);
    expect(waves[1]!.clusters).toEqual(["edge-1", "staging"]);
    expect(decisions.find((d) => d.cluster === "prod-eu")?.wave).toBe("production");
  });

  it("lists why each wave rejected a cluster that no wave selects", () => {
    const staging = aWave("staging").selectingLabel("usage", "staging").build();
    const decision = place([staging, production], fleet()).decisions.find((d) => d.cluster === "edge-1");
    expect(decision).toEqual({
      cluster: "edge-1",
      selected: false,
      reason: "staging: label usage=edge does not match usage=staging; production: label usage=edge does not match usage=production",
    });
  });

  it("keeps a paused cluster selected (its deployments keep their folders), and says it is paused", () => {
    const clusters = [aCluster("prod-eu").withLabel("usage", "production").paused().build()];
    const { waves, decisions } = place([production], clusters);
    expect(waves[0]!.clusters).toEqual(["prod-eu"]);
    expect(decisions).toEqual([
      {
        cluster: "prod-eu",
        selected: true,
        wave: "production",
        reason: "selected by wave production (paused: nothing is synced to it until spec.paused is false)",
      },
    ]);
  });

  it.each([
    [true, "False", false, "cluster is not Ready"],
    [true, "True", true, "selected by wave production"],
    [false, "False", true, "selected by wave production"],
  ] as const)("with requireReady %s selects a cluster whose Ready is %s: %s", (requireReady, status, selected, reason) => {
    const clusters = [aCluster("prod-eu").withLabel("usage", "production").ready(status).build()];
    const [decision] = place([production], clusters, { requireReady }).decisions;
    expect(decision).toEqual(expect.objectContaining({ selected, reason }));
  });

  it("selects a cluster with no Ready condition yet even when Ready is required", () => {
    const clusters = [aCluster("prod-eu").withLabel("usage", "production").build()];
    expect(place([production], clusters, { requireReady: true }).decisions[0]?.selected).toBe(true);
  });

  it("selects with a CEL condition over the cluster", () => {
    const notEdge = aWave("not-edge").withCondition('cluster.labels.usage != "edge"').build();
    expect(place([notEdge], fleet()).waves[0]!.clusters).toEqual(["prod-eu", "prod-us", "staging"]);
  });

  it("rejects, with a reason, a cluster on which the CEL condition cannot be evaluated, without failing the others", () => {
    // The condition ARCHITECTURE §2 shows as an example; prod-us has no `tier` label.
    const notEdge = aWave("not-edge").withCondition('cluster.labels["tier"] != "edge"').build();
    const clusters = [aCluster("prod-eu").withLabel("tier", "core").build(), aCluster("prod-us").build()];
    const result = place([notEdge], clusters);
    expect(result.waves[0]!.clusters).toEqual(["prod-eu"]);
    expect(result.decisions.find((d) => d.cluster === "prod-us")).toEqual(
      expect.objectContaining({ selected: false, reason: expect.stringContaining("tier") }),
    );
  });

  it("does not depend on the order of the clusters", () => {
    const a = place([production], fleet());
    const b = place([production], fleet().reverse());
    expect(b).toEqual(a);
  });
});

/** `[0..9].all(a, [0..9].all(b, …))` nested `depth` deep over the cluster: 10^depth steps (issue #29). */
function nestedComprehension(depth: number): string {
  const list = "[0,1,2,3,4,5,6,7,8,9]";
  const vars = "abcdefghijklmnopqrstuvwxyz".slice(0, depth).split("");
  return vars.reduceRight((inner, v) => `${list}.all(${v}, ${inner})`, `cluster.name.size() + ${vars.join(" + ")} >= 0`);
}

function placementError(strategies: PlacementStrategy[], clusters: Cluster[]): unknown {
  try {
    guarded(() => place(strategies, clusters, { deployment: "team-a/shop", celBudgetMs: 20 }));
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("place with a runaway CEL condition (issue #29)", () => {
  const runaway = aWave("everywhere").withCondition(nestedComprehension(9)).build();

  it("fails with a BudgetExceededError naming the wave's condition, the budget and the fix", () => {
    const error = placementError([production, runaway], fleet());
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toBeInstanceOf(TemplateError);
    const budget = error as BudgetExceededError;
    expect(budget.definition).toBe("team-a/shop");
    expect(budget.field).toBe("spec.placementStrategies[1].clusterSelector.condition");
    expect(budget.budgetMs).toBe(20);
    expect(budget.message).toMatch(
      /^team-a\/shop\.spec\.placementStrategies\[1\]\.clusterSelector\.condition: CEL evaluation exceeded its budget of 20 ms while placing 4 cluster\(s\), at cluster edge-1 /,
    );
    expect(budget.message).toContain("Simplify the expression: nested comprehensions");
  });

  it("keeps the process working: the next placement gives the right answer", () => {
    placementError([runaway], fleet());
    const { waves } = place([production, aWave("not-edge").withCondition('cluster.labels.usage != "edge"').build()], fleet());
    expect(waves.map((w) => [w.name, w.clusters])).toEqual([
      ["production", ["prod-eu", "prod-us"]],
      ["not-edge", ["staging"]],
    ]);
    expect(placementError([runaway], fleet())).toBeInstanceOf(BudgetExceededError);
  });

  it("ends a condition whose regular expression backtracks catastrophically: rejected, or the budget error", () => {
    const clusters = [
      aCluster("prod-eu")
        .withLabel("note", `${"a".repeat(40)}!`)
        .build(),
    ];
    const strategies = [aWave("noted").withCondition('cluster.labels.note.matches("^(a+)+$")').build()];
    let outcome: unknown;
    try {
      outcome = guarded(() => place(strategies, clusters, { deployment: "team-a/shop", celBudgetMs: 20 })).decisions[0]?.selected;
    } catch (e) {
      outcome = e;
    }
    // cel-js 8 runs matches() with JavaScript's RegExp (it refuses a replacement): today this is
    // the budget error; a linear-time engine would reject the cluster.
    if (outcome !== false) {
      expect(outcome).toBeInstanceOf(BudgetExceededError);
      expect((outcome as BudgetExceededError).field).toBe("spec.placementStrategies[0].clusterSelector.condition");
    }
  });

  it("does not turn a runaway condition into one cluster's rejection reason when the selector is checked alone", () => {
    const prodEu = aCluster("prod-eu").build();
    let error: unknown;
    try {
      guarded(() => selectorMismatch(runaway.clusterSelector, prodEu, origin));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).field).toBe(origin.field);
  });
});
