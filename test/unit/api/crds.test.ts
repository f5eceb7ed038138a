import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { customResourceDefinitions, toStructural } from "../../../src/api/crds.js";
import { crdFiles } from "../../../src/cli/gen-crds.js";

const CRDS_DIR = join(import.meta.dirname, "..", "..", "..", "crds");

type Node = Record<string, unknown>;

/** Every schema node with its path of property names (`spec.appRevisions[].template...`). */
function walk(node: unknown, path: string, visit: (node: Node, path: string) => void): void {
  if (node === null || typeof node !== "object" || Array.isArray(node)) return;
  const n = node as Node;
  visit(n, path);
  for (const [name, child] of Object.entries((n.properties as Record<string, unknown>) ?? {})) walk(child, path ? `${path}.${name}` : name, visit);
  if (n.items) walk(n.items, `${path}[]`, visit);
  if (n.additionalProperties && typeof n.additionalProperties === "object") walk(n.additionalProperties, `${path}{}`, visit);
}

function schemaOf(crd: Node): Node {
  const versions = (crd.spec as { versions: Array<{ schema: { openAPIV3Schema: Node } }> }).versions;
  return versions[0]!.schema.openAPIV3Schema;
}

const crds = customResourceDefinitions() as Node[];
const byKind = new Map(crds.map((c) => [(c.spec as { names: { kind: string } }).names.kind, c]));

describe("crds/", () => {
  it("matches what npm run gen:crds writes", async () => {
    const expected = crdFiles();
    const present = (await readdir(CRDS_DIR)).sort();
    const stale: string[] = [];
    if (JSON.stringify(present) !== JSON.stringify([...expected.keys()].sort())) stale.push(`files: ${present.join(", ")}`);
    for (const [name, text] of expected) {
      const onDisk = await readFile(join(CRDS_DIR, name), "utf8").catch(() => "");
      if (onDisk !== text) stale.push(name);
    }
    expect(stale, "crds/ is stale: run npm run gen:crds").toEqual([]);
  });
});

