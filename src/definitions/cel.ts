// CEL for health rules, placement conditions and rollout analysis. Expressions compile once
// (cached by their text) and evaluate over plain JSON: whole numbers become CEL ints so that
// `status.readyReplicas > 2` and `revision.restarts > 3` compare as users expect.
// Every evaluation runs under a deadline (deadline.ts): the parse-time limits below bound an
// expression's size, not its running time.

import { Environment } from "@marcbachmann/cel-js";
import { TemplateError } from "../api/errors.js";
import { runWithDeadline } from "./deadline.js";
import { setOwn } from "../api/keys.js";

/**
 * Budget of an evaluation that no caller has put under a deadline of its own, in ms. Default 100.
 * Callers that evaluate many expressions in one go (placement, health, analysis) open one deadline
 * around the whole pass instead, because starting a deadline costs more than most evaluations.
 */
export const DEFAULT_CEL_BUDGET_MS = 100;

// `string.matches` stays the library's, which runs JavaScript's backtracking RegExp: cel-js 8.0.0
// refuses to replace a built-in overload ("Function signature 'string.matches(string): bool'
// overlaps with existing overload"), so a linear-time RE2 cannot be swapped in. The deadline is
// what stops a catastrophic pattern such as `(a+)+$`.

const environment = new Environment({
  unlistedVariablesAreDyn: true,
  homogeneousAggregateLiterals: false,
  limits: { maxAstNodes: 10_000, maxDepth: 100, maxListElements: 1_000, maxMapEntries: 1_000, maxCallArguments: 32 },
});

export interface CelProgram {
  readonly source: string;
  /**
   * Evaluate over JSON data; ints come back as numbers. Throws TemplateError on a runtime error,
   * and BudgetExceededError (a TemplateError) when it runs past its deadline: the caller's, or
   * DEFAULT_CEL_BUDGET_MS when the caller has none.
   */
  evaluate(context: Record<string, unknown>): unknown;
  /** Evaluate and require a boolean. */
  test(context: Record<string, unknown>): boolean;
  /** `test` over a context already converted with toCelValue (callers that reuse one conversion). */
  testConverted(context: Record<string, unknown>): boolean;
}

export interface CelOrigin {
  /** The definition, deployment or cluster the expression belongs to. */
  definition: string;
  /** The field holding the expression, e.g. `spec.health`. */
  field: string;
}

const cache = new Map<string, ReturnType<Environment["parse"]>>();
let parses = 0;

/** How many expressions were parsed since start: a cached text is not parsed again (for tests and benches). */
export function celParses(): number {
  return parses;
}

/** Convert JSON into CEL values: integral numbers → bigint (CEL int). */
export function toCelValue(value: unknown): unknown {
  if (typeof value === "number") return Number.isInteger(value) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(toCelValue);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, toCelValue(v));
    return out;
  }
  return value;
}

/** Convert a CEL result back into JSON-friendly values. */
export function fromCelValue(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(fromCelValue);
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [String(k), fromCelValue(v)]));
  if (value !== null && typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) setOwn(out, k, fromCelValue(v));
    return out;
  }
  return value;
}

/** The 0-based offset of the caret in the library's error excerpt, when it shows one. */
function positionOf(error: unknown, source: string): number | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const lines = message.split("\n");
  const codeIndex = lines.findIndex((l) => /^>\s+\d+ \| /.test(l));
  const caret = lines[codeIndex + 1];
  const code = lines[codeIndex];
  if (codeIndex < 0 || caret === undefined || code === undefined) return undefined;
  const gutter = code.indexOf("| ") + 2;
  const col = caret.indexOf("^") - gutter;
  return col >= 0 && col <= source.length ? col : undefined;
}

function firstLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split("\n")[0] ?? message;
}

/** Compile a CEL expression; a syntax error is a TemplateError naming the origin and the position. */
export function compileCel(source: string, origin: CelOrigin): CelProgram {
  let parsed = cache.get(source);
  if (!parsed) {
    try {
      parses++;
      parsed = environment.parse(source);
    } catch (error) {
      const position = positionOf(error, source);
      throw new TemplateError(`CEL does not compile: ${firstLine(error)}`, {
        ...origin,
        ...(position === undefined ? {} : { position }),
        cause: error,
      });
    }
    // Type-check what can be known before any data exists (`size(x) > "0"` compares int with
    // string): such an expression would fail on every evaluation, so it is refused up front.
    const checked = environment.check(source);
    if (!checked.valid) {
      const error = checked.error;
      const position = error ? positionOf(error, source) : undefined;
      throw new TemplateError(`CEL type error: ${error ? firstLine(error) : "the expression does not type-check"}`, {
        ...origin,
        ...(position === undefined ? {} : { position }),
        ...(error ? { cause: error } : {}),
      });
    }
    cache.set(source, parsed);
  }
  const program = parsed;
  const culprit = () => ({ ...origin, expression: source });
  const run = (context: Record<string, unknown>): unknown => {
    try {
      return fromCelValue(program(context));
    } catch (error) {
      const position = positionOf(error, source);
      throw new TemplateError(`CEL evaluation failed: ${firstLine(error)}`, {
        ...origin,
        ...(position === undefined ? {} : { position }),
        cause: error,
      });
    }
  };
  // Inside a caller's deadline this costs nothing; alone, it starts one of DEFAULT_CEL_BUDGET_MS.
  const evaluateConverted = (context: Record<string, unknown>): unknown => runWithDeadline(DEFAULT_CEL_BUDGET_MS, culprit, () => run(context));
  const evaluate = (context: Record<string, unknown>): unknown => evaluateConverted(toCelValue(context) as Record<string, unknown>);
  const requireBool = (result: unknown): boolean => {
    if (typeof result !== "boolean") {
      throw new TemplateError(`CEL expression must return a bool, got ${JSON.stringify(result)}`, origin);
    }
    return result;
  };
  return {
    source,
    evaluate,
    test: (context) => requireBool(evaluate(context)),
    testConverted: (context) => requireBool(evaluateConverted(context)),
  };
}
