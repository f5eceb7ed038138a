// Everything a deployment's spec gets wrong that only its definitions can tell: an unknown
// component type or trait, settings or properties their schemas refuse, a template that fails, and
// (for a Kubernetes version) objects that version's API would refuse. `flotilla validate`, the
// GitSource loop (before anything of a commit is applied) and `flotilla render` all ask this.

import { ValidationError, type FieldProblem } from "../api/errors.js";
import type { ApplicationDeployment, Manifest } from "../api/types.js";
import { waveName } from "../api/validate.js";
import { deploymentExpressionProblems } from "../definitions/expressions.js";
import type { DefinitionRegistry } from "../definitions/registry.js";
import { renderedProblems } from "./kube-schema.js";
import { type RenderTarget, renderDeployment } from "./render.js";

/** What `--kube-version` adds to validation. */
export interface KubeCheck {
  /** Render for this Kubernetes minor (`1.25`) and check the objects against its API; undefined: neither. */
  kubeVersion?: string | undefined;
  /** Collects why objects were not checked (kinds not built into Kubernetes). */
  notes?: string[];
  /**
   * What else refuses rendered objects, e.g. the namespace's TenantPolicies (tenancyProblems of
   * src/tenancy/problems.ts). Called with each rendering's objects. Default: nothing.
   */
  objectProblems?: ((manifests: readonly Manifest[]) => FieldProblem[]) | undefined;
}

/**
 * Render every revision under every wave's overrides, so a mistake in any of them is found; with
 * `kube.kubeVersion`, for that Kubernetes version, and check what it renders against its API.
 */
export async function deploymentProblems(deployment: ApplicationDeployment, registry: DefinitionRegistry, kube: KubeCheck = {}): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = deploymentExpressionProblems(deployment);
  const seen = new Set<string>(problems.map((p) => `${p.path}\u0000${p.message}`));
  const strategies = deployment.spec.placementStrategies?.length ? deployment.spec.placementStrategies : [{}];
  for (const revision of deployment.spec.appRevisions) {
    for (const [i, strategy] of strategies.entries()) {
      const target: RenderTarget = {
        cluster: { name: "local", labels: {}, ...(kube.kubeVersion ? { version: `v${kube.kubeVersion}.0` } : {}) },
        wave: waveName(i, strategy.name),
        ...(strategy.overrides ? { overrides: strategy.overrides } : {}),
        revisions: [{ name: revision.name, replicas: revision.rollout?.replicas ?? 1 }],
      };
      try {
        const rendered = await renderDeployment({ deployment, registry, targets: [target] });
        const refused = [...(kube.objectProblems?.(rendered[0]?.manifests ?? []) ?? [])];
        if (kube.kubeVersion) {
          const found = renderedProblems(deployment, rendered[0]?.manifests ?? [], kube.kubeVersion);
          kube.notes?.push(...found.notes);
          refused.push(...found.problems);
        }
        if (refused.length) throw new ValidationError(refused);
      } catch (e) {
        if (!(e instanceof ValidationError)) throw e;
        for (const p of e.problems) {
          const key = `${p.path}\u0000${p.message}`;
          if (!seen.has(key)) {
            seen.add(key);
            problems.push(p);
          }
        }
      }
    }
  }
  return problems;
}
