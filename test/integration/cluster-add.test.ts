// `flotilla cluster add` on a real member: it creates Flotilla's own ServiceAccount with the sync
// loop's rights and a token, and registers a kubeconfig with that token on the hub. With
// `--namespaces`, the member grants those namespaces only: a deployment there syncs and becomes
// Healthy through the token, one in another namespace reports the member's Forbidden in its status,
// and neither disturbs the other. `cluster remove --kubeconfig` takes the access away again.
// Rights are checked with stock `kubectl auth can-i --as`, as an operator would.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment, Cluster } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub } from "../../src/cli/install.js";
import { type ControllerProcess, spawnController } from "./support/controller-process.js";
import { cluster, hub, KUBECTL, kubeConfig, kubectl, uniqueName, waitFor, withNamespace } from "./support/fleet.js";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const SA = "system:serviceaccount:flotilla-system:flotilla-sync";

let root: string;
let controller: ControllerProcess | undefined;
let failed = false;
const name = uniqueName("limited");

function flotilla(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], { encoding: "utf8" });
}

function app(namespace: string, appName: string): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: appName, namespace },
    spec: {
      appRevisions: [
        {
          name: "v1",
          template: { spec: { components: [{ name: appName, type: "worker", settings: { image: `${appName}:1`, cmd: ["sleep", "3600"] } }] } },
          rollout: { replicas: 1 },
        },
      ],
      placementStrategies: [{ name: "limited", clusterSelector: { labels: { "access-test": name } } }],
    },
  };
}

async function deployment(namespace: string, appName: string): Promise<ApplicationDeployment | undefined> {
  return (await kubeConfig("hub")
    .makeApiClient(CustomObjectsApi)
    .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace, plural: "applicationdeployments", name: appName })
    .catch(() => undefined)) as ApplicationDeployment | undefined;
}

async function canI(verb: string, resource: string, namespace?: string): Promise<string> {
  const r = await kubectl("staging", ["auth", "can-i", verb, resource, "--as", SA, ...(namespace ? ["-n", namespace] : [])], { allowFailure: true });
  return r.stdout.trim();
}

