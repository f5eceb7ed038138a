// The repository Flotilla writes must stay valid for stock git: fsck clean, log and trailers
// readable, paths as the layout says. These run the real `git` binary on what our code wrote.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { configMaps, steppingClock, stockGit, tempDir } from "./support.js";

describe("the environment repository seen by stock git", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let gitdir: string;

  beforeAll(async () => {
    dir = await tempDir();
    gitdir = `${dir.path}/env.git`;
    const repo = await EnvRepo.open({ dir: gitdir, clock: steppingClock(Date.UTC(2024, 4, 1), 60_000) });
    const files = configMaps("team-a", { web: "1", worker: "1" });
    await repo.commitDeployments(
      [{ namespace: "team-a", name: "example-deploy", clusters: { "prod-eu": files, staging: files }, generation: 1, revision: "v1" }],
      "v1 rendered",
    );
    await repo.commitDeployments(
      [{ namespace: "team-a", name: "example-deploy", clusters: { "prod-eu": configMaps("team-a", { web: "2" }) }, generation: 3, revision: "v2" }],
      "v2 batch 2/3 in wave production",
    );
    await repo.commitDeployments(
      [
        { namespace: "team-b", name: "api", clusters: { staging: configMaps("team-b", { a: "1" }) }, generation: 1 },
        { namespace: "team-c", name: "db", clusters: { staging: configMaps("team-c", { b: "1" }) }, revision: "r7" },
      ],
      "batch",
    );
    await repo.maybePack(1);
    // One more commit after packing: a mix of packed and loose objects.
    await repo.commitDeployments([{ namespace: "team-b", name: "api", clusters: {} }], "deleted");
  });
  afterAll(() => dir.cleanup());

  it("passes git fsck --strict", async () => {
    const fsck = await stockGit(gitdir, ["fsck", "--strict", "--no-dangling"]);
    expect(fsck.stderr).toBe("");
    expect(fsck.code).toBe(0);
  });

  it("shows subjects and trailers through git log", async () => {
    const log = await stockGit(gitdir, [
      "log",
      "--format=%s|%(trailers:key=Flotilla-Deployment,valueonly,separator=%x2C)|%(trailers:key=Flotilla-Generation,valueonly,separator=%x2C)|%(trailers:key=Flotilla-Revision,valueonly,separator=%x2C)|%an <%ae>",
      "main",
    ]);
    expect(log.code).toBe(0);
    expect(log.stdout.trim().split("\n")).toEqual([
      "team-b/api: deleted|team-b/api|||Flotilla <flotilla@localhost>",
      "2 deployments: batch|team-b/api,team-c/db|1|r7|Flotilla <flotilla@localhost>",
      "team-a/example-deploy: v2 batch 2/3 in wave production|team-a/example-deploy|3|v2|Flotilla <flotilla@localhost>",
      "team-a/example-deploy: v1 rendered|team-a/example-deploy|1|v1|Flotilla <flotilla@localhost>",
    ]);
  });

  it("lays out the files as clusters/<cluster>/<namespace>/<deployment>/<group>.<kind>.<name>.yaml", async () => {
    const tree = await stockGit(gitdir, ["ls-tree", "-r", "--name-only", "main"]);
    expect(tree.stdout.trim().split("\n")).toEqual([
      // v2 listed only prod-eu, so the deployment left staging; team-b/api was deleted.
      "clusters/prod-eu/team-a/example-deploy/core.ConfigMap.web.yaml",
      "clusters/staging/team-c/db/core.ConfigMap.b.yaml",
    ]);
    const show = await stockGit(gitdir, ["show", "main:clusters/prod-eu/team-a/example-deploy/core.ConfigMap.web.yaml"]);
    expect(show.stdout).toContain('value: "2"');
  });

  it("records one commit per change, each changing only its deployment's folders", async () => {
    const stat = await stockGit(gitdir, ["log", "--format=%x00%s", "--name-status", "main"]);
    const commits = stat.stdout.split("\0").filter(Boolean).map((c) => c.trim().split("\n").filter(Boolean));
    expect(commits[2]).toEqual([
      "team-a/example-deploy: v2 batch 2/3 in wave production",
      "M\tclusters/prod-eu/team-a/example-deploy/core.ConfigMap.web.yaml",
      "D\tclusters/prod-eu/team-a/example-deploy/core.ConfigMap.worker.yaml",
      "D\tclusters/staging/team-a/example-deploy/core.ConfigMap.web.yaml",
      "D\tclusters/staging/team-a/example-deploy/core.ConfigMap.worker.yaml",
    ]);
    expect(commits[1]?.slice(1)).toEqual([
      "A\tclusters/staging/team-b/api/core.ConfigMap.a.yaml",
      "A\tclusters/staging/team-c/db/core.ConfigMap.b.yaml",
    ]);
  });

  it("is a bare repository whose HEAD is main", async () => {
    expect((await stockGit(gitdir, ["rev-parse", "--is-bare-repository"])).stdout.trim()).toBe("true");
    expect((await stockGit(gitdir, ["symbolic-ref", "HEAD"])).stdout.trim()).toBe("refs/heads/main");
    expect((await stockGit(gitdir, ["count-objects", "-v"])).stdout).toMatch(/packs: 1/);
  });
});
