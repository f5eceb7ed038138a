import { describe, expect, it } from "vitest";
import type { Manifest, TenantPolicy, TenantPolicySpec } from "../../../src/api/types.js";
import { clusterAllowed, effectivePolicy, kindsRefused, policyMatches, refusedClusters, usesNamespaceSelector } from "../../../src/tenancy/policy.js";
import { aCluster } from "../builders.js";

function aPolicy(name: string, spec: TenantPolicySpec): TenantPolicy {
  return { apiVersion: "flotilla.dev/v1alpha1", kind: "TenantPolicy", metadata: { name }, spec };
}

function obj(apiVersion: string, kind: string, name: string, extra: Record<string, unknown> = {}): Manifest {
  return { apiVersion, kind, metadata: { name, namespace: "team-a" }, ...extra };
}

const tenants = { name: "team-a", labels: { "flotilla.dev/tenant": "team-a", tier: "gold" } };

describe("which namespaces a policy governs", () => {
  it.each([
    ["listed by name", { names: ["team-a"] }, true],
    ["not listed", { names: ["team-b"] }, false],
    ["matched by matchLabels", { selector: { matchLabels: { "flotilla.dev/tenant": "team-a" } } }, true],
    ["a label value that differs", { selector: { matchLabels: { "flotilla.dev/tenant": "team-b" } } }, false],
    ["matchExpressions Exists", { selector: { matchExpressions: [{ key: "flotilla.dev/tenant", operator: "Exists" as const }] } }, true],
    ["matchExpressions In", { selector: { matchExpressions: [{ key: "tier", operator: "In" as const, values: ["gold", "silver"] }] } }, true],
    ["matchExpressions NotIn", { selector: { matchExpressions: [{ key: "tier", operator: "NotIn" as const, values: ["gold"] }] } }, false],
    ["matchExpressions DoesNotExist", { selector: { matchExpressions: [{ key: "flotilla.dev/tenant", operator: "DoesNotExist" as const }] } }, false],
    [
      "labels and expressions both required",
      { selector: { matchLabels: { tier: "gold" }, matchExpressions: [{ key: "pci", operator: "Exists" as const }] } },
      false,
    ],
    ["the name label Kubernetes sets on every namespace", { selector: { matchLabels: { "kubernetes.io/metadata.name": "team-a" } } }, true],
    ["an empty selector (every namespace)", { selector: {} }, true],
    ["names or selector: the name is enough", { names: ["team-a"], selector: { matchLabels: { tier: "bronze" } } }, true],
  ])("%s", (_what, namespaces, matches) => {
    expect(policyMatches(aPolicy("p", { namespaces }), tenants)).toBe(matches);
  });

  it("matches a selector against no labels when the namespace's labels are unknown", () => {
    const policy = aPolicy("p", { namespaces: { selector: { matchLabels: { tier: "gold" } } } });
    expect(policyMatches(policy, { name: "team-a" })).toBe(false);
    expect(policyMatches(aPolicy("p", { namespaces: { selector: {} } }), { name: "team-a" })).toBe(true);
  });

  it("leaves a namespace no policy matches open", () => {
    const effective = effectivePolicy([aPolicy("other", { namespaces: { names: ["team-b"] }, kinds: { allow: [] } })], tenants);
    expect(effective.policies).toEqual([]);
    expect(clusterAllowed(effective, { name: "pci-1", labels: {} })).toEqual({ allowed: true });
    expect(
      kindsRefused(effective, [obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "x", { roleRef: { kind: "ClusterRole", name: "cluster-admin" } })]),
    ).toEqual([]);
  });

  it("tells whether the namespaces' labels are needed at all", () => {
    expect(usesNamespaceSelector([aPolicy("a", { namespaces: { names: ["x"] } })])).toBe(false);
    expect(usesNamespaceSelector([aPolicy("a", { namespaces: { names: ["x"] } }), aPolicy("b", { namespaces: { selector: {} } })])).toBe(true);
  });
});

