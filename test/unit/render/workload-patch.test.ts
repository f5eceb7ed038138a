// The json-patch and json-merge-patch traits (definitions/traits/) in a real render with the
// built-in definitions: they run after every other trait whatever their position, in the order
// listed among themselves; a failure names the trait and the operation and renders nothing; and
// the result is held to the same policy as a template's output.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type FieldProblem, ValidationError } from "../../../src/api/errors.js";
import type { JsonObject, Manifest, TraitSpec } from "../../../src/api/types.js";
import { resourceProblems } from "../../../src/api/validate.js";
import { compileDefinition } from "../../../src/definitions/compile.js";
import { FileDefinitionSource } from "../../../src/definitions/loader.js";
import { buildRegistry } from "../../../src/definitions/registry.js";
import { getPath } from "../../../src/render/merge.js";
import { type RenderTarget, renderDeployment } from "../../../src/render/render.js";
import { aComponent, aDeployment, aRevision, aTraitDefinition } from "../builders.js";

const builtins = (async () => buildRegistry(await new FileDefinitionSource([join(import.meta.dirname, "..", "..", "..", "definitions")]).loadDocuments()))();
const target: RenderTarget = { cluster: { name: "prod-eu", labels: {}, version: "v1.20.2" }, wave: "production", revisions: [{ name: "v1", replicas: 2 }] };
const T = (j: number) => `spec.appRevisions[0].template.spec.components[0].traits[${j}]`;

const SIDECAR: TraitSpec = { name: "sidecar", properties: { name: "proxy", image: "envoy:1.30" } };
const jsonPatch = (...operations: JsonObject[]): TraitSpec => ({ name: "json-patch", properties: { operations } });
const mergePatch = (patch: JsonObject): TraitSpec => ({ name: "json-merge-patch", properties: patch });

async function renderWith(traits: TraitSpec[], type = "worker"): Promise<Manifest[]> {
  const component = aComponent("api", type).withSettings({ image: "api:1.2.0" });
  for (const t of traits) component.withTrait(t.name, t.properties);
  const deployment = aDeployment("shop").inNamespace("team-a").withRevision(aRevision("v1").withComponent(component)).build();
  const [cluster] = await renderDeployment({ deployment, registry: await builtins, targets: [target] });
  return cluster?.manifests ?? [];
}

async function workloadWith(traits: TraitSpec[]): Promise<Manifest> {
  const workload = (await renderWith(traits)).find((m) => m.kind === "Deployment");
  if (!workload) throw new Error("no Deployment rendered");
  return workload;
}

