// What the install promises for tenancy: the controller may read TenantPolicies and the namespaces'
// labels, and the recommended policy in deploy/tenancy is valid and refuses what docs/tenancy.md says.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Manifest, TenantPolicy } from "../../../src/api/types.js";
import { resourceProblems } from "../../../src/api/validate.js";
import { readBundle } from "../../../src/cli/bundle.js";
import { effectivePolicy, kindsRefused } from "../../../src/tenancy/policy.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };

describe("the controller's RBAC", () => {
  const role = readBundle(join(ROOT, "deploy")).find((o) => o.kind === "ClusterRole" && o.metadata.name === "flotilla-controller") as Manifest & {
    rules: Rule[];
  };
  const may = (group: string, resource: string, verb: string) =>
    role.rules.some((r) => r.apiGroups.includes(group) && r.resources.includes(resource) && r.verbs.includes(verb));

  it("reads and watches TenantPolicies, and lists and watches Namespaces, without writing either", () => {
    for (const verb of ["get", "list", "watch"]) expect(may("flotilla.dev", "tenantpolicies", verb), `tenantpolicies ${verb}`).toBe(true);
    for (const verb of ["list", "watch"]) expect(may("", "namespaces", verb), `namespaces ${verb}`).toBe(true);
    for (const verb of ["create", "patch", "update", "delete"]) {
      expect(may("flotilla.dev", "tenantpolicies", verb)).toBe(false);
      expect(may("", "namespaces", verb)).toBe(false);
    }
  });
});

describe("the recommended policy (deploy/tenancy)", () => {
  const objects = readBundle(join(ROOT, "deploy", "tenancy"));
  const policy = objects[0] as unknown as TenantPolicy;
  const tenant = effectivePolicy([policy], { name: "team-a", labels: { "flotilla.dev/tenant": "team-a" } });
  const obj = (apiVersion: string, kind: string, extra: Record<string, unknown> = {}): Manifest => ({
    apiVersion,
    kind,
    metadata: { name: kind.toLowerCase(), namespace: "team-a" },
    ...extra,
  });

  it("is one valid TenantPolicy", () => {
    expect(objects.map((o) => o.kind)).toEqual(["TenantPolicy"]);
    expect(resourceProblems(policy)).toEqual([]);
  });

  it("governs namespaces labelled flotilla.dev/tenant and leaves the others open", () => {
    expect(tenant.policies).toHaveLength(1);
    expect(effectivePolicy([policy], { name: "platform", labels: {} }).policies).toEqual([]);
  });

  it("refuses RBAC, cluster-scoped kinds and quotas, and lets workloads and their companions through", () => {
    const refused = kindsRefused(tenant, [
      obj("apps/v1", "Deployment"),
      obj("v1", "Service"),
      obj("v1", "ConfigMap"),
      obj("networking.k8s.io/v1", "Ingress"),
      obj("autoscaling/v2", "HorizontalPodAutoscaler"),
      obj("rbac.authorization.k8s.io/v1", "Role"),
      obj("rbac.authorization.k8s.io/v1", "RoleBinding", { roleRef: { kind: "ClusterRole", name: "view" } }),
      obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", { roleRef: { kind: "ClusterRole", name: "cluster-admin" } }),
      obj("v1", "Namespace"),
      obj("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
      obj("v1", "ResourceQuota"),
    ]);
    expect(refused.map((r) => r.manifest.kind)).toEqual([
      "Role",
      "RoleBinding",
      "ClusterRoleBinding",
      "Namespace",
      "CustomResourceDefinition",
      "ResourceQuota",
    ]);
    expect(refused.every((r) => r.policy === "tenants")).toBe(true);
  });
});
