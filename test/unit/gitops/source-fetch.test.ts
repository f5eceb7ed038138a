// fetchSource against repositories made with stock git: a local one read in place, and a bare
// one served by stock `git http-backend` on loopback with a token.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitError } from "../../../src/api/errors.js";
import { fetchSource, isLocalUrl } from "../../../src/gitops/source-fetch.js";
import { createBareRepo, type GitHttpServer, git, startGitHttpServer } from "../../integration/support/git-http-server.js";
import { tempDir } from "./support.js";

const TOKEN = "s3cret-token-for-tests";

/** A work tree whose commits are pushed to `remote`. */
async function workTree(dir: string, remote: string, home: string) {
  await git(["init", "--quiet", "--initial-branch=main", dir], { home });
  await git(["remote", "add", "origin", remote], { cwd: dir, home });
  return {
    async commit(files: Record<string, string | null>, message: string): Promise<string> {
      for (const [path, text] of Object.entries(files)) {
        if (text === null) await git(["rm", "--quiet", path], { cwd: dir, home });
        else {
          await mkdir(join(dir, path, ".."), { recursive: true });
          await writeFile(join(dir, path), text);
          await git(["add", path], { cwd: dir, home });
        }
      }
      await git(["commit", "--quiet", "-m", message], { cwd: dir, home });
      return (await git(["rev-parse", "HEAD"], { cwd: dir, home })).trim();
    },
    push: (ref = "main") => git(["push", "--quiet", "origin", ref], { cwd: dir, home }),
  };
}