describe("which clusters a namespace may use", () => {
  const staging = aCluster("staging").withLabel("usage", "staging").build();
  const prodEu = aCluster("prod-eu").withLabel("usage", "production").withLabel("region", "eu").build();
  const pci = aCluster("pci-1").withLabel("usage", "production").withLabel("pci", "true").build();
  const fleet = [staging, prodEu, pci];

  it("refuses a cluster the policy's selector does not match, naming the namespace, the cluster and the policy", () => {
    const effective = effectivePolicy(
      [aPolicy("restricted-clusters", { namespaces: { names: ["team-a"] }, clusters: { matchLabels: { usage: "staging" } } })],
      tenants,
    );
    expect(clusterAllowed(effective, { name: "pci-1", labels: pci.metadata.labels })).toEqual({
      allowed: false,
      policy: "restricted-clusters",
      reason: "namespace team-a may not deploy to cluster pci-1 (policy restricted-clusters)",
      detail: "label usage=production does not match usage=staging",
    });
    expect([...refusedClusters(effective, fleet).keys()]).toEqual(["prod-eu", "pci-1"]);
  });

  it("allows any cluster when the policy has no cluster selector", () => {
    const effective = effectivePolicy([aPolicy("kinds-only", { namespaces: { names: ["team-a"] }, kinds: { deny: [{ group: "", kind: "Pod" }] } })], tenants);
    expect(refusedClusters(effective, fleet).size).toBe(0);
  });

  it("intersects two policies: a cluster must be allowed by each, and the first refusing policy by name is named", () => {
    const production = aPolicy("b-production", { namespaces: { names: ["team-a"] }, clusters: { matchLabels: { usage: "production" } } });
    const noPci = aPolicy("a-no-pci", {
      namespaces: { selector: { matchLabels: { tier: "gold" } } },
      clusters: { matchExpressions: [{ key: "pci", operator: "DoesNotExist" }] },
    });
    const effective = effectivePolicy([production, noPci], tenants);
    expect(effective.policies.map((p) => p.metadata.name)).toEqual(["a-no-pci", "b-production"]);
    const refused = refusedClusters(effective, fleet);
    expect(Object.fromEntries(refused)).toEqual({
      staging: "namespace team-a may not deploy to cluster staging (policy b-production)",
      "pci-1": "namespace team-a may not deploy to cluster pci-1 (policy a-no-pci)",
    });
    expect(clusterAllowed(effective, { name: "prod-eu", labels: prodEu.metadata.labels })).toEqual({ allowed: true });
  });

  it("refuses every cluster for an In without values (fail closed, not open)", () => {
    const effective = effectivePolicy(
      [aPolicy("broken", { namespaces: { names: ["team-a"] }, clusters: { matchExpressions: [{ key: "usage", operator: "In" }] } })],
      tenants,
    );
    expect(refusedClusters(effective, fleet).size).toBe(3);
  });
});

