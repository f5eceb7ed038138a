// Sealing keys end to end on the local fleet: the controller (in this process, its namespace a
// fresh one) gives every push cluster a key Secret on the hub and publishes the recipient in
// Cluster.status.sealing, and makes the hub's rekey pair; `flotilla secret seal` (the compiled CLI)
// seals to exactly the published keys; a cluster that joins later gets its key and `secret rekey`
// re-seals the file for it; a deleted Cluster's key Secret is deleted; a pull-mode agent makes its
// key on its member and the hub learns only the recipient, and a deployment with a value sealed to
// it becomes Healthy with the plaintext only in the member's Secret. No output holds the plaintext.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CoreV1Api, CustomObjectsApi } from "@kubernetes/client-node";
import yaml from "js-yaml";
import { destination, pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cluster, ComponentSpec } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { registerPullCluster } from "../../src/cli/pull-cluster.js";
import { Controller } from "../../src/controller/controller.js";
import { recipientOf, UnsealError, unseal } from "../../src/secrets/age.js";
import { type ControllerProcess, spawnAgent } from "./support/controller-process.js";
import { cluster, hub, kubeConfig, kubectl, members, orAbsent, uniqueName, waitFor } from "./support/fleet.js";

const CLI = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const PLAIN = `s3cr3t-${uniqueName("value")}`;
const ns = uniqueName("sealing");
let dataDir = "";
let controller: Controller | undefined;
let agent: ControllerProcess | undefined;

const core = () => kubeConfig("hub").makeApiClient(CoreV1Api);
const getCluster = async (name: string) =>
  (await orAbsent(
    kubeConfig("hub").makeApiClient(CustomObjectsApi).getClusterCustomObject({ group: "flotilla.dev", version: "v1alpha1", plural: "clusters", name }),
  )) as Cluster | undefined;

/** The identity in a key Secret, or undefined when the Secret does not exist. */
async function identityIn(api: CoreV1Api, namespace: string, name: string): Promise<string | undefined> {
  const s = await orAbsent(api.readNamespacedSecret({ namespace, name }));
  const v = s?.data?.identity;
  return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
}

