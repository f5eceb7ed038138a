// Which CEL features the two candidate libraries support on the expressions our definitions,
// placement conditions and rollout analyses need: `cel-js` 0.8.2 (ChromeGG, devDependency) and
// `@marcbachmann/cel-js` 8.0.0 (the dependency), raw and through Flotilla's wrapper
// (`src/definitions/cel.ts`, which turns whole JSON numbers into CEL ints). Every row records what
// each one returns, or that it throws, so a library upgrade that changes behaviour fails here.

import { Environment } from "@marcbachmann/cel-js";
import { evaluate as celJsEvaluate } from "cel-js";
import { describe, expect, it } from "vitest";
import { CEL_SAMPLE_DATA } from "../../fixtures/cel-data.js";
import { compileCel } from "../../../src/definitions/cel.js";

const data = CEL_SAMPLE_DATA;

/** What a library did with an expression: a value, or a throw whose message matches. */
type Outcome = { value: unknown } | { throws: RegExp };

interface Row {
  feature: string;
  expression: string;
  /** `cel-js` evaluate(expression, data). */
  celJs: Outcome;
  /** `@marcbachmann/cel-js` with plain JSON data (numbers stay doubles); ints come back as bigint. */
  marcbachmann: Outcome;
  /** Flotilla's compileCel(...).evaluate(data): JSON integers become CEL ints, results plain JSON. */
  flotilla: Outcome;
}

const same = (value: unknown): Pick<Row, "marcbachmann" | "flotilla"> => ({ marcbachmann: { value }, flotilla: { value } });
const v = (value: unknown): Outcome => ({ value });
const t = (throws: RegExp): Outcome => ({ throws });