describe("flotilla cluster add", () => {
  beforeAll(async () => {
    await installToHub({ kubeConfig: kubeConfig("hub"), definitionDirs: [builtinDefinitionsDir()] });
    root = await mkdtemp(join(tmpdir(), "flotilla-cluster-add-"));
    controller = spawnController({
      kubeconfig: hub().kubeconfigPath,
      dataDir: join(root, "data"),
      logFile: join(root, "controller.log"),
      args: ["--no-leader-elect", "--resync", "1m"],
    });
  }, 120_000);

  afterAll(async () => {
    await controller?.ensureKilled();
    await flotilla(["cluster", "remove", name, "--hub-kubeconfig", hub().kubeconfigPath]).catch(() => undefined);
    if (failed) console.log(`[cluster-add] controller log kept in ${root}`);
    else if (root) await rm(root, { recursive: true, force: true });
  });

  it("registers a member restricted to one namespace: that namespace syncs, another reports Forbidden; remove revokes", async () => {
    try {
      await withNamespace("hub", (teamA) =>
        withNamespace("hub", async (teamB) => {
          const added = await flotilla([
            "cluster",
            "add",
            name,
            "--kubeconfig",
            cluster("staging").kubeconfigPath,
            "--hub-kubeconfig",
            hub().kubeconfigPath,
            "--label",
            `access-test=${name}`,
            "--namespaces",
            teamA,
          ]);
          expect(added.stdout).toContain(`in ${teamA} only`);

          // On the member: exactly the rights of the sync loop, in teamA only.
          expect(await canI("create", "deployments.apps", teamA)).toBe("yes");
          expect(await canI("delete", "configmaps", teamA)).toBe("yes");
          expect(await canI("update", "deployments.apps", teamA)).toBe("no");
          expect(await canI("create", "deployments.apps", teamB)).toBe("no");
          expect(await canI("list", "secrets")).toBe("no");
          expect(await canI("create", "clusterroles")).toBe("no");
          expect(await canI("get", `namespace/${teamA}`)).toBe("yes");
          expect(await canI("get", `namespace/${teamB}`)).toBe("no");

          // On the hub: the Cluster and a kubeconfig that holds the ServiceAccount's token, not the admin's.
          const registered = (await kubeConfig("hub")
            .makeApiClient(CustomObjectsApi)
            .getClusterCustomObject({ group: "flotilla.dev", version: "v1alpha1", plural: "clusters", name })) as Cluster;
          expect(registered.metadata.labels).toEqual({ "access-test": name });
          const secret = await kubectl("hub", ["get", "secret", "-n", "flotilla-system", `cluster-${name}`, "-o", "jsonpath={.data.kubeconfig}"]);
          const kubeconfig = Buffer.from(secret.stdout, "base64").toString("utf8");
          expect(kubeconfig).toContain("token: ");
          expect(kubeconfig).not.toContain("client-key-data");
          // The kubeconfig the controller will use is the ServiceAccount, with exactly its rights.
          const file = join(root, `${name}.kubeconfig`);
          await writeFile(file, kubeconfig);
          const asHub = async (ns: string) =>
            (
              await run(KUBECTL, ["--kubeconfig", file, "auth", "can-i", "create", "deployments.apps", "-n", ns], { encoding: "utf8" }).catch(
                (e: { stdout?: string }) => e,
              )
            ).stdout?.trim();
          expect(await asHub(teamA)).toBe("yes");
          expect(await asHub(teamB)).toBe("no");

          await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(teamA, "allowed")) });
          await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(teamB, "refused")) });

          await waitFor(async () => (await deployment(teamA, "allowed"))?.status?.phase === "Healthy", {
            timeoutMs: 120_000,
            intervalMs: 500,
            message: `${teamA}/allowed Healthy on ${name} through the flotilla-sync token`,
          });
          const live = await kubectl("staging", ["get", "deployments.apps", "-n", teamA, "-o", "name"]);
          expect(live.stdout).toContain("allowed");

          // `cluster list` shows it as kubectl would, selected by the label it was added with.
          const listed = await waitFor(
            async () => {
              const out = JSON.parse(
                (await flotilla(["cluster", "list", "--hub-kubeconfig", hub().kubeconfigPath, "-l", `access-test=${name}`, "-o", "json"])).stdout,
              );
              return out.items?.[0]?.status?.version ? (out.items as Cluster[]) : undefined;
            },
            { timeoutMs: 60_000, intervalMs: 500, message: `cluster list to show ${name} with its version` },
          );
          expect(listed.map((c) => c.metadata.name)).toEqual([name]);
          expect(listed[0]?.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
          const table = (await flotilla(["cluster", "list", "--hub-kubeconfig", hub().kubeconfigPath, "-l", `access-test=${name}`])).stdout.split("\n");
          expect(table[0]).toMatch(/^NAME\s+READY\s+VERSION\s+LABELS\s+AGE\s+MESSAGE$/);
          expect(table[1]?.split(/\s+/).slice(0, 4)).toEqual([name, "True", listed[0]?.status?.version, `access-test=${name}`]);

          const refused = await waitFor(
            async () => {
              const d = await deployment(teamB, "refused");
              return JSON.stringify(d?.status ?? {}).includes("forbidden") ? d : undefined;
            },
            { timeoutMs: 120_000, intervalMs: 500, message: `${teamB}/refused to report the member's Forbidden` },
          );
          const said = JSON.stringify(refused.status);
          expect(said).toContain(name);
          expect(said).toContain(teamB);
          expect(refused.status?.phase).not.toBe("Healthy");
          // Nothing else broke: the allowed deployment stays Healthy.
          expect((await deployment(teamA, "allowed"))?.status?.phase).toBe("Healthy");

          const removed = await flotilla([
            "cluster",
            "remove",
            name,
            "--hub-kubeconfig",
            hub().kubeconfigPath,
            "--kubeconfig",
            cluster("staging").kubeconfigPath,
          ]);
          expect(removed.stdout).toContain(`Cluster ${name} and its Secret removed`);
          expect(await canI("create", "deployments.apps", teamA)).toBe("no");
          const leftovers = await kubectl("staging", ["get", "clusterroles,clusterrolebindings,rolebindings", "-A", "-l", "flotilla.dev/access", "-o", "name"]);
          expect(leftovers.stdout.trim()).toBe("");
          const gone = await kubectl("hub", ["get", "clusters.flotilla.dev", name], { allowFailure: true });
          expect(gone.stderr).toContain("NotFound");
        }),
      );
    } catch (err) {
      failed = true;
      throw err;
    }
  }, 300_000);
});
