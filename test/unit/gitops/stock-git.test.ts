// The repository Flotilla writes must stay valid for stock git: fsck clean, log and trailers
// readable, paths as the layout says. These run the real `git` binary on what our code wrote.

import { execFile } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../../src/api/serialize.js";
import type { Manifest } from "../../../src/api/types.js";
import { MAX_FILE_NAME_BYTES, manifestFileName } from "../../../src/gitops/layout.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { desiredFromFiles } from "../../../src/sync/source.js";
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
    const commits = stat.stdout
      .split("\0")
      .filter(Boolean)
      .map((c) => c.trim().split("\n").filter(Boolean));
    expect(commits[2]).toEqual([
      "team-a/example-deploy: v2 batch 2/3 in wave production",
      "M\tclusters/prod-eu/team-a/example-deploy/core.ConfigMap.web.yaml",
      "D\tclusters/prod-eu/team-a/example-deploy/core.ConfigMap.worker.yaml",
      "D\tclusters/staging/team-a/example-deploy/core.ConfigMap.web.yaml",
      "D\tclusters/staging/team-a/example-deploy/core.ConfigMap.worker.yaml",
    ]);
    expect(commits[1]?.slice(1)).toEqual(["A\tclusters/staging/team-b/api/core.ConfigMap.a.yaml", "A\tclusters/staging/team-c/db/core.ConfigMap.b.yaml"]);
  });

  it("is a bare repository whose HEAD is main", async () => {
    expect((await stockGit(gitdir, ["rev-parse", "--is-bare-repository"])).stdout.trim()).toBe("true");
    expect((await stockGit(gitdir, ["symbolic-ref", "HEAD"])).stdout.trim()).toBe("refs/heads/main");
    expect((await stockGit(gitdir, ["count-objects", "-v"])).stdout).toMatch(/packs: 1/);
  });
});

describe("an object name too long for one file, seen by stock git", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let gitdir: string;
  let repo: EnvRepo;
  let head: string;
  // A CRD of a long group and kind, and an object name of the 253 characters Kubernetes allows.
  const objects: Manifest[] = ["a", "b"].map((last) => ({
    apiVersion: "observability.platform-team.example.com/v1",
    kind: "PrometheusRecordingRuleGroupBinding",
    metadata: { name: `${"abcdefghi.".repeat(26).slice(0, 252)}${last}`, namespace: "team-a" },
    spec: { last },
  }));

  beforeAll(async () => {
    dir = await tempDir();
    gitdir = `${dir.path}/env.git`;
    repo = await EnvRepo.open({ dir: gitdir, clock: steppingClock(Date.UTC(2024, 4, 1), 60_000) });
    const files = Object.fromEntries(objects.map((m) => [manifestFileName(m), toYaml(m)]));
    const made = await repo.commitDeployments([{ namespace: "team-a", name: "rules", clusters: { "prod-eu": files }, generation: 1 }], "long names");
    head = made?.oid ?? "";
  });
  afterAll(() => dir.cleanup());

  it("passes git fsck --strict", async () => {
    const fsck = await stockGit(gitdir, ["fsck", "--strict", "--no-dangling"]);
    expect(fsck.stderr).toBe("");
    expect(fsck.code).toBe(0);
  });

  it("checks out on a real filesystem: git clone writes both files, each name within the bound", async () => {
    const work = `${dir.path}/checkout`;
    await promisify(execFile)("git", ["clone", "--quiet", gitdir, work], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir.path, GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" },
    });
    const folder = `${work}/clusters/prod-eu/team-a/rules`;
    const names = (await readdir(folder)).sort();
    expect(names).toEqual(objects.map(manifestFileName).sort());
    for (const name of names) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(MAX_FILE_NAME_BYTES);
    const read = await Promise.all(names.map(async (n) => parseYamlStream(await readFile(`${folder}/${n}`, "utf8"))[0]));
    expect(read).toEqual(expect.arrayContaining(objects));
  });

  it("reads the same objects back from the repository, their identity from the files' content", async () => {
    const desired = desiredFromFiles(head, await repo.readCluster("prod-eu", head));
    expect(desired.invalid).toEqual([]);
    expect(desired.objects).toEqual(expect.arrayContaining(objects));
    expect(desired.objects).toHaveLength(2);
  });
});
