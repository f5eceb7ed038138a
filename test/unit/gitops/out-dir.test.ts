import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../../src/api/serialize.js";
import type { Manifest } from "../../../src/api/types.js";
import { LayoutError, MAX_FILE_NAME_BYTES, manifestPath, writeLayout } from "../../../src/gitops/layout.js";
import { tempDir } from "./support.js";

/** An object of a CRD with a long group and kind, named with the 253 characters Kubernetes allows. */
function longNamed(last: string): Manifest {
  const name = `${"abcdefghi.".repeat(26).slice(0, 252)}${last}`;
  return {
    apiVersion: "observability.platform-team.example.com/v1",
    kind: "PrometheusRecordingRuleGroupBinding",
    metadata: { name, namespace: "team-a" },
    spec: { last },
  };
}

describe("writeLayout (render --out-dir)", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    dir = await tempDir("flotilla-out-");
  });
  afterEach(() => dir.cleanup());

  it("writes the layout, leaves identical files alone and removes stale files of the same folders only", async () => {
    const out = dir.path;
    await writeLayout(out, {
      "clusters/c1/ns/d/core.ConfigMap.a.yaml": "a: 1\n",
      "clusters/c1/ns/d/core.ConfigMap.b.yaml": "b: 1\n",
      "clusters/c1/ns/other/core.ConfigMap.x.yaml": "x: 1\n",
    });
    await writeFile(join(out, "clusters/c1/ns/d/NOTES.md"), "mine\n");
    const before = await stat(join(out, "clusters/c1/ns/d/core.ConfigMap.a.yaml"));
    const result = await writeLayout(
      out,
      new Map([
        ["clusters/c1/ns/d/core.ConfigMap.a.yaml", "a: 1\n"],
        ["clusters/c1/ns/d/core.ConfigMap.c.yaml", "c: 1\n"],
      ]),
    );
    expect(result).toEqual({
      written: ["clusters/c1/ns/d/core.ConfigMap.c.yaml"],
      unchanged: ["clusters/c1/ns/d/core.ConfigMap.a.yaml"],
      removed: ["clusters/c1/ns/d/core.ConfigMap.b.yaml"],
    });
    expect((await stat(join(out, "clusters/c1/ns/d/core.ConfigMap.a.yaml"))).mtimeMs).toBe(before.mtimeMs);
    expect((await readdir(join(out, "clusters/c1/ns/d"))).sort()).toEqual(["NOTES.md", "core.ConfigMap.a.yaml", "core.ConfigMap.c.yaml"]);
    expect(await readFile(join(out, "clusters/c1/ns/other/core.ConfigMap.x.yaml"), "utf8")).toBe("x: 1\n");
  });

  it("writes a 253-character name of a long CRD to a file that reads back as the same object", async () => {
    const object = longNamed("a");
    const path = manifestPath("prod-eu", "team-a", "shop", object);
    expect(await writeLayout(dir.path, { [path]: toYaml(object) })).toEqual({ written: [path], unchanged: [], removed: [] });
    const [file, ...more] = await readdir(join(dir.path, "clusters/prod-eu/team-a/shop"));
    expect(more).toEqual([]);
    expect(Buffer.byteLength(file as string)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
    expect(parseYamlStream(await readFile(join(dir.path, path), "utf8"))).toEqual([object]);
  });

  it("keeps a shortened file while its object is rendered and removes it once it is not", async () => {
    const [a, b] = [longNamed("a"), longNamed("b")];
    const [pathA, pathB] = [a, b].map((m) => manifestPath("prod-eu", "team-a", "shop", m)) as [string, string];
    expect(pathA).not.toBe(pathB);
    await writeLayout(dir.path, { [pathA]: toYaml(a), [pathB]: toYaml(b) });
    expect(await writeLayout(dir.path, { [pathA]: toYaml(a), [pathB]: toYaml(b) })).toEqual({ written: [], unchanged: [pathA, pathB].sort(), removed: [] });
    expect(await writeLayout(dir.path, { [pathB]: toYaml(b) })).toEqual({ written: [], unchanged: [pathB], removed: [pathA] });
    expect(parseYamlStream(await readFile(join(dir.path, pathB), "utf8"))).toEqual([b]);
  });

  it("replaces a long full file name an older version wrote with the shortened one, once", async () => {
    const object: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "abcdefghi.".repeat(21).slice(0, 210), namespace: "team-a" } };
    const folder = "clusters/prod-eu/team-a/shop";
    const legacy = `${folder}/core.ConfigMap.${object.metadata.name}.yaml`; // 230 bytes: fits ext4, not the bound
    await mkdir(join(dir.path, folder), { recursive: true });
    await writeFile(join(dir.path, legacy), toYaml(object));
    const path = manifestPath("prod-eu", "team-a", "shop", object);
    expect(await writeLayout(dir.path, { [path]: toYaml(object) })).toEqual({ written: [path], unchanged: [], removed: [legacy] });
    expect(await writeLayout(dir.path, { [path]: toYaml(object) })).toEqual({ written: [], unchanged: [path], removed: [] });
  });

  it("refuses a full file name longer than the bound before writing anything", async () => {
    const object = longNamed("a");
    const legacy = `clusters/prod-eu/team-a/shop/observability.platform-team.example.com.PrometheusRecordingRuleGroupBinding.${object.metadata.name}.yaml`;
    await expect(writeLayout(dir.path, { [legacy]: toYaml(object) })).rejects.toMatchObject({ name: "LayoutError", path: "file" });
    expect(await readdir(dir.path)).toEqual([]);
  });

  it("refuses a path that would escape the output directory before writing anything", async () => {
    await expect(writeLayout(dir.path, { "clusters/c1/ns/d/core.ConfigMap.a.yaml": "a\n", "clusters/../../etc/core.X.y.yaml": "x\n" })).rejects.toBeInstanceOf(
      LayoutError,
    );
    expect(await readdir(dir.path)).toEqual([]);
  });
});
