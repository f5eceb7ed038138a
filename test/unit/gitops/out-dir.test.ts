import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LayoutError, writeLayout } from "../../../src/gitops/layout.js";
import { tempDir } from "./support.js";

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
    expect((await readdir(join(out, "clusters/c1/ns/d"))).sort()).toEqual([
      "NOTES.md",
      "core.ConfigMap.a.yaml",
      "core.ConfigMap.c.yaml",
    ]);
    expect(await readFile(join(out, "clusters/c1/ns/other/core.ConfigMap.x.yaml"), "utf8")).toBe("x: 1\n");
  });

  it("refuses a path that would escape the output directory before writing anything", async () => {
    await expect(
      writeLayout(dir.path, { "clusters/c1/ns/d/core.ConfigMap.a.yaml": "a\n", "clusters/../../etc/core.X.y.yaml": "x\n" }),
    ).rejects.toBeInstanceOf(LayoutError);
    expect(await readdir(dir.path)).toEqual([]);
  });
});
