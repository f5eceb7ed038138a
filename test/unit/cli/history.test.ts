// `flotilla history` against a repository written by the environment-repository writer, as the
// controller writes it: steps newest first, the clusters each changed, the trailers read back.

import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerHistoryCommand } from "../../../src/cli/history.js";
import { formatCommitMessage } from "../../../src/gitops/commit-message.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { configMaps, steppingClock, tempDir } from "../gitops/support.js";
import { runRegistered } from "./run-registered.js";

const SOURCE = "0123456789abcdef0123456789abcdef01234567";
const history = (...args: string[]) => runRegistered(registerHistoryCommand, ["history", ...args]);

describe("flotilla history", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let gitdir: string;
  let heads: string[];

  beforeEach(async () => {
    dir = await tempDir("flotilla-history-");
    gitdir = `${dir.path}/env.git`;
    // One commit a minute from 2026-03-01T10:01:00Z.
    const repo = await EnvRepo.open({ dir: gitdir, clock: steppingClock(Date.UTC(2026, 2, 1, 10, 0), 60_000) });
    const shop = (clusters: Record<string, string>, extra: object, summary: string) =>
      repo.commitDeployments(
        [
          {
            namespace: "team-a",
            name: "shop",
            generation: 2,
            revision: "v2",
            clusters: Object.fromEntries(Object.entries(clusters).map(([c, v]) => [c, configMaps("team-a", { shop: v })])),
            ...extra,
          },
        ],
        summary,
      );
    heads = [];
    // An old commit, written before wave and batch trailers existed.
    heads.push((await shop({ staging: "1", "prod-eu": "1" }, { revision: "v1", generation: 1 }, "v1 on prod-eu, staging (generation 1)"))?.oid ?? "");
    heads.push(
      (await repo.commitDeployments([{ namespace: "team-b", name: "db", clusters: { staging: configMaps("team-b", { db: "1" }) } }], "db"))?.oid ?? "",
    );
    heads.push(
      (await shop({ staging: "2", "prod-eu": "1" }, { wave: "staging", batch: { batch: 1, batches: 1 } }, "v2 batch 1/1 in wave staging (staging)"))?.oid ?? "",
    );
    const last = await repo.commitDeployments(
      [
        {
          namespace: "team-a",
          name: "shop",
          generation: 2,
          revision: "v2",
          wave: "production",
          batch: { batch: 1, batches: 2 },
          clusters: { staging: configMaps("team-a", { shop: "2" }), "prod-eu": configMaps("team-a", { shop: "2" }) },
        },
      ],
      "v2 batch 1/2 in wave production (prod-eu)",
    );
    heads.push(last?.oid ?? "");
    expect(heads.every((h) => h.length === 40)).toBe(true);
  });
  afterEach(() => dir.cleanup());

  it("lists the deployment's steps newest first: time, commit, revision, wave, batch, clusters, summary", async () => {
    const r = await history("shop", "-n", "team-a", "--env-repo", gitdir);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]?.split(/\s{3,}/)).toEqual(["TIME", "COMMIT", "REVISION", "WAVE", "BATCH", "CLUSTERS", "SOURCE", "SUMMARY"]);
    expect(lines.slice(1).map((l) => l.split(/\s{3,}/))).toEqual([
      ["2026-03-01T10:04:00Z", heads[3]?.slice(0, 12), "v2", "production", "1/2", "prod-eu", "-", "v2 batch 1/2 in wave production (prod-eu)"],
      ["2026-03-01T10:03:00Z", heads[2]?.slice(0, 12), "v2", "staging", "1/1", "staging", "-", "v2 batch 1/1 in wave staging (staging)"],
      ["2026-03-01T10:01:00Z", heads[0]?.slice(0, 12), "v1", "-", "-", "prod-eu,staging", "-", "v1 on prod-eu, staging (generation 1)"],
    ]);
  });

  it("prints the steps as JSON with the source commit, and stops at --limit", async () => {
    const r = await history("shop", "-n", "team-a", "--env-repo", gitdir, "-o", "json", "--limit", "2");
    expect(r.code, r.stderr).toBe(0);
    const steps = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(steps.map((s) => s.commit)).toEqual([heads[3], heads[2]]);
    expect(steps[0]).toEqual({
      time: "2026-03-01T10:04:00Z",
      commit: heads[3],
      revision: "v2",
      generation: 2,
      wave: "production",
      batch: "1/2",
      clusters: ["prod-eu"],
      summary: "v2 batch 1/2 in wave production (prod-eu)",
    });
  });

  it("says so on stderr and exits 0 for a deployment the repository never had", async () => {
    const r = await history("shop", "--env-repo", gitdir);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(`No steps of default/shop in ${gitdir} (4 commit(s) read. Is the name and namespace (-n) right?)`);
  });

  it("says when the branch HEAD names has no commits, pointing at --env-branch", async () => {
    await writeFile(`${gitdir}/HEAD`, "ref: refs/heads/master\n");
    const r = await history("shop", "-n", "team-a", "--env-repo", gitdir);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("(the branch HEAD names has no commits; name the branch with --env-branch)");
    const named = await history("shop", "-n", "team-a", "--env-repo", gitdir, "--env-branch", "main");
    expect(named.stdout.trimEnd().split("\n")).toHaveLength(4);
  });

  it("refuses a --limit that is not a positive whole number as bad usage", async () => {
    const r = await history("shop", "--env-repo", gitdir, "--limit", "0");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--limit: "0" is not a positive whole number');
  });
});

describe("flotilla history with a source commit", () => {
  it("shows the GitSource commit a step came from, shortened", async () => {
    const dir = await tempDir("flotilla-history-");
    try {
      const gitdir = `${dir.path}/env.git`;
      const repo = await EnvRepo.open({ dir: gitdir });
      // A commit made with stock git whose message carries the trailer, as the controller writes it.
      const message = formatCommitMessage("v1 on staging", [{ namespace: "team-a", name: "shop", revision: "v1", sourceCommit: SOURCE }]);
      await repo.commitDeployments([{ namespace: "team-a", name: "shop", clusters: { staging: configMaps("team-a", { shop: "1" }) } }], "x");
      const tree = execFileSync("git", [`--git-dir=${gitdir}`, "rev-parse", "main^{tree}"], { encoding: "utf8" }).trim();
      const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
      const oid = execFileSync("git", [`--git-dir=${gitdir}`, "commit-tree", tree, "-m", message.trimEnd()], { encoding: "utf8", env }).trim();
      execFileSync("git", [`--git-dir=${gitdir}`, "update-ref", "refs/heads/main", oid]);
      const r = await history("shop", "-n", "team-a", "--env-repo", gitdir);
      expect(r.code, r.stderr).toBe(0);
      const row = r.stdout
        .trimEnd()
        .split("\n")[1]
        ?.split(/\s{3,}/);
      // A root commit: every cluster folder it holds counts as changed.
      expect(row?.slice(1)).toEqual([oid.slice(0, 12), "v1", "-", "-", "staging", SOURCE.slice(0, 12), "v1 on staging"]);
    } finally {
      await dir.cleanup();
    }
  });
});
