// Kubernetes label selectors (matchLabels + matchExpressions) over a set of labels, with the
// reason a selector does not match: a wave's labels and matchExpressions, and TenantPolicy's
// namespace and cluster selectors. Pure.

import type { LabelSelector, MatchExpression } from "../api/types.js";

/** The label Kubernetes puts on every namespace (1.21+), so a selector can name namespaces too. */
export const NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name";

/** Null when the selector holds for `labels`; otherwise why not. An empty selector matches everything. */
export function labelSelectorMismatch(selector: LabelSelector, labels: Readonly<Record<string, string>>): string | null {
  for (const [key, want] of Object.entries(selector.matchLabels ?? {})) {
    const have = labels[key];
    if (have === undefined) return `label ${key} is missing (want ${key}=${want})`;
    if (have !== want) return `label ${key}=${have} does not match ${key}=${want}`;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const why = expressionMismatch(expr, labels);
    if (why) return why;
  }
  return null;
}

function expressionMismatch(expr: MatchExpression, labels: Readonly<Record<string, string>>): string | null {
  const have = labels[expr.key];
  const values = expr.values ?? [];
  switch (expr.operator) {
    case "In":
      // Without values nothing is in the set (validation refuses it; a policy must not open up by a slip).
      if (have === undefined) return `label ${expr.key} is missing (want one of [${values.join(", ")}])`;
      return values.includes(have) ? null : `label ${expr.key}=${have} is not in [${values.join(", ")}]`;
    case "NotIn":
      return have !== undefined && values.includes(have) ? `label ${expr.key}=${have} is in the excluded [${values.join(", ")}]` : null;
    case "Exists":
      return have === undefined ? `label ${expr.key} is missing` : null;
    case "DoesNotExist":
      return have !== undefined ? `label ${expr.key} exists (=${have})` : null;
    default:
      // An operator the schema does not know (an object that bypassed validation) matches nothing.
      return `operator ${String(expr.operator)} is not known`;
  }
}
