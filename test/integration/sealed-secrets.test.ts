// Sealed secrets on the fleet in push mode, with the controller as a real process: the hub holds
// each member's age identity in the Secret flotilla-sealing-<cluster> (created here with
// generateKeyPair, as the controller would), a deployment carries a sealed-secret component and a
// worker that reads it through the env and storage traits. The member whose key is a recipient
// gets the plaintext in its Secret; the one whose key is not fails that Secret alone, with a
// message naming it and the missing key, while its other objects apply; sealing to both (what
// `flotilla secret rekey` does) heals it, and a rotated value rolls out wave by wave. The environment
// repository's whole history, the deployment's status, the hub's events and the controller's log
// never hold a plaintext, nor its base64.

import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AppsV1Api, CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { generateKeyPair, seal } from "../../src/secrets/age.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { hub, kubeConfig, kubectl, members, orAbsent, waitFor, withNamespace } from "./support/fleet.js";

const CONTROLLER_NS = "flotilla-system";
const PLAIN_1 = "sealed-it-password-one-7f3a";
const PLAIN_2 = "sealed-it-password-two-c41d";
const USER = "sealed-it-user-93be";
const b64 = (s: string) => Buffer.from(s).toString("base64");

let root: string;
let controller: ControllerProcess | undefined;
let failed = false;
const keys: Record<string, { identity: string; recipient: string }> = {};

/** The shop; with `waves`, prod-eu's wave before prod-us's. */
function app(namespace: string, data: Record<string, string>, recipients: string[], waves = false): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: "shop", namespace },
    spec: {
      appRevisions: [
        {
          name: "v1",
          template: {
            spec: {
              components: [
                { name: "db-credentials", type: "sealed-secret", settings: { data, recipients } },
                {
                  name: "backend",
                  type: "worker",
                  settings: { image: "shop:1", cmd: ["sleep", "3600"] },
                  traits: [
                    { name: "env", properties: { env: { DB_PASSWORD: { valueFrom: { secretKeyRef: { name: "db-credentials", key: "password" } } } } } },
                    { name: "storage", properties: { secret: [{ name: "credentials", mountPath: "/etc/credentials", secretName: "db-credentials" }] } },
                  ],
                },
              ],
            },
          },
          rollout: { replicas: 1 },
        },
      ],
      placementStrategies: waves
        ? [
            { name: "eu", clusterSelector: { names: ["prod-eu"] } },
            { name: "us", clusterSelector: { names: ["prod-us"] } },
          ]
        : [{ name: "production", clusterSelector: { labels: { usage: "production" } } }],
    },
  };
}

async function deployment(namespace: string): Promise<ApplicationDeployment | undefined> {
  return (await orAbsent(
    kubeConfig("hub")
      .makeApiClient(CustomObjectsApi)
      .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "applicationdeployments", name: "shop" }),
  )) as ApplicationDeployment | undefined;
}

async function memberSecret(cluster: string, namespace: string): Promise<Record<string, string> | undefined> {
  const s = await orAbsent(kubeConfig(cluster).makeApiClient(CoreV1Api).readNamespacedSecret({ namespace, name: "db-credentials" }));
  return s?.data;
}

async function applyApp(doc: ApplicationDeployment): Promise<void> {
  await kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-"], { input: toYaml(doc) });
}