describe("the generated CRDs", () => {
  it("covers the eight Flotilla kinds", () => {
    expect([...byKind.keys()].sort()).toEqual([
      "ApplicationDeployment",
      "Cluster",
      "ComponentDefinition",
      "GitSource",
      "Notification",
      "SyncReport",
      "TenantPolicy",
      "TraitDefinition",
    ]);
  });

  it.each(crds.map((c) => [(c.metadata as { name: string }).name, c]))("%s has no additionalProperties: false and no const", (_name, crd) => {
    const bad: string[] = [];
    walk(schemaOf(crd as Node), "", (n, p) => {
      if (n.additionalProperties === false) bad.push(`${p}: additionalProperties: false`);
      if ("const" in n) bad.push(`${p}: const`);
    });
    expect(bad).toEqual([]);
  });

  it.each(crds.map((c) => [(c.metadata as { name: string }).name, c]))("%s gives every node a type (or the int-or-string marker)", (_name, crd) => {
    const untyped: string[] = [];
    walk(schemaOf(crd as Node), "", (n, p) => {
      if (typeof n.type !== "string" && n["x-kubernetes-int-or-string"] !== true) untyped.push(p || "<root>");
    });
    expect(untyped).toEqual([]);
  });

  it.each(crds.map((c) => [(c.metadata as { name: string }).name, c]))(
    "%s preserves unknown fields only under settings, properties and schema bodies",
    (_name, crd) => {
      const where: string[] = [];
      walk(schemaOf(crd as Node), "", (n, p) => {
        if (n["x-kubernetes-preserve-unknown-fields"] === true) where.push(p);
      });
      for (const p of where) expect(p).toMatch(/(^|\.)(settings|properties|schema)$/);
    },
  );

  it("preserves unknown fields of component settings, trait properties and definition schemas", () => {
    const paths = (kind: string): string[] => {
      const out: string[] = [];
      walk(schemaOf(byKind.get(kind)!), "", (n, p) => {
        if (n["x-kubernetes-preserve-unknown-fields"] === true) out.push(p);
      });
      return out;
    };
    expect(paths("ApplicationDeployment")).toEqual(
      expect.arrayContaining([
        "spec.appRevisions[].template.spec.components[].settings",
        "spec.appRevisions[].template.spec.components[].traits[].properties",
        "spec.placementStrategies[].overrides[].settings",
      ]),
    );
    expect(paths("ComponentDefinition")).toEqual(["spec.schema", "spec.defaultTraits[].properties"]);
    expect(paths("TraitDefinition")).toEqual(["spec.schema"]);
  });

  it("turns int-or-percent batch replicas into the Kubernetes marker and its description alone", () => {
    let node: Node | undefined;
    walk(schemaOf(byKind.get("ApplicationDeployment")!), "", (n, p) => {
      if (p === "spec.appRevisions[].rollout.batches[].replicas") node = n;
    });
    expect(node).toEqual({ "x-kubernetes-int-or-string": true, description: expect.stringContaining("Cumulative replicas") });
  });

  it("requires only spec at the root and leaves apiVersion, kind and metadata to the API server", () => {
    for (const crd of crds) {
      const root = schemaOf(crd);
      expect(root.required).toEqual(["spec"]);
      expect((root.properties as Record<string, Node>).metadata).toEqual({ type: "object" });
    }
  });

  it.each(crds.map((c) => [(c.metadata as { name: string }).name, c]))("%s has a status subresource (but SyncReport) and an AGE column", (name, crd) => {
    const version = (crd as { spec: { versions: Array<Record<string, unknown>> } }).spec.versions[0]!;
    // An agent writes a whole SyncReport in one request; everything else has status written apart from spec.
    expect(version.subresources).toEqual(name === "syncreports.flotilla.dev" ? undefined : { status: {} });
    expect(version.served).toBe(true);
    expect(version.storage).toBe(true);
    expect((version.additionalPrinterColumns as Array<{ name: string }>).at(-1)?.name).toBe("AGE");
  });

  it("shows PHASE, TARGET, STABLE, PROGRESS, the Ready condition's status and message, and AGE for ApplicationDeployments", () => {
    const version = (
      byKind.get("ApplicationDeployment") as { spec: { versions: Array<{ additionalPrinterColumns: Array<{ name: string; jsonPath: string }> }> } }
    ).spec.versions[0]!;
    expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual(["PHASE", "TARGET", "STABLE", "PROGRESS", "READY", "MESSAGE", "AGE"]);
    expect(version.additionalPrinterColumns.map((c) => c.jsonPath)).toEqual([
      ".status.phase",
      ".status.targetRevision",
      ".status.stableRevision",
      ".status.progress",
      '.status.conditions[?(@.type=="Ready")].status',
      '.status.conditions[?(@.type=="Ready")].message',
      ".metadata.creationTimestamp",
    ]);
  });

  it.each([
    ["ApplicationDeployment", "Namespaced", ["appdeploy", "ad"]],
    ["ComponentDefinition", "Cluster", ["compdef"]],
    ["TraitDefinition", "Cluster", ["traitdef"]],
    ["Cluster", "Cluster", ["fcluster"]],
  ])("registers %s as %s with short names %j", (kind, scope, shortNames) => {
    const spec = byKind.get(kind)!.spec as { scope: string; group: string; names: { shortNames: string[]; categories: string[] } };
    expect(spec.scope).toBe(scope);
    expect(spec.group).toBe("flotilla.dev");
    expect(spec.names.shortNames).toEqual(shortNames);
    expect(spec.names.categories).toEqual(["flotilla"]);
  });
});

describe("toStructural", () => {
  it.each([
    [
      { type: "object", additionalProperties: false, properties: { a: { type: "string" } } },
      { type: "object", properties: { a: { type: "string" } } },
    ],
    [
      { type: "string", const: "x" },
      { type: "string", enum: ["x"] },
    ],
    [
      { type: "object", additionalProperties: { type: "string" } },
      { type: "object", additionalProperties: { type: "string" } },
    ],
    [
      { type: "array", items: { type: "object", additionalProperties: false } },
      { type: "array", items: { type: "object" } },
    ],
    [{ "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }] }, { "x-kubernetes-int-or-string": true }],
    [
      { "x-kubernetes-int-or-string": true, anyOf: [{ type: "integer" }, { type: "string" }], description: "a count or a percentage" },
      { "x-kubernetes-int-or-string": true, description: "a count or a percentage" },
    ],
    [
      { type: "object", description: "kept", properties: { a: { type: "string", description: "also kept" } } },
      { type: "object", description: "kept", properties: { a: { type: "string", description: "also kept" } } },
    ],
  ])("converts %j to %j", (input, expected) => {
    expect(toStructural(input)).toEqual(expected);
  });

  it.each(["ApplicationDeployment", "Cluster"])("keeps %s conditions as a list-map keyed by type, as Kubernetes' own", (kind) => {
    const crd = byKind.get(kind) as Record<string, unknown>;
    const status = (schemaOf(crd).properties as Record<string, Node>).status as Node;
    const conditions = (status.properties as Record<string, Node>).conditions as Node;
    expect({ listType: conditions["x-kubernetes-list-type"], keys: conditions["x-kubernetes-list-map-keys"] }).toEqual({ listType: "map", keys: ["type"] });
    expect((conditions.items as Node).required).toContain("type");
  });
});
