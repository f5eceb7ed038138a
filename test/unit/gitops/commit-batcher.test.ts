// Group commit on a real repository, read back with stock git: a change submitted while the
// repository is idle is committed alone; changes submitted meanwhile share the next commit; a
// change that moves nothing is left out; a bad change fails alone.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CommitBatcher } from "../../../src/gitops/commit-batcher.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { configMaps, steppingClock, stockGit, tempDir } from "./support.js";

describe("CommitBatcher", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let gitdir: string;
  let repo: EnvRepo;

  beforeEach(async () => {
    dir = await tempDir();
    gitdir = `${dir.path}/env.git`;
    repo = await EnvRepo.open({ dir: gitdir, clock: steppingClock(Date.UTC(2024, 4, 1), 1_000) });
  });
  afterEach(() => dir.cleanup());

  const change = (name: string, value: string, summary = `v1 of ${name}`) => ({
    namespace: "team-a",
    name,
    clusters: { staging: configMaps("team-a", { [name]: value }) },
    generation: 1,
    revision: "v1",
    summary,
  });

  const subjects = async () => (await stockGit(gitdir, ["log", "--format=%s", "main"])).stdout.trim().split("\n");

  it("commits the first change alone and the ones submitted meanwhile together", async () => {
    const batcher = new CommitBatcher(repo);
    // Submitted in one tick: `web` finds the repository idle and goes at once; `api` and `db`
    // arrive while its commit is being written and wait for the next one.
    const [web, api, db] = await Promise.all([batcher.submit(change("web", "1")), batcher.submit(change("api", "1")), batcher.submit(change("db", "1"))]);
    expect(web?.changed).toEqual(["team-a/web"]);
    expect(api?.oid).toBe(db?.oid);
    expect(api?.oid).not.toBe(web?.oid);
    expect(api?.changed).toEqual(["team-a/api", "team-a/db"]);
    expect(await subjects()).toEqual(["2 deployments: update", "team-a/web: v1 of web"]);
    const body = await stockGit(gitdir, ["log", "-1", "--format=%b%(trailers:key=Flotilla-Deployment,valueonly,separator=%x2C)", "main"]);
    expect(body.stdout).toContain("- team-a/api: v1 of api\n- team-a/db: v1 of db\n");
    expect(body.stdout.trim().endsWith("team-a/api,team-a/db")).toBe(true);
    expect((await stockGit(gitdir, ["fsck", "--strict", "--no-dangling"])).code).toBe(0);
  });

  it("writes each change's wave and batch as trailers that stock git reads", async () => {
    const batcher = new CommitBatcher(repo);
    await batcher.submit({ ...change("web", "2"), wave: "production", batch: { batch: 2, batches: 3 } });
    const trailers = await stockGit(gitdir, ["log", "-1", "--format=%(trailers:key=Flotilla-Wave,key=Flotilla-Batch)", "main"]);
    expect(trailers.stdout.trim()).toBe("Flotilla-Wave: production\nFlotilla-Batch: 2/3");
  });

  it("resolves null for a change Git already holds and leaves it out of the batch's message", async () => {
    const batcher = new CommitBatcher(repo);
    await batcher.submit(change("web", "1"));
    const [same, moved] = await Promise.all([batcher.submit(change("web", "1", "nothing new")), batcher.submit(change("db", "1"))]);
    expect(same).toBeNull();
    expect(moved?.changed).toEqual(["team-a/db"]);
    // Whether the two went together or not, the commit names only `db` and reads like a single one.
    expect(await subjects()).toEqual(["team-a/db: v1 of db", "team-a/web: v1 of web"]);
    const log = await stockGit(gitdir, ["log", "--format=%B", "main"]);
    expect(log.stdout).not.toContain("nothing new");
  });

  it("fails only the change that is wrong; the others of its batch are committed", async () => {
    const batcher = new CommitBatcher(repo);
    const bad = { ...change("bad", "1"), clusters: { Not_A_Cluster: configMaps("team-a", { x: "1" }) } };
    const results = await Promise.allSettled([
      batcher.submit(change("web", "1")),
      batcher.submit(change("api", "1")),
      batcher.submit(bad),
      batcher.submit(change("db", "1")),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect(String((results[2] as PromiseRejectedResult).reason)).toMatch(/Not_A_Cluster/);
    expect(await subjects()).toEqual(["team-a/db: v1 of db", "team-a/api: v1 of api", "team-a/web: v1 of web"]);
  });
});
