// Two controller replicas, as deploy/git-remote runs them: real processes (the compiled CLI)
// with leader election on, one Lease on the hub, each its own data directory and both pushing to
// one Git remote (so state survives a replica). Exactly one acts; SIGKILL the leader — it cannot
// release the Lease — and the other takes the Lease within the lease duration and carries on:
// it reconciles a deployment created after the kill and continues the Git history on the remote.

import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { CoordinationV1Api, CustomObjectsApi, type V1Lease } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { hub, kubeConfig, kubectl, members, uniqueName, waitFor, withNamespace } from "./support/fleet.js";
import { createBareRepo, type GitHttpServer, git, startGitHttpServer } from "./support/git-http-server.js";
import { DEPLOYMENT_LOG_FORMAT, deploymentLines } from "./support/git-log.js";

const LEASE_SECONDS = 5;
/** The leader renews, and a standby retries, at most this often (LeaderElector's default period). */
const RETRY_PERIOD_MS = 2_000;
/** Slack for a loaded 2-core machine: API calls, the standby's own tick. */
const MARGIN_MS = 2_000;
const TOKEN = "flt-leader-test-5b2e7c19d04a";

let root: string;
let server: GitHttpServer;
let remoteRepo: string;
let leaseNamespace: string;
const replicas: ControllerProcess[] = [];
let failed = false;

const identityOf = (c: ControllerProcess) => `${hostname()}-${c.pid}`;

async function readLease(): Promise<V1Lease | undefined> {
  return kubeConfig("hub")
    .makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: "flotilla-controller", namespace: leaseNamespace })
    .catch(() => undefined);
}

/** A replica's /metrics as name → value (unlabelled series only). */
async function metrics(c: ControllerProcess): Promise<Map<string, number>> {
  const line = await c.logLine((l) => l.msg === "serving /metrics, /healthz and /readyz");
  const res = await fetch(`http://127.0.0.1:${line.port as number}/metrics`);
  const out = new Map<string, number>();
  for (const l of (await res.text()).split("\n")) {
    const m = /^([a-z_]+) ([0-9.e+-]+)$/.exec(l);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

/** Subjects on the remote's main branch, oldest first. */
async function remoteLog(): Promise<string[]> {
  const out = await git(["--git-dir", remoteRepo, "log", `--format=${DEPLOYMENT_LOG_FORMAT}`, "main"], { home: root }).catch(() => "");
  return deploymentLines(out).reverse();
}

function app(namespace: string, name: string): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name, namespace },
    spec: {
      appRevisions: [
        {
          name: "v1",
          template: { spec: { components: [{ name, type: "worker", settings: { image: `${name}:1`, cmd: ["sleep", "3600"] } }] } },
          rollout: { replicas: 2 },
        },
      ],
      placementStrategies: [{ name: "staging", clusterSelector: { labels: { usage: "staging" } } }],
    },
  };
}

async function phaseOf(namespace: string, name: string): Promise<ApplicationDeployment | undefined> {
  return (await kubeConfig("hub")
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "applicationdeployments", name })
    .catch(() => undefined)) as ApplicationDeployment | undefined;
}

/** When a replica led, from its log ("became leader" … "lost the leader lease"), up to `end` if still leading. */
function leadership(c: ControllerProcess, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let since: number | undefined;
  for (const l of c.logLines()) {
    if (l.msg === "became leader") since = l.time as number;
    if (typeof l.msg === "string" && l.msg.startsWith("lost the leader lease") && since !== undefined) {
      out.push([since, l.time as number]);
      since = undefined;
    }
  }
  if (since !== undefined) out.push([since, end]);
  return out;
}

