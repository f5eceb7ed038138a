// `--env-repo`: a local repository read where it is (bare, a clone, a worktree), or an HTTPS URL
// fetched into a temporary directory that is removed afterwards, with the token never shown.

import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import type { Server } from "node:http";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { locateRepo, openEnvRepoSource } from "../../../src/cli/env-repo-source.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { startGitServer } from "../../../src/gitops/serve.js";
import { configMaps, tempDir } from "../gitops/support.js";

const run = promisify(execFile);
const env = (home: string) => ({ PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" });

describe("openEnvRepoSource", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let head: string;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    dir = await tempDir("flotilla-env-source-");
    const repo = await EnvRepo.open({ dir: `${dir.path}/env.git` });
    head = (await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { staging: configMaps("team-a", { web: "1" }) } }], "v1"))?.oid ?? "";
    const authorize = async (token: string) =>
      token === "good" ? { outcome: "allowed" as const, user: "reader" } : { outcome: "unauthenticated" as const, reason: "token not found" };
    let port: number;
    ({ server, port } = await startGitServer({ host: "127.0.0.1", port: 0, repoDir: `${dir.path}/env.git`, authorize, logger: pino({ level: "silent" }) }));
    url = `http://127.0.0.1:${port}/env.git`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await dir.cleanup();
  });

  it("fetches a URL into a temporary directory, reads its head and removes it on close", async () => {
    const opened = await openEnvRepoSource(url, { token: "good" });
    expect(opened.head).toBe(head);
    expect(opened.label).toBe(url);
    const fetched = opened.store.gitdir;
    expect(existsSync(fetched)).toBe(true);
    await opened.close();
    expect(existsSync(fetched)).toBe(false);
  });

  it("says which URL could not be fetched and never shows the token", async () => {
    const failure = await openEnvRepoSource(url, { token: "wrong-token-8d1f" }).catch((e: unknown) => e as Error);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain(`--env-repo: fetching ${url} failed`);
    expect((failure as Error).message).not.toContain("wrong-token-8d1f");
  });

  it("says a URL whose server does not answer does not answer", async () => {
    const failure = await openEnvRepoSource("http://127.0.0.1:1/env.git").catch((e: unknown) => e as Error);
    expect((failure as Error).message).toBe(
      "--env-repo: fetching http://127.0.0.1:1/env.git failed: the server does not answer (ECONNREFUSED). Check the URL, or pass a local clone",
    );
  });

  it("reads a clone, a worktree of it and a bare repository in place", async () => {
    const clone = `${dir.path}/clone`;
    await run("git", ["clone", "-q", `${dir.path}/env.git`, clone], { env: env(dir.path) });
    await run("git", ["-C", clone, "worktree", "add", "-q", "-b", "other", `${dir.path}/wt`], { env: env(dir.path) });
    expect(locateRepo(clone)).toEqual({ gitdir: `${clone}/.git`, head: "HEAD" });
    // A worktree's objects and refs live in the clone's git directory; its HEAD is its own.
    expect(locateRepo(`${dir.path}/wt`)).toEqual({ gitdir: `${clone}/.git`, head: "refs/heads/other" });
    expect(locateRepo(`${dir.path}/env.git`)).toEqual({ gitdir: `${dir.path}/env.git`, head: "HEAD" });
    await run("git", ["-C", `${dir.path}/wt`, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "on other"], {
      env: env(dir.path),
    });
    const other = (await run("git", ["-C", `${dir.path}/wt`, "rev-parse", "HEAD"], { env: env(dir.path) })).stdout.trim();
    expect((await openEnvRepoSource(`${dir.path}/wt`)).head).toBe(other);
    for (const path of [clone, `${dir.path}/env.git`]) expect((await openEnvRepoSource(path)).head).toBe(head);
    expect((await openEnvRepoSource(clone, { branch: "other" })).head).toBe(other);
  });

  it("refuses a folder that is no repository, naming it", async () => {
    await mkdir(`${dir.path}/plain`, { recursive: true });
    expect(() => locateRepo(`${dir.path}/plain`)).toThrow(`--env-repo: ${dir.path}/plain is not a Git repository`);
  });
});
