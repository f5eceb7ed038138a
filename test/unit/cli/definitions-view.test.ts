// What `flotilla definitions list|show` print for given definitions: the sorted table and its
// shortened WORKLOAD column, -o wide, the lookup of a name with what to do when it fails, and the
// view of a definition without a schema or from the hub (no usage comment there).

import { describe, expect, it } from "vitest";
import type { ComponentDefinition, TraitDefinition } from "../../../src/api/types.js";
import { type DefinitionEntry, definitionList, definitionTable, definitionView, findDefinition } from "../../../src/cli/definitions-view.js";

function component(name: string, description?: string): ComponentDefinition {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ComponentDefinition",
    metadata: { name, ...(description ? { annotations: { "flotilla.dev/description": description } } : {}) },
    spec: { workload: { apiVersion: "apps/v1", kind: "Deployment" }, template: "{}" },
  };
}

function trait(name: string, spec: Partial<TraitDefinition["spec"]> = {}): TraitDefinition {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "TraitDefinition",
    metadata: { name, annotations: { "flotilla.dev/description": `the ${name} trait` }, managedFields: [{ manager: "flotilla" }] },
    spec: { patch: "{}", ...spec },
  };
}

const entries: DefinitionEntry[] = [
  { definition: trait("env", { appliesTo: ["apps/v1/Deployment", "batch/v1/CronJob", "batch/v1beta1/CronJob"] }), source: "a.yaml" },
  { definition: component("worker", "a\n  worker"), source: "b.yaml" },
  { definition: trait("labels"), source: "hub" },
  { definition: trait("expose", { scope: "component", conflictsWith: ["other"] }), source: "c.yaml" },
  { definition: component("expose"), source: "d.yaml" },
];

describe("definitions list", () => {
  it("lists components, then traits, by name; a trait's appliesTo as its kinds once each, * when unset", () => {
    expect(definitionTable(entries)).toBe(
      [
        "NAME     KIND        WORKLOAD             DESCRIPTION",
        "expose   component   apps/v1/Deployment   <none>",
        "worker   component   apps/v1/Deployment   a worker",
        "env      trait       Deployment,CronJob   the env trait",
        "expose   trait       *                    the expose trait",
        "labels   trait       *                    the labels trait",
        "",
      ].join("\n"),
    );
  });

  it("adds SCOPE (revision by default) and SOURCE with -o wide", () => {
    const lines = definitionTable(entries, true).split("\n");
    expect(lines[0]?.split(/\s{2,}/)).toEqual(["NAME", "KIND", "WORKLOAD", "SCOPE", "SOURCE", "DESCRIPTION"]);
    expect(lines[4]?.split(/\s{2,}/)).toEqual(["expose", "trait", "*", "component", "c.yaml", "the expose trait"]);
    expect(lines[5]?.split(/\s{2,}/)).toEqual(["labels", "trait", "*", "revision", "hub", "the labels trait"]);
  });

  it("says so when there is none, and prints the objects as a List without managedFields", () => {
    expect(definitionTable([])).toBe("No definitions found.\n");
    const list = definitionList(entries);
    expect(list.items.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      "ComponentDefinition/expose",
      "ComponentDefinition/worker",
      "TraitDefinition/env",
      "TraitDefinition/expose",
      "TraitDefinition/labels",
    ]);
    expect(list.items[2]?.metadata.managedFields).toBeUndefined();
  });
});

describe("definitions show", () => {
  it("finds a name of one kind, and asks for --kind when it is both", () => {
    expect(findDefinition(entries, "env").definition.kind).toBe("TraitDefinition");
    expect(findDefinition(entries, "expose", "component").source).toBe("d.yaml");
    expect(() => findDefinition(entries, "expose")).toThrow(
      '"expose" is both a ComponentDefinition and a TraitDefinition. Pass --kind component or --kind trait.',
    );
  });

  it("suggests close names for one that does not exist, and the other kind for a wrong --kind", () => {
    expect(() => findDefinition(entries, "workr")).toThrow(
      'no ComponentDefinition or TraitDefinition named "workr". Did you mean worker? `flotilla definitions list` shows them all.',
    );
    expect(() => findDefinition(entries, "env", "component")).toThrow(
      'no ComponentDefinition named "env" (there is a trait of that name: drop --kind or pass --kind trait).',
    );
  });

  it("says a definition without a schema accepts anything, and where a hub's definition has its example", () => {
    const view = definitionView(
      { definition: trait("expose", { scope: "component", conflictsWith: ["other"] }), source: "hub" },
      { noExample: "see the file." },
    );
    expect(view).toContain("Scope:          component (its outputs once for all revisions)\nConflicts with: other\nSource:         hub\n");
    expect(view).toContain("Properties (traits[].properties): no schema, anything is accepted as given.");
    expect(view.endsWith("Example: see the file.\n")).toBe(true);
  });

  it("prints the notes of the usage comment and a CONSTRAINTS column only with -o wide", () => {
    const entry: DefinitionEntry = {
      definition: {
        ...component("web"),
        spec: { ...component("web").spec, schema: { type: "object", properties: { port: { type: "integer", minimum: 1 } } } },
      },
      source: "web.yaml",
      usage: { notes: ["web — a web thing."], example: ["components:", "  - type: web"] },
    };
    const plain = definitionView(entry);
    expect(plain).not.toContain("Notes:");
    expect(plain).toContain("PATH   TYPE      DEFAULT   REQUIRED   DESCRIPTION\nport   integer   -         no\n");
    expect(plain.endsWith("Example:\n  components:\n    - type: web\n")).toBe(true);
    const wide = definitionView(entry, { wide: true });
    expect(wide).toContain("Notes:\n  web — a web thing.\n");
    expect(wide).toContain("PATH   TYPE      DEFAULT   REQUIRED   CONSTRAINTS   DESCRIPTION\nport   integer   -         no         >=1\n");
  });
});
