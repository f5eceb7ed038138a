// The renderer's rules under every spelling an attacker tried: case variants of kinds, `core/v1`,
// List wrappers, reserved flotilla.dev/ keys, cluster-scoped kinds the old fixed list missed.

import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/api/errors.js";
import type { Manifest } from "../../../src/api/types.js";
import { enforcePolicy, expandLists } from "../../../src/render/policy.js";
import { renderDeployment } from "../../../src/render/render.js";
import { aComponent, aComponentDefinition, aDeployment, aRevision, registryOf } from "../builders.js";

const PATH = "spec.appRevisions[0].template.spec.components[0]";

function check(object: unknown, clusterScopedAllowed = false) {
  return enforcePolicy({ object, namespace: "team-a", definition: "raw", clusterScopedAllowed, path: PATH });
}

function problemOf(object: unknown, clusterScopedAllowed = false): string {
  const result = check(object, clusterScopedAllowed);
  if (!("problem" in result)) throw new Error(`expected ${JSON.stringify(object)} to be refused, got ${JSON.stringify(result.manifest)}`);
  return result.problem.message;
}

const obj = (apiVersion: string, kind: string, extra: Record<string, unknown> = {}) => ({ apiVersion, kind, metadata: { name: "x", ...extra } });

describe("enforcePolicy", () => {
  it.each([
    ["secret", "v1"],
    ["SECRET", "v1"],
    ["sEcReT", "core/v1"],
    ["configmap", "v1"],
    ["deployment", "apps/v1"],
    ["clusterrolebinding", "rbac.authorization.k8s.io/v1"],
  ])("refuses kind %s in %s as a case variant and names the right spelling", (kind, apiVersion) => {
    const result = check(obj(apiVersion, kind));
    expect(result).toEqual({
      problem: expect.objectContaining({
        path: PATH,
        message: expect.stringContaining("kinds are case-sensitive"),
        fix: expect.stringMatching(/^Write kind: [A-Z]/),
      }),
    });
  });

  it("refuses a Secret written as core/v1 and returns other core/v1 objects as v1", () => {
    expect(problemOf(obj("core/v1", "Secret"))).toContain("Secrets are never written to Git");
    const ok = check(obj("core/v1", "ConfigMap"));
    expect(ok).toEqual({ manifest: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "team-a" } } });
  });

  it.each([
    ["admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicy"],
    ["admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"],
    ["networking.k8s.io/v1", "ServiceCIDR"],
    ["networking.k8s.io/v1", "IPAddress"],
    ["storage.k8s.io/v1beta1", "VolumeAttributesClass"],
    ["cert-manager.io/v1", "ClusterIssuer"],
    ["kyverno.io/v1", "ClusterPolicy"],
    ["external-secrets.io/v1beta1", "ClusterSecretStore"],
  ])("refuses cluster-scoped %s %s from an unmarked definition", (apiVersion, kind) => {
    expect(problemOf(obj(apiVersion, kind))).toContain(`renders cluster-scoped ${kind} "x", which a deployment may not create`);
  });

  it("lets a marked definition render a cluster-scoped kind, without a namespace and with the mark the sync loop reads", () => {
    expect(check(obj("cert-manager.io/v1", "ClusterIssuer", { namespace: "team-a" }), true)).toEqual({
      manifest: { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "x", annotations: { "flotilla.dev/cluster-scoped": "true" } } },
    });
  });

  it("marks a marked definition's objects of unknown kinds, and never a known namespaced kind", () => {
    const unknown = check(obj("example.com/v1", "Widget"), true);
    expect(unknown).toEqual({
      manifest: expect.objectContaining({ metadata: { name: "x", namespace: "team-a", annotations: { "flotilla.dev/cluster-scoped": "true" } } }),
    });
    expect(check(obj("apps/v1", "Deployment"), true)).toEqual({
      manifest: { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "x", namespace: "team-a" } },
    });
    expect(check(obj("example.com/v1", "Widget"), false)).toEqual({
      manifest: { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "x", namespace: "team-a" } },
    });
  });

  it.each([
    ["annotation", { annotations: { "flotilla.dev/health": "true" } }, 'annotation "flotilla.dev/health"'],
    ["annotation", { annotations: { "flotilla.dev/cluster-scoped": "true" } }, 'annotation "flotilla.dev/cluster-scoped"'],
    ["annotation", { annotations: { "flotilla.dev/applied-hash": "sha256:0" } }, 'annotation "flotilla.dev/applied-hash"'],
    ["label", { labels: { "flotilla.dev/anything": "x" } }, 'label "flotilla.dev/anything"'],
    ["label", { labels: { "team.flotilla.dev/owner": "x" } }, 'label "team.flotilla.dev/owner"'],
  ])("refuses a tenant's reserved %s %j", (_what, metadata, named) => {
    expect(problemOf(obj("v1", "ConfigMap", metadata))).toContain(`with the ${named}; flotilla.dev/ keys are Flotilla's own`);
  });

  it("accepts the standard labels the renderer stamps itself, and keys that only look alike", () => {
    const labels = { "flotilla.dev/app": "team-a.x", "flotilla.dev/component": "c", "flotilla.dev/revision": "v1", "notflotilla.dev/x": "y" };
    expect(check(obj("v1", "ConfigMap", { labels, annotations: { "flotilla.dev": "no slash" } }))).toEqual({
      manifest: expect.objectContaining({ metadata: expect.objectContaining({ labels }) }),
    });
  });
});

