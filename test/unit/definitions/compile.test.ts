import { describe, expect, it } from "vitest";
import { TemplateError, ValidationError } from "../../../src/api/errors.js";
import {
  type BrokenDefinition,
  type CompiledComponent,
  type CompiledTrait,
  compileComponentDefinition,
  compileDefinition,
} from "../../../src/definitions/compile.js";
import { brokenDefinitions, buildRegistry, isBroken } from "../../../src/definitions/registry.js";
import { aComponentDefinition, aTraitDefinition } from "../builders.js";

describe("compileDefinition", () => {
  it("compiles a component definition with its workload, replicasPath and description", () => {
    const def = compileDefinition(aComponentDefinition("worker").withAnnotation("flotilla.dev/description", "A worker").build()) as CompiledComponent;
    expect(isBroken(def)).toBe(false);
    expect(def.kind).toBe("ComponentDefinition");
    expect(def.workload).toEqual({ apiVersion: "apps/v1", kind: "Deployment" });
    expect(def.replicasPath).toBe("spec.replicas");
    expect(def.description).toBe("A worker");
    expect(def.clusterScoped).toBe(false);
  });

  it("compiles a trait with its defaults: applies to anything, conflicts with nothing, revision scope", () => {
    const def = compileDefinition(aTraitDefinition("labels").withPatch('{"metadata": {"labels": properties}}').build()) as CompiledTrait;
    expect(def.appliesTo).toEqual(["*"]);
    expect(def.conflictsWith).toEqual([]);
    expect(def.scope).toBe("revision");
    expect(def.patch).toBeDefined();
    expect(def.outputs).toBeUndefined();
  });

  it('reads the cluster-scoped annotation only when it is exactly "true"', () => {
    const yes = compileDefinition(aComponentDefinition("ns").clusterScoped().build()) as CompiledComponent;
    const no = compileDefinition(aComponentDefinition("ns2").withAnnotation("flotilla.dev/cluster-scoped", "yes").build()) as CompiledComponent;
    expect(yes.clusterScoped).toBe(true);
    expect(no.clusterScoped).toBe(false);
  });

  it("applies schema defaults to a copy of the settings", () => {
    const def = compileComponentDefinition(
      aComponentDefinition("defaults")
        .withSchema({
          type: "object",
          properties: { image: { type: "string" }, env: { type: "object", default: {} }, port: { type: "integer", default: 8080 } },
        })
        .build(),
    );
    const input = { image: "nginx" };
    expect(def.validate(input, "settings")).toEqual({ image: "nginx", env: {}, port: 8080 });
    expect(input).toEqual({ image: "nginx" });
  });

  it("validates settings against the schema and reports the path under the given base", () => {
    const def = compileComponentDefinition(aComponentDefinition("strict").build());
    let caught: unknown;
    try {
      def.validate({ image: 42 }, "spec.appRevisions[0].template.spec.components[0].settings");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).problems[0]).toEqual({
      path: "spec.appRevisions[0].template.spec.components[0].settings.image",
      message: "must be string (got 42)",
      fix: expect.stringContaining("Set it to a string"),
    });
  });

  it("accepts any parameters when the definition has no schema", () => {
    const def = compileComponentDefinition(aComponentDefinition("free").withSchema(undefined).build());
    expect(def.validate({ anything: [1] }, "settings")).toEqual({ anything: [1] });
    expect(def.validate(undefined, "settings")).toEqual({});
  });

  it("returns the cached compiled form for an unchanged definition", () => {
    const a = compileDefinition(aComponentDefinition("cached").build());
    const b = compileDefinition(aComponentDefinition("cached").build());
    expect(b).toBe(a);
  });

  it.each<[string, unknown, string, RegExp, number | undefined]>([
    [
      "an invalid JSON Schema",
      aComponentDefinition("bad-schema")
        .withSchema({ type: "object", properties: { a: { type: "strang" } } })
        .build(),
      "bad-schema",
      /spec\.schema: is not a valid JSON Schema/,
      undefined,
    ],
    [
      "a JSONata syntax error",
      aComponentDefinition("bad-jsonata").withTemplate('{"a": 1 +}').build(),
      "bad-jsonata",
      /bad-jsonata\.spec\.template at position 10: JSONata syntax error/,
      10,
    ],
    [
      "a CEL syntax error in the health rule",
      aComponentDefinition("bad-cel").withHealth("status.ready &&").build(),
      "bad-cel",
      /bad-cel\.spec\.health at position 15: CEL does not compile/,
      15,
    ],
    [
      "a JSONata syntax error in a trait's outputs",
      aTraitDefinition("bad-outputs").withOutputs("{").build(),
      "bad-outputs",
      /bad-outputs\.spec\.outputs.*JSONata syntax error/,
      undefined,
    ],
    [
      "a definition that fails its own schema",
      {
        apiVersion: "flotilla.dev/v1alpha1",
        kind: "ComponentDefinition",
        metadata: { name: "no-template" },
        spec: { workload: { apiVersion: "apps/v1", kind: "Deployment" } },
      },
      "no-template",
      /spec\.template: is required/,
      undefined,
    ],
  ])("turns %s into a BrokenDefinition naming the definition", (_what, doc, name, message, position) => {
    const result = compileDefinition(doc);
    expect(isBroken(result)).toBe(true);
    const broken = result as BrokenDefinition;
    expect(broken.name).toBe(name);
    expect(broken.error.message).toMatch(message);
    if (position !== undefined) {
      expect(broken.error).toBeInstanceOf(TemplateError);
      expect((broken.error as TemplateError).position).toBe(position);
      expect((broken.error as TemplateError).definition).toBe(name);
    }
    if (broken.error instanceof ValidationError && broken.error.object !== undefined) {
      expect(broken.error.object).toContain(name);
    }
  });
});

describe("buildRegistry", () => {
  it("keeps working definitions usable next to a broken one", () => {
    const registry = buildRegistry([
      aComponentDefinition("worker").build(),
      aComponentDefinition("broken").withTemplate("{").build(),
      aTraitDefinition("labels").withPatch('{"metadata": {"labels": properties}}').build(),
      aTraitDefinition("bad-trait").withPatch("(").build(),
    ]);
    expect(isBroken(registry.components.get("worker")!)).toBe(false);
    expect(isBroken(registry.components.get("broken")!)).toBe(true);
    expect(isBroken(registry.traits.get("labels")!)).toBe(false);
    expect(isBroken(registry.traits.get("bad-trait")!)).toBe(true);
    expect(brokenDefinitions(registry).map((b) => `${b.kind}/${b.name}`)).toEqual(["ComponentDefinition/broken", "TraitDefinition/bad-trait"]);
  });

  it("lists definitions sorted by name", () => {
    const registry = buildRegistry(["zeta", "alpha", "mid"].map((n) => aComponentDefinition(n).build()));
    expect([...registry.components.keys()]).toEqual(["alpha", "mid", "zeta"]);
  });

  it("lets a later document replace an earlier one of the same kind and name", () => {
    const registry = buildRegistry([
      aComponentDefinition("worker").withAnnotation("flotilla.dev/description", "first").build(),
      aComponentDefinition("worker").withAnnotation("flotilla.dev/description", "second").build(),
    ]);
    expect((registry.components.get("worker") as CompiledComponent).description).toBe("second");
  });

  it("keeps components and traits of the same name apart", () => {
    const registry = buildRegistry([aComponentDefinition("same").build(), aTraitDefinition("same").build()]);
    expect(registry.components.get("same")?.kind).toBe("ComponentDefinition");
    expect(registry.traits.get("same")?.kind).toBe("TraitDefinition");
  });
});
