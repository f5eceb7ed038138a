// `flotilla diff` and `flotilla history` against a real hub, real members and the controller's own
// embedded repository: after a small two-wave rollout, the files it was applied from diff clean
// (exit 0); a changed image shows in the hub's spec, in each cluster's files and, with --live, in
// each member's Deployment by server-side dry run (exit 1, nothing written); a deployment the hub
// lacks is new; and history lists the rollout's steps as stock git sees the commits.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { hub, kubeConfig, kubectl, members, waitFor, withNamespace } from "./support/fleet.js";
import { git } from "./support/git-http-server.js";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");

let root: string;
let controller: ControllerProcess | undefined;
let failed = false;

function app(namespace: string, image: string, name = "shop"): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name, namespace },
    spec: {
      appRevisions: [
        {
          name: "v1",
          template: { spec: { components: [{ name: "shop", type: "worker", settings: { image, cmd: ["sleep", "3600"] } }] } },
          rollout: { replicas: 1 },
        },
      ],
      placementStrategies: [
        { name: "staging", clusterSelector: { labels: { usage: "staging" } } },
        { name: "production", clusterSelector: { labels: { usage: "production" } } },
      ],
    },
  };
}

/** The compiled CLI; never throws: the exit code is the point. */
async function flotilla(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("node", [CLI, ...args], { env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof err.code === "number" ? err.code : -1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" };
  }
}

/** The lines of a text diff from the line starting with `header` up to the next line starting with `cluster ` or `hub:`. */
function section(stdout: string, header: string): string[] {
  const lines = stdout.split("\n");
  const start = lines.findIndex((l) => l.startsWith(header));
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && (l.startsWith("cluster ") || l.startsWith("clusters:")));
  return lines.slice(start, end < 0 ? undefined : end);
}

async function healthy(namespace: string, image: string): Promise<ApplicationDeployment> {
  const api = kubeConfig("hub").makeApiClient(CustomObjectsApi);
  return waitFor(
    async () => {
      const d = (await api.getNamespacedCustomObject({
        group: "flotilla.dev",
        version: "v1alpha1",
        namespace,
        plural: "applicationdeployments",
        name: "shop",
      })) as ApplicationDeployment;
      const settings = d.spec.appRevisions[0]?.template.spec.components[0]?.settings as { image?: string } | undefined;
      return d.status?.phase === "Healthy" && d.status.observedGeneration === d.metadata.generation && settings?.image === image ? d : undefined;
    },
    { timeoutMs: 150_000, intervalMs: 500, message: `shop (${image}) Healthy` },
  );
}

