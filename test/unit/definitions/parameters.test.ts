// A definition's schema as the rows `flotilla definitions show` prints: nested objects, arrays of
// objects, maps, enums, unions, defaults, required fields, $refs and the rules no row can show.

import { describe, expect, it } from "vitest";
import { defaultText, type Parameter, parameterTable } from "../../../src/definitions/parameters.js";

/** path → [type, default, required] of each row, in order. */
function rows(schema: unknown): Array<[string, string, string, boolean]> {
  return parameterTable(schema).parameters.map((p: Parameter) => [p.path, p.type, defaultText(p), p.required]);
}

describe("parameterTable", () => {
  it("lists nested objects parent first, their fields with dotted paths, in the schema's order", () => {
    const schema = {
      type: "object",
      required: ["image"],
      properties: {
        image: { type: "string", description: "Container  image\n reference." },
        storage: {
          type: "object",
          required: ["size"],
          properties: { size: { type: "string", default: "1Gi" }, class: { type: "string" } },
        },
      },
    };
    expect(rows(schema)).toEqual([
      ["image", "string", "", true],
      ["storage", "object", "", false],
      ["storage.size", "string", "1Gi", true],
      ["storage.class", "string", "", false],
    ]);
    expect(parameterTable(schema).parameters[0]?.description).toBe("Container image reference.");
  });

  it("writes array items as [] and lists the fields of arrays of objects, required within each item", () => {
    const schema = {
      type: "object",
      properties: {
        args: { type: "array", items: { type: "string" } },
        ports: {
          type: "array",
          default: [],
          items: { type: "object", required: ["port"], properties: { port: { type: "integer" }, expose: { type: "boolean", default: true } } },
        },
        matrix: { type: "array", items: { type: "array", items: { type: "number" } } },
      },
    };
    expect(rows(schema)).toEqual([
      ["args", "[]string", "", false],
      ["ports", "[]object", "[]", false],
      ["ports[].port", "integer", "", true],
      ["ports[].expose", "boolean", "true", false],
      ["matrix", "[][]number", "", false],
    ]);
  });

  it("types maps by their values (additionalProperties or patternProperties) and lists map entries' fields under <key>", () => {
    const schema = {
      type: "object",
      properties: {
        env: { type: "object", default: {}, additionalProperties: { type: "string" } },
        http: { type: "object", additionalProperties: { type: "integer" }, minProperties: 1, propertyNames: { pattern: "^/" } },
        volumes: {
          type: "object",
          additionalProperties: { type: "object", required: ["size"], properties: { size: { type: "string" } } },
        },
        byPattern: { type: "object", patternProperties: { "^x-": { type: "boolean" } } },
        free: { type: "object" },
      },
    };
    expect(rows(schema)).toEqual([
      ["env", "map[string]string", "{}", false],
      ["http", "map[string]integer", "", false],
      ["volumes", "map[string]object", "", false],
      ["volumes.<key>.size", "string", "", true],
      ["byPattern", "map[string]boolean", "", false],
      ["free", "object", "", false],
    ]);
    expect(parameterTable(schema).parameters[1]?.constraints).toEqual(["entries>=1", "keys ^/"]);
  });

  it("gives a schema that is a map itself one row, <key>, with the schema's description", () => {
    const table = parameterTable({ type: "object", description: "Labels, NAME → value.", additionalProperties: { type: "string", maxLength: 63 } });
    expect(table.parameters).toEqual([{ path: "<key>", type: "string", required: false, description: "Labels, NAME → value.", constraints: ["length<=63"] }]);
  });

  it("shows enums and consts by their values, type arrays and oneOf/anyOf alternatives as unions", () => {
    const schema = {
      type: "object",
      properties: {
        policy: { type: "string", enum: ["Always", "IfNotPresent"], default: "Always" },
        medium: { type: "string", enum: ["", "Memory"], default: "" },
        mode: { const: 420 },
        port: { type: ["integer", "string"] },
        cpu: { oneOf: [{ type: "string" }, { type: "number" }, { type: "string", minLength: 2 }] },
        ports: { type: "array", items: { anyOf: [{ type: "integer" }, { type: "object", properties: { port: { type: "integer" } } }] } },
        anything: {},
      },
    };
    expect(rows(schema)).toEqual([
      ["policy", "enum(Always,IfNotPresent)", "Always", false],
      ["medium", 'enum("",Memory)', '""', false],
      ["mode", "const(420)", "", false],
      ["port", "integer|string", "", false],
      ["cpu", "string|number", "", false],
      ["ports", "[](integer|object)", "", false],
      ["ports[].port", "integer", "", false],
      ["anything", "any", "", false],
    ]);
  });

  it("follows local $refs, the referring field's description winning, and stops at a recursive one", () => {
    const schema = {
      type: "object",
      $defs: {
        port: { type: ["integer", "string"], description: "A port." },
        node: {
          type: "object",
          properties: { value: { type: "string" }, children: { type: "array", items: { $ref: "#/$defs/node" } }, next: { $ref: "#/$defs/node" } },
        },
      },
      properties: {
        liveness: { type: "object", properties: { port: { $ref: "#/$defs/port" } } },
        readiness: { $ref: "#/$defs/port", description: "Another port." },
        tree: { $ref: "#/$defs/node" },
      },
    };
    const table = parameterTable(schema).parameters;
    expect(table.map((p) => [p.path, p.type, p.description])).toEqual([
      ["liveness", "object", ""],
      ["liveness.port", "integer|string", "A port."],
      ["readiness", "integer|string", "Another port."],
      ["tree", "object", ""],
      ["tree.value", "string", ""],
      ["tree.children", "[]object", ""],
      ["tree.next", "object", ""],
    ]);
  });

  it("states the rules of required-only anyOf/oneOf and minProperties, with the path they apply to", () => {
    expect(
      parameterTable({
        type: "object",
        anyOf: [{ required: ["port"] }, { required: ["ports"] }],
        properties: {
          port: { type: "integer" },
          ports: { type: "array" },
          tls: { type: "object", oneOf: [{ required: ["secret"] }, { required: ["issuer", "domain"] }], properties: { secret: { type: "string" } } },
        },
      }).rules,
    ).toEqual(["at least one of port, ports", "tls: exactly one of secret, issuer and domain"]);
    expect(parameterTable({ type: "object", minProperties: 1, properties: { a: {}, b: {} } }).rules).toEqual(["at least one of a, b"]);
  });

  it("names the limits beyond the type for -o wide", () => {
    const table = parameterTable({
      type: "object",
      properties: {
        port: { type: "integer", minimum: 1, maximum: 65535 },
        name: { type: "string", maxLength: 15, pattern: "^[a-z]+$" },
        replicas: { type: "integer", minimum: 0 },
        hosts: { type: "array", minItems: 1, uniqueItems: true, items: { type: "string" } },
      },
    });
    expect(table.parameters.map((p) => p.constraints)).toEqual([["1..65535"], ["length<=15", "pattern ^[a-z]+$"], [">=0"], ["items>=1", "unique"]]);
  });

  it("has no rows without a schema and ignores what is not a schema", () => {
    expect(parameterTable(undefined)).toEqual({ parameters: [], rules: [] });
    expect(rows({ type: "object", properties: { odd: "not a schema", list: { type: "array", items: [{ type: "string" }] } } })).toEqual([
      ["odd", "any", "", false],
      ["list", "[]any", "", false],
    ]);
  });
});
