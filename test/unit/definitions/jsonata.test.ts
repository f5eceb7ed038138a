import jsonata from "jsonata";
import { afterAll, describe, expect, it } from "vitest";
import { TemplateError } from "../../../src/api/errors.js";
import { closeTemplateWorkers, compileTemplate, DEFAULT_BUDGET, parseVersion, versionAtLeast } from "../../../src/definitions/jsonata.js";
import { Re2RegExp, UnsupportedRegexError } from "../../../src/definitions/re2-regexp.js";

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
    expect((err as TemplateError).transient).toBe(false);
  });

  it("stops an endless loop with a timeout error", async () => {
    // The budget is the code's; the test's timeout only guards against a hang.
    const err = await failure("($loop := function($i) { $i < 0 ? $i : $loop($i + 1) }; $loop(0))", {}, { ...DEFAULT_BUDGET, timeoutMs: 200 });
    // Between steps it asks about an endless loop; on a loaded machine the watchdog may stop it in
    // the middle of one step instead, with a message of its own: both are the time budget.
    expect(err.message).toMatch(/took longer than 200 ms (\(is there an endless loop\?\)|and was stopped in the middle of one step)/);
    // A time budget can also run out on a loaded machine: the controller tries it again later.
    expect((err as TemplateError).transient).toBe(true);
  }, 10_000);

  it("refuses a 50 MB output with an output budget error", async () => {
    const err = await failure('{"data": $pad("", 50000000, "y")}');
    expect(err.message).toMatch(/JSONata output is at least 500000\d\d bytes, more than the budget of 1048576/);
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

/** A template that doubles a value `times` times in a chain of assignments, then applies `finish` to it. */
function doubling(start: string, step: (x: string) => string, times: number, finish: string): string {
  return `($x := ${start}; ${Array.from({ length: times }, () => `$x := ${step("$x")};`).join(" ")} ${finish})`;
}

/**
 * One native call that takes seconds ($distinct deep-compares every pair of 20,000 objects: 200
 * million comparisons) and that no step check can interrupt. The objects come in as input, so no
 * step before it can reach the time budget first.
 */
const ONE_LONG_STEP = "$count($distinct(items))";
const MANY_OBJECTS = { items: Array.from({ length: 20_000 }, (_, n) => ({ n })) };

/**
 * A small time budget keeps the runaway cases fast; the default is the same mechanism at a larger
 * number. Only for cases whose expected outcome is the time budget: a fresh worker's first
 * evaluation on a loaded machine can take longer than 100 ms.
 */
const QUICK = { ...DEFAULT_BUDGET, timeoutMs: 100 };

describe("templates under a hard budget", () => {
  afterAll(() => closeTemplateWorkers());

  it("answers a catastrophic regular expression in linear time instead of backtracking", async () => {
    const t = compileTemplate('{"match": $match(text, /(a+)+$/), "exists": $contains(text, /(a+)+$/)}', origin);
    expect(await t.evaluate({ text: `${"a".repeat(35)}!` })).toEqual({ exists: false });
  });

  it("refuses a regular expression with a backreference when the definition is compiled", () => {
    const err = (() => {
      try {
        compileTemplate("$match(settings.image, /(a+)\\1/)", origin);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).position).toBe(31);
    expect((err as TemplateError).message).toMatch(
      /^worker\.spec\.template at position 31: JSONata template refused: regular expression \/\(a\+\)\\1\/ cannot run in linear time .*rewrite it without them/,
    );
  });

  it.each([
    ["lookahead", "/a(?=b)/"],
    ["negative lookbehind", "/(?<!a)b/"],
  ])("refuses %s when the definition is compiled", (_what, regex) => {
    expect(() => compileTemplate(`$contains("ab", ${regex})`, origin)).toThrow(/cannot run in linear time/);
  });

  it("refuses a backreference built at run time with $eval as an evaluation error", async () => {
    const err = await failure("$eval(\"$match('aa', /(a)\\\\1/)\")");
    expect(err.message).toMatch(/cannot run in linear time/);
  });

  it("stops a single native step that outlives the time budget, naming the budget", async () => {
    const err = await failure(ONE_LONG_STEP, MANY_OBJECTS, QUICK);
    expect((err as TemplateError).transient).toBe(true);
    expect(err.message).toBe(
      "spec.appRevisions[0].template.spec.components[0].settings: worker.spec.template: JSONata evaluation failed: evaluation took longer than 100 ms and was stopped in the middle of one step (does a function such as $string, $length or $distinct work on a huge value?)",
    );
  });

  it("keeps the controller's event loop turning while a runaway evaluation runs", async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const outcome = await compileTemplate(ONE_LONG_STEP, origin, QUICK)
      .evaluate(MANY_OBJECTS)
      .catch((e: unknown) => e);
    clearInterval(timer);
    // An evaluation on the controller's thread would have blocked every timer until it returned.
    expect(ticks).toBeGreaterThan(0);
    expect(outcome).toBeInstanceOf(TemplateError);
  });

  it("evaluates the next template normally after a runaway one was stopped", async () => {
    expect((await failure(ONE_LONG_STEP, MANY_OBJECTS, QUICK)).message).toContain("stopped in the middle of one step");
    expect(await compileTemplate('{"name": context.name}', origin).evaluate({ context: { name: "next" } })).toEqual({ name: "next" });
  });

  it("stops $string over an object doubled 40 times at a budget", async () => {
    const err = await failure(
      doubling('"a"', (x) => `{"a": ${x}, "b": ${x}}`, 40, "$string($x)"),
      {},
      QUICK,
    );
    expect(err.message).toMatch(/evaluation (took longer than 100 ms|needed more than 256 MiB of memory)/);
  });

  it("refuses an object doubled 40 times as output at the output budget, without serializing it", async () => {
    const err = await failure(doubling('"a"', (x) => `{"a": ${x}, "b": ${x}}`, 40, "$x"));
    expect(err.message).toMatch(/JSONata output is at least \d+ bytes, more than the budget of 1048576/);
  });

  it("stops $length over a string doubled 28 times at the memory budget, and recovers", async () => {
    const budget = { ...DEFAULT_BUDGET, timeoutMs: 60_000, maxMemoryMb: 64 };
    const err = await failure(
      doubling('"a"', (x) => `${x} & ${x}`, 28, "$length($x)"),
      {},
      budget,
    );
    expect(err.message).toContain("JSONata evaluation failed: evaluation needed more than 64 MiB of memory and was stopped");
    expect(err.path).toBe("spec.appRevisions[0].template.spec.components[0].settings");
    expect(await compileTemplate("$length(text)", origin, budget).evaluate({ text: "abc" })).toBe(3);
  }, 30_000);

  it.each([
    ["$now()", "now", "reads the clock", "Pass the time in as a value"],
    ["$millis()", "millis", "reads the clock", "Pass the time in as a value"],
    ["$random()", "random", "returns a new number at each call", "Pass the value in as a setting or property"],
    ["$shuffle([1, 2, 3])", "shuffle", "returns its items in a random order", "Use $sort()"],
    ["$map([1, 2], $random)", "random", "returns a new number at each call", "Pass the value in"],
  ])("refuses %s when the definition is compiled, saying templates must be deterministic", (call, name, why, fix) => {
    let caught: unknown;
    try {
      compileTemplate(`{"at": ${call}}`, origin);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(TemplateError);
    const err = caught as TemplateError;
    expect(err.message).toContain(`JSONata template is not deterministic: $${name}() ${why}`);
    expect(err.message).toContain("templates must be deterministic");
    expect(err.message).toContain(fix);
    expect(err.position).toBeGreaterThan(0);
  });

  it("refuses $now() reached through $eval when it is called", async () => {
    const err = await failure('$eval("$now()")');
    expect(err.message).toContain("$now() reads the clock");
  });

  it("refuses $toMillis() with a picture that leaves out the date, and accepts a full one", async () => {
    expect((await failure('$toMillis("10:30", "[H01]:[m01]")')).message).toContain("JSONata template is not deterministic: $toMillis()");
    const t = compileTemplate('[$toMillis("2024-01-02", "[Y0001]-[M01]-[D01]"), $toMillis("2024-01-02T10:00:00")]', origin);
    expect(await t.evaluate({})).toEqual([1704153600000, 1704189600000]);
  });

  it("lets a template bind its own $now", async () => {
    expect(await compileTemplate('($now := function() { "fixed" }; $now())', origin).evaluate({})).toBe("fixed");
  });

  it.each([
    ['{"b": 2, "a": [1, 2.5, -0, 1e21, 0.1 + 0.2], "s": "ünï\\u2028\\"q\\"", "none": nothing}', {}],
    [
      'settings.items[price > 1].{"n": name, "p": price * 2}',
      {
        settings: {
          items: [
            { name: "a", price: 1 },
            { name: "b", price: 3 },
            { name: "c", price: 5 },
          ],
        },
      },
    ],
    ['$split("a1b22c333", /[0-9]+/)', {}],
    ['$replace("Hello World", /(o)(\\s|$)/, function($m) { "[" & $m.groups[0] & "]" })', {}],
    ['$match("key=val; k2=v2", /(\\w+)=(\\w+)/)', {}],
    ['$contains("line1\\r\\nline2", /line1.line2/)', {}],
    ['$split("a b\\u00a0c", /\\s/)', {}],
    ['$match("ÄBC", /äbc/i).match', {}],
    ["$keys(context) ~> $sort", { context: { z: 1, a: 2, m: 3 } }],
    ['$fromMillis(1704189600000, "[Y0001]-[M01]-[D01] [H01]:[m01]")', {}],
  ])("renders %s byte for byte as JSONata does in process", async (source, input) => {
    const inProcess = await jsonata(source).evaluate(input);
    const expected = JSON.stringify(inProcess);
    const t = compileTemplate(source, origin);
    expect(JSON.stringify(await t.evaluate(input))).toBe(expected);
    expect(JSON.stringify(await t.evaluate(input))).toBe(expected);
  });
});

describe("the output budget", () => {
  const MIXED = '{"a": [1, -0, 2.5e-7, 1e21, true, false, null, "x\\"y\\n", [], {}], "b": {"c": nothing, "d": "ü"}, "e": [nothing, 1]}';

  it("accepts an output of exactly the budget, counting as JSON.stringify does", async () => {
    const size = JSON.stringify(await jsonata(MIXED).evaluate({})).length;
    const t = compileTemplate(MIXED, origin, { ...DEFAULT_BUDGET, maxOutputBytes: size });
    expect(JSON.stringify(await t.evaluate({}))).toHaveLength(size);
  });

  it.each([
    ["a lambda", '{"f": function($x) { $x }}'],
    ["a built-in function in a list", "[$string]"],
  ])("refuses %s in the output, which has no JSON form", async (_what, source) => {
    expect((await failure(source)).message).toContain("JSONata evaluation failed: the result holds a function, which has no JSON form");
  });

  it("refuses an output one byte over the budget", async () => {
    const size = JSON.stringify(await jsonata(MIXED).evaluate({})).length;
    const err = await failure(MIXED, {}, { ...DEFAULT_BUDGET, maxOutputBytes: size - 1 });
    expect(err.message).toContain(`more than the budget of ${size - 1}`);
  });
});

/** Every match of a global exec loop, as [index, ...groups], stopping on an empty match as JSONata does. */
function allMatches(re: { exec(s: string): RegExpExecArray | null; lastIndex: number }, text: string): unknown[] {
  const found: unknown[] = [];
  for (let m = re.exec(text); m !== null && found.length < 100; m = re.exec(text)) {
    found.push([m.index, ...m]);
    if (m[0] === "") break;
  }
  return found;
}

describe("Re2RegExp", () => {
  it.each([
    ["(\\w+)=(\\w+)?", "g", "a=1; b=; c=3"],
    ["^line", "gm", "line1\nline2\r\nline3"],
    ["line.", "g", "line1 line\rx line\u2028y"],
    ["\\s+", "g", "a \t\u00a0\u3000b\u000bc"],
    ["[\\s,]+", "g", "a, \u00a0b"],
    ["\\S+", "g", "ab\u00a0cd"],
    ["\\u00e9|\\uD83D\\uDE00", "g", "café 😀 e"],
    ["\\cJ|\\0", "g", "a\nb\u0000c"],
    ["straße", "gi", "STRAßE straße"],
    ["x*", "g", "abc"],
    ["(a)|(b)", "g", "ab"],
  ])("matches /%s/%s like the native engine on %j", (source, flags, text) => {
    expect(allMatches(new Re2RegExp(source, flags), text)).toEqual(allMatches(new RegExp(source, flags), text));
  });

  it("resets lastIndex after the last match, as a global RegExp does", () => {
    const re = new Re2RegExp("a", "g");
    expect(re.exec("aa")?.index).toBe(0);
    expect(re.lastIndex).toBe(1);
    expect(re.exec("aa")?.index).toBe(1);
    expect(re.exec("aa")).toBeNull();
    expect(re.lastIndex).toBe(0);
  });

  it("refuses a backreference with RE2's reason", () => {
    expect(() => new Re2RegExp("(a)\\1")).toThrow(UnsupportedRegexError);
    expect(() => new Re2RegExp("(a)\\1")).toThrow(/regular expression \/\(a\)\\1\/ cannot run in linear time \(error parsing regexp: invalid escape sequence/);
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
