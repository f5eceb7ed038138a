// Remote mode of the environment repository against a real Git server: stock `git http-backend`
// on loopback with token auth. Covers push, a concurrent writer (re-apply on the new head), a
// wrong token and an unreachable server (commits queue locally and are pushed later).

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HttpClient } from "isomorphic-git";
import nodeHttp from "isomorphic-git/http/node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import { GitError } from "../../src/api/errors.js";
import { EnvRepo } from "../../src/gitops/repo.js";
import { createBareRepo, type GitHttpServer, git, startGitHttpServer } from "./support/git-http-server.js";

const TOKEN = "flt-test-7d1c0a52e9b84f3f";

function files(namespace: string, values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    out[`core.ConfigMap.${name}.yaml`] = toYaml({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data: { value } });
  }
  return out;
}

describe("the environment repository with a remote", () => {
  let root: string;
  let server: GitHttpServer;
  let n = 0;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "flotilla-remote-"));
    await mkdir(`${root}/srv`);
    server = await startGitHttpServer({ root: `${root}/srv`, token: TOKEN });
  });
  afterAll(async () => {
    await server?.stop();
    await rm(root, { recursive: true, force: true });
  });

  async function fresh(): Promise<{ name: string; serverRepo: string; local: string }> {
    const name = `env-${++n}.git`;
    return { name, serverRepo: await createBareRepo(`${root}/srv`, name), local: `${root}/local-${n}.git` };
  }

  /** Another writer: clone with stock git, add one file, push. */
  async function otherWriterPushes(repoName: string, path: string, content: string): Promise<void> {
    const work = await mkdtemp(join(root, "other-"));
    const auth = ["-c", `http.extraHeader=Authorization: Bearer ${TOKEN}`];
    await git([...auth, "clone", "--quiet", server.url(repoName), work], { home: root });
    await mkdir(join(work, path, ".."), { recursive: true });
    await writeFile(join(work, path), content);
    await git(["add", "."], { cwd: work, home: root });
    await git(["commit", "--quiet", "-m", "other writer"], { cwd: work, home: root });
    await git([...auth, "push", "--quiet", "origin", "HEAD:main"], { cwd: work, home: root });
  }

  async function serverLs(serverRepo: string): Promise<string[]> {
    return (await git(["--git-dir", serverRepo, "ls-tree", "-r", "--name-only", "main"], { home: root })).trim().split("\n");
  }

  async function expectFsckClean(serverRepo: string): Promise<void> {
    await expect(git(["--git-dir", serverRepo, "fsck", "--strict", "--no-dangling"], { home: root })).resolves.toBeDefined();
  }

  it("pushes a commit to an empty remote repository", async () => {
    const { name, serverRepo, local } = await fresh();
    const repo = await EnvRepo.open({ dir: local, remote: { url: server.url(name), token: TOKEN } });
    const result = await repo.commitDeployments(
      [{ namespace: "team-a", name: "shop", clusters: { c1: files("team-a", { a: "1" }) }, generation: 1, revision: "v1" }],
      "v1 rendered",
    );
    expect(result?.state).toBe("pushed");
    const remoteHead = (await git(["--git-dir", serverRepo, "rev-parse", "main"], { home: root })).trim();
    expect(remoteHead).toBe(result?.oid);
    const log = await git(["--git-dir", serverRepo, "log", "--format=%s|%(trailers:key=Flotilla-Deployment,valueonly)"], { home: root });
    expect(log.trim()).toBe("team-a/shop: v1 rendered|team-a/shop");
    await expectFsckClean(serverRepo);
  });

  it("re-applies our change on top of a concurrent writer's commit so both survive", async () => {
    const { name, serverRepo, local } = await fresh();
    let armed = false;
    // Let the other writer push right after our fetch and before our push: a guaranteed race.
    const http: HttpClient = {
      async request(req) {
        if (armed && req.url.includes("service=git-receive-pack")) {
          armed = false;
          await otherWriterPushes(name, "clusters/c1/team-z/other/core.ConfigMap.z.yaml", "z: 1\n");
        }
        return nodeHttp.request(req);
      },
    };
    const repo = await EnvRepo.open({ dir: local, remote: { url: server.url(name), token: TOKEN, http } });
    await repo.commitDeployments([{ namespace: "team-a", name: "shop", clusters: { c1: files("team-a", { a: "1" }) } }], "v1");
    armed = true;
    const result = await repo.commitDeployments([{ namespace: "team-a", name: "shop", clusters: { c1: files("team-a", { a: "2" }) } }], "v2");
    expect(armed).toBe(false);
    expect(result?.state).toBe("pushed");
    const subjects = await git(["--git-dir", serverRepo, "log", "--format=%s"], { home: root });
    expect(subjects.trim().split("\n")).toEqual(["team-a/shop: v2", "other writer", "team-a/shop: v1"]);
    expect(await serverLs(serverRepo)).toEqual(["clusters/c1/team-a/shop/core.ConfigMap.a.yaml", "clusters/c1/team-z/other/core.ConfigMap.z.yaml"]);
    const content = await git(["--git-dir", serverRepo, "show", "main:clusters/c1/team-a/shop/core.ConfigMap.a.yaml"], { home: root });
    expect(content).toContain('value: "2"');
    expect(await repo.head()).toBe(result?.oid);
    await expectFsckClean(serverRepo);
  });

  it("refuses a wrong token with a clear GitError that does not contain the token", async () => {
    const { name } = await fresh();
    const wrong = "flt-wrong-token-93f0c1d2";
    let caught: unknown;
    try {
      await EnvRepo.open({ dir: `${root}/wrong-token.git`, remote: { url: server.url(name), token: wrong } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(GitError);
    const e = caught as GitError;
    expect(e.retryable).toBe(false);
    expect(e.message).toMatch(/refused the credentials \(HTTP 401\)/);
    const everything = `${e.message} ${e.stack} ${String((e.cause as Error)?.message)} ${JSON.stringify(e)}`;
    expect(everything).not.toContain(wrong);
    expect(everything).not.toContain(Buffer.from(`x-access-token:${wrong}`).toString("base64"));
  });

  it("keeps commits local while the server is down and pushes them, re-applied, when it returns", async () => {
    const { name, serverRepo, local } = await fresh();
    const repo = await EnvRepo.open({ dir: local, remote: { url: server.url(name), token: TOKEN, timeoutMs: 5000 } });
    await repo.commitDeployments([{ namespace: "team-a", name: "shop", clusters: { c1: files("team-a", { a: "1" }) } }], "v1");
    await server.stop();
    try {
      const queued = await repo.commitDeployments([{ namespace: "team-a", name: "shop", clusters: { c1: files("team-a", { a: "2" }) } }], "v2");
      expect(queued?.state).toBe("queued");
      expect(queued?.error?.retryable).toBe(true);
      expect(queued?.error?.message).not.toContain(TOKEN);
      const second = await repo.commitDeployments([{ namespace: "team-b", name: "api", clusters: { c2: files("team-b", { b: "1" }) } }], "created");
      expect(second?.state).toBe("queued");
      expect((await repo.sync()).state).toBe("queued");
    } finally {
      await server.start();
    }
    // Meanwhile someone else pushed: our queued commits must land on top of theirs.
    await otherWriterPushes(name, "README.md", "environment repository\n");
    const synced = await repo.sync();
    expect(synced.state).toBe("pushed");
    const subjects = await git(["--git-dir", serverRepo, "log", "--format=%s"], { home: root });
    expect(subjects.trim().split("\n")).toEqual(["team-b/api: created", "team-a/shop: v2", "other writer", "team-a/shop: v1"]);
    expect(await serverLs(serverRepo)).toEqual(["README.md", "clusters/c1/team-a/shop/core.ConfigMap.a.yaml", "clusters/c2/team-b/api/core.ConfigMap.b.yaml"]);
    expect((await git(["--git-dir", serverRepo, "rev-parse", "main"], { home: root })).trim()).toBe(synced.head);
    await expectFsckClean(serverRepo);
  });
});
