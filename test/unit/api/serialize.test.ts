import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import { canonicalize, MAX_DOCUMENT_BYTES, parseYamlStream, toJson, toYaml, YamlLimitError } from "../../../src/api/serialize.js";

/** `a: &s "<size> × x"` and a flow list of `count` aliases of it. */
function aliasedString(size: number, count: number): string {
  return `a: &s "${"x".repeat(size)}"\nlist: [${Array(count).fill("*s").join(",")}]\n`;
}

/** The error `fn` throws (fails the test when it throws none). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error, got none");
}

describe("toYaml", () => {
  it("puts apiVersion, kind and metadata first and sorts the other keys", () => {
    const text = toYaml({ spec: { b: 1, a: 2 }, metadata: { name: "x" }, zeta: 1, kind: "Deployment", apiVersion: "apps/v1", data: 0 });
    expect(text).toBe(["apiVersion: apps/v1", "kind: Deployment", "metadata:", "  name: x", "data: 0", "spec:", "  a: 2", "  b: 1", "zeta: 1", ""].join("\n"));
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

  it("refuses a 1 KiB string aliased 600,000 times by its expanded bytes, naming the limit", () => {
    // 1.8 MB of text and 600,002 nodes: under both old limits, 600 MB once expanded.
    const error = thrown(() => parseYamlStream(aliasedString(1024, 600_000), { filename: "bomb.yaml" }));
    expect(error).toBeInstanceOf(YamlLimitError);
    expect(error).toBeInstanceOf(yaml.YAMLException);
    expect((error as YamlLimitError).message).toBe(`document expands to more than ${MAX_DOCUMENT_BYTES} bytes (YAML aliases?); refusing to load it`);
    expect((error as YamlLimitError).fix).toMatch(/^Fix the YAML: use fewer aliases/);
  });

  it("refuses aliases of aliases of a long string although they make few nodes", () => {
    const l1 = Array(128).fill("*s").join(",");
    const l2 = Array(129).fill("*l1").join(",");
    const text = `s: &s "${"x".repeat(1024)}"\nl1: &l1 [${l1}]\nl2: [${l2}]\n`;
    expect(() => parseYamlStream(text)).toThrow(`expands to more than ${MAX_DOCUMENT_BYTES} bytes`);
  });

  it("counts the expanded bytes in UTF-8 and includes the keys of aliased mappings", () => {
    const limit = { maxBytes: 1000 };
    // Five copies of 100 characters: 500 bytes in ASCII, 1000 bytes (+ keys) in two-byte UTF-8.
    expect(() => parseYamlStream(`a: &s "${"x".repeat(100)}"\nl: [*s, *s, *s, *s]\n`, limit)).not.toThrow();
    expect(() => parseYamlStream(`a: &s "${"é".repeat(100)}"\nl: [*s, *s, *s, *s]\n`, limit)).toThrow(/expands to more than 1000 bytes/);
    // The value is one byte; the 250-byte key repeated four times is what is large.
    expect(() => parseYamlStream(`a: &m {${"k".repeat(250)}: 1}\nl: [*m, *m, *m]\n`, limit)).toThrow(/expands to more than 1000 bytes/);
  });

  it("refuses nesting that only aliases make deep, even where the anchor was first seen shallow", () => {
    const deep = (inner: string) => `${"[".repeat(80)}${inner}${"]".repeat(80)}`;
    const text = `a: &a ${deep("x")}\nb: &b ${deep("*a")}\nc: ${deep("*b")}\n`;
    expect(() => parseYamlStream(text)).toThrow(/nests deeper than 200 levels/);
  });

  it("loads a document just under the limit that has no aliases, whatever its escapes", () => {
    const limit = { maxBytes: 10_000 };
    // Escapes and numbers read back shorter than they are written (`"\x41"` is one byte).
    const text = `a: "${"\\x41".repeat(900)}"\nb: |\n  ${"word ".repeat(900)}\nc: [${Array(300).fill("1e20").join(", ")}]\n`;
    expect(text.length).toBeLessThan(limit.maxBytes);
    expect(parseYamlStream(text, limit)).toHaveLength(1);
  });

  it("accepts a document with a few harmless aliases", () => {
    expect(parseYamlStream("base: &b {x: 1}\nother: *b\n")).toEqual([{ base: { x: 1 }, other: { x: 1 } }]);
  });

  it("loads an ordinary deployment that reuses an anchored block and string a few times", () => {
    const text = [
      "defaults: &env {LOG_LEVEL: info, REGION: &region eu-west-1}",
      "components:",
      "  - {name: api, env: *env, region: *region}",
      "  - {name: worker, env: *env, region: *region}",
      "  - {name: cron, env: *env, region: *region}",
      "",
    ].join("\n");
    const env = { LOG_LEVEL: "info", REGION: "eu-west-1" };
    expect(parseYamlStream(text)).toEqual([
      {
        defaults: env,
        components: ["api", "worker", "cron"].map((name) => ({ name, env, region: "eu-west-1" })),
      },
    ]);
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
