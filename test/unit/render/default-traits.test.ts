// A component type's defaultTraits (applied as if listed first, merged with the component's own
// and the wave's override by name) and traits with order: last (run after all the others).

import { describe, expect, it } from "vitest";
import { type FieldProblem, ValidationError } from "../../../src/api/errors.js";
import type { ApplicationDeployment, ComponentOverride, Manifest } from "../../../src/api/types.js";
import { brokenDefinitions } from "../../../src/definitions/registry.js";
import { renderDeployment } from "../../../src/render/render.js";
import { aComponent, aComponentDefinition, aDeployment, aRevision, aTraitDefinition, registryOf } from "../builders.js";

/** Writes its properties into an annotation named after the trait, so a test can read what it got. */
const recorder = (name: string) => aTraitDefinition(name).withPatch(`{"metadata": {"annotations": {"${name}": $string(properties)}}}`);
/** Records the names of the workload's containers at the moment it runs. */
const seer = (name: string) =>
  aTraitDefinition(name).withPatch(`{"metadata": {"annotations": {"${name}": $join(workload.spec.template.spec.containers.name, ",")}}}`);
/** Writes its own name into the annotation `writer`: the last to run wins. */
const writer = (name: string) => aTraitDefinition(name).withPatch(`{"metadata": {"annotations": {"writer": "${name}"}}}`);
const addContainer = aTraitDefinition("add-container")
  .withSchema({ type: "object", properties: { name: { type: "string" } } })
  .withPatch('{"spec": {"template": {"spec": {"containers": [{"name": properties.name, "image": "x"}]}}}}');

const registry = registryOf(
  aComponentDefinition("worker"),
  aComponentDefinition("hardened").withDefaultTrait("policy", { level: "restricted", limits: { cpu: "1", memory: "1Gi" } }),
  aComponentDefinition("with-seer").withDefaultTrait("late-seer"),
  aComponentDefinition("typo").withDefaultTrait("polcy"),
  aComponentDefinition("twice").withDefaultTrait("policy").withDefaultTrait("policy"),
  aComponentDefinition("strict-default").withDefaultTrait("strict", { level: 5 }),
  recorder("policy"),
  recorder("other"),
  aTraitDefinition("strict")
    .withSchema({ type: "object", properties: { level: { type: "string" } } })
    .withPatch("{}"),
  seer("early-seer"),
  seer("late-seer").last(),
  seer("late-seer-2").last(),
  addContainer,
  writer("last-a").last(),
  writer("last-b").last(),
  writer("listed-c"),
);

function deploymentOf(component: ReturnType<typeof aComponent>): ApplicationDeployment {
  return aDeployment("shop").inNamespace("team-a").withRevision(aRevision("v1").withComponent(component)).build();
}

async function workloadOf(component: ReturnType<typeof aComponent>, overrides?: ComponentOverride[]): Promise<Manifest> {
  const [cluster] = await renderDeployment({
    deployment: deploymentOf(component),
    registry,
    targets: [{ cluster: { name: "prod", labels: {} }, wave: "w", revisions: [{ name: "v1", replicas: 1 }], ...(overrides ? { overrides } : {}) }],
  });
  return cluster!.manifests[0]!;
}

