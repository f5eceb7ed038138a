// The environment repository outlives the controller's Pod when it has a remote: a controller
// that starts on a new, empty data directory (a rescheduled Pod with an emptyDir) continues the
// remote's history instead of starting a new one. Controller A commits through stock
// `git http-backend` on loopback and is SIGKILLed; B starts on an empty data directory while the
// remote is down — it must wait rather than begin a second history — and once the remote is back
// it lands the next change on top of A's commits. Every commit a status ever named still resolves,
// and `git fsck --strict` finds nothing wrong.

import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { hub, kubeConfig, kubectl, members, waitFor, withNamespace } from "./support/fleet.js";
import { createBareRepo, type GitHttpServer, git, startGitHttpServer } from "./support/git-http-server.js";

const TOKEN = "flt-history-test-0c4f19e2a7b6";

let root: string;
let server: GitHttpServer;
let remoteRepo: string;
const controllers: ControllerProcess[] = [];
let failed = false;

function app(namespace: string, image: string): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: "shop", namespace },
    spec: {
      appRevisions: [
        {
          name: "v1",
          template: { spec: { components: [{ name: "shop", type: "worker", settings: { image, cmd: ["sleep", "3600"] } }] } },
          rollout: { replicas: 1 },
        },
      ],
      placementStrategies: [{ name: "staging", clusterSelector: { labels: { usage: "staging" } } }],
    },
  };
}

async function deployment(namespace: string): Promise<ApplicationDeployment | undefined> {
  return (await kubeConfig("hub")
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "applicationdeployments", name: "shop" })
    .catch(() => undefined)) as ApplicationDeployment | undefined;
}

const remoteGit = (args: string[]) => git(["--git-dir", remoteRepo, ...args], { home: root });

function start(name: string): ControllerProcess {
  const c = spawnController({
    kubeconfig: hub().kubeconfigPath,
    dataDir: join(root, name),
    logFile: join(root, `${name}.log`),
    args: ["--no-leader-elect", "--resync", "1m", "--git-url", server.url("env.git")],
    env: { FLOTILLA_GIT_TOKEN: TOKEN },
  });
  controllers.push(c);
  return c;
}

describe("Git history across controller Pods", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(kc, members());
    root = await mkdtemp(join(tmpdir(), "flotilla-history-"));
    await mkdir(join(root, "srv"));
    server = await startGitHttpServer({ root: join(root, "srv"), token: TOKEN });
    remoteRepo = await createBareRepo(join(root, "srv"), "env.git");
  }, 120_000);

  afterAll(async () => {
    for (const c of controllers) await c.ensureKilled();
    await server?.stop();
    if (failed) console.log(`[git-history] controllers' logs and repositories kept in ${root}`);
    else if (root) await rm(root, { recursive: true, force: true });
  });

  it("a controller on an empty data directory waits for the remote, then continues the history of the one before it", async () => {
    try {
      await withNamespace("hub", async (ns) => {
        const a = start("a");
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(ns, "shop:1")) });
        const underA = await waitFor(
          async () => {
            const d = await deployment(ns);
            return d?.status?.phase === "Healthy" && d.status.commit ? d : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 500, message: "shop Healthy under controller A" },
        );
        const commitOfA = underA.status!.commit!;
        await waitFor(async () => (await remoteGit(["rev-parse", "main"]).catch(() => "")).trim() === commitOfA, {
          timeoutMs: 30_000,
          message: `A's commit ${commitOfA} pushed to the remote`,
        });
        const historyOfA = (await remoteGit(["rev-list", "main"])).trim().split("\n");
        await a.kill();

        // B starts on an empty data directory while the remote is down: it must not commit.
        await server.stop();
        const b = start("b");
        await b.logLine((l) => l.msg === "cannot start work yet; retrying", 30_000);
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(ns, "shop:2")) });
        await new Promise((r) => setTimeout(r, 2_000));
        expect(b.logLines().some((l) => l.msg === "controller started")).toBe(false);
        expect(existsSync(join(root, "b", "env.git", "refs", "heads", "main"))).toBe(false);

        // The remote is back: B clones A's history and commits the change on top of it.
        await server.start();
        await b.logLine((l) => l.msg === "controller started", 90_000);
        const underB = await waitFor(
          async () => {
            const d = await deployment(ns);
            return d?.status?.commit && d.status.commit !== commitOfA && d.status.phase === "Healthy" ? d : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 500, message: "shop:2 committed and Healthy under controller B" },
        );
        const commitOfB = underB.status!.commit!;
        await waitFor(async () => (await remoteGit(["rev-parse", "main"])).trim() === commitOfB, {
          timeoutMs: 30_000,
          message: `B's commit ${commitOfB} pushed to the remote`,
        });
        const history = (await remoteGit(["rev-list", "main"])).trim().split("\n");
        // One line of history: A's commits, unchanged, below B's.
        expect(history.slice(history.length - historyOfA.length)).toEqual(historyOfA);
        expect(history.length).toBeGreaterThan(historyOfA.length);
        expect((await remoteGit(["rev-list", "--max-parents=0", "main"])).trim().split("\n")).toHaveLength(1);
        // Every commit a status named resolves, on the remote and in B's own repository.
        for (const oid of [commitOfA, commitOfB]) {
          await remoteGit(["merge-base", "--is-ancestor", oid, "main"]);
          await git(["--git-dir", join(root, "b", "env.git"), "cat-file", "-e", `${oid}^{commit}`], { home: root });
        }
        const files = await remoteGit(["grep", "-l", "image: shop:2", commitOfB, "--", "clusters/"]);
        expect(files).toContain(`/${ns}/shop/`);
        await remoteGit(["fsck", "--strict"]);
        await git(["--git-dir", join(root, "b", "env.git"), "fsck", "--strict"], { home: root });
      });
    } catch (err) {
      failed = true;
      throw err;
    }
  }, 360_000);
});
