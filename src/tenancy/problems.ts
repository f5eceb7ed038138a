// Tenancy as problems of a deployment: what the controller's render step, the GitSource loop and
// the admission webhook refuse (objects of kinds the namespace may not create, named with the
// component that renders them and the policy), and what they only warn about (clusters its
// placement selects that the namespace may not use: those are left out, not an error). Pure.

import { type FieldProblem, ValidationError } from "../api/errors.js";
import type { ApplicationDeployment, Cluster, Manifest, TenantPolicy } from "../api/types.js";
import { objectRef } from "../api/validate.js";
import type { Placement } from "../placement/select.js";
import { componentPathOf } from "../render/kube-schema.js";
import { effectivePolicy, kindsRefused, type EffectivePolicy, refusedClusters } from "./policy.js";

/** What a tenancy check of one deployment works from. */
export interface TenancyInput {
  deployment: ApplicationDeployment;
  /** Every TenantPolicy on the hub. */
  policies: readonly TenantPolicy[];
  /** The labels of the deployment's namespace on the hub; undefined when unknown. */
  namespaceLabels?: Readonly<Record<string, string>> | undefined;
}

/** A rendered object the namespace may not create: a render failure naming the object and the policy. */
export class TenancyRefusedError extends ValidationError {
  override name = "TenancyRefusedError";
  /** The policies that refused something, sorted. */
  readonly policies: string[];

  constructor(problems: FieldProblem[], policies: string[], options: { object?: string } = {}) {
    super(problems, options);
    this.policies = policies;
  }
}

export function namespaceOf(deployment: ApplicationDeployment): string {
  return deployment.metadata.namespace ?? "default";
}

/** The policies that govern the deployment's namespace. */
export function deploymentPolicy(input: TenancyInput): EffectivePolicy {
  return effectivePolicy(input.policies, { name: namespaceOf(input.deployment), labels: input.namespaceLabels });
}

function problemsOf(
  deployment: ApplicationDeployment,
  effective: EffectivePolicy,
  manifests: readonly Manifest[],
): { problems: FieldProblem[]; policies: string[] } {
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  const policies = new Set<string>();
  for (const r of kindsRefused(effective, manifests)) {
    const key = `${r.object}\u0000${r.policy}`;
    if (seen.has(key)) continue; // the same object rendered for several clusters
    seen.add(key);
    policies.add(r.policy);
    problems.push({
      path: componentPathOf(deployment, r.manifest),
      message: `renders ${r.object}, which TenantPolicy ${r.policy} refuses: ${r.reason}`,
      fix: `Remove the object from the component, or ask the platform team to change TenantPolicy ${r.policy}.`,
    });
  }
  return { problems, policies: [...policies].sort() };
}

/**
 * The single pure entry of tenancy for a rendered deployment: one problem per rendered object the
 * deployment's namespace may not create, at the path of the component that renders it. Empty when
 * no policy governs the namespace. `manifests` may hold the objects of several clusters.
 */
export function tenancyProblems(input: TenancyInput & { manifests: readonly Manifest[] }): FieldProblem[] {
  return problemsOf(input.deployment, deploymentPolicy(input), input.manifests).problems;
}

/** tenancyProblems as the render step's error (undefined when nothing is refused). */
export function tenancyError(deployment: ApplicationDeployment, effective: EffectivePolicy, manifests: readonly Manifest[]): TenancyRefusedError | undefined {
  const { problems, policies } = problemsOf(deployment, effective, manifests);
  return problems.length ? new TenancyRefusedError(problems, policies, { object: objectRef(deployment) }) : undefined;
}

/**
 * Clusters a wave of the placement would select that the namespace may not use: not an error
 * (placement leaves them out, with the reason in status.placement), but worth a warning at
 * `kubectl apply`. Give `placement` as place() returned it without tenancy, and the Clusters.
 */
export function tenancyWarnings(input: TenancyInput & { placement: Placement; clusters: readonly Cluster[] }): string[] {
  const refused = refusedClusters(deploymentPolicy(input), input.clusters);
  const selected = input.placement.waves.flatMap((w) => w.clusters);
  return selected.filter((c) => refused.has(c)).map((c) => `${refused.get(c)}: it is not selected`);
}
