// Every field of every CRD explains itself: `kubectl explain ad.spec.appRevisions.rollout.batches`
// shows the field's description, so each schema node a user can reach (every property, list item
// and map value, at every depth) must have one. `metadata` is Kubernetes' own and documented by
// the API server. Checked on the files in crds/ (what users apply) and on the generator's output.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { customResourceDefinitions } from "../../../src/api/crds.js";
import { parseYamlStream } from "../../../src/api/serialize.js";

const CRDS_DIR = join(import.meta.dirname, "..", "..", "..", "crds");

type Node = Record<string, unknown>;

/** Paths of the schema nodes without a non-empty description: `spec.appRevisions[].name`, `...labels{}`. */
function undescribed(root: Node): string[] {
  const missing: string[] = [];
  const visit = (node: Node, path: string): void => {
    if (typeof node.description !== "string" || node.description.trim() === "") missing.push(path || "<root>");
    for (const [name, child] of Object.entries((node.properties as Record<string, Node> | undefined) ?? {})) {
      if (path === "" && name === "metadata") continue;
      visit(child, path ? `${path}.${name}` : name);
    }
    if (node.items && typeof node.items === "object") visit(node.items as Node, `${path}[]`);
    if (node.additionalProperties && typeof node.additionalProperties === "object") visit(node.additionalProperties as Node, `${path}{}`);
  };
  visit(root, "");
  return missing;
}

function openApiSchemas(crd: Node): Array<[string, Node]> {
  const spec = crd.spec as { names: { kind: string }; versions: Array<{ name: string; schema: { openAPIV3Schema: Node } }> };
  return spec.versions.map((v) => [`${spec.names.kind} ${v.name}`, v.schema.openAPIV3Schema]);
}

const onDisk = readdirSync(CRDS_DIR)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .flatMap((file) => parseYamlStream(readFileSync(join(CRDS_DIR, file), "utf8"), { filename: file }) as Node[])
  .filter((doc) => doc.kind === "CustomResourceDefinition") // crds/ also holds its kustomization.yaml
  .flatMap(openApiSchemas)
  .map(([name, schema]) => [`crds/ ${name}`, schema] as const);
const generated = (customResourceDefinitions() as Node[]).flatMap(openApiSchemas).map(([name, schema]) => [`generated ${name}`, schema] as const);

describe("CRD descriptions", () => {
  it("finds the CRDs of the eight kinds in crds/ and in the generator's output", () => {
    expect(onDisk.map(([name]) => name)).toHaveLength(8);
    expect(generated.map(([name]) => name)).toHaveLength(8);
  });

  it.each([...onDisk, ...generated])("%s describes every field, list item and map value", (_name, schema) => {
    expect(undescribed(schema), "fields without a description (add one in src/api/schemas/, then npm run gen:crds)").toEqual([]);
  });

  it("names the exact path of every node without a description, and skips metadata only at the root", () => {
    const schema: Node = {
      type: "object",
      properties: {
        metadata: { type: "object" },
        spec: {
          type: "object",
          description: "the spec",
          properties: {
            metadata: { type: "object" },
            items: {
              type: "array",
              description: "a list",
              items: { type: "object", properties: { name: { type: "string", description: " " } } },
            },
            labels: { type: "object", description: "a map", additionalProperties: { type: "string" } },
            replicas: { "x-kubernetes-int-or-string": true },
            free: { type: "object", "x-kubernetes-preserve-unknown-fields": true, description: "kept whole" },
          },
        },
      },
    };
    expect(undescribed(schema)).toEqual(["<root>", "spec.metadata", "spec.items[]", "spec.items[].name", "spec.labels{}", "spec.replicas"]);
  });
});