describe("sealed secrets in push mode", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(kc, members());
    for (const m of ["prod-eu", "prod-us"]) {
      keys[m] = await generateKeyPair();
      const secret = {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `flotilla-sealing-${m}`, namespace: CONTROLLER_NS },
        data: { identity: b64(keys[m]!.identity) },
      };
      await kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-"], { input: JSON.stringify(secret) });
    }
    root = await mkdtemp(join(tmpdir(), "flotilla-sealed-"));
    controller = spawnController({
      kubeconfig: hub().kubeconfigPath,
      dataDir: join(root, "data"),
      logFile: join(root, "controller.log"),
      args: ["--no-leader-elect", "--namespace", CONTROLLER_NS],
    });
  }, 120_000);

  afterAll(async () => {
    await controller?.ensureKilled();
    for (const m of ["prod-eu", "prod-us"]) {
      await kubectl("hub", ["delete", "secret", "-n", CONTROLLER_NS, `flotilla-sealing-${m}`, "--ignore-not-found"], { allowFailure: true });
    }
    if (failed) console.log(`[sealed-secrets] the controller's log and repository kept in ${root}`);
    else if (root) await rm(root, { recursive: true, force: true });
  });

  it("decrypts only on the clusters sealed to, fails the other's Secret alone, heals on rekey, rotates, and leaks no plaintext", async () => {
    try {
      await withNamespace(["hub", "prod-eu", "prod-us"], async (ns) => {
        const eu = keys["prod-eu"]!.recipient;
        const us = keys["prod-us"]!.recipient;
        // Sealed to prod-eu only: prod-us cannot open it.
        await applyApp(app(ns, { password: await seal(PLAIN_1, [eu]), username: await seal(USER, [eu]) }, [eu]));

        expect(await waitFor(() => memberSecret("prod-eu", ns), { timeoutMs: 120_000, intervalMs: 500, message: "the Secret on prod-eu" })).toEqual({
          password: b64(PLAIN_1),
          username: b64(USER),
        });
        const refused = await waitFor(
          async () => {
            const status = (await deployment(ns))?.status;
            const text = JSON.stringify(status ?? {});
            return text.includes("is not among the value's recipients") ? text : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 500, message: "prod-us's refusal in the deployment's status" },
        );
        expect(refused).toContain(`Secret/${ns}/db-credentials`);
        expect(refused).toContain(`this cluster's key ${us} is not among the value's recipients (sealed to ${eu}); run \`flotilla secret rekey\``);
        expect(refused).not.toContain(`this cluster's key ${eu}`);
        // prod-us's other objects applied all the same; its Secret did not.
        const onUs = await waitFor(
          () => orAbsent(kubeConfig("prod-us").makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace: ns, name: "backend-v1" })),
          {
            timeoutMs: 30_000,
            message: "backend-v1 on prod-us",
          },
        );
        expect(onUs.spec?.template.spec?.containers[0]?.env).toEqual([
          { name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db-credentials", key: "password" } } },
        ]);
        expect(onUs.spec?.template.spec?.volumes?.[0]?.secret?.secretName).toBe("db-credentials");
        expect(await memberSecret("prod-us", ns)).toBeUndefined();

        // Sealed again to both clusters (what `flotilla secret rekey` writes): Healthy everywhere.
        const healed = { password: await seal(PLAIN_1, [eu, us]), username: await seal(USER, [eu, us]) };
        await applyApp(app(ns, healed, [eu, us]));
        await waitFor(async () => (await deployment(ns))?.status?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 500, message: "shop Healthy" });
        expect(await memberSecret("prod-us", ns)).toEqual({ password: b64(PLAIN_1), username: b64(USER) });
        // The same values in two waves, prod-eu first: the next change goes wave by wave.
        await applyApp(app(ns, healed, [eu, us], true));
        await waitFor(
          async () => {
            const d = await deployment(ns);
            return d?.status?.phase === "Healthy" && d.status.observedGeneration === d.metadata.generation;
          },
          { timeoutMs: 120_000, intervalMs: 500, message: "shop Healthy in two waves" },
        );

        // A rotated value is a change like any other: it reaches both members, wave by wave.
        await applyApp(app(ns, { password: await seal(PLAIN_2, [eu, us]), username: await seal(USER, [eu, us]) }, [eu, us], true));
        for (const m of ["prod-eu", "prod-us"]) {
          await waitFor(async () => (await memberSecret(m, ns))?.password === b64(PLAIN_2), {
            timeoutMs: 120_000,
            intervalMs: 500,
            message: `the rotated password on ${m}`,
          });
        }
        const rotated = await waitFor(
          async () => {
            const d = await deployment(ns);
            return d?.status?.phase === "Healthy" && d.status.observedGeneration === d.metadata.generation ? d : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 500, message: "shop Healthy after the rotation" },
        );
        expect(rotated.status?.clusters?.map((c) => c.name).sort()).toEqual(["prod-eu", "prod-us"]);
        // In the environment repository, prod-eu's folder took the rotation in an earlier commit
        // than prod-us's: prod-us kept its files until its wave opened.
        const envGit = (args: string[]) => execFileSync("git", ["--git-dir", join(root, "data", "env.git"), ...args], { encoding: "utf8" }).trim();
        const lastChange = (cluster: string) => envGit(["log", "-1", "--format=%H", "--", `clusters/${cluster}/${ns}/shop/`]);
        const [euCommit, usCommit] = [lastChange("prod-eu"), lastChange("prod-us")];
        expect(euCommit).not.toBe(usCommit);
        expect(envGit(["merge-base", euCommit, usCommit])).toBe(euCommit);
        expect(envGit(["log", "-1", "--format=%B", euCommit])).toContain("Flotilla-Wave: eu");
        expect(envGit(["log", "-1", "--format=%B", usCommit])).toContain("Flotilla-Wave: us");

        // No plaintext (nor its base64) anywhere but the members' Secrets.
        const gitHistory = execFileSync("git", ["--git-dir", join(root, "data", "env.git"), "log", "-p", "--all"], {
          encoding: "utf8",
          maxBuffer: 256 * 1024 * 1024,
        });
        expect(gitHistory).toContain("-----BEGIN AGE ENCRYPTED FILE-----");
        const everything: Record<string, string> = {
          git: gitHistory,
          status: (await kubectl("hub", ["get", "ad", "-n", ns, "shop", "-o", "yaml"])).stdout,
          events: (await kubectl("hub", ["get", "events", "-A", "-o", "yaml"])).stdout,
          log: await readFile(join(root, "controller.log"), "utf8"),
        };
        expect(everything.log?.length).toBeGreaterThan(100);
        for (const [where, text] of Object.entries(everything)) {
          for (const secret of [PLAIN_1, PLAIN_2, USER, b64(PLAIN_1), b64(PLAIN_2), b64(USER), keys["prod-eu"]!.identity, keys["prod-us"]!.identity]) {
            expect(text.includes(secret), `${where} holds a secret`).toBe(false);
          }
        }

        await kubectl("hub", ["delete", "ad", "-n", ns, "shop", "--wait=true", "--timeout=60s"]);
      });
    } catch (err) {
      failed = true;
      throw err;
    }
  }, 400_000);
});
