import { describe, expect, it } from "vitest";
import { TemplateError } from "../../../src/api/errors.js";
import { compileTemplate, DEFAULT_BUDGET, parseVersion, versionAtLeast } from "../../../src/definitions/jsonata.js";

const origin = { definition: "worker", field: "spec.template" };

async function failure(source: string, input: unknown = {}, budget = DEFAULT_BUDGET): Promise<TemplateError> {
  try {
    await compileTemplate(source, origin, budget).evaluate(input, { path: "spec.appRevisions[0].template.spec.components[0].settings" });
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error(`expected ${source} to fail`);
}

describe("compileTemplate", () => {
  it("evaluates a template over its input into plain JSON", async () => {
    const t = compileTemplate('{"name": context.name, "list": [settings.a], "missing": settings.nope}', origin);
    expect(await t.evaluate({ settings: { a: 1 }, context: { name: "backend-v1" } })).toEqual({ name: "backend-v1", list: [1] });
  });

  it("returns undefined when the template produces nothing", async () => {
    expect(await compileTemplate("settings.nope", origin).evaluate({ settings: {} })).toBeUndefined();
  });

  it("reports a syntax error as a TemplateError with the definition, field and position", () => {
    let caught: unknown;
    try {
      compileTemplate('{"a": 1 +}', origin);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    const err = caught as TemplateError;
    expect(err.definition).toBe("worker");
    expect(err.field).toBe("spec.template");
    expect(err.position).toBe(10);
    expect(err.message).toMatch(/^worker\.spec\.template at position 10: JSONata syntax error: /);
  });

  it("reports a runtime error with the position and the path of the parameters", async () => {
    const err = await failure('"a" + 1');
    expect(err.message).toContain("JSONata evaluation failed");
    expect(err.message).toContain("must evaluate to a number");
    expect(err.position).toBe(5);
    expect(err.path).toBe("spec.appRevisions[0].template.spec.components[0].settings");
  });

  it("passes $error messages through", async () => {
    const err = await failure('$error("min must not exceed max")');
    expect(err.message).toContain("min must not exceed max");
  });

  it("stops a template that recurses forever with an error mentioning recursion", async () => {
    const err = await failure("($f := function($x) { $x + $f($x) }; $f(1))");
    expect(err.message).toMatch(/recursion deeper than 300 levels/);
  });

  it("stops an endless loop with a timeout error", async () => {
    const started = Date.now();
    const err = await failure("($loop := function($i) { $i < 0 ? $i : $loop($i + 1) }; $loop(0))", {}, { ...DEFAULT_BUDGET, timeoutMs: 200 });
    expect(err.message).toMatch(/longer than 200 ms .*endless loop/);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it("refuses a 50 MB output with an output budget error", async () => {
    const err = await failure('{"data": $pad("", 50000000, "y")}');
    expect(err.message).toMatch(/JSONata output is 500000\d\d bytes, more than the budget of 1048576/);
    expect(err.path).toBe("spec.appRevisions[0].template.spec.components[0].settings");
  });

  it.each([
    ["a range past the budget", "$count([1..200000])"],
    ["a range past the library's own cap of 10 million", "$count([1..100000000])"],
    ["a sequence built step by step", "$count([1..1000].([1..200]))"],
  ])("refuses %s with the sequence budget in the message", async (_what, source) => {
    const err = await failure(source);
    expect(err.message).toMatch(/a sequence grew beyond 100000 items/);
  });

  it.each([
    ["v1.20.2", "1.23", false],
    ["v1.23.0", "1.23", true],
    ["v1.29.0-gke.1", "1.23", true],
    ["1.22.17", "v1.23", false],
    ["v2.0", "1.23", true],
    ["not-a-version", "1.23", true],
  ])("$versionAtLeast(%j, %j) is %s in a template", async (version, minimum, expected) => {
    const t = compileTemplate("$versionAtLeast(context.cluster.version, minimum)", origin);
    expect(await t.evaluate({ context: { cluster: { version } }, minimum })).toBe(expected);
  });
});

describe("versions", () => {
  it.each([
    ["v1.20.2", [1, 20, 2]],
    ["1.23", [1, 23, 0]],
    ["v1.29.0-gke.1", [1, 29, 0]],
    [" v2 ", [2, 0, 0]],
    ["latest", undefined],
  ])("parses %j as %j", (text, expected) => {
    expect(parseVersion(text)).toEqual(expected);
  });

  it("treats an unparseable minimum as not satisfied", () => {
    expect(versionAtLeast("v1.30.0", "soon")).toBe(false);
  });

  it("treats a missing cluster version as recent", () => {
    expect(versionAtLeast(undefined, "1.23")).toBe(true);
  });
});
