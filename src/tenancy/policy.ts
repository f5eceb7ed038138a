// Tenancy: which TenantPolicies govern a namespace, and what they allow it — the clusters it may
// place onto and the kinds it may render. Several matching policies intersect (a cluster must be
// allowed by each, a kind allowed by each and denied by none); a namespace no policy matches is
// open, as before policies existed. Pure: policies, labels and objects in, decisions out.

import type { GroupKind, Manifest, TenantPolicy } from "../api/types.js";
import { formatRef } from "../kube/refs.js";
import { groupOf } from "../render/scope.js";
import { labelSelectorMismatch, NAMESPACE_NAME_LABEL } from "../placement/label-selector.js";

/** ClusterRoles a binding may not refer to when a policy does not say otherwise. */
export const DEFAULT_DENIED_CLUSTER_ROLES: readonly string[] = ["cluster-admin", "admin"];

const RBAC_GROUP = "rbac.authorization.k8s.io";

/** A namespace as tenancy sees it: its name and its labels on the hub. */
export interface TenantNamespace {
  name: string;
  /** The namespace's labels; undefined when unknown (only `kubernetes.io/metadata.name` is assumed then). */
  labels?: Readonly<Record<string, string>> | undefined;
}

/** The policies that govern one namespace. */
export interface EffectivePolicy {
  namespace: string;
  /** The matching policies, sorted by name; empty: the namespace is open. */
  policies: readonly TenantPolicy[];
}

export type ClusterVerdict = { allowed: true } | { allowed: false; policy: string; reason: string; detail: string };

/** An object a policy refuses. */
export interface RefusedObject {
  /** The object as messages name it: `Kind/namespace/name`. */
  object: string;
  manifest: Manifest;
  /** The name of the first policy (by name) that refuses it. */
  policy: string;
  reason: string;
}

/** Does the policy govern the namespace: listed by name, or its labels matched by the selector? */
export function policyMatches(policy: TenantPolicy, namespace: TenantNamespace): boolean {
  const { names, selector } = policy.spec?.namespaces ?? {};
  if (names?.includes(namespace.name)) return true;
  if (!selector) return false;
  // Kubernetes labels every namespace with its name; files and older hubs may not show it.
  const labels = { ...namespace.labels, [NAMESPACE_NAME_LABEL]: namespace.name };
  return labelSelectorMismatch(selector, labels) === null;
}

/** Does any policy select namespaces by label (then the namespaces' labels must be known)? */
export function usesNamespaceSelector(policies: readonly TenantPolicy[]): boolean {
  return policies.some((p) => p.spec?.namespaces?.selector !== undefined);
}

export function effectivePolicy(policies: readonly TenantPolicy[], namespace: TenantNamespace): EffectivePolicy {
  const matching = policies.filter((p) => policyMatches(p, namespace)).sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  return { namespace: namespace.name, policies: matching };
}

/** What an answer about a namespace depends on: its policies, by name, resourceVersion and generation. */
export function policyFingerprint(effective: EffectivePolicy): string {
  return JSON.stringify(effective.policies.map((p) => [p.metadata.name, p.metadata.resourceVersion ?? "", p.metadata.generation ?? 0]));
}

/** May the namespace place onto the cluster? The first policy (by name) that says no is named. */
export function clusterAllowed(effective: EffectivePolicy, cluster: { name: string; labels?: Readonly<Record<string, string>> | undefined }): ClusterVerdict {
  for (const policy of effective.policies) {
    const selector = policy.spec.clusters;
    if (!selector) continue;
    const why = labelSelectorMismatch(selector, cluster.labels ?? {});
    if (why === null) continue;
    return {
      allowed: false,
      policy: policy.metadata.name,
      reason: `namespace ${effective.namespace} may not deploy to cluster ${cluster.name} (policy ${policy.metadata.name})`,
      detail: why,
    };
  }
  return { allowed: true };
}

/**
 * The clusters the namespace may not place onto, by name, with the reason placement reports
 * (see PlaceOptions.refused). Empty for an open namespace.
 */
export function refusedClusters(
  effective: EffectivePolicy,
  clusters: ReadonlyArray<{ metadata: { name: string; labels?: Record<string, string> } }>,
): Map<string, string> {
  const refused = new Map<string, string>();
  if (effective.policies.length === 0) return refused;
  for (const c of clusters) {
    const verdict = clusterAllowed(effective, { name: c.metadata.name, labels: c.metadata.labels });
    if (!verdict.allowed) refused.set(c.metadata.name, verdict.reason);
  }
  return refused;
}

function matchesKind(entry: GroupKind, group: string, kind: string): boolean {
  return (entry.group === "*" || entry.group === group) && (entry.kind === "*" || entry.kind === kind);
}

function kindName(group: string, kind: string): string {
  return group === "" ? `${kind} (core group)` : `${group}/${kind}`;
}

/** Why one policy refuses one object; null when it does not. */
function refusal(policy: TenantPolicy, m: Manifest, namespace: string): string | null {
  const group = groupOf(m.apiVersion);
  const kinds = policy.spec.kinds;
  const name = policy.metadata.name;
  const denied = kinds?.deny?.find((e) => matchesKind(e, group, m.kind));
  if (denied)
    return `kind ${kindName(group, m.kind)} is denied to namespace ${namespace} by policy ${name} (kinds.deny: ${denied.group || '""'}/${denied.kind})`;
  if (kinds?.allow && !kinds.allow.some((e) => matchesKind(e, group, m.kind))) {
    return `kind ${kindName(group, m.kind)} is not allowed to namespace ${namespace} by policy ${name} (not in kinds.allow)`;
  }
  if (group === RBAC_GROUP && (m.kind === "RoleBinding" || m.kind === "ClusterRoleBinding")) {
    const roleRef = (m as { roleRef?: { kind?: unknown; name?: unknown } }).roleRef;
    // A RoleBinding may refer to a namespaced Role of the same name, which grants only what that Role says.
    const deniedRoles = policy.spec.deniedClusterRoles ?? DEFAULT_DENIED_CLUSTER_ROLES;
    if (roleRef?.kind === "ClusterRole" && typeof roleRef.name === "string" && deniedRoles.includes(roleRef.name)) {
      return `${m.kind} grants ClusterRole ${roleRef.name}, which policy ${name} denies to namespace ${namespace} (deniedClusterRoles)`;
    }
  }
  return null;
}

/** The objects the namespace may not create, each with the first policy (by name) that refuses it. */
export function kindsRefused(effective: EffectivePolicy, manifests: readonly Manifest[]): RefusedObject[] {
  const out: RefusedObject[] = [];
  if (effective.policies.length === 0) return out;
  for (const m of manifests) {
    for (const policy of effective.policies) {
      const reason = refusal(policy, m, effective.namespace);
      if (reason === null) continue;
      out.push({
        object: formatRef({ kind: m.kind, namespace: m.metadata.namespace, name: m.metadata.name }),
        manifest: m,
        policy: policy.metadata.name,
        reason,
      });
      break;
    }
  }
  return out;
}
