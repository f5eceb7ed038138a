// src/api/schemas.ts is the API's source of truth (validation, crds/); src/api/types.ts says the
// same in TypeScript for the code. This test reads types.ts with the TypeScript compiler and walks
// each resource's type beside its schema: every object the schema spells out field by field must
// have exactly the type's fields, and a field the schema requires must not be optional in the type.
// Free-form objects (settings, properties, metadata, conditions kept as the API server sends them)
// are not compared.

import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { schemas } from "../../../src/api/schemas.js";

type Node = { type?: unknown; properties?: Record<string, Node>; items?: Node; required?: string[]; additionalProperties?: unknown };

const TYPES_FILE = join(import.meta.dirname, "..", "..", "..", "src", "api", "types.ts");

function program(): { checker: ts.TypeChecker; file: ts.SourceFile } {
  const p = ts.createProgram([TYPES_FILE], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  });
  const file = p.getSourceFile(TYPES_FILE);
  if (!file) throw new Error(`cannot read ${TYPES_FILE}`);
  return { checker: p.getTypeChecker(), file };
}

/** The type without `undefined` (an optional field's type). */
function defined(checker: ts.TypeChecker, type: ts.Type): ts.Type {
  return checker.getNonNullableType(type);
}

/** Differences between a schema node and a type, as `path: message` lines. */
function compare(checker: ts.TypeChecker, schema: Node, type: ts.Type, path: string, out: string[]): void {
  const t = defined(checker, type);
  if (schema.type === "array" && schema.items) {
    const element = checker.isArrayType(t) ? checker.getTypeArguments(t as ts.TypeReference)[0] : undefined;
    if (!element) {
      out.push(`${path}: the schema has an array, the type ${checker.typeToString(t)}`);
      return;
    }
    compare(checker, schema.items, element, `${path}[]`, out);
    return;
  }
  if (schema.type !== "object" || !schema.properties) return; // free-form or a scalar
  const fields = new Map(checker.getPropertiesOfType(t).map((p) => [p.name, p]));
  if (fields.size === 0) {
    out.push(`${path}: the schema lists fields, the type ${checker.typeToString(t)} has none`);
    return;
  }
  const declared = new Set(Object.keys(schema.properties));
  for (const name of declared) if (!fields.has(name)) out.push(`${path}.${name}: in the schema, not in the type`);
  for (const name of fields.keys()) if (!declared.has(name)) out.push(`${path}.${name}: in the type, not in the schema`);
  for (const name of schema.required ?? []) {
    const field = fields.get(name);
    if (field && (field.flags & ts.SymbolFlags.Optional) !== 0) out.push(`${path}.${name}: required by the schema, optional in the type`);
  }
  for (const [name, sub] of Object.entries(schema.properties)) {
    const field = fields.get(name);
    if (field) compare(checker, sub, checker.getTypeOfSymbol(field), `${path}.${name}`, out);
  }
}

describe("src/api/types.ts and src/api/schemas.ts", () => {
  const { checker, file } = program();
  const exported = (name: string): ts.Type => {
    const symbol = checker.getSymbolAtLocation(file)?.exports?.get(ts.escapeLeadingUnderscores(name));
    if (!symbol) throw new Error(`types.ts exports no ${name}`);
    return checker.getDeclaredTypeOfSymbol(symbol);
  };

  it.each(Object.keys(schemas) as Array<keyof typeof schemas>)("describe %s alike, field by field", (kind) => {
    const out: string[] = [];
    compare(checker, schemas[kind] as Node, exported(kind), kind, out);
    expect(out).toEqual([]);
  });

  it("tells a field missing from either side (the check itself works)", () => {
    const out: string[] = [];
    const schema: Node = { type: "object", required: ["name"], properties: { name: { type: "string" }, extra: { type: "string" } } };
    compare(checker, schema, exported("HeldRendering"), "HeldRendering", out);
    expect(out).toEqual([
      "HeldRendering.name: in the schema, not in the type",
      "HeldRendering.extra: in the schema, not in the type",
      "HeldRendering.commit: in the type, not in the schema",
      "HeldRendering.rendering: in the type, not in the schema",
    ]);
  });
});
