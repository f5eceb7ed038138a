// The commits of one deployment, read from a real repository written by the environment-repository
// writer: the clusters each commit changed, newest first, and trees read only for its own commits.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { readDeploymentLog } from "../../../src/gitops/deployment-log.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { ObjectStore } from "../../../src/gitops/store.js";
import { configMaps, steppingClock, tempDir } from "./support.js";

describe("readDeploymentLog", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let gitdir: string;
  let repo: EnvRepo;

  beforeEach(async () => {
    dir = await tempDir();
    gitdir = `${dir.path}/env.git`;
    repo = await EnvRepo.open({ dir: gitdir, clock: steppingClock(Date.UTC(2026, 0, 1), 60_000) });
  });
  afterEach(() => dir.cleanup());

  const shop = (clusters: Record<string, string>, revision: string) =>
    repo.commitDeployments(
      [
        {
          namespace: "team-a",
          name: "shop",
          revision,
          clusters: Object.fromEntries(Object.entries(clusters).map(([c, v]) => [c, configMaps("team-a", { shop: v })])),
        },
      ],
      `${revision} step`,
    );
  const db = (value: string) => repo.commitDeployments([{ namespace: "team-b", name: "db", clusters: { staging: configMaps("team-b", { db: value }) } }], "db");

  it("lists the deployment's commits newest first with the clusters whose folder each one changed", async () => {
    await shop({ staging: "1", "prod-eu": "1" }, "v1");
    await db("1");
    await shop({ staging: "2", "prod-eu": "1" }, "v2");
    await shop({ staging: "2", "prod-eu": "2" }, "v2");
    await shop({ staging: "2" }, "v2"); // placement left prod-eu: its folder is removed
    const log = await readDeploymentLog(new ObjectStore({ gitdir }), { head: await repo.head(), namespace: "team-a", name: "shop" });
    expect(log.commits.map((c) => c.clusters)).toEqual([["prod-eu"], ["prod-eu"], ["staging"], ["prod-eu", "staging"]]);
    expect(log.commits.map((c) => c.message.split("\n")[0])).toEqual([
      "team-a/shop: v2 step",
      "team-a/shop: v2 step",
      "team-a/shop: v2 step",
      "team-a/shop: v1 step",
    ]);
    expect(log.scanned).toBe(5);
  });

  it("reads no tree for other deployments' commits and stops once the limit is reached", async () => {
    await shop({ staging: "1" }, "v1");
    await shop({ staging: "2" }, "v2");
    for (let i = 0; i < 30; i++) await db(String(i));
    await shop({ staging: "3" }, "v3");
    for (let i = 30; i < 60; i++) await db(String(i));
    const store = new ObjectStore({ gitdir });
    const trees = vi.spyOn(store, "readTree");
    const log = await readDeploymentLog(store, { head: await repo.head(), namespace: "team-a", name: "shop", limit: 2 });
    expect(log.commits.map((c) => c.message.split("\n")[0])).toEqual(["team-a/shop: v3 step", "team-a/shop: v2 step"]);
    // 30 db commits, v3, 30 db commits, v2: the walk stops at v2 and never reaches v1.
    expect(log.scanned).toBe(62);
    // Trees of v3, v2 and their parents only: per matched commit, the cluster lists of both root
    // trees (2 reads each) and the path to the deployment's folder in both (4 each): 12. A walk of
    // every commit's trees would read at least one per commit scanned.
    expect(trees.mock.calls.length).toBe(2 * 12);
  });

  it("finds nothing in a repository without commits", async () => {
    expect(await readDeploymentLog(new ObjectStore({ gitdir }), { head: null, namespace: "team-a", name: "shop" })).toEqual({ commits: [], scanned: 0 });
  });
});
