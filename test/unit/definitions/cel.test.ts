import { describe, expect, it } from "vitest";
import { TemplateError } from "../../../src/api/errors.js";
import { celParses, compileCel, DEFAULT_CEL_BUDGET_MS, fromCelValue, toCelValue } from "../../../src/definitions/cel.js";
import { BudgetExceededError, insideDeadline, runEachWithDeadline, runWithDeadline } from "../../../src/definitions/deadline.js";
import { guarded } from "../hang-guard.js";

const origin = { definition: "worker", field: "spec.health" };

function compileError(source: string): TemplateError {
  try {
    compileCel(source, origin);
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error(`expected ${source} not to compile`);
}

describe("compileCel", () => {
  it.each([
    ["1 +", 3],
    ["status.ready &&", 15],
  ])("reports that %j does not compile, at position %i", (source, position) => {
    const err = compileError(source);
    expect(err.position).toBe(position);
    expect(err.definition).toBe("worker");
    expect(err.field).toBe("spec.health");
    expect(err.message).toMatch(new RegExp(`^worker\\.spec\\.health at position ${position}: CEL does not compile: `));
  });

  it.each([
    ["status.readyReplicas > 2", { status: { readyReplicas: 3 } }, true],
    ["status.readyReplicas >= spec.replicas", { status: { readyReplicas: 2 }, spec: { replicas: 3 } }, false],
    ["revision.restarts > 3", { revision: { restarts: 4 } }, true],
    ["x == 1", { x: 1 }, true],
    ["x / 2", { x: 5 }, 2],
    ["x / 2.0", { x: 5.5 }, 2.75],
    ["ratio > 0.5", { ratio: 0.75 }, true],
    ["size(xs)", { xs: [1, 2, 3] }, 3],
    ['cluster.labels["tier"] != "edge"', { cluster: { labels: { tier: "core" } } }, true],
    ['{"n": x}', { x: 3 }, { n: 3 }],
  ])("evaluates %s over %j to %j (whole numbers as ints, fractions as doubles)", (source, context, expected) => {
    expect(compileCel(source, origin).evaluate(context)).toEqual(expected);
  });

  it("returns ints as plain numbers, never bigints", () => {
    const result = compileCel("[x, x + 1]", origin).evaluate({ x: 1 });
    expect(result).toEqual([1, 2]);
    expect(typeof (result as unknown[])[0]).toBe("number");
  });

  it("reports a runtime error as a TemplateError naming the origin", () => {
    expect(() => compileCel("a.b.c", origin).evaluate({ a: {} })).toThrow(/^worker\.spec\.health.*CEL evaluation failed: /);
  });

  it.each([["x / 2"], ['"yes"'], ["[true]"]])("test() refuses %j because it does not return a bool", (source) => {
    expect(() => compileCel(source, origin).test({ x: 4 })).toThrow(/CEL expression must return a bool, got /);
  });

  it.each([
    ["x > 1", true],
    ["x > 5", false],
  ])("test() returns the bool of %j", (source, expected) => {
    expect(compileCel(source, origin).test({ x: 3 })).toBe(expected);
  });

  it("compiles the same text once and evaluates it many times", () => {
    // A text no other test uses, so the cache cannot already hold it.
    const source = "x > 1 && 'compiles-once' != ''";
    const before = celParses();
    const a = compileCel(source, origin);
    const b = compileCel(source, { definition: "other", field: "spec.health" });
    expect(celParses() - before).toBe(1);
    expect(a.test({ x: 2 })).toBe(true);
    expect(b.test({ x: 0 })).toBe(false);
    expect(celParses() - before).toBe(1);
  });
});

describe("CEL value conversion", () => {
  it("turns whole numbers into bigints and keeps fractions", () => {
    expect(toCelValue({ a: 3, b: 1.5, c: [2], d: "4" })).toEqual({ a: 3n, b: 1.5, c: [2n], d: "4" });
  });

  it("turns bigints and maps back into JSON", () => {
    expect(
      fromCelValue(
        new Map<unknown, unknown>([
          ["a", 2n],
          ["b", [3n]],
        ]),
      ),
    ).toEqual({ a: 2, b: [3] });
  });
});

/** `[0..9].all(a, [0..9].all(b, …))` nested `depth` deep: 10^depth steps (issue #29). */
function nestedComprehension(depth: number): string {
  const list = "[0,1,2,3,4,5,6,7,8,9]";
  const vars = "abcdefghijklmnopqrstuvwxyz".slice(0, depth).split("");
  return vars.reduceRight((inner, v) => `${list}.all(${v}, ${inner})`, `${vars.join(" + ")} >= 0`);
}

/** Catastrophic backtracking in JavaScript's RegExp: 2^40 ways to split the a's before the `!` fails. */
const CATASTROPHIC = { source: 'note.matches("^(a+)+$")', context: { note: `${"a".repeat(40)}!` } };

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("CEL evaluation budget", () => {
  it("stops a nine-level nested comprehension with a BudgetExceededError naming the origin, the budget and the fix", () => {
    const program = compileCel(nestedComprehension(9), origin);
    const error = guarded(() =>
      thrown(() =>
        runWithDeadline(
          20,
          () => ({ ...origin, expression: program.source }),
          () => program.test({}),
        ),
      ),
    );
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect(error).toBeInstanceOf(TemplateError);
    const budget = error as BudgetExceededError;
    expect(budget.budgetMs).toBe(20);
    expect(budget.field).toBe("spec.health");
    expect(budget.message).toMatch(/^worker\.spec\.health: CEL evaluation exceeded its budget of 20 ms and was stopped: \[0,1,2,3,4,5,6,7,8,9\]\.all\(a, /);
    expect(budget.message).toContain("Simplify the expression: nested comprehensions");
  });

  it("puts an evaluation that no caller bounds under a deadline of its own", () => {
    const error = guarded(() => thrown(() => compileCel(nestedComprehension(9), origin).test({})));
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).budgetMs).toBe(DEFAULT_CEL_BUDGET_MS);
  });

  it("ends a catastrophic regular expression in matches(): false, or the budget error", () => {
    const program = compileCel(CATASTROPHIC.source, origin);
    let outcome: unknown;
    try {
      outcome = guarded(() =>
        runWithDeadline(
          20,
          () => ({ ...origin, expression: program.source }),
          () => program.test(CATASTROPHIC.context),
        ),
      );
    } catch (e) {
      outcome = e;
    }
    // cel-js 8 runs matches() with JavaScript's RegExp (it refuses a replacement), so today this
    // is the budget error; a linear-time engine would answer false.
    if (outcome !== false) {
      expect(outcome).toBeInstanceOf(BudgetExceededError);
      expect((outcome as Error).message).toContain('note.matches("^(a+)+$")');
    }
  });

  it("evaluates normally right after an evaluation was stopped", () => {
    const program = compileCel(nestedComprehension(9), origin);
    guarded(() =>
      thrown(() =>
        runWithDeadline(
          20,
          () => ({ ...origin, expression: program.source }),
          () => program.test({}),
        ),
      ),
    );
    expect(insideDeadline()).toBe(false);
    expect(compileCel(nestedComprehension(2), origin).test({})).toBe(true);
    expect(compileCel(CATASTROPHIC.source, origin).test({ note: "aaa" })).toBe(true);
  });
});