describe("two controller replicas", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(kc, members());
    root = await mkdtemp(join(tmpdir(), "flotilla-leader-"));
    await mkdir(join(root, "srv"));
    server = await startGitHttpServer({ root: join(root, "srv"), token: TOKEN });
    remoteRepo = await createBareRepo(join(root, "srv"), "env.git");
    leaseNamespace = uniqueName("lease");
    await kubectl("hub", ["create", "namespace", leaseNamespace]);
  }, 120_000);

  afterAll(async () => {
    for (const r of replicas) await r.ensureKilled();
    await server?.stop();
    await kubectl("hub", ["delete", "namespace", leaseNamespace, "--wait=false"], { allowFailure: true });
    if (failed) console.log(`[leader] replicas' logs kept in ${root}`);
    else if (root) await rm(root, { recursive: true, force: true });
  });

  it("keeps one replica active through the Lease; a SIGKILLed leader is replaced within the lease duration and the new one carries on", async () => {
    try {
      await withNamespace("hub", async (ns) => {
        const start = (name: string) =>
          spawnController({
            kubeconfig: hub().kubeconfigPath,
            dataDir: join(root, name),
            logFile: join(root, `${name}.log`),
            args: ["--namespace", leaseNamespace, "--lease-duration", `${LEASE_SECONDS}s`, "--resync", "1m", "--git-url", server.url("env.git")],
            env: { FLOTILLA_GIT_TOKEN: TOKEN },
          });
        replicas.push(start("replica-a"), start("replica-b"));

        // Exactly one holds the Lease and acts; the other stands by (it never opened a repository).
        const holder = await waitFor(async () => (await readLease())?.spec?.holderIdentity || undefined, {
          timeoutMs: 30_000,
          message: "a replica to take the Lease",
        });
        const leader = replicas.find((r) => identityOf(r) === holder);
        expect(leader, `the Lease holder ${holder} is one of the replicas (${replicas.map(identityOf).join(", ")})`).toBeDefined();
        const standby = replicas.find((r) => r !== leader)!;
        await waitFor(async () => (await metrics(leader!)).get("flotilla_leader") === 1, {
          timeoutMs: 15_000,
          message: "the leader to report flotilla_leader 1",
        });
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(ns, "before")) });
        await waitFor(async () => (await phaseOf(ns, "before"))?.status?.phase === "Healthy", {
          timeoutMs: 120_000,
          intervalMs: 500,
          message: "`before` Healthy under the first leader",
        });
        expect((await readLease())?.spec?.holderIdentity).toBe(holder);
        const standbyMetrics = await metrics(standby);
        expect(standbyMetrics.get("flotilla_leader")).toBe(0);
        expect(standbyMetrics.get("flotilla_git_commits_total")).toBe(0);
        expect(existsSync(join(root, standby === replicas[0] ? "replica-a" : "replica-b", "env.git"))).toBe(false);
        const beforeKill = await remoteLog();
        expect(beforeKill.filter((s) => s.startsWith(`${ns}/before: `)).length).toBeGreaterThan(0);
        const transitions = (await readLease())?.spec?.leaseTransitions ?? 0;

        // SIGKILL the leader: the Lease stays held until it expires.
        await leader!.kill();
        const killedAt = Date.now();
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(ns, "after")) });
        const taken = await waitFor(
          async () => {
            const lease = await readLease();
            return lease?.spec?.holderIdentity === identityOf(standby) ? lease : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 100, message: "the standby to take the Lease" },
        );
        const handOverMs = Date.now() - killedAt;
        expect(taken.spec?.leaseTransitions).toBe(transitions + 1);
        await waitFor(async () => (await metrics(standby)).get("flotilla_leader") === 1, {
          timeoutMs: 10_000,
          message: "the new leader to report flotilla_leader 1",
        });

        // The new leader acts: the deployment created after the kill is reconciled and committed on
        // top of the old leader's history; the one reconciled before is not committed again.
        const after = await waitFor(
          async () => {
            const a = await phaseOf(ns, "after");
            return a?.status?.phase === "Healthy" ? a : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 500, message: "`after` Healthy under the new leader" },
        );
        const actedMs = Date.now() - killedAt;
        const log = await remoteLog();
        expect(log.slice(0, beforeKill.length)).toEqual(beforeKill);
        expect(log.filter((s) => s.startsWith(`${ns}/after: `)).length).toBeGreaterThan(0);
        expect(log.filter((s) => s.startsWith(`${ns}/before: `))).toEqual(beforeKill.filter((s) => s.startsWith(`${ns}/before: `)));
        expect(after.status?.commit).toMatch(/^[0-9a-f]{40}$/);
        await git(["--git-dir", remoteRepo, "merge-base", "--is-ancestor", after.status!.commit!, "main"], { home: root });
        await waitFor(async () => (await phaseOf(ns, "before"))?.status?.phase === "Healthy", {
          timeoutMs: 30_000,
          message: "`before` Healthy under the new leader",
        });
        await git(["--git-dir", remoteRepo, "fsck", "--strict"], { home: root });

        // Never two leaders at once: the killed one led until the kill, the other only after.
        const first = leadership(leader!, killedAt);
        const second = leadership(standby, Date.now());
        expect(first.length).toBeGreaterThan(0);
        expect(second.length).toBeGreaterThan(0);
        for (const [a0, a1] of first)
          for (const [b0, b1] of second) expect(a1 <= b0 || b1 <= a0, `${leader!.pid} led ${a0}–${a1}, ${standby.pid} led ${b0}–${b1}`).toBe(true);

        console.log(
          `[leader] lease ${LEASE_SECONDS} s: the standby held the Lease ${(handOverMs / 1000).toFixed(1)} s after the leader was SIGKILLed ` +
            `(bound ${(LEASE_SECONDS * 1000 + RETRY_PERIOD_MS + MARGIN_MS) / 1000} s); a deployment created after the kill was Healthy ${(actedMs / 1000).toFixed(1)} s after it`,
        );
        expect(handOverMs).toBeLessThanOrEqual(LEASE_SECONDS * 1000 + RETRY_PERIOD_MS + MARGIN_MS);
      });
    } catch (err) {
      failed = true;
      throw err;
    }
  }, 300_000);

  it("gives the Lease back and exits 1 when it leads but cannot start work, instead of holding the Lease idle", async () => {
    const namespace = uniqueName("lease-fatal");
    await kubectl("hub", ["create", "namespace", namespace]);
    try {
      // A data directory that can never be created: its parent is a regular file.
      const blocker = join(root, "not-a-directory");
      await writeFile(blocker, "a file where the data directory's parent should be\n");
      const c = spawnController({
        kubeconfig: hub().kubeconfigPath,
        dataDir: join(blocker, "data"),
        logFile: join(root, "fatal.log"),
        args: ["--namespace", namespace, "--lease-duration", `${LEASE_SECONDS}s`, "--resync", "1m"],
      });
      replicas.push(c);
      await c.logLine((l) => l.msg === "became leader");
      await waitFor(() => c.exited, { timeoutMs: 30_000, intervalMs: 100, message: "the replica that cannot start to exit" });
      expect(c.child.exitCode).toBe(1);
      expect(c.logLines().find((l) => l.msg === "cannot start work; releasing the lease")?.err).toContain("creating the environment repository");
      const lease = await kubeConfig("hub").makeApiClient(CoordinationV1Api).readNamespacedLease({ name: "flotilla-controller", namespace });
      expect(lease.spec?.holderIdentity ?? "").toBe("");
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      await kubectl("hub", ["delete", "namespace", namespace, "--wait=false"], { allowFailure: true });
    }
  }, 120_000);
});
