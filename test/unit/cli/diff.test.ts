// `flotilla diff` offline, as CI runs it on a pull request: deployment files and a clusters file
// against an environment repository committed with stock git (a clone with a work tree), no
// cluster at all. Exit 0 nothing would change, 1 something would, 2 an error.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerDiffCommand } from "../../../src/cli/diff.js";
import { registerRenderCommands } from "../../../src/cli/render.js";
import { runRegistered } from "./run-registered.js";

const run = promisify(execFile);
const CLUSTERS = join(import.meta.dirname, "..", "..", "..", "examples", "quickstart", "clusters.yaml");

function app(image: string, options: { revision?: string; usage?: string; replicas?: string } = {}): string {
  return `apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata: {name: shop, namespace: team-a}
spec:
  appRevisions:
    - name: ${options.revision ?? "v1"}
      template:
        spec:
          components:
            - name: web
              type: worker
              settings: {image: "${image}"}
      rollout: {replicas: ${options.replicas ?? "2"}}
  placementStrategies:
    - clusterSelector: {labels: {usage: ${options.usage ?? "production"}}}
`;
}

async function git(dir: string, ...args: string[]): Promise<string> {
  const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" };
  return (await run("git", ["-C", dir, "-c", "user.name=CI", "-c", "user.email=ci@example.com", ...args], { env })).stdout;
}

const diff = (...args: string[]) => runRegistered(registerDiffCommand, ["diff", ...args]);

/** The lines of stdout from the header of `cluster` up to the next cluster's header. */
function section(stdout: string, cluster: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith(`cluster ${cluster}:`));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.startsWith("cluster "));
  return lines.slice(start, end < 0 ? undefined : end);
}

