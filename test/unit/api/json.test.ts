import { describe, expect, it } from "vitest";
import { copyJson } from "../../../src/api/json.js";

describe("copyJson", () => {
  it("copies every object and array, so changing the copy leaves the original as it was", () => {
    const original = { spec: { containers: [{ name: "app", env: [{ name: "A", value: "1" }] }], replicas: 2 }, flag: true, none: null };
    const copy = copyJson(original);
    expect(copy).toEqual(original);
    copy.spec.containers[0]!.env.push({ name: "B", value: "2" });
    copy.spec.replicas = 3;
    (copy as Record<string, unknown>).added = 1;
    expect(original.spec.containers[0]!.env).toEqual([{ name: "A", value: "1" }]);
    expect(original.spec.replicas).toBe(2);
    expect(original).not.toHaveProperty("added");
    expect(copy.spec.containers).not.toBe(original.spec.containers);
  });

  it("keeps fields whose value is undefined, as structuredClone does, and returns scalars as they are", () => {
    expect(Object.keys(copyJson({ a: undefined, b: 1 }))).toEqual(["a", "b"]);
    expect(copyJson("text")).toBe("text");
    expect(copyJson(null)).toBeNull();
    expect(copyJson([1, [2, 3]])).toEqual([1, [2, 3]]);
  });

  it('copies a parsed "__proto__" key as a key, leaving the copy\'s prototype alone', () => {
    const parsed = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = copyJson(parsed);
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect((copy as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.keys(copy)).toEqual(["__proto__", "a"]);
    expect(Object.getOwnPropertyDescriptor(copy, "__proto__")?.value).toEqual({ polluted: true });
  });
});