function flotilla(args: string[], kubeconfig = hub().kubeconfigPath): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args, "--kubeconfig", kubeconfig, "--controller-namespace", ns], { timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** settings.data of a component ({} when absent). */
const dataOf = (c: ComponentSpec | undefined) => (c?.settings?.data ?? {}) as Record<string, string>;

async function opens(armored: string, identity: string): Promise<string | "not-a-recipient"> {
  try {
    return new TextDecoder().decode(await unseal(armored, identity));
  } catch (e) {
    if (e instanceof UnsealError && e.reason === "not-a-recipient") return "not-a-recipient";
    throw e;
  }
}

async function publishedRecipient(name: string): Promise<string> {
  return waitFor(async () => (await getCluster(name))?.status?.sealing?.recipient, {
    timeoutMs: 60_000,
    intervalMs: 500,
    message: `Cluster ${name} to publish status.sealing.recipient`,
  });
}

describe("sealing keys", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(kc, members());
    await core().createNamespace({ body: { metadata: { name: ns, labels: { "flotilla.dev/test": "true" } } } });
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-sealing-"));
    controller = new Controller({
      kubeConfig: kc,
      dataDir,
      namespace: ns,
      resyncIntervalMs: 5_000,
      probeIntervalMs: 2_000,
      leaderElection: false,
      gitServeAddr: "127.0.0.1:0",
      logger: pino({ level: "debug" }, destination({ dest: join(dataDir, "controller.log"), sync: true })),
    });
    await controller.start();
  }, 180_000);

  afterAll(async () => {
    await agent?.ensureKilled();
    await controller?.stop();
    // The controller logs no value and no key.
    if (dataDir) {
      const log = await readFile(join(dataDir, "controller.log"), "utf8").catch(() => "");
      expect(log).not.toContain(PLAIN);
      expect(log).not.toContain("AGE-SECRET-KEY-");
      await rm(dataDir, { recursive: true, force: true });
    }
    await core()
      .deleteNamespace({ name: ns })
      .catch(() => undefined);
  }, 60_000);

  it("gives every push cluster a key Secret on the hub, its recipient in status.sealing, and the hub a rekey pair", async () => {
    for (const m of members()) {
      // The fleet is shared: a controller of another test file may have published an older key
      // for this cluster. This controller's key is the one in its own namespace.
      const identity = await waitFor(() => identityIn(core(), ns, `flotilla-sealing-${m.name}`), {
        timeoutMs: 60_000,
        intervalMs: 500,
        message: `Secret ${ns}/flotilla-sealing-${m.name}`,
      });
      const mine = await recipientOf(identity);
      await waitFor(async () => (await getCluster(m.name))?.status?.sealing?.recipient === mine, {
        timeoutMs: 60_000,
        intervalMs: 500,
        message: `Cluster ${m.name} to publish the recipient of ${ns}/flotilla-sealing-${m.name}`,
      });
      const secret = await core().readNamespacedSecret({ namespace: ns, name: `flotilla-sealing-${m.name}` });
      expect(secret.metadata?.labels?.["flotilla.dev/sealing-key"]).toBe(m.name);
      expect(await controller?.sealingIdentity(m.name)).toBe(identity);
    }
    const map = await waitFor(() => orAbsent(core().readNamespacedConfigMap({ namespace: ns, name: "flotilla-sealing" })), { timeoutMs: 30_000 });
    const rekey = await identityIn(core(), ns, "flotilla-sealing-rekey");
    expect(map.data?.rekeyRecipient).toBe(await recipientOf(rekey as string));
    const list = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [CLI, "cluster", "list", "-o", "wide", "--hub-kubeconfig", hub().kubeconfigPath], (e, out) => (e ? reject(e) : resolve(out))),
    );
    expect(list).toContain((await getCluster("prod-eu"))?.status?.sealing?.recipient as string);
  });

  it("seals with the CLI to the named cluster and the rekey key only; the hub's key Secret of that cluster opens it", async () => {
    await publishedRecipient("prod-eu");
    const out = await flotilla(["secret", "seal", "--name", "db", "--from-literal", `password=${PLAIN}`, "--cluster", "prod-eu"]);
    expect(out.stderr).toBe("");
    expect(out.code).toBe(0);
    expect(out.stdout).not.toContain(PLAIN);
    const [component] = yaml.load(out.stdout) as ComponentSpec[];
    expect(component?.type).toBe("sealed-secret");
    const value = dataOf(component).password as string;
    expect(await opens(value, (await identityIn(core(), ns, "flotilla-sealing-prod-eu")) as string)).toBe(PLAIN);
    expect(await opens(value, (await identityIn(core(), ns, "flotilla-sealing-rekey")) as string)).toBe(PLAIN);
    expect(await opens(value, (await identityIn(core(), ns, "flotilla-sealing-prod-us")) as string)).toBe("not-a-recipient");
  });

  it("names a target cluster without a published key; after it gets one, rekey re-seals the file so its key opens the values", async () => {
    const late = uniqueName("late");
    const dir = await mkdtemp(join(tmpdir(), "flotilla-rekey-"));
    const app = join(dir, "app.yaml");
    const sealed = await flotilla(["secret", "seal", "--name", "db", "--from-literal", `password=${PLAIN}`, "--selector", "usage=production"]);
    expect(sealed.code).toBe(0);
    const [component] = yaml.load(sealed.stdout) as ComponentSpec[];
    await writeFile(
      app,
      yaml.dump({
        apiVersion: "flotilla.dev/v1alpha1",
        kind: "ApplicationDeployment",
        metadata: { name: "shop", namespace: "team-a" },
        spec: {
          appRevisions: [{ name: "v1", template: { spec: { components: [{ name: "web", type: "webservice", settings: { image: "nginx" } }, component] } } }],
          placementStrategies: [{ clusterSelector: { labels: { usage: "production" } } }],
        },
      }),
    );
    // A cluster that exists but has no key yet (paused, local: the controller still makes its key).
    // The Cluster is created and its key awaited; a seal for a cluster with no key is refused.
    await kubectl("hub", ["apply", "-f", "-"], {
      input: yaml.dump({
        apiVersion: "flotilla.dev/v1alpha1",
        kind: "Cluster",
        metadata: { name: late, labels: { usage: "production" } },
        spec: { local: true, paused: true },
      }),
    });
    try {
      const recipient = await publishedRecipient(late);
      const identity = (await identityIn(core(), ns, `flotilla-sealing-${late}`)) as string;
      expect(await recipientOf(identity)).toBe(recipient);
      const before = dataOf(component).password as string;
      expect(await opens(before, identity)).toBe("not-a-recipient");
      const rekeyed = await flotilla(["secret", "rekey", "-f", app, "--in-place"]);
      expect(rekeyed.code, rekeyed.stderr).toBe(0);
      expect(rekeyed.stderr).toContain("team-a/shop: db");
      const text = await readFile(app, "utf8");
      expect(text).not.toContain(PLAIN);
      const doc = yaml.load(text) as { spec: { appRevisions: Array<{ template: { spec: { components: ComponentSpec[] } } }> } };
      const db = doc.spec.appRevisions[0]?.template.spec.components[1];
      const after = dataOf(db).password as string;
      expect(await opens(after, identity)).toBe(PLAIN);
      expect(await opens(after, (await identityIn(core(), ns, "flotilla-sealing-prod-us")) as string)).toBe(PLAIN);
      expect(db?.settings?.recipients).toContain(recipient);
    } finally {
      await kubectl("hub", ["delete", "cluster", late, "--wait=false"]);
    }
    // The Cluster is gone: so is its key.
    await waitFor(async () => (await identityIn(core(), ns, `flotilla-sealing-${late}`)) === undefined || undefined, {
      timeoutMs: 30_000,
      message: `Secret ${ns}/flotilla-sealing-${late} to be deleted with its Cluster`,
    });
    const missing = uniqueName("nokey");
    await kubectl("hub", ["apply", "-f", "-"], {
      input: yaml.dump({ apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: missing }, spec: { mode: "Pull" } }),
    });
    try {
      const refused = await flotilla(["secret", "seal", "--name", "db", "--from-literal", `password=${PLAIN}`, "--cluster", missing]);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`no sealing key published for cluster ${missing}`);
      expect(refused.stderr + refused.stdout).not.toContain(PLAIN);
    } finally {
      await kubectl("hub", ["delete", "cluster", missing, "--wait=false"]);
    }
  });

  it("tells a user who may not read the rekey Secret which Secret and which right rekey needs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-rekey-"));
    const user = "flotilla-unprivileged";
    const role = uniqueName("sealing-reader");
    await kubectl("hub", ["create", "clusterrole", role, "--verb=list", "--resource=clusters.flotilla.dev"]);
    await kubectl("hub", ["create", "clusterrolebinding", role, `--clusterrole=${role}`, `--user=${user}`]);
    await kubectl("hub", ["-n", ns, "create", "role", role, "--verb=get", "--resource=configmaps"]);
    await kubectl("hub", ["-n", ns, "create", "rolebinding", role, `--role=${role}`, `--user=${user}`]);
    try {
      const kubeconfig = join(dir, "user.kubeconfig");
      await writeFile(kubeconfig, kubeConfig("hub", { token: cluster("hub").unprivilegedToken }).exportConfig());
      const sealed = await waitFor(
        async () => {
          const r = await flotilla(["secret", "seal", "--name", "db", "--from-literal", `password=${PLAIN}`, "--cluster", "prod-eu"], kubeconfig);
          return r.code === 0 ? r : undefined;
        },
        { timeoutMs: 20_000, message: "the user to seal (RBAC to take effect)" },
      );
      const [component] = yaml.load(sealed.stdout) as ComponentSpec[];
      const app = join(dir, "app.yaml");
      await writeFile(
        app,
        yaml.dump({
          apiVersion: "flotilla.dev/v1alpha1",
          kind: "ApplicationDeployment",
          metadata: { name: "shop", namespace: "team-a" },
          spec: {
            appRevisions: [{ name: "v1", template: { spec: { components: [component] } } }],
            placementStrategies: [{ clusterSelector: { names: ["prod-eu"] } }],
          },
        }),
      );
      const refused = await flotilla(["secret", "rekey", "-f", app, "--force"], kubeconfig);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(`may not read Secret ${ns}/flotilla-sealing-rekey`);
      expect(refused.stderr).toContain("--resource-name=flotilla-sealing-rekey");
      expect(refused.stderr + refused.stdout).not.toContain(PLAIN);
    } finally {
      await kubectl("hub", ["delete", "clusterrole,clusterrolebinding", role], { allowFailure: true });
    }
  });

  it("pull mode: the agent makes its key in Secret flotilla-sealing on its member and the hub learns only the recipient", async () => {
    const name = uniqueName("edge");
    const member = cluster("staging");
    const { hubKubeconfig } = await registerPullCluster({ hub: kubeConfig("hub"), name, labels: { usage: "edge" } });
    const dir = join(dataDir, `agent-${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "hub.kubeconfig"), hubKubeconfig, { mode: 0o600 });
    agent = spawnAgent({
      cluster: name,
      hubKubeconfig: join(dir, "hub.kubeconfig"),
      memberKubeconfig: member.kubeconfigPath,
      gitUrl: `http://127.0.0.1:${controller?.gitServePort}/env.git`,
      dataDir: join(dir, "data"),
      logFile: join(dir, "agent.log"),
      // Its own Lease namespace, which it creates for its key (no deploy/agent on the fleet).
      args: ["--no-leader-elect", "--namespace", name],
    });
    const recipient = await publishedRecipient(name);
    const memberCore = kubeConfig(member).makeApiClient(CoreV1Api);
    const identity = await identityIn(memberCore, name, "flotilla-sealing");
    expect(identity).toBeDefined();
    expect(await recipientOf(identity as string)).toBe(recipient);
    expect(await identityIn(core(), ns, `flotilla-sealing-${name}`)).toBeUndefined();
    expect(await controller?.sealingIdentity(name)).toBeUndefined();

    // A value sealed to the pull cluster reaches its member in plaintext, opened by the agent.
    const sealed = await flotilla(["secret", "seal", "--name", "db", "--from-literal", `password=${PLAIN}`, "--cluster", name]);
    expect(sealed.code).toBe(0);
    const [component] = yaml.load(sealed.stdout) as ComponentSpec[];
    const appNs = `${name}-app`;
    await core().createNamespace({ body: { metadata: { name: appNs, labels: { "flotilla.dev/test": "true" } } } });
    await kubeConfig(member)
      .makeApiClient(CoreV1Api)
      .createNamespace({ body: { metadata: { name: appNs, labels: { "flotilla.dev/test": "true" } } } });
    const app = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ApplicationDeployment",
      metadata: { name: "vault-user", namespace: appNs },
      spec: {
        appRevisions: [
          {
            name: "v1",
            template: {
              spec: {
                components: [
                  component,
                  {
                    name: "app",
                    type: "worker",
                    settings: { image: "busybox:1", cmd: ["sleep", "3600"] },
                    traits: [{ name: "env", properties: { env: { DB_PASSWORD: { valueFrom: { secretKeyRef: { name: "db", key: "password" } } } } } }],
                  },
                ],
              },
            },
            rollout: { replicas: 1 },
          },
        ],
        placementStrategies: [{ name: "edge", clusterSelector: { names: [name] } }],
      },
    };
    await kubectl("hub", ["apply", "-f", "-"], { input: JSON.stringify(app) });
    const plain = await waitFor(
      async () => {
        const v = (await orAbsent(memberCore.readNamespacedSecret({ namespace: appNs, name: "db" })))?.data?.password;
        return v === undefined ? undefined : Buffer.from(v, "base64").toString("utf8");
      },
      { timeoutMs: 90_000, intervalMs: 500, message: "the agent to apply the opened Secret db on its member" },
    );
    expect(plain).toBe(PLAIN);
    await waitFor(
      async () => {
        const ad = (await orAbsent(
          kubeConfig("hub")
            .makeApiClient(CustomObjectsApi)
            .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace: appNs, plural: "applicationdeployments", name: "vault-user" }),
        )) as { status?: { phase?: string } } | undefined;
        return ad?.status?.phase === "Healthy";
      },
      { timeoutMs: 90_000, intervalMs: 1_000, message: "the deployment with a sealed secret Healthy on the pull cluster" },
    );
    // The hub saw only ciphertext: its reports and the deployment's status hold no plaintext.
    const hubSide = (await kubectl("hub", ["get", "syncreports,applicationdeployments", "-A", "-o", "yaml"])).stdout;
    expect(hubSide).not.toContain(PLAIN);
    expect(hubSide).not.toContain(Buffer.from(PLAIN).toString("base64"));
    await kubectl("hub", ["delete", "ad", "-n", appNs, "vault-user", "--wait=true", "--timeout=60s"], { allowFailure: true });
    await kubectl("hub", ["delete", "namespace", appNs, "--wait=false"], { allowFailure: true });

    const agentLog = await readFile(join(dir, "agent.log"), "utf8");
    expect(agentLog).not.toContain("AGE-SECRET-KEY-");
    expect(agentLog).not.toContain(PLAIN);
    await agent.stop();
    await kubectl(member, ["delete", "namespace", name, "--wait=false"], { allowFailure: true });
  });
});
