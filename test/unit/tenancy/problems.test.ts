import { describe, expect, it } from "vitest";
import type { TenantPolicy, TenantPolicySpec } from "../../../src/api/types.js";
import { resourceProblems } from "../../../src/api/validate.js";
import { place } from "../../../src/placement/select.js";
import { deploymentProblems } from "../../../src/render/deployment-problems.js";
import { renderDeployment } from "../../../src/render/render.js";
import { effectivePolicy, refusedClusters } from "../../../src/tenancy/policy.js";
import { TenancyRefusedError, tenancyError, tenancyProblems, tenancyWarnings } from "../../../src/tenancy/problems.js";
import { aCluster, aComponent, aComponentDefinition, aDeployment, aRevision, aWave, registryOf } from "../builders.js";

function aPolicy(name: string, spec: TenantPolicySpec): TenantPolicy {
  return { apiVersion: "flotilla.dev/v1alpha1", kind: "TenantPolicy", metadata: { name }, spec };
}

// Renders what the tenant hands it, as the built-in k8s-objects does.
const registry = registryOf(
  aComponentDefinition("raw")
    .withoutReplicasPath()
    .withWorkload("*", "*")
    .withSchema({ type: "object", properties: { objects: { type: "array" } } })
    .withTemplate("settings.objects"),
);

const configMap = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings" }, data: { a: "b" } };
const adminBinding = {
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: { name: "make-me-admin" },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
  subjects: [{ kind: "ServiceAccount", name: "default", namespace: "team-a" }],
};

const deployment = aDeployment("app")
  .inNamespace("team-a")
  .withRevision(
    aRevision("v1")
      .withComponent(aComponent("settings", "raw").withSettings({ objects: [configMap] }))
      .withComponent(
        aComponent("grants", "raw").withSettings({
          objects: [configMap, adminBinding].map((o, i) => (i === 0 ? { ...o, metadata: { name: "grants-cm" } } : o)),
        }),
      ),
  )
  .build();

async function rendered() {
  const [cluster] = await renderDeployment({
    deployment,
    registry,
    targets: [{ cluster: { name: "local", labels: {} }, wave: "w", revisions: [{ name: "v1", replicas: 1 }] }],
  });
  return cluster?.manifests ?? [];
}

const tenantPolicy = aPolicy("tenants", { namespaces: { selector: { matchLabels: { "flotilla.dev/tenant": "true" } } } });

describe("tenancyProblems", () => {
  it("refuses a RoleBinding to cluster-admin at the path of the component that renders it, naming the policy", async () => {
    const problems = tenancyProblems({ deployment, policies: [tenantPolicy], namespaceLabels: { "flotilla.dev/tenant": "true" }, manifests: await rendered() });
    expect(problems).toEqual([
      {
        path: "spec.appRevisions[0].template.spec.components[1]",
        message:
          "renders RoleBinding/team-a/make-me-admin, which TenantPolicy tenants refuses: RoleBinding grants ClusterRole cluster-admin, which policy tenants denies to namespace team-a (deniedClusterRoles)",
        fix: "Remove the object from the component, or ask the platform team to change TenantPolicy tenants.",
      },
    ]);
  });

  it("finds nothing for a namespace no policy governs (the open default)", async () => {
    expect(tenancyProblems({ deployment, policies: [tenantPolicy], namespaceLabels: {}, manifests: await rendered() })).toEqual([]);
    expect(tenancyProblems({ deployment, policies: [], manifests: await rendered() })).toEqual([]);
  });

  it("reports an object rendered for several clusters once", async () => {
    const manifests = await rendered();
    const problems = tenancyProblems({
      deployment,
      policies: [tenantPolicy],
      namespaceLabels: { "flotilla.dev/tenant": "true" },
      manifests: [...manifests, ...manifests],
    });
    expect(problems).toHaveLength(1);
  });

  it("is a typed render error carrying the policies", async () => {
    const effective = effectivePolicy([tenantPolicy], { name: "team-a", labels: { "flotilla.dev/tenant": "true" } });
    const error = tenancyError(deployment, effective, await rendered());
    expect(error).toBeInstanceOf(TenancyRefusedError);
    expect(error?.policies).toEqual(["tenants"]);
    expect(error?.object).toBe("ApplicationDeployment/team-a/app");
    expect(error?.message).toContain("TenantPolicy tenants refuses");
  });

  it("joins the definitions' problems through deploymentProblems' check, as the GitSource loop and admission ask", async () => {
    const problems = await deploymentProblems(deployment, registry, {
      objectProblems: (manifests) => tenancyProblems({ deployment, policies: [tenantPolicy], namespaceLabels: { "flotilla.dev/tenant": "true" }, manifests }),
    });
    expect(problems.map((p) => p.path)).toEqual(["spec.appRevisions[0].template.spec.components[1]"]);
    expect(await deploymentProblems(deployment, registry)).toEqual([]);
  });
});

