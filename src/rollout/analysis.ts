// The analysis gate of a batch: CEL `successCondition` / `failureCondition` over a small,
// documented context. Pure: the caller gathers the numbers; this module never reads a cluster.

import type { HealthState, RolloutAnalysis } from "../api/types.js";
import { compileCel } from "../definitions/cel.js";
import { BudgetExceededError, runWithDeadline } from "../definitions/deadline.js";

/**
 * Time budget, in ms, of one analysis (its failureCondition and successCondition together).
 * Default 100: the context holds at most one entry per cluster of the wave, so only a runaway
 * expression reaches it.
 */
export const ANALYSIS_CEL_BUDGET_MS = 100;

/**
 * What the analysis expressions see (every number is a CEL int):
 * - `revision`: the target revision in the cluster being analysed —
 *   `{name, replicas, readyReplicas, restarts}` (observed; `restarts` is 0 when not reported);
 * - `clusters`: every cluster of the wave — `[{name, health, replicas, readyReplicas}]`, the
 *   counts being the target revision's there;
 * - `cluster`: the name of the cluster being analysed;
 * - `batch`: the 1-based batch number; `batches`: how many there are;
 * - `elapsed`: whole seconds since the batch was applied (an int, so `elapsed > 60` reads naturally);
 * - `wave`: the wave name.
 */
export interface AnalysisContext {
  revision: { name: string; replicas: number; readyReplicas: number; restarts: number };
  clusters: Array<{ name: string; health: HealthState; replicas: number; readyReplicas: number }>;
  cluster: string;
  batch: number;
  batches: number;
  elapsed: number;
  wave: string;
}

/**
 * - `Successful`: no failureCondition holds and the successCondition holds (or there is none);
 * - `Failed`: the failureCondition holds;
 * - `Running`: the successCondition does not hold yet, or an expression could not be evaluated
 *   for this data (e.g. a missing field) or ran past its time budget — keep waiting until the
 *   progress deadline. Past the budget is not `Error` because the budget is wall time: a loaded
 *   machine or a long garbage collection can cause it once, and `Error` would fail the batch at
 *   once; a truly runaway expression fails it at the progress deadline, with the budget message;
 * - `Error`: an expression does not compile or is not a bool: it can never pass, so the batch fails.
 */
export type AnalysisResult = "Successful" | "Failed" | "Running" | "Error";

export interface AnalysisVerdict {
  result: AnalysisResult;
  message: string;
}

export interface EvaluateAnalysisOptions {
  analysis: RolloutAnalysis | undefined;
  context: AnalysisContext;
  /** For error messages, e.g. `team-a/app`. */
  deployment: string;
  /** Index of the target in spec.appRevisions, for the field path in messages. */
  revisionIndex: number;
  /** Time budget of the analysis's CEL, in ms. Default ANALYSIS_CEL_BUDGET_MS (100). */
  celBudgetMs?: number;
}

export function evaluateAnalysis(options: EvaluateAnalysisOptions): AnalysisVerdict {
  const { analysis, context } = options;
  if (!analysis?.failureCondition && !analysis?.successCondition) return judge(options, () => {});
  // Compile before the deadline starts (see place()); a condition that does not compile is
  // reported by judge, which compiles it again from the cache or fails as fast.
  for (const name of ["failureCondition", "successCondition"] as const) {
    const source = analysis[name];
    if (!source) continue;
    try {
      compileCel(source, { definition: options.deployment, field: fieldOf(options, name) });
    } catch {
      // judge reports it as an Error verdict.
    }
  }
  // Which condition is running, for the message if the deadline passes.
  let current: Condition = "failureCondition";
  const culprit = () => ({
    definition: options.deployment,
    field: fieldOf(options, current),
    expression: analysis[current] ?? "",
    during: `analysing cluster ${context.cluster}`,
  });
  try {
    return runWithDeadline(options.celBudgetMs ?? ANALYSIS_CEL_BUDGET_MS, culprit, () => judge(options, (name) => (current = name)));
  } catch (e) {
    if (!(e instanceof BudgetExceededError)) throw e;
    return { result: "Running", message: `${current} cannot be evaluated: ${e.message}` };
  }
}

type Condition = "failureCondition" | "successCondition";

function fieldOf(options: EvaluateAnalysisOptions, name: Condition): string {
  return `spec.appRevisions[${options.revisionIndex}].rollout.analysis.${name}`;
}

function judge(options: EvaluateAnalysisOptions, evaluating: (name: Condition) => void): AnalysisVerdict {
  const { analysis, context } = options;
  const field = (name: Condition) => fieldOf(options, name);
  const data = { ...context, elapsed: Math.floor(context.elapsed) } as unknown as Record<string, unknown>;
  const check = (name: Condition): boolean | AnalysisVerdict => {
    const source = analysis?.[name];
    if (!source) return name === "successCondition";
    evaluating(name);
    let program: ReturnType<typeof compileCel>;
    try {
      program = compileCel(source, { definition: options.deployment, field: field(name) });
    } catch (e) {
      return { result: "Error", message: e instanceof Error ? e.message : String(e) };
    }
    let value: unknown;
    try {
      value = program.evaluate(data);
    } catch (e) {
      return { result: "Running", message: `${name} cannot be evaluated yet: ${e instanceof Error ? e.message : String(e)}` };
    }
    if (typeof value !== "boolean") {
      return {
        result: "Error",
        message: `${field(name)}: must return a bool (got ${JSON.stringify(value)}). Write a comparison such as "revision.restarts > 3".`,
      };
    }
    return value;
  };
  const failure = check("failureCondition");
  if (typeof failure !== "boolean") return failure;
  if (failure) return { result: "Failed", message: `failureCondition ${analysis?.failureCondition} holds` };
  const success = check("successCondition");
  if (typeof success !== "boolean") return success;
  if (success) return { result: "Successful", message: analysis?.successCondition ? `successCondition ${analysis.successCondition} holds` : "no failure" };
  return { result: "Running", message: `successCondition ${analysis?.successCondition} does not hold yet` };
}
