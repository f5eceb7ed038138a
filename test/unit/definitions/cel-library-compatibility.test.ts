// THIRD-PARTY BEHAVIOUR, NOT FLOTILLA'S. These tests pin what the two CEL libraries we compared do
// on their own, without Flotilla's wrapper: `cel-js` 0.8.2 (ChromeGG, devDependency, the one we did
// not choose) and `@marcbachmann/cel-js` 8.0.0 (the dependency, called raw: plain JSON numbers stay
// doubles, ints come back as bigint). They record the comparison behind the choice (README, "The CEL
// library") and fail when an upgrade of either library changes a row. What Flotilla itself
// guarantees about CEL is tested in cel-support.test.ts and cel.test.ts.

import { Environment } from "@marcbachmann/cel-js";
import { evaluate as celJsEvaluate } from "cel-js";
import { describe, expect, it } from "vitest";
import { CEL_SAMPLE_DATA } from "../../fixtures/cel-data.js";

const data = CEL_SAMPLE_DATA;

/** What a library did with an expression: a value, or a throw whose message matches. */
type Outcome = { value: unknown } | { throws: RegExp };

interface Row {
  feature: string;
  expression: string;
  /** `cel-js` evaluate(expression, data). */
  celJs: Outcome;
  /** `@marcbachmann/cel-js` Environment.evaluate(expression, data), with plain JSON data. */
  marcbachmann: Outcome;
}

const v = (value: unknown): Outcome => ({ value });
const t = (throws: RegExp): Outcome => ({ throws });
/** The same outcome in both libraries. */
const both = (outcome: Outcome): Pick<Row, "celJs" | "marcbachmann"> => ({ celJs: outcome, marcbachmann: outcome });

