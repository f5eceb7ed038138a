import { describe, expect, it } from "vitest";
import { canonicalize, parseYamlStream, toJson, toYaml } from "../../../src/api/serialize.js";

describe("toYaml", () => {
  it("puts apiVersion, kind and metadata first and sorts the other keys", () => {
    const text = toYaml({ spec: { b: 1, a: 2 }, metadata: { name: "x" }, zeta: 1, kind: "Deployment", apiVersion: "apps/v1", data: 0 });
    expect(text).toBe(
      ["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: x", "data: 0", "spec:", "  a: 2", "  b: 1", "zeta: 1", ""].join("\n"),
    );
  });

  it("gives byte-identical output whatever the key insertion order", () => {
    const a = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", labels: { z: "1", a: "2" } }, data: { y: "1", x: "2" } };
    const b = { data: { x: "2", y: "1" }, metadata: { labels: { a: "2", z: "1" }, name: "c" }, kind: "ConfigMap", apiVersion: "v1" };
    expect(toYaml(a)).toBe(toYaml(b));
  });

  it("writes shared objects out in full instead of as anchors", () => {
    const shared = { a: 1 };
    const text = toYaml({ first: shared, second: shared });
    expect(text).not.toMatch(/[&*]ref/);
    expect(text).toBe("first:\n  a: 1\nsecond:\n  a: 1\n");
  });

  it("never folds long lines", () => {
    const long = "word ".repeat(60).trim();
    expect(toYaml({ s: long }).split("\n")).toHaveLength(2);
  });

  it("quotes strings that would otherwise read as numbers or booleans", () => {
    const text = toYaml({ a: "3600", b: "true", c: "1.20" });
    expect(parseYamlStream(text)).toEqual([{ a: "3600", b: "true", c: "1.20" }]);
  });
});

describe("toJson and canonicalize", () => {
  it("orders keys like the YAML, at every level, keeping array order", () => {
    const value = canonicalize({ spec: { z: [{ b: 1, a: 2 }] }, kind: "K", apiVersion: "v1" });
    expect(JSON.stringify(value)).toBe('{"apiVersion":"v1","kind":"K","spec":{"z":[{"a":2,"b":1}]}}');
  });

  it("ends with a newline and is two-space indented", () => {
    expect(toJson({ b: 1, a: 2 })).toBe('{\n  "a": 2,\n  "b": 1\n}\n');
  });
});

describe("parseYamlStream", () => {
  it("reads every document of a stream and skips empty ones", () => {
    expect(parseYamlStream("a: 1\n---\n---\nb: 2\n")).toEqual([{ a: 1 }, { b: 2 }]);
  });

  it("refuses custom tags", () => {
    expect(() => parseYamlStream("a: !!js/function 'function(){}'\n")).toThrow();
  });

  it("refuses a billion-laughs alias bomb", () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = "abcdefghi";
    for (let i = 1; i < names.length; i++) {
      const prev = names[i - 1];
      lines.push(`${names[i]}: &${names[i]} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`);
    }
    expect(() => parseYamlStream(lines.join("\n"))).toThrow(/expands to more than .* nodes/);
  });

  it("accepts a document with a few harmless aliases", () => {
    expect(parseYamlStream("base: &b {x: 1}\nother: *b\n")).toEqual([{ base: { x: 1 }, other: { x: 1 } }]);
  });

  it("refuses a document larger than the limit", () => {
    expect(() => parseYamlStream(`a: "${"x".repeat(200)}"\n`, { maxBytes: 100 })).toThrow(/more than the limit of 100/);
  });

  it("counts the limit in bytes, not characters", () => {
    const text = `a: "${"é".repeat(60)}"\n`; // 66 characters, 126 bytes in UTF-8
    expect(() => parseYamlStream(text, { maxBytes: 100 })).toThrow(/more than the limit of 100/);
  });

  it("refuses a document nested deeper than 200 levels", () => {
    const deep = `${"[".repeat(250)}${"]".repeat(250)}`;
    expect(() => parseYamlStream(deep)).toThrow(/nest/i);
  });

  it("names the file in a syntax error", () => {
    expect(() => parseYamlStream("a: [1, 2\n", { filename: "app.yaml" })).toThrow(/app\.yaml/);
  });

  it("round-trips what toYaml writes", () => {
    const doc = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a" }, spec: { replicas: 3, list: ["1", 2, true, null] } };
    expect(parseYamlStream(toYaml(doc))).toEqual([doc]);
  });
});