describe("flotilla diff (offline)", () => {
  let dir: string;
  let repo: string;
  let file: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-diff-"));
    repo = join(dir, "env");
    file = join(dir, "app.yaml");
    await mkdir(repo);
    await git(repo, "init", "-q", "-b", "main");
    // The environment repository as the controller leaves it once v1 is rolled out: what
    // `render --out-dir` writes is the same layout.
    await writeFile(file, app("shop:1"));
    const rendered = await runRegistered(registerRenderCommands, ["render", "-f", file, "--clusters", CLUSTERS, "--out-dir", repo]);
    expect(rendered.code, rendered.stderr).toBe(0);
    await git(repo, "add", "-A");
    await git(repo, "commit", "-q", "-m", "team-a/shop: v1");
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("prints the per-cluster diff of a changed image and exits 1", async () => {
    await writeFile(file, app("shop:2"));
    const r = await diff("-f", file, "--clusters", CLUSTERS, "--env-repo", repo);
    expect(r.code, r.stderr).toBe(1);
    const head = (await git(repo, "rev-parse", "HEAD")).trim();
    expect(r.stdout).toContain(`clusters: v1 fully rolled out (what the repository holds once the rollout completes), against ${repo} at ${head.slice(0, 12)}`);
    for (const cluster of ["prod-eu", "prod-us"]) {
      const lines = section(r.stdout, cluster);
      expect(lines[0]).toBe(`cluster ${cluster}: 1 changed, 0 added, 0 removed`);
      expect(lines[1]).toBe(`--- a/clusters/${cluster}/team-a/shop/apps.Deployment.web-v1.yaml`);
      expect(lines[2]).toBe(`+++ b/clusters/${cluster}/team-a/shop/apps.Deployment.web-v1.yaml`);
      expect(lines).toContain("-        - image: shop:1");
      expect(lines).toContain("+        - image: shop:2");
    }
    // staging is not selected and never was: it has no section.
    expect(section(r.stdout, "staging")).toEqual([]);
  });

  it("exits 0 and says no change for every cluster when the files render what the repository holds", async () => {
    const r = await diff("-f", file, "--clusters", CLUSTERS, "--env-repo", repo);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("cluster prod-eu: no change\ncluster prod-us: no change\n");
    expect(r.stdout).not.toContain("@@");
  });

  it("shows a new revision's objects added and the old ones removed, and a cluster placement leaves as removed", async () => {
    // Production → staging: prod-eu and prod-us lose their folder, staging gets one. v2 renames the workload.
    await writeFile(file, app("shop:2", { revision: "v2", usage: "staging" }));
    const r = await diff("-f", file, "--clusters", CLUSTERS, "--env-repo", repo);
    expect(r.code, r.stderr).toBe(1);
    expect(section(r.stdout, "prod-eu")[0]).toBe("cluster prod-eu: 0 changed, 0 added, 1 removed");
    expect(section(r.stdout, "prod-eu")).toContain("--- a/clusters/prod-eu/team-a/shop/apps.Deployment.web-v1.yaml");
    expect(section(r.stdout, "prod-eu")).toContain("+++ /dev/null");
    const staging = section(r.stdout, "staging");
    expect(staging[0]).toBe("cluster staging: 0 changed, 1 added, 0 removed");
    expect(staging.slice(1, 3)).toEqual(["--- /dev/null", "+++ b/clusters/staging/team-a/shop/apps.Deployment.web-v2.yaml"]);
    expect(staging).toContain("+        - image: shop:2");
  });

  it("exits 2 naming the file and the field of a broken deployment, and prints no diff", async () => {
    await writeFile(file, app("shop:2", { replicas: "lots" }));
    const r = await diff("-f", file, "--clusters", CLUSTERS, "--env-repo", repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}: spec.appRevisions[0].rollout.replicas: must be integer`);
    expect(r.stdout).toBe("");
  });

  it("exits 2 when there is nothing to compare with offline, and when the repository does not exist", async () => {
    const none = await diff("-f", file, "--clusters", CLUSTERS);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("nothing to diff against: pass --env-repo");
    const missing = await diff("-f", file, "--clusters", CLUSTERS, "--env-repo", join(dir, "nowhere"));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`--env-repo: ${join(dir, "nowhere")} does not exist`);
  });

  it("prints the report as JSON with -o json, with the same exit code and no colors", async () => {
    await writeFile(file, app("shop:2"));
    const r = await diff("-f", file, "--clusters", CLUSTERS, "--env-repo", repo, "-o", "json");
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.changed).toBe(true);
    expect(report.deployments[0]).toMatchObject({ namespace: "team-a", name: "shop", revision: "v1" });
    expect(report.deployments[0].clusters.map((c: { cluster: string; repo: Array<{ action: string; path: string }> }) => [c.cluster, c.repo])).toEqual([
      ["prod-eu", [expect.objectContaining({ action: "changed", path: "clusters/prod-eu/team-a/shop/apps.Deployment.web-v1.yaml" })]],
      ["prod-us", [expect.objectContaining({ action: "changed", path: "clusters/prod-us/team-a/shop/apps.Deployment.web-v1.yaml" })]],
    ]);
    expect(r.stdout).not.toContain("\x1b[");
  });

  it("exits 2 when the hub does not answer, naming what failed", async () => {
    const kubeconfig = join(dir, "hub.kubeconfig");
    await writeFile(
      kubeconfig,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters: [{name: hub, cluster: {server: 'https://127.0.0.1:1', insecure-skip-tls-verify: true}}]",
        "users: [{name: u, user: {token: t}}]",
        "contexts: [{name: hub, context: {cluster: hub, user: u}}]",
        "current-context: hub",
        "",
      ].join("\n"),
    );
    const r = await diff("-f", file, "--kubeconfig", kubeconfig, "--env-repo", repo);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: .*ECONNREFUSED/m);
    expect(r.stdout).toBe("");
  });

  it("uses the local fleet's repository of the working directory when --env-repo is not given", async () => {
    await run("git", ["clone", "-q", "--bare", repo, join(dir, ".flotilla", "controller", "env.git")]);
    await writeFile(file, app("shop:2"));
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await diff("-f", file, "--clusters", CLUSTERS);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stdout).toContain(`against ${join(".flotilla", "controller", "env.git")} at `);
      expect(section(r.stdout, "prod-eu")[0]).toBe("cluster prod-eu: 1 changed, 0 added, 0 removed");
    } finally {
      process.chdir(cwd);
    }
  });

  it("reads a bare repository and a named branch alike", async () => {
    const bare = join(dir, "env.git");
    await run("git", ["clone", "-q", "--bare", repo, bare]);
    await git(repo, "checkout", "-q", "-b", "next");
    await writeFile(file, app("shop:2"));
    const same = await diff("-f", file, "--clusters", CLUSTERS, "--env-repo", bare, "--env-branch", "main");
    expect(same.code, same.stderr).toBe(1);
    const unknown = await diff("-f", file, "--clusters", CLUSTERS, "--env-repo", bare, "--env-branch", "nope");
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--env-branch: " + bare + ' has no branch "nope" (it has: main)');
  });
});
