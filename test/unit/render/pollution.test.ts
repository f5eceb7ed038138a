// An attacker's `__proto__` keys (kept as ordinary keys by YAML and JSON) must never reach
// Object.prototype: validation refuses them with their path, and the merges that would have
// written through them treat them as data even when validation is bypassed. The proof is a victim
// deployment rendered after the attacker's, byte for byte as it renders alone.

import { afterEach, describe, expect, it } from "vitest";
import { copyJson } from "../../../src/api/json.js";
import { toCelValue } from "../../../src/definitions/cel.js";
import { parseYamlStream, toYaml } from "../../../src/api/serialize.js";
import type { ApplicationDeployment, TraitDefinition } from "../../../src/api/types.js";
import { resourceProblems } from "../../../src/api/validate.js";
import { getPath, mergePatch, mergeSettings, setPath } from "../../../src/render/merge.js";
import { type RenderedCluster, renderDeployment } from "../../../src/render/render.js";
import { aComponentDefinition, aTraitDefinition, registryOf } from "../builders.js";

/** A trait whose properties are a raw patch of the workload (spec.workloadPatch). */
function rawPatchTrait(name: string, format: "json-patch" | "json-merge-patch"): TraitDefinition {
  const def = aTraitDefinition(name).build();
  def.spec.workloadPatch = format;
  return def;
}

const registry = registryOf(
  aComponentDefinition("worker"),
  aTraitDefinition("tags").withSchema({ type: "object", additionalProperties: true }).withPatch('{"metadata": {"annotations": properties}}'),
  rawPatchTrait("json-patch", "json-patch"),
  rawPatchTrait("json-merge-patch", "json-merge-patch"),
);

const originalHasOwnProperty = Object.prototype.hasOwnProperty;
const target = { cluster: { name: "local", labels: {} }, wave: "prod", revisions: [{ name: "v1", replicas: 2 }] };

/** A deployment parsed from YAML text, as the CLI and the controller receive one. */
function parse(yaml: string): ApplicationDeployment {
  const [doc] = parseYamlStream(yaml) as [ApplicationDeployment];
  return doc;
}

const ATTACKER = `
apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata: {name: attacker, namespace: evil}
spec:
  appRevisions:
    - name: v1
      template:
        spec:
          components:
            - name: app
              type: worker
              settings: {image: "evil:1", nested: {__proto__: {polluted: "yes"}}}
              traits: [{name: tags, properties: {team: "evil"}}]
  placementStrategies:
    - name: prod
      overrides:
        - component: app
          settings: {__proto__: {fromOverride: "yes", hasOwnProperty: "gone"}, constructor: {prototype: {viaConstructor: "yes"}}}
          traits: [{name: tags, properties: {__proto__: {fromOverrideTrait: "yes"}}}]
`;

const VICTIM = `
apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata: {name: victim, namespace: team-a}
spec:
  appRevisions:
    - name: v1
      template:
        spec:
          components:
            - name: web
              type: worker
              settings: {image: "nginx:1.27"}
              traits: [{name: tags, properties: {team: "a"}}]
`;

async function render(doc: ApplicationDeployment): Promise<RenderedCluster[]> {
  const placement = doc.spec.placementStrategies?.[0];
  return renderDeployment({ deployment: doc, registry, targets: [{ ...target, ...(placement?.overrides ? { overrides: placement.overrides } : {}) }] });
}

/** The raw patches of the escape-hatch traits: a path is a value, which validation does not look into. */
const PATCHER = `
apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata: {name: patcher, namespace: evil}
spec:
  appRevisions:
    - name: v1
      template:
        spec:
          components:
            - name: app
              type: worker
              settings: {image: "evil:1"}
              traits:
                - name: json-patch
                  properties:
                    operations:
                      - {op: add, path: /__proto__/fromJsonPatch, value: "yes"}
                      - {op: add, path: /metadata/constructor/prototype/viaConstructor, value: "yes"}
                - name: json-merge-patch
                  properties: {metadata: {__proto__: {fromMergePatch: "yes"}}}
`;

const PROBES = ["polluted", "fromOverride", "fromOverrideTrait", "viaConstructor", "fromJsonPatch", "fromMergePatch"];

function prototypeIsClean(): void {
  const empty: Record<string, unknown> = {};
  for (const key of PROBES) expect(empty[key], `Object.prototype.${key}`).toBeUndefined();
  expect(typeof Object.prototype.hasOwnProperty).toBe("function");
}

afterEach(() => {
  // If a test ever pollutes, undo it so the rest of the run is not poisoned.
  for (const key of PROBES) delete (Object.prototype as Record<string, unknown>)[key];
  if (typeof Object.prototype.hasOwnProperty !== "function")
    Object.defineProperty(Object.prototype, "hasOwnProperty", { value: originalHasOwnProperty, writable: true, configurable: true });
});

