// Every CEL expression an ApplicationDeployment carries (placement conditions, rollout analysis),
// compiled up front so a mistake is reported with its field path before anything is placed or
// rolled out — not the first time a cluster or a batch happens to evaluate it.

import { type FieldProblem, TemplateError } from "../api/errors.js";
import type { ApplicationDeployment } from "../api/types.js";
import { compileCel } from "./cel.js";

export function deploymentExpressionProblems(deployment: ApplicationDeployment): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const name = `${deployment.metadata.namespace ?? "default"}/${deployment.metadata.name}`;
  const check = (source: string | undefined, path: string) => {
    if (source === undefined) return;
    try {
      compileCel(source, { definition: name, field: path });
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      const prefix = `${e.definition}.${e.field}`;
      const detail = e.message.slice(e.message.indexOf(": ", prefix.length) + 2);
      const where = e.position === undefined ? "" : ` (at position ${e.position})`;
      problems.push({ path, message: `${detail}${where}`, fix: "Fix the CEL expression." });
    }
  };
  (deployment.spec.placementStrategies ?? []).forEach((s, i) => {
    check(s.clusterSelector?.condition, `spec.placementStrategies[${i}].clusterSelector.condition`);
  });
  deployment.spec.appRevisions.forEach((r, i) => {
    check(r.rollout?.analysis?.successCondition, `spec.appRevisions[${i}].rollout.analysis.successCondition`);
    check(r.rollout?.analysis?.failureCondition, `spec.appRevisions[${i}].rollout.analysis.failureCondition`);
  });
  return problems;
}