describe("runWithDeadline", () => {
  const culprit = () => ({ definition: "d", field: "f", expression: "e" });

  it("returns what the function returns and lets its errors through unchanged", () => {
    expect(runWithDeadline(1_000, culprit, () => 42)).toBe(42);
    const error = new TemplateError("boom", { definition: "d", field: "f" });
    expect(
      thrown(() =>
        runWithDeadline(1_000, culprit, () => {
          throw error;
        }),
      ),
    ).toBe(error);
    expect(insideDeadline()).toBe(false);
  });

  it("starts no second deadline inside one: the outer budget is the one that applies", () => {
    const error = guarded(() =>
      thrown(() =>
        runWithDeadline(
          20,
          () => ({ definition: "outer", field: "f", expression: "e" }),
          () => {
            expect(insideDeadline()).toBe(true);
            return runWithDeadline(
              60_000,
              () => ({ definition: "inner", field: "f", expression: "e" }),
              () => compileCel(nestedComprehension(9), origin).test({}),
            );
          },
        ),
      ),
    );
    expect(error).toBeInstanceOf(BudgetExceededError);
    expect((error as BudgetExceededError).budgetMs).toBe(20);
    expect((error as BudgetExceededError).definition).toBe("outer");
  });

  it.each([0, -1, 1.5, Number.NaN])("refuses a budget of %s ms", (budget) => {
    expect(() => runWithDeadline(budget, culprit, () => 1)).toThrow(/positive whole number of milliseconds/);
  });
});

describe("runEachWithDeadline", () => {
  const runaway = compileCel(nestedComprehension(9), origin);
  const quick = compileCel("x > 1", origin);
  type Item = { name: string; program: typeof runaway; x: number };
  const item = (name: string, program: typeof runaway): Item => ({ name, program, x: 2 });
  const each = (items: Item[], maxDeadlines?: number) =>
    guarded(() =>
      runEachWithDeadline(items, {
        // 50 ms: quick, yet far above what the quick items need even on a loaded machine.
        budgetMs: 50,
        ...(maxDeadlines === undefined ? {} : { maxDeadlines }),
        culprit: (i) => ({ definition: i.name, field: "f", expression: i.program.source }),
        run: (i) => String(i.program.test({ x: i.x })),
        stopped: (i, error) => `stopped ${i.name} after ${error.budgetMs} ms (${error.definition})`,
        skipped: (i) => `skipped ${i.name}`,
      }),
    );

  it("marks the item that ran out of time and evaluates the items after it under a new deadline", () => {
    expect(each([item("a", quick), item("b", runaway), item("c", quick)])).toEqual(["true", "stopped b after 50 ms (b)", "true"]);
  });

  it("skips what is left once it has spent its deadlines", () => {
    expect(each([item("a", runaway), item("b", quick), item("c", runaway), item("d", quick)], 2)).toEqual([
      "stopped a after 50 ms (a)",
      "true",
      "stopped c after 50 ms (c)",
      "skipped d",
    ]);
  });
});