const rows: Row[] = [
  // field access
  { feature: "field access", expression: "status.readyReplicas", celJs: v(3), ...same(3) },
  { feature: "index access on a map", expression: 'cluster.labels["usage"] == "production"', celJs: v(true), ...same(true) },
  { feature: "key with dots and slashes", expression: 'metadata.labels["flotilla.dev/component"]', celJs: v("web"), ...same("web") },
  { feature: "list index", expression: 'status.conditions[1].type == "Progressing"', celJs: v(true), ...same(true) },
  { feature: "missing field", expression: "status.unavailableReplicas == 0", celJs: t(/not found/), marcbachmann: t(/No such key/), flotilla: t(/No such key/) },
  { feature: "index out of range", expression: "status.conditions[5].type", celJs: t(/not found/), marcbachmann: t(/out of bounds/), flotilla: t(/out of bounds/) },
  { feature: "`in` on map keys", expression: '"region" in cluster.labels', celJs: v(true), ...same(true) },
  { feature: "`in` on a list literal", expression: 'cluster.labels.region in ["eu", "us"]', celJs: v(true), ...same(true) },
  // has()
  { feature: "has() on a present field", expression: "has(status.conditions)", celJs: v(true), ...same(true) },
  { feature: "has() on an absent field", expression: "has(status.unavailableReplicas)", celJs: v(false), ...same(false) },
  { feature: "has() guarding an absent label", expression: '!has(cluster.labels.tier) || cluster.labels.tier != "edge"', celJs: t(/not found/), ...same(true) },
  { feature: "|| short-circuits an error (true || error)", expression: 'true || cluster.labels.tier == "edge"', celJs: t(/not found/), ...same(true) },
  { feature: "|| absorbs an error (error || true)", expression: 'cluster.labels.tier == "edge" || true', celJs: t(/not found/), ...same(true) },
  { feature: "&& short-circuits (false && error)", expression: 'false && cluster.labels.tier == "edge"', celJs: v(false), ...same(false) },
  // macros
  { feature: "all()", expression: 'status.conditions.all(c, c.status == "True")', celJs: v(true), ...same(true) },
  { feature: "exists()", expression: 'status.conditions.exists(c, c.type == "Available" && c.status == "True")', celJs: v(true), ...same(true) },
  { feature: "exists_one()", expression: 'status.conditions.exists_one(c, c.type == "Available")', celJs: v(true), ...same(true) },
  { feature: "map()", expression: "status.conditions.map(c, c.type)", celJs: v(["Available", "Progressing"]), ...same(["Available", "Progressing"]) },
  { feature: "filter() then index", expression: 'status.conditions.filter(c, c.type == "Available")[0].status == "True"', celJs: v(true), ...same(true) },
  { feature: "macro on a list literal", expression: "[1, 2, 3].map(x, x * 2)", celJs: t(/not a valid CEL expression/), marcbachmann: v([2n, 4n, 6n]), flotilla: v([2, 4, 6]) },
  { feature: "all() over map keys", expression: "cluster.labels.all(k, k.size() > 0)", celJs: t(/Unknown method: size/), ...same(true) },
  // strings and size
  { feature: "size() function on a list", expression: 'size(status.conditions.filter(c, c.type == "Progressing"))', celJs: v(1), marcbachmann: v(1n), flotilla: v(1) },
  { feature: "size() function on a string", expression: "size(metadata.name)", celJs: v(6), marcbachmann: v(6n), flotilla: v(6) },
  { feature: ".size() method", expression: "status.conditions.size()", celJs: t(/Unknown method: size/), marcbachmann: v(2n), flotilla: v(2) },
  { feature: "startsWith()", expression: 'metadata.name.startsWith("web-")', celJs: t(/Unknown method: startsWith/), ...same(true) },
  { feature: "endsWith()", expression: 'metadata.name.endsWith("-v1")', celJs: t(/Unknown method: endsWith/), ...same(true) },
  { feature: "contains()", expression: 'cluster.name.contains("eu")', celJs: t(/Unknown method: contains/), ...same(true) },
  { feature: "matches() (RE2 subset)", expression: 'cluster.name.matches("^prod-[a-z]+$")', celJs: t(/Unknown method: matches/), ...same(true) },
  { feature: "string concatenation", expression: 'cluster.labels.region + "-1"', celJs: v("eu-1"), ...same("eu-1") },
  { feature: "string + int is a type error", expression: '"a" + 1', celJs: t(/cannot be applied/), marcbachmann: t(/no such overload/), flotilla: t(/no such overload/) },
  // durations and timestamps
  { feature: "duration comparison", expression: 'duration("30s") < duration("1m")', celJs: t(/duration not recognized/), ...same(true) },
  { feature: "compound duration", expression: 'duration("1m30s") == duration("90s")', celJs: t(/duration not recognized/), ...same(true) },
  {
    feature: "timestamp arithmetic",
    expression: 'timestamp(now) - timestamp(status.conditions[0].lastTransitionTime) > duration("5m")',
    celJs: t(/timestamp not recognized/),
    ...same(true),
  },
  { feature: "timestamp accessor", expression: "timestamp(now).getMinutes()", celJs: t(/not a valid CEL expression/), marcbachmann: v(10n), flotilla: v(10) },
  // numbers: CEL ints vs doubles against JSON numbers
  { feature: "JSON integer == int literal", expression: "status.readyReplicas == 3", celJs: v(true), ...same(true) },
  { feature: "JSON integer == double literal", expression: "status.readyReplicas == 3.0", celJs: v(true), ...same(true) },
  { feature: "JSON integer >= JSON integer", expression: "status.observedGeneration >= metadata.generation && status.availableReplicas >= spec.replicas", celJs: v(true), ...same(true) },
  { feature: "JSON integer > int literal", expression: "revision.restarts > 3", celJs: v(false), ...same(false) },
  { feature: "JSON double > double literal", expression: "revision.ratio > 0.5", celJs: v(true), ...same(true) },
  { feature: "JSON double > int literal", expression: "revision.ratio > 1", celJs: v(false), ...same(false) },
  { feature: "int literal division truncates", expression: "7 / 2", celJs: v(3.5), marcbachmann: v(3n), flotilla: v(3) },
  { feature: "JSON integer / int literal", expression: "status.readyReplicas / 2", celJs: v(1.5), marcbachmann: t(/no such overload: dyn<double> \/ int/), flotilla: v(1) },
  { feature: "JSON integer * int literal", expression: "status.readyReplicas * 2 == 6", celJs: v(true), marcbachmann: t(/no such overload: dyn<double> \* int/), flotilla: v(true) },
  { feature: "JSON integer + double literal", expression: "spec.replicas + 0.5", celJs: v(3.5), marcbachmann: v(3.5), flotilla: t(/no such overload: dyn<int> \+ double/) },
  { feature: "int() conversion", expression: "int(revision.ratio * 10.0)", celJs: t(/int not recognized/), marcbachmann: v(7n), flotilla: v(7) },
  { feature: "double() conversion", expression: "double(status.readyReplicas) / 2.0", celJs: t(/double not recognized/), ...same(1.5) },
  { feature: "string() conversion", expression: "string(status.readyReplicas)", celJs: t(/string not recognized/), ...same("3") },
  // syntax
  { feature: "ternary", expression: 'status.readyReplicas == 3 ? "ok" : "wait"', celJs: v("ok"), ...same("ok") },
  { feature: "optional field syntax (.?)", expression: 'cluster.labels.?tier.orValue("none")', celJs: t(/not a valid CEL expression/), marcbachmann: t(/Expected IDENTIFIER/), flotilla: t(/Expected IDENTIFIER/) },
  { feature: "syntax error", expression: "status.readyReplicas >", celJs: t(/not a valid CEL expression/), marcbachmann: t(/Unexpected token/), flotilla: t(/does not compile/) },
];

const marcbachmann = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });

const engines: Record<"celJs" | "marcbachmann" | "flotilla", (expression: string) => unknown> = {
  celJs: (expression) => celJsEvaluate(expression, data),
  marcbachmann: (expression) => marcbachmann.evaluate(expression, data),
  flotilla: (expression) => compileCel(expression, { definition: "cel-support", field: "expression" }).evaluate(data),
};

function check(run: () => unknown, outcome: Outcome): void {
  if ("throws" in outcome) {
    expect(run).toThrow(outcome.throws);
  } else {
    expect(run()).toEqual(outcome.value);
  }
}

describe.each(Object.keys(engines) as Array<keyof typeof engines>)("CEL support in %s", (engine) => {
  it.each(rows)("$feature: $expression", (row) => {
    check(() => engines[engine](row.expression), row[engine]);
  });
});

describe("the CEL comparison table", () => {
  it("lists every feature once", () => {
    const features = rows.map((r) => r.feature);
    expect(new Set(features).size).toBe(features.length);
  });

  it("shows features that only @marcbachmann/cel-js supports", () => {
    const onlyMarcbachmann = rows.filter((r) => "throws" in r.celJs && "value" in r.marcbachmann).map((r) => r.feature);
    expect(onlyMarcbachmann).toEqual(expect.arrayContaining(["startsWith()", "matches() (RE2 subset)", "duration comparison", "timestamp arithmetic", "has() guarding an absent label"]));
  });
});