describe("flotilla diff and flotilla history on a live fleet", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(kc, members());
    root = await mkdtemp(join(tmpdir(), "flotilla-diff-history-"));
    controller = spawnController({
      kubeconfig: hub().kubeconfigPath,
      dataDir: join(root, "controller"),
      logFile: join(root, "controller.log"),
      args: ["--no-leader-elect", "--resync", "1m"],
    });
  }, 120_000);

  afterAll(async () => {
    await controller?.ensureKilled();
    if (failed) console.log(`[diff-history] controller log and repository kept in ${root}`);
    else if (root) await rm(root, { recursive: true, force: true });
  });

  it("diffs files against the hub, the environment repository and the members, then lists the rollout's steps", async () => {
    try {
      await withNamespace(["hub", "staging", "prod-eu", "prod-us"], async (ns) => {
        const envRepo = join(root, "controller", "env.git");
        const file = join(root, "app.yaml");
        const online = ["--kubeconfig", hub().kubeconfigPath, "--env-repo", envRepo];
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(ns, "shop:1")) });
        await healthy(ns, "shop:1");

        // The file it was applied from: nothing would change anywhere.
        await writeFile(file, toYaml(app(ns, "shop:1")));
        const same = await flotilla("diff", "-f", file, ...online, "--live");
        expect(same.code, `${same.stdout}\n${same.stderr}`).toBe(0);
        expect(same.stdout).toContain("hub: no change");
        for (const c of ["prod-eu", "prod-us", "staging"]) {
          expect(same.stdout).toContain(`cluster ${c}: no change`);
          expect(same.stdout).toContain(`cluster ${c} (live): no change`);
        }

        // A new image: the spec, every cluster's Deployment file and every member's live Deployment.
        await writeFile(file, toYaml(app(ns, "shop:2")));
        const changed = await flotilla("diff", "-f", file, ...online, "--live");
        expect(changed.code, `${changed.stdout}\n${changed.stderr}`).toBe(1);
        const hubLines = section(changed.stdout, "hub:");
        expect(hubLines[0]).toBe("hub: spec changed");
        expect(hubLines.some((l) => /^-\s+image: shop:1$/.test(l))).toBe(true);
        expect(hubLines.some((l) => /^\+\s+image: shop:2$/.test(l))).toBe(true);
        for (const c of ["prod-eu", "prod-us", "staging"]) {
          const files = section(changed.stdout, `cluster ${c}:`);
          expect(files[0]).toBe(`cluster ${c}: 1 changed, 0 added, 0 removed`);
          expect(files[1]).toBe(`--- a/clusters/${c}/${ns}/shop/apps.Deployment.shop-v1.yaml`);
          expect(files.some((l) => /^-\s+image: shop:1$/.test(l))).toBe(true);
          expect(files.some((l) => /^\+\s+image: shop:2$/.test(l))).toBe(true);
          const live = section(changed.stdout, `cluster ${c} (live):`);
          expect(live[0]).toBe(`cluster ${c} (live): 1 changed, 0 added, 0 removed`);
          expect(live).toContain(`--- live/Deployment/${ns}/shop-v1`);
          expect(live.some((l) => /^-\s+image: shop:1$/.test(l))).toBe(true);
          expect(live.some((l) => /^\+\s+image: shop:2$/.test(l))).toBe(true);
          // Only write records and status are left out: no managedFields, no resourceVersion.
          expect(live.join("\n")).not.toMatch(/managedFields|resourceVersion/);
        }
        // A dry run writes nothing: the members still run shop:1.
        const image = await kubectl("prod-eu", ["get", "deployment", "shop-v1", "-n", ns, "-o", "jsonpath={.spec.template.spec.containers[0].image}"]);
        expect(image.stdout).toBe("shop:1");

        // A deployment the hub does not have is new, and every file of it is added.
        const other = join(root, "other.yaml");
        await writeFile(other, toYaml(app(ns, "shop:1", "shop-two")));
        const fresh = await flotilla("diff", "-f", other, ...online);
        expect(fresh.code, fresh.stderr).toBe(1);
        expect(fresh.stdout).toContain("hub: new (the hub has no such deployment)");
        expect(fresh.stdout).toContain("cluster staging: 0 changed, 1 added, 0 removed");

        // A pull-mode cluster cannot be reached from here: --live says so for it and goes on.
        const pulled = `pulled-${ns}`;
        const pullCluster = { apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: pulled, labels: { usage: ns } }, spec: { mode: "Pull" } };
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(pullCluster) });
        try {
          const toPull = app(ns, "shop:1", "shop-pull");
          toPull.spec.placementStrategies = [{ name: "pulled", clusterSelector: { labels: { usage: ns } } }];
          await writeFile(other, toYaml(toPull));
          const pull = await flotilla("diff", "-f", other, ...online, "--live");
          expect(pull.code, `${pull.stdout}\n${pull.stderr}`).toBe(1);
          expect(pull.stdout).toContain(`cluster ${pulled}: 0 changed, 1 added, 0 removed`);
          expect(pull.stdout).toContain(`cluster ${pulled} (live): pull mode: only its agent reaches the member`);
          expect(pull.stderr).not.toContain("error:");
        } finally {
          await kubectl("hub", ["delete", "cluster", pulled, "--wait=false"], { allowFailure: true });
        }

        // Roll the change out, then read the rollout's steps back.
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(ns, "shop:2")) });
        await healthy(ns, "shop:2");
        const history = await flotilla("history", "shop", "-n", ns, "--env-repo", envRepo, "-o", "json", "--limit", "50");
        expect(history.code, history.stderr).toBe(0);
        const steps = JSON.parse(history.stdout) as Array<{
          time: string;
          commit: string;
          revision?: string;
          wave?: string;
          batch?: string;
          clusters: string[];
        }>;
        // Exactly the commits that touched the deployment's folders, newest first, as stock git lists them.
        const byGit = (await git(["--git-dir", envRepo, "log", "--format=%H", "main", "--", `:(glob)clusters/*/${ns}/shop/**`], { home: root }))
          .trim()
          .split("\n");
        expect(steps.map((s) => s.commit)).toEqual(byGit);
        expect([...steps.map((s) => s.time)].sort().reverse()).toEqual(steps.map((s) => s.time));
        // Each commit names the clusters whose folder changed in it, as stock git's own diff does.
        for (const s of steps) {
          const touched = await git(["--git-dir", envRepo, "diff-tree", "--no-commit-id", "--name-only", "-r", "--root", s.commit], { home: root });
          const clusters = [
            ...new Set(
              touched
                .split("\n")
                .filter((p) => p.includes(`/${ns}/shop/`))
                .map((p) => p.split("/")[1]),
            ),
          ].sort();
          expect(s.clusters).toEqual(clusters);
          expect(s.revision).toBe("v1");
          expect(s.batch).toMatch(/^\d+\/\d+$/);
        }
        // Wave by wave: staging first (the oldest step), production later; shop:2 went the same way.
        expect(steps.at(-1)).toMatchObject({ wave: "staging", clusters: ["staging"] });
        expect(steps.some((s) => s.wave === "production" && s.clusters.includes("prod-eu"))).toBe(true);
        expect(steps.length).toBeGreaterThanOrEqual(4);

        const table = await flotilla("history", "shop", "-n", ns, "--env-repo", envRepo);
        expect(table.stdout.split("\n")[1]).toContain(steps[0]?.commit.slice(0, 12));
      });
    } catch (err) {
      failed = true;
      throw err;
    }
  }, 360_000);
});
