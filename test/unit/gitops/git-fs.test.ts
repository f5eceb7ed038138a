// The file system isomorphic-git is given: its probe and its repository stats are answered
// without system calls, and everything else reaches the disk as node:fs does.

import { mkdir, rename, writeFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gitFs } from "../../../src/gitops/git-fs.js";
import { tempDir } from "./support.js";

describe("the file system handed to isomorphic-git", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir("flotilla-git-fs-");
  });
  afterAll(async () => {
    await dir.cleanup();
  });

  it("rejects the library's promise probe with one shared error, and reads files as node:fs does", async () => {
    const readFile = gitFs.promises.readFile as (...args: unknown[]) => Promise<unknown>;
    const first = await readFile().catch((e: unknown) => e);
    const second = await readFile().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(Error);
    expect(second).toBe(first);
    await writeFile(`${dir.path}/file`, "content");
    expect(await gitFs.promises.readFile(`${dir.path}/file`, "utf8")).toBe("content");
    await expect(gitFs.promises.readFile(`${dir.path}/missing`)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("remembers that a repository directory is one, and stats anything else afresh", async () => {
    await mkdir(`${dir.path}/env.git`);
    await mkdir(`${dir.path}/plain`);
    expect((await gitFs.promises.stat(`${dir.path}/env.git`)).isDirectory()).toBe(true);
    expect((await gitFs.promises.stat(`${dir.path}/plain`)).isDirectory()).toBe(true);
    await rename(`${dir.path}/env.git`, `${dir.path}/moved.git`);
    await rename(`${dir.path}/plain`, `${dir.path}/moved`);
    // The repository's answer comes from memory; the other directory is looked up again.
    expect((await gitFs.promises.stat(`${dir.path}/env.git`)).isDirectory()).toBe(true);
    await expect(gitFs.promises.stat(`${dir.path}/plain`)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
