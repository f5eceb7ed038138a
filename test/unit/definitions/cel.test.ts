import { describe, expect, it } from "vitest";
import { TemplateError } from "../../../src/api/errors.js";
import { compileCel, fromCelValue, toCelValue } from "../../../src/definitions/cel.js";

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
    const a = compileCel("x > 1", origin);
    const b = compileCel("x > 1", origin);
    expect(a.test({ x: 2 })).toBe(true);
    expect(b.test({ x: 0 })).toBe(false);
  });
});

describe("CEL value conversion", () => {
  it("turns whole numbers into bigints and keeps fractions", () => {
    expect(toCelValue({ a: 3, b: 1.5, c: [2], d: "4" })).toEqual({ a: 3n, b: 1.5, c: [2n], d: "4" });
  });

  it("turns bigints and maps back into JSON", () => {
    expect(fromCelValue(new Map<unknown, unknown>([["a", 2n], ["b", [3n]]]))).toEqual({ a: 2, b: [3] });
  });
});
