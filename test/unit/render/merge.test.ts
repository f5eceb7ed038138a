import { describe, expect, it } from "vitest";
import { getPath, mergePatch, mergeSettings, setPath } from "../../../src/render/merge.js";

const workload = () => ({
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          { name: "app", image: "app:1", env: [{ name: "A", value: "1" }] },
          { name: "log", image: "log:1" },
        ],
      },
    },
  },
});

describe("mergePatch (trait patches)", () => {
  it("adds a container by name and keeps the others", () => {
    const out = mergePatch(workload(), { spec: { template: { spec: { containers: [{ name: "proxy", image: "envoy" }] } } } });
    expect(getPath(out, "spec.template.spec.containers")).toEqual([
      { name: "app", image: "app:1", env: [{ name: "A", value: "1" }] },
      { name: "log", image: "log:1" },
      { name: "proxy", image: "envoy" },
    ]);
  });

  it("merges into the container with the same name", () => {
    const out = mergePatch(workload(), { spec: { template: { spec: { containers: [{ name: "log", image: "log:2", args: ["-v"] }] } } } });
    expect(getPath(out, "spec.template.spec.containers")).toEqual([
      { name: "app", image: "app:1", env: [{ name: "A", value: "1" }] },
      { name: "log", image: "log:2", args: ["-v"] },
    ]);
  });

  it("lands env from two patches in the same container", () => {
    const envPatch = (name: string, value: string) => ({ spec: { template: { spec: { containers: [{ name: "app", env: [{ name, value }] }] } } } });
    const out = mergePatch(mergePatch(workload(), envPatch("B", "2")), envPatch("C", "3"));
    expect(getPath(out, "spec.template.spec.containers")).toContainEqual({
      name: "app",
      image: "app:1",
      env: [
        { name: "A", value: "1" },
        { name: "B", value: "2" },
        { name: "C", value: "3" },
      ],
    });
  });

  it("overrides an env entry with the same name instead of duplicating it", () => {
    const out = mergePatch(workload(), { spec: { template: { spec: { containers: [{ name: "app", env: [{ name: "A", value: "9" }] }] } } } });
    expect((getPath(out, "spec.template.spec.containers") as Array<{ env?: unknown }>)[0]?.env).toEqual([{ name: "A", value: "9" }]);
  });

  it.each([
    ["a list of strings", { args: ["a", "b"] }, { args: ["c"] }, { args: ["c"] }],
    ["a list of objects without a name key", { ports: [{ containerPort: 80 }] }, { ports: [{ containerPort: 8080 }] }, { ports: [{ containerPort: 8080 }] }],
    ["a named list patched with an unnamed one", { env: [{ name: "A" }] }, { env: [{ value: "x" }] }, { env: [{ value: "x" }] }],
    ["a scalar by a map", { a: 1 }, { a: { b: 2 } }, { a: { b: 2 } }],
  ])("replaces %s", (_what, base, patch, expected) => {
    expect(mergePatch(base, patch)).toEqual(expected);
  });

  it("deep-merges maps", () => {
    expect(mergePatch({ metadata: { labels: { a: "1" } } }, { metadata: { labels: { b: "2" }, annotations: { c: "3" } } })).toEqual({
      metadata: { labels: { a: "1", b: "2" }, annotations: { c: "3" } },
    });
  });

  it("deletes a key patched with null", () => {
    expect(mergePatch({ spec: { replicas: 3, paused: true } }, { spec: { replicas: null } })).toEqual({ spec: { paused: true } });
  });

  it("deletes a key inside a named list item patched with null", () => {
    const out = mergePatch(workload(), { spec: { template: { spec: { containers: [{ name: "app", env: null }] } } } });
    expect((getPath(out, "spec.template.spec.containers") as unknown[])[0]).toEqual({ name: "app", image: "app:1" });
  });

  it("leaves the base untouched when the patch is undefined", () => {
    expect(mergePatch({ a: 1 }, undefined)).toEqual({ a: 1 });
  });

  it("never changes its inputs", () => {
    const base = workload();
    const patch = { spec: { replicas: null, template: { spec: { containers: [{ name: "app", image: "app:2" }, { name: "new" }] } } } };
    const baseBefore = JSON.stringify(base);
    const patchBefore = JSON.stringify(patch);
    const out = mergePatch(base, patch) as { spec: { template: { spec: { containers: Array<{ image?: string }> } } } };
    out.spec.template.spec.containers[0]!.image = "mutated";
    expect(JSON.stringify(base)).toBe(baseBefore);
    expect(JSON.stringify(patch)).toBe(patchBefore);
  });
});

describe("mergeSettings (overrides)", () => {
  it("deep-merges maps", () => {
    expect(mergeSettings({ image: "a", env: { LOG_LEVEL: "info", REGION: "eu" } }, { env: { LOG_LEVEL: "warn" } })).toEqual({
      image: "a",
      env: { LOG_LEVEL: "warn", REGION: "eu" },
    });
  });

  it("replaces arrays, even lists of named objects", () => {
    expect(mergeSettings({ cmd: ["run", "--fast"], ports: [{ name: "http", port: 80 }] }, { cmd: ["serve"], ports: [{ name: "grpc", port: 9090 }] })).toEqual({
      cmd: ["serve"],
      ports: [{ name: "grpc", port: 9090 }],
    });
  });

  it("keeps the base when the override is undefined", () => {
    expect(mergeSettings({ a: [1] }, undefined)).toEqual({ a: [1] });
  });

  it("never changes its inputs", () => {
    const base = { env: { A: "1" } };
    const override = { env: { B: "2" } };
    const out = mergeSettings(base, override) as { env: Record<string, string> };
    out.env.C = "3";
    expect(base).toEqual({ env: { A: "1" } });
    expect(override).toEqual({ env: { B: "2" } });
  });
});

describe("paths in objects", () => {
  it("sets a value at a dotted path, creating maps on the way", () => {
    const target: Record<string, unknown> = { spec: "not a map" };
    setPath(target, "spec.scale.replicas", 4);
    expect(target).toEqual({ spec: { scale: { replicas: 4 } } });
  });

  it.each([
    ["spec.replicas", 3],
    ["spec.template.spec.containers", expect.any(Array)],
    ["spec.missing.deeper", undefined],
    ["spec.replicas.deeper", undefined],
  ])("reads %s", (path, expected) => {
    expect(getPath(workload(), path)).toEqual(expected);
  });
});