describe("prototype pollution through settings, properties and overrides", () => {
  it("refuses every __proto__ and constructor key of the attacker's deployment with its path", () => {
    const paths = resourceProblems(parse(ATTACKER)).map((p) => p.path);
    expect(paths.sort()).toEqual([
      "spec.appRevisions[0].template.spec.components[0].settings.nested.__proto__",
      "spec.placementStrategies[0].overrides[0].settings.__proto__",
      "spec.placementStrategies[0].overrides[0].settings.constructor",
      "spec.placementStrategies[0].overrides[0].traits[0].properties.__proto__",
    ]);
  });

  it("renders a victim after the attacker exactly as it renders alone, and leaves Object.prototype untouched", async () => {
    const alone = toYaml((await render(parse(VICTIM)))[0]?.manifests ?? []);
    // Straight to the renderer, past validation: the merges themselves must be safe.
    await render(parse(ATTACKER)).catch(() => undefined);
    prototypeIsClean();
    const after = toYaml((await render(parse(VICTIM)))[0]?.manifests ?? []);
    expect(after).toBe(alone);
    expect(alone).toContain("team: a");
  });

  it("refuses json-patch paths and merge-patch keys through __proto__ or constructor, even past validation", async () => {
    expect(resourceProblems(parse(PATCHER)).map((p) => p.path)).toEqual([
      "spec.appRevisions[0].template.spec.components[0].traits[1].properties.metadata.__proto__",
    ]);
    const alone = toYaml((await render(parse(VICTIM)))[0]?.manifests ?? []);
    const refused = await render(parse(PATCHER)).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(refused).toContain('has the segment "__proto__", which is not allowed');
    prototypeIsClean();
    // Each trait alone, so that the first refusal does not hide what the next would do.
    for (const [i, trait] of ["json-patch", "json-merge-patch"].entries()) {
      const doc = parse(PATCHER);
      const component = doc.spec.appRevisions[0]?.template.spec.components[0];
      if (component) component.traits = (component.traits ?? []).filter((t) => t.name === trait);
      await expect(render(doc), trait).rejects.toThrow(i === 0 ? /__proto__/ : /the key "__proto__" is not allowed/);
      prototypeIsClean();
    }
    expect(toYaml((await render(parse(VICTIM)))[0]?.manifests ?? [])).toBe(alone);
  });

  it("merges __proto__ keys as data", () => {
    const patch = JSON.parse('{"__proto__": {"polluted": "yes"}, "a": {"__proto__": {"polluted": "yes"}}}');
    const merged = mergePatch({ a: { b: 1 } }, patch) as Record<string, unknown>;
    const settings = mergeSettings({ a: { b: 1 } }, patch) as Record<string, unknown>;
    prototypeIsClean();
    for (const m of [merged, settings]) {
      expect(Object.hasOwn(m, "__proto__")).toBe(true);
      expect(Object.getPrototypeOf(m)).toBe(Object.prototype);
      expect(JSON.parse(JSON.stringify(m))).toEqual(JSON.parse('{"__proto__": {"polluted": "yes"}, "a": {"b": 1, "__proto__": {"polluted": "yes"}}}'));
    }
    const copy = copyJson(patch) as Record<string, unknown>;
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.hasOwn(copy, "__proto__")).toBe(true);
  });

  it("serialises and converts a __proto__ key as data, never dropping it into a prototype", () => {
    const object = JSON.parse('{"data": {"__proto__": {"polluted": "yes"}, "b": "1"}}');
    expect(toYaml(object)).toBe('data:\n  __proto__:\n    polluted: "yes"\n  b: "1"\n');
    const cel = toCelValue(object) as { data: Record<string, unknown> };
    expect(Object.getPrototypeOf(cel.data)).toBe(Object.prototype);
    expect(Object.keys(cel.data)).toEqual(["__proto__", "b"]);
    prototypeIsClean();
  });

  it("refuses a dotted path through __proto__, constructor or prototype", () => {
    for (const path of ["__proto__.polluted", "constructor.prototype.polluted", "spec.prototype"]) {
      expect(() => setPath({}, path, "yes")).toThrow(/is not allowed/);
      expect(() => getPath({}, path)).toThrow(/is not allowed/);
    }
    prototypeIsClean();
  });

  it("refuses a ComponentDefinition whose replicasPath goes through __proto__", () => {
    const def = aComponentDefinition("bad").withReplicasPath("__proto__.polluted").build();
    expect(resourceProblems(def)).toContainEqual(
      expect.objectContaining({ path: "spec.replicasPath", message: expect.stringContaining('the segment "__proto__"') }),
    );
  });
});
