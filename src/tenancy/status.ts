// A TenantPolicy's status: the namespaces it governs and the Clusters it allows, as of now on the
// hub, so a platform team sees with `kubectl get tenantpolicies` what a policy does before a
// deployment runs into it. Pure: the policy, the hub's namespaces and Clusters in, the status out.

import { TENANT_POLICY_STATUS_LIST_LIMIT } from "../api/schemas/tenant-policy.js";
import type { Cluster, TenantPolicy, TenantPolicyStatus } from "../api/types.js";
import { clusterAllowed, policyMatches, type TenantNamespace } from "./policy.js";

/**
 * `namespaces` are the hub's namespaces with their labels, or undefined when they are not watched
 * (no policy selects by label): then only the named ones are known to be governed.
 */
export function tenantPolicyStatus(policy: TenantPolicy, namespaces: readonly TenantNamespace[] | undefined, clusters: readonly Cluster[]): TenantPolicyStatus {
  const governed = new Set(policy.spec?.namespaces?.names ?? []);
  if (policy.spec?.namespaces?.selector) for (const ns of namespaces ?? []) if (policyMatches(policy, ns)) governed.add(ns.name);
  const names = [...governed].sort();
  const only = { namespace: "", policies: [policy] };
  const allowed = clusters
    .filter((c) => clusterAllowed(only, { name: c.metadata.name, labels: c.metadata.labels }).allowed)
    .map((c) => c.metadata.name)
    .sort();
  return {
    ...(policy.metadata.generation !== undefined ? { observedGeneration: policy.metadata.generation } : {}),
    namespaces: names.slice(0, TENANT_POLICY_STATUS_LIST_LIMIT),
    namespaceCount: names.length,
    clusters: allowed.slice(0, TENANT_POLICY_STATUS_LIST_LIMIT),
    clusterCount: allowed.length,
    clusterTotal: clusters.length,
  };
}