describe("expandLists", () => {
  it("opens a v1 List and a typed List, giving typed items their kind and apiVersion", () => {
    const result = expandLists(
      [
        { apiVersion: "v1", kind: "List", items: [obj("v1", "ConfigMap"), obj("apps/v1", "Deployment")] },
        { apiVersion: "v1", kind: "SecretList", items: [{ metadata: { name: "token" }, stringData: { a: "b" } }] },
      ],
      PATH,
    );
    expect(result).toEqual({
      objects: [
        obj("v1", "ConfigMap"),
        obj("apps/v1", "Deployment"),
        { apiVersion: "v1", kind: "Secret", metadata: { name: "token" }, stringData: { a: "b" } },
      ],
    });
  });

  it("refuses a List without items rather than pass it on as an object", () => {
    expect(expandLists([{ apiVersion: "v1", kind: "List", metadata: { name: "l" } }], PATH)).toEqual({
      problem: expect.objectContaining({ path: PATH, message: "rendered a List without an items list" }),
    });
  });

  it("opens Lists nested up to the limit and refuses deeper ones", () => {
    const nest = (depth: number): unknown => (depth === 0 ? obj("v1", "ConfigMap") : { apiVersion: "v1", kind: "List", items: [nest(depth - 1)] });
    expect(expandLists([nest(4)], PATH)).toEqual({ objects: [obj("v1", "ConfigMap")] });
    expect(expandLists([nest(5)], PATH)).toEqual({ problem: expect.objectContaining({ path: PATH, message: "rendered Lists nested more than 4 deep" }) });
  });
});

describe("rendering raw objects through every wrapper", () => {
  // A definition that renders what the tenant hands it, like the built-in k8s-objects.
  const registry = registryOf(
    aComponentDefinition("raw")
      .withoutReplicasPath()
      .withWorkload("*", "*")
      .withSchema({ type: "object", properties: { objects: { type: "array" } } })
      .withTemplate("settings.objects"),
  );

  async function renderRaw(objects: unknown[]): Promise<Manifest[] | ValidationError> {
    const deployment = aDeployment("app")
      .withRevision(aRevision("v1").withComponent(aComponent("c", "raw").withSettings({ objects: objects as never })))
      .build();
    try {
      const [cluster] = await renderDeployment({
        deployment,
        registry,
        targets: [{ cluster: { name: "local", labels: {} }, wave: "w", revisions: [{ name: "v1", replicas: 1 }] }],
      });
      return cluster?.manifests ?? [];
    } catch (e) {
      if (e instanceof ValidationError) return e;
      throw e;
    }
  }

  it.each([
    ["a Secret inside a List", [obj("v1", "ConfigMap"), { apiVersion: "v1", kind: "List", items: [obj("v1", "Secret")] }], "Secrets are never written to Git"],
    [
      "a SecretList",
      [obj("v1", "ConfigMap"), { apiVersion: "v1", kind: "SecretList", items: [{ metadata: { name: "s" }, data: { a: "Yg==" } }] }],
      "Secrets are never written to Git",
    ],
    [
      "a ClusterRoleBinding inside a List",
      [{ apiVersion: "v1", kind: "List", items: [obj("v1", "ConfigMap"), obj("rbac.authorization.k8s.io/v1", "ClusterRoleBinding")] }],
      "cluster-scoped ClusterRoleBinding",
    ],
    [
      "an object in kube-system inside a List",
      [{ apiVersion: "v1", kind: "List", items: [obj("v1", "ConfigMap", { namespace: "kube-system" })] }],
      'in namespace "kube-system"',
    ],
    ["a Secret spelt secret", [obj("v1", "ConfigMap"), obj("v1", "secret")], "kinds are case-sensitive"],
  ])("refuses %s", async (_what, objects, message) => {
    const result = await renderRaw(objects);
    expect(result).toBeInstanceOf(ValidationError);
    expect((result as ValidationError).problems).toContainEqual(expect.objectContaining({ path: PATH, message: expect.stringContaining(message) }));
  });

  it("renders the items of a List as objects of their own, in the deployment's namespace", async () => {
    const result = await renderRaw([{ apiVersion: "v1", kind: "ConfigMapList", items: [{ metadata: { name: "a-v1" } }, { metadata: { name: "b" } }] }]);
    expect(Array.isArray(result)).toBe(true);
    expect((result as Manifest[]).map((m) => `${m.apiVersion} ${m.kind} ${m.metadata.namespace}/${m.metadata.name}`)).toEqual([
      "v1 ConfigMap team-a/a-v1",
      "v1 ConfigMap team-a/b",
    ]);
  });
});
