// One commit's per-cluster diff of a deployment's folders, read from a real bare repository as the
// controller writes it: only the clusters the commit changed, as unified diffs against the parent.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { commitDiff, UnknownCommitError } from "../../../src/ui/server/history.js";
import { configMaps, tempDir } from "../gitops/support.js";

describe("commitDiff", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let first: string;
  let second: string;
  let source: { gitdir: string; head: () => Promise<string | null> };

  beforeAll(async () => {
    dir = await tempDir("flotilla-ui-history-");
    const repo = await EnvRepo.open({ dir: `${dir.path}/env.git` });
    const v1 = configMaps("team-a", { web: "1" });
    first = (await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { staging: v1, "prod-eu": v1 } }], "v1"))?.oid as string;
    second = (
      await repo.commitDeployments(
        [{ namespace: "team-a", name: "web", clusters: { staging: configMaps("team-a", { web: "2" }), "prod-eu": v1 } }],
        "v2 in staging",
      )
    )?.oid as string;
    source = { gitdir: repo.dir, head: () => repo.head() };
  });
  afterAll(() => dir.cleanup());

  it("diffs only the clusters whose folder the commit changed", async () => {
    const diff = await commitDiff(source, "team-a", "web", second);
    expect(diff.clusters.map((c) => c.cluster)).toEqual(["staging"]);
    expect(diff.clusters[0]?.diff).toContain("--- a/clusters/staging/team-a/web/");
    expect(diff.clusters[0]?.diff).toContain('-  value: "1"');
    expect(diff.clusters[0]?.diff).toContain('+  value: "2"');
  });

  it("shows a first commit as every file added", async () => {
    const diff = await commitDiff(source, "team-a", "web", first);
    expect(diff.clusters.map((c) => c.cluster)).toEqual(["prod-eu", "staging"]);
    expect(diff.clusters[0]?.diff).toContain("--- /dev/null");
  });

  it("refuses a commit the repository does not have, and a string that is no commit id", async () => {
    await expect(commitDiff(source, "team-a", "web", "0".repeat(40))).rejects.toBeInstanceOf(UnknownCommitError);
    await expect(commitDiff(source, "team-a", "web", "HEAD")).rejects.toThrow("HEAD is not a commit id (40 hexadecimal digits)");
  });
});