async function problemsOf(component: ReturnType<typeof aComponent>): Promise<FieldProblem[]> {
  try {
    await workloadOf(component);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  throw new Error("expected the render to fail");
}

const annotation = (m: Manifest, key: string): unknown => {
  const v = m.metadata.annotations?.[key];
  return v === undefined ? undefined : JSON.parse(v);
};
const C0 = "spec.appRevisions[0].template.spec.components[0]";

describe("defaultTraits of a component type", () => {
  it("applies the default to a component that does not list the trait", async () => {
    const w = await workloadOf(aComponent("api", "hardened").withSettings({ image: "x" }));
    expect(annotation(w, "policy")).toEqual({ level: "restricted", limits: { cpu: "1", memory: "1Gi" } });
  });

  it("merges a component's own trait of the same name over the default, maps deep and other values replaced", async () => {
    const w = await workloadOf(
      aComponent("api", "hardened")
        .withSettings({ image: "x" })
        .withTrait("policy", { limits: { memory: "2Gi" }, extra: [1] }),
    );
    expect(annotation(w, "policy")).toEqual({ level: "restricted", limits: { cpu: "1", memory: "2Gi" }, extra: [1] });
  });

  it("lets a wave override merge over both", async () => {
    const w = await workloadOf(
      aComponent("api", "hardened")
        .withSettings({ image: "x" })
        .withTrait("policy", { limits: { memory: "2Gi" } }),
      [{ component: "api", traits: [{ name: "policy", properties: { level: "baseline" } }] }],
    );
    expect(annotation(w, "policy")).toEqual({ level: "baseline", limits: { cpu: "1", memory: "2Gi" } });
  });

  it("runs the defaults before the component's own traits", async () => {
    const w = await workloadOf(aComponent("api", "with-seer").withSettings({ image: "x" }).withTrait("add-container", { name: "proxy" }));
    // late-seer is a default (listed first) but has order: last, so it sees the added container.
    expect(w.metadata.annotations?.["late-seer"]).toBe("api,proxy");
  });

  it("leaves components of other types alone", async () => {
    const w = await workloadOf(aComponent("api", "worker").withSettings({ image: "x" }).withTrait("other", { a: 1 }));
    expect(w.metadata.annotations?.policy).toBeUndefined();
    expect(annotation(w, "other")).toEqual({ a: 1 });
  });

  it("reports a default whose properties the trait refuses at the default's path", async () => {
    const found = await problemsOf(aComponent("api", "strict-default").withSettings({ image: "x" }));
    expect(found).toEqual([expect.objectContaining({ path: `${C0}.defaultTraits[0].properties.level`, message: "must be string (got 5)" })]);
  });

  it("reports it at the component's trait when the component lists the trait too", async () => {
    const found = await problemsOf(aComponent("api", "strict-default").withSettings({ image: "x" }).withTrait("other").withTrait("strict", {}));
    expect(found).toEqual([expect.objectContaining({ path: `${C0}.traits[1].properties.level` })]);
  });

  it("marks a component type whose default names an unknown trait as broken, with the field path", () => {
    const typo = brokenDefinitions(registry).find((b) => b.name === "typo");
    expect(typo?.error).toBeInstanceOf(ValidationError);
    expect((typo?.error as ValidationError | undefined)?.problems).toEqual([
      expect.objectContaining({ path: "spec.defaultTraits[0].name", message: 'unknown trait "polcy"', fix: expect.stringContaining("policy") }),
    ]);
  });

  it("marks a component type that names a default trait twice as broken", () => {
    const twice = brokenDefinitions(registry).find((b) => b.name === "twice");
    expect((twice?.error as ValidationError | undefined)?.problems).toEqual([expect.objectContaining({ path: "spec.defaultTraits[1].name" })]);
  });

  it("tells the users of a broken component type why", async () => {
    const [problem] = await problemsOf(aComponent("api", "typo").withSettings({ image: "x" }));
    expect(problem).toEqual(expect.objectContaining({ path: `${C0}.type`, message: expect.stringContaining('unknown trait "polcy"') }));
  });
});

describe("traits with order: last", () => {
  it("run after every listed trait, whatever their place in the list", async () => {
    const w = await workloadOf(
      aComponent("api", "worker").withSettings({ image: "x" }).withTrait("late-seer").withTrait("early-seer").withTrait("add-container", { name: "proxy" }),
    );
    expect(w.metadata.annotations?.["early-seer"]).toBe("api");
    expect(w.metadata.annotations?.["late-seer"]).toBe("api,proxy");
  });

  it("keep their listed order among themselves", async () => {
    const w = await workloadOf(aComponent("api", "worker").withSettings({ image: "x" }).withTrait("last-b").withTrait("last-a").withTrait("listed-c"));
    // All three write the same annotation: the last-ordered ones run after listed-c, last-a after last-b.
    expect(w.metadata.annotations?.writer).toBe("last-a");
  });
});