describe("fetchSource", () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let server: GitHttpServer;
  let tree: Awaited<ReturnType<typeof workTree>>;
  let first: string;
  let bare: string;

  beforeAll(async () => {
    tmp = await tempDir("flotilla-source-");
    const root = join(tmp.path, "served");
    await mkdir(root);
    bare = await createBareRepo(root, "team.git");
    server = await startGitHttpServer({ root, token: TOKEN });
    tree = await workTree(join(tmp.path, "work"), bare, tmp.path);
    first = await tree.commit(
      {
        "apps/web.yaml": "kind: A\n",
        "apps/nested/api.yml": "kind: B\n",
        "apps/notes.txt": "not yaml\n",
        "README.md": "# team\n",
        "other/x.yaml": "kind: C\n",
      },
      "first",
    );
    await tree.push();
  });

  afterAll(async () => {
    await server.stop();
    await tmp.cleanup();
  });

  const remote = (over: Partial<Parameters<typeof fetchSource>[0]> = {}) =>
    fetchSource({
      url: server.url("team.git"),
      ref: { branch: "main" },
      path: "apps",
      credentials: { username: "x-access-token", password: TOKEN },
      mirrorDir: join(tmp.path, "mirror"),
      ...over,
    });

  it("reads every *.yaml and *.yml file under the path at the branch's head, sorted by path", async () => {
    const got = await remote();
    expect(got.commit).toBe(first);
    expect(got.downloaded).toBe(true);
    expect(got.files).toEqual([
      { path: "apps/nested/api.yml", text: "kind: B\n" },
      { path: "apps/web.yaml", text: "kind: A\n" },
    ]);
  });

  it("asks only for the ref when nothing moved, and fetches only when it did", async () => {
    const before = server.requests;
    const again = await remote();
    expect(again).toMatchObject({ commit: first, downloaded: false });
    // The ref asked for (protocol v2: the capabilities, then ls-refs), after the 401 challenge of
    // basic auth; no upload-pack.
    expect(server.requests - before).toBeLessThanOrEqual(3);
    const second = await tree.commit({ "apps/web.yaml": "kind: A2\n", "apps/nested/api.yml": null }, "second");
    await tree.push();
    const moved = await remote();
    expect(moved).toMatchObject({ commit: second, downloaded: true });
    expect(moved.files).toEqual([{ path: "apps/web.yaml", text: "kind: A2\n" }]);
  });

  it("reads no file when the last file of the path was removed since the previous commit, but refuses a path that never was", async () => {
    const before = (await git(["rev-parse", "HEAD"], { cwd: join(tmp.path, "work"), home: tmp.path })).trim();
    const other = await tree.commit({ "other/x.yaml": null, "other2/y.yaml": "kind: D\n" }, "empty other/");
    await tree.push();
    const emptied = await remote({ path: "other", previousCommit: before });
    expect(emptied).toMatchObject({ commit: other, files: [] });
    await expect(remote({ path: "typo", previousCommit: before })).rejects.toThrow(/spec.path: "typo" is not a folder/);
    await expect(remote({ path: "other" })).rejects.toThrow(/spec.path: "other" is not a folder/);
    await tree.commit({ "other/x.yaml": "kind: C\n", "other2/y.yaml": null }, "restore other/");
    await tree.push();
  });

  it("reads the whole repository for path '.'", async () => {
    const got = await remote({ path: "" });
    expect(got.files.map((f) => f.path)).toEqual(["apps/web.yaml", "other/x.yaml"]);
  });

  it("follows a tag, and a commit named by its id", async () => {
    await git(["tag", "-a", "v1", "-m", "release", first], { cwd: join(tmp.path, "work"), home: tmp.path });
    await tree.push("v1");
    const tagged = await remote({ ref: { tag: "v1" }, mirrorDir: join(tmp.path, "mirror-tag") });
    expect(tagged.commit).toBe(first);
    expect(tagged.files.map((f) => f.path)).toEqual(["apps/nested/api.yml", "apps/web.yaml"]);
    const pinned = await remote({ ref: { commit: first }, mirrorDir: join(tmp.path, "mirror-commit") });
    expect(pinned).toMatchObject({ commit: first, downloaded: true });
    const before = server.requests;
    expect(await remote({ ref: { commit: first }, mirrorDir: join(tmp.path, "mirror-commit") })).toMatchObject({ downloaded: false });
    expect(server.requests).toBe(before);
  });

  it("refuses a wrong token without showing it, and says what to check", async () => {
    const wrong = "wrong-token-value-1234";
    const e = await remote({ credentials: { username: "x-access-token", password: wrong }, mirrorDir: join(tmp.path, "m2") }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(GitError);
    const err = e as GitError;
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/refused the credentials \(HTTP 401\)\. Check the Secret of spec.secretRef/);
    const everything = `${err.message} ${String((err.cause as Error | undefined)?.message)} ${err.stack}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(Buffer.from(`x-access-token:${wrong}`).toString("base64"));
  });

  it("tells a missing branch, a missing path and an unreachable server apart", async () => {
    await expect(remote({ ref: { branch: "nope" } })).rejects.toThrow(/spec.ref: branch nope does not exist/);
    await expect(remote({ path: "missing" })).rejects.toThrow(/spec.path: "missing" is not a folder/);
    await expect(remote({ path: "../x" })).rejects.toThrow(/leaves the repository/);
    const down = (await remote({ url: "http://127.0.0.1:1/team.git" }).catch((x: unknown) => x)) as GitError;
    expect(down).toMatchObject({ retryable: true });
    expect(down.message).toMatch(/unreachable \(ECONNREFUSED\)/);
    await expect(remote({ url: "https://user:pw@example.com/r.git" })).rejects.toThrow(/must not contain credentials. Put the credentials in the Secret/);
  });

  it("reads a local bare repository and a work tree in place, when local paths are allowed", async () => {
    expect(isLocalUrl(bare)).toBe(true);
    expect(isLocalUrl(`file://${bare}`)).toBe(true);
    expect(isLocalUrl("https://example.com/r.git")).toBe(false);
    const head = (await git(["rev-parse", "main"], { cwd: bare, home: tmp.path })).trim();
    for (const url of [bare, `file://${bare}`, join(tmp.path, "work")]) {
      const got = await fetchSource({ url, ref: { branch: "main" }, path: "apps", mirrorDir: join(tmp.path, "unused"), allowLocal: true });
      expect(got.commit).toBe(head);
      expect(got.files.map((f) => f.path)).toEqual(["apps/web.yaml"]);
    }
    const tagged = await fetchSource({ url: bare, ref: { tag: "v1" }, path: "apps", mirrorDir: "", allowLocal: true });
    expect(tagged.commit).toBe(first);
  });

  it("refuses a local path unless allowed", async () => {
    await expect(fetchSource({ url: bare, ref: { branch: "main" }, path: "", mirrorDir: join(tmp.path, "x") })).rejects.toThrow(
      /spec.url: a local path is allowed only for a GitSource in the controller's namespace/,
    );
  });
});