async function problemsOf(traits: TraitSpec[]): Promise<FieldProblem[]> {
  try {
    await renderWith(traits);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  throw new Error("the render succeeded, but problems were expected");
}

describe("json-patch and json-merge-patch run after every other trait", () => {
  it("lets a json-patch listed first see and change the container a later sidecar trait adds", async () => {
    const workload = await workloadWith([
      jsonPatch(
        { op: "test", path: "/spec/template/spec/containers/1/name", value: "proxy" },
        { op: "add", path: "/spec/template/spec/containers/1/terminationMessagePolicy", value: "FallbackToLogsOnError" },
      ),
      SIDECAR,
    ]);
    const containers = getPath(workload, "spec.template.spec.containers") as Array<Record<string, unknown>>;
    expect(containers.map((c) => c.name)).toEqual(["api", "proxy"]);
    expect(containers[1]?.terminationMessagePolicy).toBe("FallbackToLogsOnError");
    expect(containers[0]).not.toHaveProperty("terminationMessagePolicy");
  });

  it("lets a json-merge-patch listed first delete a field a later trait sets", async () => {
    const workload = await workloadWith([
      mergePatch({ metadata: { annotations: { "example.com/owner": null } } }),
      { name: "annotations", properties: { "example.com/owner": "team-a", keep: "yes" } },
    ]);
    expect(workload.metadata.annotations).toEqual({ keep: "yes" });
  });

  it("applies several of them in the order listed", async () => {
    const setThenTest = [mergePatch({ spec: { minReadySeconds: 15 } }), jsonPatch({ op: "test", path: "/spec/minReadySeconds", value: 15 })];
    expect(getPath(await workloadWith(setThenTest), "spec.minReadySeconds")).toBe(15);
    const problems = await problemsOf([...setThenTest].reverse());
    expect(problems).toEqual([expect.objectContaining({ path: `${T(0)}.properties.operations[0]`, message: expect.stringContaining("path not found") })]);
  });

  it("keeps the rollout's replica count and Flotilla's labels, which are written after every trait", async () => {
    const workload = await workloadWith([mergePatch({ spec: { replicas: 9 }, metadata: { labels: { "flotilla.dev/revision": "v0" } } })]);
    expect(getPath(workload, "spec.replicas")).toBe(2);
    expect(workload.metadata.labels?.["flotilla.dev/revision"]).toBe("v1");
  });
});

describe("wave overrides of the escape hatches", () => {
  it("deep-merge a json-merge-patch (null still deletes) and replace a json-patch's operations", async () => {
    const component = aComponent("api")
      .withSettings({ image: "api:1.2.0" })
      .withTrait("json-merge-patch", { spec: { minReadySeconds: 5, paused: false } })
      .withTrait("json-patch", { operations: [{ op: "add", path: "/spec/revisionHistoryLimit", value: 10 }] });
    const deployment = aDeployment("shop").inNamespace("team-a").withRevision(aRevision("v1").withComponent(component)).build();
    const overrides = [
      {
        component: "api",
        traits: [
          { name: "json-merge-patch", properties: { spec: { paused: null, progressDeadlineSeconds: 120 } } },
          { name: "json-patch", properties: { operations: [{ op: "replace", path: "/spec/minReadySeconds", value: 7 }] } },
        ],
      },
    ] as unknown as RenderTarget["overrides"];
    const [cluster] = await renderDeployment({ deployment, registry: await builtins, targets: [{ ...target, ...(overrides ? { overrides } : {}) }] });
    const spec = cluster?.manifests.find((m) => m.kind === "Deployment")?.spec as Record<string, unknown>;
    expect(spec.progressDeadlineSeconds).toBe(120);
    expect(spec).not.toHaveProperty("paused");
    // The override's operations ran (after the merge patch, as listed), the component's did not.
    expect(spec.minReadySeconds).toBe(7);
    expect(spec).not.toHaveProperty("revisionHistoryLimit");
  });
});

describe("a failing patch", () => {
  it("names the component's trait, the operation's index, op and path, and why, and renders nothing", async () => {
    const problems = await problemsOf([
      SIDECAR,
      jsonPatch({ op: "add", path: "/spec/paused", value: true }, { op: "replace", path: "/spec/template/spec/containers/2/image", value: "x:1" }),
    ]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path).toBe(`${T(1)}.properties.operations[1]`);
    expect(problems[0]?.message).toBe(
      "json-patch: operation 1 (replace /spec/template/spec/containers/2/image) failed: path not found: /spec/template/spec/containers/2 does not exist (/spec/template/spec/containers has 2 items)",
    );
    expect(problems[0]?.fix).toContain("flotilla render");
  });

  it("names a test that does not hold with the value found", async () => {
    const [problem] = await problemsOf([jsonPatch({ op: "test", path: "/spec/template/spec/containers/0/image", value: "api:9" })]);
    expect(problem?.message).toBe(
      'json-patch: operation 0 (test /spec/template/spec/containers/0/image) failed: test failed: the value is "api:1.2.0", not "api:9"',
    );
  });

  it("is refused before rendering when an operation lacks its value, by the trait's schema", async () => {
    const problems = await problemsOf([jsonPatch({ op: "replace", path: "/spec/paused" })]);
    expect(problems).toContainEqual(expect.objectContaining({ path: `${T(0)}.properties.operations[0].value`, message: "is required" }));
  });
});

describe("the render policy holds after a raw patch", () => {
  it.each([
    {
      what: "moving the workload to another namespace",
      trait: jsonPatch({ op: "add", path: "/metadata/namespace", value: "kube-system" }),
      message: 'definition "json-patch" renders Deployment "api-v1" in namespace "kube-system", outside the deployment\'s namespace "team-a"',
    },
    {
      what: "a flotilla.dev/ label",
      trait: mergePatch({ metadata: { labels: { "flotilla.dev/owner": "me" } } }),
      message: 'definition "json-merge-patch" renders Deployment "api-v1" with the label "flotilla.dev/owner"',
    },
    {
      what: "a flotilla.dev/ annotation on the workload (e.g. to hand its replicas to nobody)",
      trait: jsonPatch({ op: "add", path: "/metadata/annotations", value: { "flotilla.dev/autoscaled-path": "spec.replicas" } }),
      message: 'with the annotation "flotilla.dev/autoscaled-path"',
    },
    {
      what: "turning the workload into a Secret",
      trait: jsonPatch({ op: "replace", path: "/kind", value: "Secret" }, { op: "replace", path: "/apiVersion", value: "v1" }),
      message: `json-patch: changes the workload's apiVersion from "apps/v1" to "v1"`,
    },
    {
      what: "turning the workload into a cluster-scoped kind",
      trait: mergePatch({ kind: "ClusterRole" }),
      message: `json-merge-patch: changes the workload's kind from "Deployment" to "ClusterRole"`,
    },
    {
      what: "renaming the workload",
      trait: jsonPatch({ op: "replace", path: "/metadata/name", value: "other" }),
      message: `json-patch: changes the workload's metadata.name from "api-v1" to "other"`,
    },
    {
      what: "deleting the metadata",
      trait: mergePatch({ metadata: null }),
      message: 'json-merge-patch: changes the workload\'s metadata.name from "api-v1" to undefined',
    },
  ])("refuses $what", async ({ trait, message }) => {
    const problems = await problemsOf([trait]);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.path.startsWith(T(0))).toBe(true);
    expect(problems[0]?.message).toContain(message);
  });

  it("lets the workload's own namespace through", async () => {
    const workload = await workloadWith([jsonPatch({ op: "add", path: "/metadata/namespace", value: "team-a" })]);
    expect(workload.metadata.namespace).toBe("team-a");
  });
});

