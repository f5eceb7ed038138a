// The CEL budget of rollout analysis (issue #29); the verdicts themselves are covered in
// planner-parts.test.ts.

import { describe, expect, it } from "vitest";
import type { RolloutAnalysis } from "../../../src/api/types.js";
import { type AnalysisContext, evaluateAnalysis } from "../../../src/rollout/analysis.js";
import { guarded } from "../hang-guard.js";

/** `[0..9].all(a, [0..9].all(b, …))` nested `depth` deep: 10^depth steps. */
function nestedComprehension(depth: number): string {
  const list = "[0,1,2,3,4,5,6,7,8,9]";
  const vars = "abcdefghijklmnopqrstuvwxyz".slice(0, depth).split("");
  return vars.reduceRight((inner, v) => `${list}.all(${v}, ${inner})`, `revision.restarts + ${vars.join(" + ")} >= 0`);
}

const context: AnalysisContext = {
  revision: { name: "v2", replicas: 3, readyReplicas: 3, restarts: 0 },
  clusters: [{ name: "prod-eu", health: "Healthy", replicas: 3, readyReplicas: 3 }],
  cluster: "prod-eu",
  batch: 1,
  batches: 2,
  elapsed: 30,
  wave: "production",
};

// 50 ms: small enough to keep the tests quick, large enough that the expressions evaluated before
// the runaway one (a few µs) never meet it, even on a loaded machine.
const analyse = (analysis: RolloutAnalysis, celBudgetMs = 50) =>
  guarded(() => evaluateAnalysis({ analysis, context, deployment: "team-a/app", revisionIndex: 1, celBudgetMs }));

describe("evaluateAnalysis with a runaway expression", () => {
  it.each<{ name: string; analysis: RolloutAnalysis; blamed: "failureCondition" | "successCondition" }>([
    { name: "a failureCondition", analysis: { failureCondition: nestedComprehension(9), successCondition: "true" }, blamed: "failureCondition" },
    {
      name: "a successCondition",
      analysis: { failureCondition: "revision.restarts > 3", successCondition: nestedComprehension(9) },
      blamed: "successCondition",
    },
  ])("keeps the batch Running (not failed) with the budget message naming $name", ({ analysis, blamed }) => {
    const verdict = analyse(analysis);
    expect(verdict.result).toBe("Running");
    expect(verdict.message).toContain(
      `${blamed} cannot be evaluated: team-a/app.spec.appRevisions[1].rollout.analysis.${blamed}: CEL evaluation exceeded its budget of 50 ms while analysing cluster prod-eu`,
    );
    expect(verdict.message).toContain("Simplify the expression");
  });

  it("ends a catastrophic regular expression in matches(): a verdict, never a hang", () => {
    const verdict = analyse({ successCondition: `"${"a".repeat(40)}!".matches("^(a+)+$")` });
    expect(verdict.result).toBe("Running");
  });

  it("judges normally right after an analysis ran out of time", () => {
    analyse({ successCondition: nestedComprehension(9) });
    expect(analyse({ failureCondition: "revision.restarts > 3", successCondition: 'clusters.all(c, c.health == "Healthy")' }, 1_000)).toEqual({
      result: "Successful",
      message: 'successCondition clusters.all(c, c.health == "Healthy") holds',
    });
  });
});