const rows: Row[] = [
  // field access
  { feature: "field access", expression: "status.readyReplicas", ...both(v(3)) },
  { feature: "index access on a map", expression: 'cluster.labels["usage"] == "production"', ...both(v(true)) },
  { feature: "key with dots and slashes", expression: 'metadata.labels["flotilla.dev/component"]', ...both(v("web")) },
  { feature: "list index", expression: 'status.conditions[1].type == "Progressing"', ...both(v(true)) },
  { feature: "missing field", expression: "status.unavailableReplicas == 0", celJs: t(/not found/), marcbachmann: t(/No such key/) },
  { feature: "index out of range", expression: "status.conditions[5].type", celJs: t(/not found/), marcbachmann: t(/out of bounds/) },
  { feature: "`in` on map keys", expression: '"region" in cluster.labels', ...both(v(true)) },
  { feature: "`in` on a list literal", expression: 'cluster.labels.region in ["eu", "us"]', ...both(v(true)) },
  // has()
  { feature: "has() on a present field", expression: "has(status.conditions)", ...both(v(true)) },
  { feature: "has() on an absent field", expression: "has(status.unavailableReplicas)", ...both(v(false)) },
  {
    feature: "has() guarding an absent label",
    expression: '!has(cluster.labels.tier) || cluster.labels.tier != "edge"',
    celJs: t(/not found/),
    marcbachmann: v(true),
  },
  { feature: "|| short-circuits an error (true || error)", expression: 'true || cluster.labels.tier == "edge"', celJs: t(/not found/), marcbachmann: v(true) },
  { feature: "|| absorbs an error (error || true)", expression: 'cluster.labels.tier == "edge" || true', celJs: t(/not found/), marcbachmann: v(true) },
  { feature: "&& short-circuits (false && error)", expression: 'false && cluster.labels.tier == "edge"', ...both(v(false)) },
  // macros
  { feature: "all()", expression: 'status.conditions.all(c, c.status == "True")', ...both(v(true)) },
  { feature: "exists()", expression: 'status.conditions.exists(c, c.type == "Available" && c.status == "True")', ...both(v(true)) },
  { feature: "exists_one()", expression: 'status.conditions.exists_one(c, c.type == "Available")', ...both(v(true)) },
  { feature: "map()", expression: "status.conditions.map(c, c.type)", ...both(v(["Available", "Progressing"])) },
  { feature: "filter() then index", expression: 'status.conditions.filter(c, c.type == "Available")[0].status == "True"', ...both(v(true)) },
  { feature: "macro on a list literal", expression: "[1, 2, 3].map(x, x * 2)", celJs: t(/not a valid CEL expression/), marcbachmann: v([2n, 4n, 6n]) },
  { feature: "all() over map keys", expression: "cluster.labels.all(k, k.size() > 0)", celJs: t(/Unknown method: size/), marcbachmann: v(true) },
  // strings and size
  { feature: "size() function on a list", expression: 'size(status.conditions.filter(c, c.type == "Progressing"))', celJs: v(1), marcbachmann: v(1n) },
  { feature: "size() function on a string", expression: "size(metadata.name)", celJs: v(6), marcbachmann: v(6n) },
  { feature: ".size() method", expression: "status.conditions.size()", celJs: t(/Unknown method: size/), marcbachmann: v(2n) },
  { feature: "startsWith()", expression: 'metadata.name.startsWith("web-")', celJs: t(/Unknown method: startsWith/), marcbachmann: v(true) },
  { feature: "endsWith()", expression: 'metadata.name.endsWith("-v1")', celJs: t(/Unknown method: endsWith/), marcbachmann: v(true) },
  { feature: "contains()", expression: 'cluster.name.contains("eu")', celJs: t(/Unknown method: contains/), marcbachmann: v(true) },
  { feature: "matches() (RE2 subset)", expression: 'cluster.name.matches("^prod-[a-z]+$")', celJs: t(/Unknown method: matches/), marcbachmann: v(true) },
  { feature: "string concatenation", expression: 'cluster.labels.region + "-1"', ...both(v("eu-1")) },
  { feature: "string + int is a type error", expression: '"a" + 1', celJs: t(/cannot be applied/), marcbachmann: t(/no such overload/) },
  // durations and timestamps
  { feature: "duration comparison", expression: 'duration("30s") < duration("1m")', celJs: t(/duration not recognized/), marcbachmann: v(true) },
  { feature: "compound duration", expression: 'duration("1m30s") == duration("90s")', celJs: t(/duration not recognized/), marcbachmann: v(true) },
  {
    feature: "timestamp arithmetic",
    expression: 'timestamp(now) - timestamp(status.conditions[0].lastTransitionTime) > duration("5m")',
    celJs: t(/timestamp not recognized/),
    marcbachmann: v(true),
  },
  { feature: "timestamp accessor", expression: "timestamp(now).getMinutes()", celJs: t(/not a valid CEL expression/), marcbachmann: v(10n) },
  // numbers: JSON numbers arrive as doubles in both libraries
  { feature: "JSON number == int literal", expression: "status.readyReplicas == 3", ...both(v(true)) },
  { feature: "JSON number == double literal", expression: "status.readyReplicas == 3.0", ...both(v(true)) },
  {
    feature: "JSON number >= JSON number",
    expression: "status.observedGeneration >= metadata.generation && status.availableReplicas >= spec.replicas",
    ...both(v(true)),
  },
  { feature: "JSON number > int literal", expression: "revision.restarts > 3", ...both(v(false)) },
  { feature: "JSON fraction > double literal", expression: "revision.ratio > 0.5", ...both(v(true)) },
  { feature: "JSON fraction > int literal", expression: "revision.ratio > 1", ...both(v(false)) },
  { feature: "int literal division truncates", expression: "7 / 2", celJs: v(3.5), marcbachmann: v(3n) },
  { feature: "JSON number / int literal", expression: "status.readyReplicas / 2", celJs: v(1.5), marcbachmann: t(/no such overload: dyn<double> \/ int/) },
  {
    feature: "JSON number * int literal",
    expression: "status.readyReplicas * 2 == 6",
    celJs: v(true),
    marcbachmann: t(/no such overload: dyn<double> \* int/),
  },
  { feature: "JSON number + double literal", expression: "spec.replicas + 0.5", ...both(v(3.5)) },
  { feature: "int() conversion", expression: "int(revision.ratio * 10.0)", celJs: t(/int not recognized/), marcbachmann: v(7n) },
  { feature: "double() conversion", expression: "double(status.readyReplicas) / 2.0", celJs: t(/double not recognized/), marcbachmann: v(1.5) },
  { feature: "string() conversion", expression: "string(status.readyReplicas)", celJs: t(/string not recognized/), marcbachmann: v("3") },
  // syntax
  { feature: "ternary", expression: 'status.readyReplicas == 3 ? "ok" : "wait"', ...both(v("ok")) },
  {
    feature: "optional field syntax (.?)",
    expression: 'cluster.labels.?tier.orValue("none")',
    celJs: t(/not a valid CEL expression/),
    marcbachmann: t(/Expected IDENTIFIER/),
  },
  { feature: "syntax error", expression: "status.readyReplicas >", celJs: t(/not a valid CEL expression/), marcbachmann: t(/Unexpected token/) },
];

/** Configured as Flotilla configures it (src/definitions/cel.ts), minus the limits and the int conversion. */
const marcbachmann = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });

const libraries: Record<"celJs" | "marcbachmann", (expression: string) => unknown> = {
  celJs: (expression) => celJsEvaluate(expression, data),
  marcbachmann: (expression) => marcbachmann.evaluate(expression, data),
};

describe.each([
  ["cel-js 0.8.2", "celJs"],
  ["@marcbachmann/cel-js 8.0.0", "marcbachmann"],
] as const)("third-party library %s on its own", (_name, library) => {
  it.each(rows)("$feature: $expression", (row) => {
    const outcome = row[library];
    const run = () => libraries[library](row.expression);
    if ("throws" in outcome) expect(run).toThrow(outcome.throws);
    else expect(run()).toEqual(outcome.value);
  });
});