describe("placement under a policy", () => {
  const clusters = [
    aCluster("staging").withLabel("usage", "staging").build(),
    aCluster("pci-1").withLabel("usage", "production").withLabel("pci", "true").build(),
    aCluster("prod-eu").withLabel("usage", "production").build(),
  ];
  const policy = aPolicy("restricted-clusters", { namespaces: { names: ["team-a"] }, clusters: { matchLabels: { usage: "staging" } } });
  const production = aDeployment("app").inNamespace("team-a").withWave(aWave("production").selectingLabel("usage", "production")).build();

  it("leaves out a cluster the namespace may not use, with the reason, and selects none of the wave's", () => {
    const refused = refusedClusters(effectivePolicy([policy], { name: "team-a" }), clusters);
    const placement = place(production.spec.placementStrategies, clusters, { refused });
    expect(placement.waves.map((w) => w.clusters)).toEqual([[]]);
    expect(placement.decisions).toEqual([
      { cluster: "pci-1", selected: false, wave: "production", reason: "namespace team-a may not deploy to cluster pci-1 (policy restricted-clusters)" },
      { cluster: "prod-eu", selected: false, wave: "production", reason: "namespace team-a may not deploy to cluster prod-eu (policy restricted-clusters)" },
      { cluster: "staging", selected: false, reason: "label usage=staging does not match usage=production" },
    ]);
  });

  it("selects an allowed cluster as before", () => {
    const refused = refusedClusters(effectivePolicy([policy], { name: "team-a" }), clusters);
    const staging = aDeployment("app").inNamespace("team-a").withWave(aWave("staging").selectingLabel("usage", "staging")).build();
    expect(place(staging.spec.placementStrategies, clusters, { refused }).waves[0]?.clusters).toEqual(["staging"]);
  });

  it("warns at admission about the clusters left out, without refusing the deployment", () => {
    const placement = place(production.spec.placementStrategies, clusters);
    expect(tenancyWarnings({ deployment: production, policies: [policy], placement, clusters })).toEqual([
      "namespace team-a may not deploy to cluster pci-1 (policy restricted-clusters): it is not selected",
      "namespace team-a may not deploy to cluster prod-eu (policy restricted-clusters): it is not selected",
    ]);
    expect(tenancyWarnings({ deployment: production, policies: [], placement, clusters })).toEqual([]);
  });
});

describe("TenantPolicy validation", () => {
  const doc = (spec: unknown) => ({ apiVersion: "flotilla.dev/v1alpha1", kind: "TenantPolicy", metadata: { name: "p" }, spec });

  it("accepts the recommended shape", () => {
    expect(
      resourceProblems(
        doc({
          namespaces: { selector: { matchExpressions: [{ key: "flotilla.dev/tenant", operator: "Exists" }] } },
          clusters: { matchLabels: { usage: "staging" } },
          kinds: { allow: [{ group: "*", kind: "*" }], deny: [{ group: "rbac.authorization.k8s.io", kind: "*" }] },
          deniedClusterRoles: ["cluster-admin", "admin"],
        }),
      ),
    ).toEqual([]);
  });

  it.each([
    ["no namespaces at all", {}, "spec.namespaces", "is required"],
    ["namespaces without names or selector", { namespaces: {} }, "spec.namespaces", "has the wrong form"],
    ["a kind without its group", { namespaces: { names: ["a"] }, kinds: { deny: [{ kind: "Pod" }] } }, "spec.kinds.deny[0].group", "is required"],
    [
      "an unknown operator",
      { namespaces: { selector: { matchExpressions: [{ key: "k", operator: "Is" }] } } },
      "spec.namespaces.selector.matchExpressions[0].operator",
      "must be one of",
    ],
    [
      "In without values",
      { namespaces: { names: ["a"] }, clusters: { matchExpressions: [{ key: "usage", operator: "In" }] } },
      "spec.clusters.matchExpressions[0].values",
      "at least one value",
    ],
    [
      "Exists with values",
      { namespaces: { selector: { matchExpressions: [{ key: "k", operator: "Exists", values: ["x"] }] } } },
      "spec.namespaces.selector.matchExpressions[0].values",
      "must be empty",
    ],
    ["a misspelt field", { namespaces: { names: ["a"] }, cluster: {} }, "spec.cluster", "is not a known field"],
  ])("refuses %s with the field path", (_what, spec, path, message) => {
    const problems = resourceProblems(doc(spec));
    expect(problems.map((p) => p.path)).toContain(path);
    expect(problems.find((p) => p.path === path)?.message).toContain(message);
  });
});
