// The CEL that Flotilla's health rules, placement conditions and rollout analyses rely on, through
// Flotilla's own compileCel (src/definitions/cel.ts: whole JSON numbers become CEL ints, results
// come back as plain JSON, failures as TemplateError) on a live Deployment, a rollout revision and
// a Cluster. A library upgrade or a wrapper change that alters any row changes what users'
// expressions mean. What the third-party libraries do on their own is pinned separately, in
// cel-library-compatibility.test.ts.

import { describe, expect, it } from "vitest";
import { TemplateError } from "../../../src/api/errors.js";
import { compileCel } from "../../../src/definitions/cel.js";
import { CEL_SAMPLE_DATA } from "../../fixtures/cel-data.js";

/** What an expression must give: a value, or a TemplateError whose message matches. */
type Outcome = { value: unknown } | { throws: RegExp };

const v = (value: unknown): Outcome => ({ value });
const t = (throws: RegExp): Outcome => ({ throws });

/** [where Flotilla uses it, what it pins, expression, outcome] */
const rows: Array<[string, string, string, Outcome]> = [
  // Health rules (a definition's `health`, over the live object).
  [
    "health",
    "integer fields compare with each other",
    "status.observedGeneration >= metadata.generation && status.availableReplicas >= spec.replicas",
    v(true),
  ],
  ["health", "exists() over conditions", 'status.conditions.exists(c, c.type == "Available" && c.status == "True")', v(true)],
  ["health", "all() over conditions", 'status.conditions.all(c, c.status == "True")', v(true)],
  ["health", "size() of filter() is a plain number", 'size(status.conditions.filter(c, c.type == "Progressing"))', v(1)],
  ["health", "an absent status field is an evaluation error, not false", "status.unavailableReplicas == 0", t(/CEL evaluation failed: No such key/)],
  ["health", "has() on an absent field is false", "has(status.unavailableReplicas)", v(false)],
  ["health", "timestamp arithmetic against a duration", 'timestamp(now) - timestamp(status.conditions[0].lastTransitionTime) > duration("5m")', v(true)],
  // Placement conditions (over the Cluster).
  ["placement", "label lookup by index", 'cluster.labels["usage"] == "production"', v(true)],
  ["placement", "a key with dots and slashes", 'metadata.labels["flotilla.dev/component"]', v("web")],
  ["placement", "`in` on label keys", '"region" in cluster.labels', v(true)],
  ["placement", "`in` on a list literal", 'cluster.labels.region in ["eu", "us"]', v(true)],
  ["placement", "has() guards an absent label", '!has(cluster.labels.tier) || cluster.labels.tier != "edge"', v(true)],
  ["placement", "|| absorbs the error of an absent label", 'cluster.labels.tier == "edge" || true', v(true)],
  ["placement", "startsWith() on a name", 'metadata.name.startsWith("web-")', v(true)],
  ["placement", "matches() on a name", 'cluster.name.matches("^prod-[a-z]+$")', v(true)],
  // Rollout analysis (over the revision's figures).
  ["analysis", "ready replicas equal replicas", "revision.readyReplicas == revision.replicas", v(true)],
  ["analysis", "an integer count against an int literal", "revision.restarts > 3", v(false)],
  ["analysis", "a fraction against an int literal", "revision.ratio > 1", v(false)],
  ["analysis", "an integer field divided by an int truncates", "status.readyReplicas / 2", v(1)],
  ["analysis", "an integer field times an int", "status.readyReplicas * 2 == 6", v(true)],
  [
    "analysis",
    "an integer field plus a double literal is a type error (double() is the fix)",
    "spec.replicas + 0.5",
    t(/no such overload: dyn<int> \+ double/),
  ],
  ["analysis", "double() converts an integer field", "double(status.readyReplicas) / 2.0", v(1.5)],
  ["analysis", "int() converts a fraction, as a plain number", "int(revision.ratio * 10.0)", v(7)],
  // Every use: a syntax error is refused when compiled.
  ["every use", "a syntax error does not compile", "status.readyReplicas >", t(/CEL does not compile/)],
];

describe("CEL as Flotilla evaluates it", () => {
  it.each(rows)("%s: %s (%s)", (_use, _what, expression, outcome) => {
    const run = () => compileCel(expression, { definition: "cel-support", field: "expression" }).evaluate(CEL_SAMPLE_DATA);
    if ("throws" in outcome) {
      expect(run).toThrow(TemplateError);
      expect(run).toThrow(outcome.throws);
    } else {
      const result = run();
      expect(result).toEqual(outcome.value);
      // Plain JSON, never a CEL bigint: toEqual(1) would not tell 1 from 1n.
      if (typeof outcome.value === "number") expect(typeof result).toBe("number");
    }
  });
});