describe("TraitDefinition.spec.workloadPatch", () => {
  it("makes any trait a raw patch whose schema narrows what it may touch", async () => {
    const dns = aTraitDefinition("pod-dns")
      .withSchema({ type: "object", additionalProperties: false, properties: { spec: { type: "object" } } })
      .build();
    dns.spec.workloadPatch = "json-merge-patch";
    const registry = buildRegistry([...(await builtins).components.values(), dns].map((d) => ("source" in d ? d.source : d)));
    const component = aComponent("api")
      .withSettings({ image: "api:1" })
      .withTrait("pod-dns", { spec: { template: { spec: { dnsPolicy: "None" } } } });
    const deployment = aDeployment("shop").withRevision(aRevision("v1").withComponent(component)).build();
    const [cluster] = await renderDeployment({ deployment, registry, targets: [target] });
    expect(getPath(cluster?.manifests[0], "spec.template.spec.dnsPolicy")).toBe("None");
    const refused = aComponent("api")
      .withSettings({ image: "api:1" })
      .withTrait("pod-dns", { metadata: { labels: { a: "b" } } });
    await expect(
      renderDeployment({ deployment: aDeployment("shop").withRevision(aRevision("v1").withComponent(refused)).build(), registry, targets: [target] }),
    ).rejects.toThrow(/traits\[0\]\.properties\.metadata: is not a known field/);
  });

  it("cannot be combined with a patch or outputs template", () => {
    const both = aTraitDefinition("both").withPatch('{"spec": {}}').withOutputs("[]").build();
    both.spec.workloadPatch = "json-patch";
    expect(resourceProblems(both)).toEqual([
      expect.objectContaining({ path: "spec.patch", message: "cannot be combined with spec.workloadPatch (json-patch): the trait's properties are the patch" }),
      expect.objectContaining({ path: "spec.outputs" }),
    ]);
    expect(compileDefinition(both)).toHaveProperty("broken", true);
  });

  it("is what the built-in json-patch and json-merge-patch traits declare", async () => {
    const registry = await builtins;
    for (const name of ["json-patch", "json-merge-patch"]) {
      const def = registry.traits.get(name);
      expect(def && "workloadPatch" in def ? def.workloadPatch : undefined).toBe(name);
    }
  });
});