describe("which kinds a namespace may render", () => {
  const configMap = obj("v1", "ConfigMap", "settings");
  const deployment = obj("apps/v1", "Deployment", "web");
  const netpol = obj("networking.k8s.io/v1", "NetworkPolicy", "open");
  const role = obj("rbac.authorization.k8s.io/v1", "Role", "reader");
  const policy = (name: string, spec: Omit<TenantPolicySpec, "namespaces">) => aPolicy(name, { namespaces: { names: ["team-a"] }, ...spec });
  const refused = (policies: TenantPolicy[], manifests: Manifest[]) =>
    kindsRefused(effectivePolicy(policies, tenants), manifests).map((r) => ({ object: r.object, policy: r.policy, reason: r.reason }));

  it("allows only the listed kinds when allow is given", () => {
    const p = policy("apps-only", {
      kinds: {
        allow: [
          { group: "apps", kind: "Deployment" },
          { group: "", kind: "ConfigMap" },
        ],
      },
    });
    expect(refused([p], [configMap, deployment, netpol])).toEqual([
      {
        object: "NetworkPolicy/team-a/open",
        policy: "apps-only",
        reason: "kind networking.k8s.io/NetworkPolicy is not allowed to namespace team-a by policy apps-only (not in kinds.allow)",
      },
    ]);
  });

  it('matches every kind of a group with kind "*", and every group with group "*"', () => {
    const p = policy("apps-any", {
      kinds: {
        allow: [
          { group: "apps", kind: "*" },
          { group: "*", kind: "ConfigMap" },
        ],
      },
    });
    expect(refused([p], [configMap, deployment, obj("apps/v1", "StatefulSet", "db")])).toEqual([]);
    expect(refused([p], [netpol]).map((r) => r.object)).toEqual(["NetworkPolicy/team-a/open"]);
  });

  it('tells the core group ("") from a group that has a kind of the same name', () => {
    const p = policy("no-core-events", { kinds: { deny: [{ group: "", kind: "Event" }] } });
    expect(refused([p], [obj("events.k8s.io/v1", "Event", "e1")])).toEqual([]);
    expect(refused([p], [obj("v1", "Event", "e2")])).toEqual([
      {
        object: "Event/team-a/e2",
        policy: "no-core-events",
        reason: 'kind Event (core group) is denied to namespace team-a by policy no-core-events (kinds.deny: ""/Event)',
      },
    ]);
  });

  it("lets deny win over allow", () => {
    const p = policy("rbac-but-no-bindings", {
      kinds: { allow: [{ group: "rbac.authorization.k8s.io", kind: "*" }], deny: [{ group: "rbac.authorization.k8s.io", kind: "RoleBinding" }] },
    });
    const binding = obj("rbac.authorization.k8s.io/v1", "RoleBinding", "b", { roleRef: { kind: "Role", name: "reader" } });
    expect(refused([p], [role, binding]).map((r) => [r.object, r.policy])).toEqual([["RoleBinding/team-a/b", "rbac-but-no-bindings"]]);
  });

  it("allows everything but the denied kinds when allow is absent", () => {
    const p = policy("no-netpol", { kinds: { deny: [{ group: "networking.k8s.io", kind: "NetworkPolicy" }] } });
    expect(refused([p], [configMap, deployment, role, netpol]).map((r) => r.object)).toEqual(["NetworkPolicy/team-a/open"]);
  });

  it("intersects two policies: a kind must be allowed by each and denied by none", () => {
    const a = policy("a-workloads", {
      kinds: {
        allow: [
          { group: "apps", kind: "*" },
          { group: "", kind: "*" },
        ],
      },
    });
    const b = policy("b-no-configmaps", { kinds: { deny: [{ group: "", kind: "ConfigMap" }] } });
    expect(refused([b, a], [deployment, configMap, netpol]).map((r) => [r.object, r.policy])).toEqual([
      ["ConfigMap/team-a/settings", "b-no-configmaps"],
      ["NetworkPolicy/team-a/open", "a-workloads"],
    ]);
  });

  describe("bindings to denied ClusterRoles", () => {
    const open = policy("bindings", {});
    const binding = (kind: string, roleKind: string, roleName: string) =>
      obj("rbac.authorization.k8s.io/v1", kind, `${kind.toLowerCase()}-${roleName}`, {
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: roleKind, name: roleName },
      });

    it.each([
      ["a RoleBinding to ClusterRole cluster-admin", binding("RoleBinding", "ClusterRole", "cluster-admin"), true],
      ["a RoleBinding to ClusterRole admin", binding("RoleBinding", "ClusterRole", "admin"), true],
      ["a ClusterRoleBinding to ClusterRole cluster-admin", binding("ClusterRoleBinding", "ClusterRole", "cluster-admin"), true],
      ["a RoleBinding to a Role named admin", binding("RoleBinding", "Role", "admin"), false],
      ["a RoleBinding to ClusterRole view", binding("RoleBinding", "ClusterRole", "view"), false],
    ])("%s: refused %s by default", (_what, manifest, isRefused) => {
      expect(refused([open], [manifest]).length).toBe(isRefused ? 1 : 0);
    });

    it("names the binding, the role and the policy", () => {
      expect(refused([open], [binding("RoleBinding", "ClusterRole", "cluster-admin")])).toEqual([
        {
          object: "RoleBinding/team-a/rolebinding-cluster-admin",
          policy: "bindings",
          reason: "RoleBinding grants ClusterRole cluster-admin, which policy bindings denies to namespace team-a (deniedClusterRoles)",
        },
      ]);
    });

    it("follows the policy's own deniedClusterRoles, and none with []", () => {
      const edit = policy("no-edit", { deniedClusterRoles: ["edit"] });
      expect(refused([edit], [binding("RoleBinding", "ClusterRole", "edit")]).length).toBe(1);
      expect(refused([edit], [binding("RoleBinding", "ClusterRole", "cluster-admin")]).length).toBe(0);
      expect(refused([policy("none", { deniedClusterRoles: [] })], [binding("ClusterRoleBinding", "ClusterRole", "cluster-admin")]).length).toBe(0);
    });

    it("denies the union over intersecting policies", () => {
      const none = policy("a-none", { deniedClusterRoles: [] });
      expect(refused([none, open], [binding("RoleBinding", "ClusterRole", "admin")]).map((r) => r.policy)).toEqual(["bindings"]);
    });
  });
});
