// The controller's Git server against the real hub: the production authorizer asks the hub's
// TokenReview and SubjectAccessReview about real ServiceAccount tokens, and stock git fetches from
// a controller process with a token that may `get` /flotilla/env.git, and is refused with one that
// may not. RBAC is the hub's own, set up here the way `flotilla cluster add --mode pull` grants it.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CoreV1Api, KubeConfig, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GIT_SERVE_RBAC_PATH } from "../../src/api/pull.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub } from "../../src/cli/install.js";
import { hubAccessReviews, tokenAuthorizer } from "../../src/controller/token-access.js";
import { EnvRepo } from "../../src/gitops/repo.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { hub, kubeConfig, uniqueName, withNamespace } from "./support/fleet.js";

const run = promisify(execFile);

async function git(cwd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run("git", args, {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: typeof e.code === "number" ? e.code : 1 };
  }
}

describe("the controller's Git server on the real hub", () => {
  let root: string;
  let controller: ControllerProcess | undefined;
  let port: number;
  let head: string | null;
  const reader = uniqueName("flotilla-git-reader");

  beforeAll(async () => {
    await installToHub({ kubeConfig: kubeConfig("hub"), definitionDirs: [builtinDefinitionsDir()] });
    root = await mkdtemp(join(tmpdir(), "flotilla-git-serve-"));
    const repo = await EnvRepo.open({ dir: join(root, "data", "env.git") });
    await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { staging: { "core.ConfigMap.web.yaml": "kind: ConfigMap\n" } } }], "v1");
    head = await repo.head();
    const rbac = kubeConfig("hub").makeApiClient(RbacAuthorizationV1Api);
    await rbac.createClusterRole({ body: { metadata: { name: reader }, rules: [{ nonResourceURLs: [GIT_SERVE_RBAC_PATH], verbs: ["get"] }] } });
    controller = spawnController({
      kubeconfig: hub().kubeconfigPath,
      dataDir: join(root, "data"),
      logFile: join(root, "controller.log"),
      args: ["--no-leader-elect", "--git-serve-addr", "127.0.0.1:0"],
    });
    const line = await controller.logLine((l) => l.msg === "serving the environment repository read-only at /env.git", 60_000);
    port = line.port as number;
  }, 120_000);

  afterAll(async () => {
    await controller?.ensureKilled();
    const rbac = kubeConfig("hub").makeApiClient(RbacAuthorizationV1Api);
    await rbac.deleteClusterRole({ name: reader }).catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  /** Two ServiceAccounts in a fresh namespace: `agent` bound to the reader role, `other` not; their tokens. */
  async function withTokens(body: (t: { agent: string; other: string; namespace: string }) => Promise<void>): Promise<void> {
    await withNamespace("hub", async (namespace) => {
      const core = kubeConfig("hub").makeApiClient(CoreV1Api);
      const rbac = kubeConfig("hub").makeApiClient(RbacAuthorizationV1Api);
      for (const name of ["agent", "other"]) await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name } } });
      const binding = `${reader}-${namespace}`.slice(0, 253);
      await rbac.createClusterRoleBinding({
        body: {
          metadata: { name: binding },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: reader },
          subjects: [{ kind: "ServiceAccount", name: "agent", namespace }],
        },
      });
      const token = async (name: string) =>
        (await core.createNamespacedServiceAccountToken({ name, namespace, body: { spec: { audiences: [], expirationSeconds: 600 } } })).status
          ?.token as string;
      try {
        await body({ agent: await token("agent"), other: await token("other"), namespace });
      } finally {
        await rbac.deleteClusterRoleBinding({ name: binding }).catch(() => undefined);
      }
    });
  }

  it("the authorizer allows a token that may get the Git path, denies one that may not, and calls garbage unauthenticated", async () => {
    await withTokens(async ({ agent, other, namespace }) => {
      const authorize = tokenAuthorizer({ reviews: hubAccessReviews(kubeConfig("hub")) });
      expect(await authorize(agent)).toEqual({ outcome: "allowed", user: `system:serviceaccount:${namespace}:agent` });
      expect(await authorize(other)).toMatchObject({ outcome: "denied", user: `system:serviceaccount:${namespace}:other` });
      expect((await authorize("not-a-token")).outcome).toBe("unauthenticated");
    });
  });

  it("the authorizer says unavailable, not unauthenticated, when the hub does not answer", async () => {
    const nowhere = new KubeConfig();
    nowhere.loadFromOptions({
      clusters: [{ name: "gone", server: "https://127.0.0.1:1", skipTLSVerify: true }],
      users: [{ name: "u", token: "x" }],
      contexts: [{ name: "gone", cluster: "gone", user: "u" }],
      currentContext: "gone",
    });
    const decision = await tokenAuthorizer({ reviews: hubAccessReviews(nowhere) })("any-token");
    expect(decision.outcome).toBe("unavailable");
  });

  it("stock git fetches from the controller with an allowed token, and is refused with another", async () => {
    await withTokens(async ({ agent, other }) => {
      const url = `http://127.0.0.1:${port}/env.git`;
      const allowed = await git(root, ["-c", `http.extraHeader=Authorization: Bearer ${agent}`, "ls-remote", url, "refs/heads/main"]);
      expect(allowed.stderr).toBe("");
      expect(allowed.stdout).toBe(`${head}\trefs/heads/main\n`);
      const refused = await git(root, ["-c", `http.extraHeader=Authorization: Bearer ${other}`, "ls-remote", url]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("403");
      const anonymous = await git(root, ["ls-remote", url]);
      expect(anonymous.code).not.toBe(0);
      // No token reaches the controller's log.
      const log = JSON.stringify(controller?.logLines());
      expect(log).not.toContain(agent);
      expect(log).not.toContain(other);
    });
  });
});
