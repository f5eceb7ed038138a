// `flotilla cluster add NAME --mode pull` against the real hub, and the agent's hub credential
// proven least-privilege with stock `kubectl auth can-i` run AS the agent (its printed hub
// kubeconfig): it reads its own Cluster (also as a watch with a metadata.name field selector),
// writes its own SyncReports and may fetch the controller's Git server path; nothing else — no
// Secret anywhere, no other cluster, no ApplicationDeployment. The hub holds no credential of the
// pull member. `cluster remove` revokes the agent's token.
//
// The member side (the agent's install) is checked from the printed YAML only: applying it to a
// shared member would put a second agent namespace beside the pull-mode tests' agents.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AGENT_SERVICE_ACCOUNT, GIT_SERVE_RBAC_PATH, pullNamespace } from "../../src/api/pull.js";
import { parseYamlStream } from "../../src/api/serialize.js";
import type { Cluster, Manifest } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub } from "../../src/cli/install.js";
import { registerPullCluster } from "../../src/cli/pull-cluster.js";
import { hub, KUBECTL, kubeConfig, kubectl, uniqueName, waitFor } from "./support/fleet.js";

const run = promisify(execFile);
const CLI = join(import.meta.dirname, "..", "..", "dist", "src", "cli", "main.js");
const GIT_URL = "http://127.0.0.1:8082/env.git";

const name = uniqueName("pull");
const other = uniqueName("pull-other");
const namespace = pullNamespace(name);
let root: string;
let agentKubeconfig: string;
let printed: Manifest[];
let said: string;

function flotilla(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, [CLI, ...args], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
}

/** kubectl (the tests' 1.20 one) as the agent: with its hub kubeconfig, not the admin's. */
async function asAgent(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  return run(KUBECTL, ["--kubeconfig", agentKubeconfig, ...args], { encoding: "utf8", timeout: 60_000 }).then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout?: string; stderr?: string; code?: number }) => ({
      stdout: e.stdout ?? "",
      stderr: e.stderr ?? "",
      code: typeof e.code === "number" ? e.code : 1,
    }),
  );
}

/** `kubectl auth can-i` as the agent: "yes" or "no" (a SelfSubjectAccessReview, which any authenticated user may make). */
async function agentCan(...args: string[]): Promise<string> {
  return (await asAgent(["auth", "can-i", ...args])).stdout.trim();
}

describe("flotilla cluster add --mode pull", () => {
  beforeAll(async () => {
    await installToHub({ kubeConfig: kubeConfig("hub"), definitionDirs: [builtinDefinitionsDir()] });
    root = await mkdtemp(join(tmpdir(), "flotilla-pull-access-"));
    const added = await flotilla([
      "cluster",
      "add",
      name,
      "--mode",
      "pull",
      "--git-url",
      GIT_URL,
      "--hub-kubeconfig",
      hub().kubeconfigPath,
      "-l",
      `pull-access=${name}`,
    ]);
    said = added.stderr;
    printed = parseYamlStream(added.stdout) as Manifest[];
    const secret = printed.find((o) => o.kind === "Secret" && o.metadata.name === "flotilla-agent-hub");
    agentKubeconfig = join(root, "agent-hub.kubeconfig");
    await writeFile(agentKubeconfig, (secret?.stringData as Record<string, string> | undefined)?.kubeconfig ?? "");
    // A second pull member: its Cluster and namespace are what the first agent must not reach.
    await registerPullCluster({ hub: kubeConfig("hub"), name: other, labels: { "pull-access": name } });
  }, 120_000);

  afterAll(async () => {
    for (const n of [name, other]) await flotilla(["cluster", "remove", n, "--hub-kubeconfig", hub().kubeconfigPath]).catch(() => undefined);
    if (root) await rm(root, { recursive: true, force: true });
  });

  it("prints the agent's install on stdout, and what it did on stderr", () => {
    expect(said).toContain(`ServiceAccount ${namespace}/${AGENT_SERVICE_ACCOUNT}`);
    expect(said).toContain("keep it as a password");
    const labels = printed.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(labels).toEqual(
      expect.arrayContaining([
        "Namespace/flotilla-agent",
        "ConfigMap/flotilla-agent",
        "Secret/flotilla-agent-hub",
        "Deployment/flotilla-agent",
        "ClusterRole/flotilla-agent",
      ]),
    );
    expect(printed.find((o) => o.kind === "ConfigMap")?.data).toEqual({ CLUSTER: name, GIT_URL });
  });

  it("registers a Pull Cluster with its labels and no kubeconfig Secret", async () => {
    const got = await kubectl("hub", ["get", "clusters.flotilla.dev", name, "-o", "json"]);
    const cluster = JSON.parse(got.stdout) as Cluster;
    expect(cluster.spec).toEqual({ mode: "Pull" });
    expect(cluster.metadata.labels).toEqual({ "pull-access": name });
    const secret = await kubectl("hub", ["get", "secret", "-n", "flotilla-system", `cluster-${name}`], { allowFailure: true });
    expect(secret.stderr).toContain("NotFound");
  });

  it("gives the agent a kubeconfig that authenticates as its ServiceAccount on the hub", async () => {
    const who = await asAgent(["get", "--raw", `/apis/flotilla.dev/v1alpha1/clusters/${name}`]);
    expect(who.code, who.stderr).toBe(0);
    expect((JSON.parse(who.stdout) as Cluster).metadata.name).toBe(name);
  });

  it.each([
    ["get", `clusters.flotilla.dev/${name}`],
    ["watch", `clusters.flotilla.dev/${name}`],
    ["get", "syncreports.flotilla.dev", "-n", namespace],
    ["create", "syncreports.flotilla.dev", "-n", namespace],
    ["update", "syncreports.flotilla.dev", "-n", namespace],
    ["delete", "syncreports.flotilla.dev", "-n", namespace],
    ["get", GIT_SERVE_RBAC_PATH],
  ])("lets the agent %s %s", async (...args) => {
    expect(await agentCan(...args)).toBe("yes");
  });

  it.each([
    ["get", `clusters.flotilla.dev/${other}`],
    ["watch", "clusters.flotilla.dev"],
    ["list", "clusters.flotilla.dev"],
    ["create", "clusters.flotilla.dev"],
    ["patch", `clusters.flotilla.dev/${name}`],
    ["list", "secrets", "--all-namespaces"],
    ["list", "secrets", "-n", namespace],
    ["get", "secrets", "-n", namespace],
    ["get", "secrets/flotilla-agent-token", "-n", namespace],
    ["list", "secrets", "-n", "flotilla-system"],
    ["list", "applicationdeployments.flotilla.dev", "--all-namespaces"],
    ["get", "applicationdeployments.flotilla.dev", "-n", namespace],
    ["create", "syncreports.flotilla.dev", "-n", pullNamespace(other)],
    ["list", "syncreports.flotilla.dev", "--all-namespaces"],
    ["create", "pods", "-n", namespace],
    ["create", "serviceaccounts", "--subresource=token", "-n", namespace],
    ["get", "/metrics"],
  ])("refuses the agent %s %s", async (...args) => {
    expect(await agentCan(...args)).toBe("no");
  });

  it("lets the agent watch its own Cluster with a metadata.name field selector, and refuses a watch of all Clusters", async () => {
    const path = "/apis/flotilla.dev/v1alpha1/clusters";
    const own = await asAgent(["get", "--raw", `${path}?watch=1&fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}&timeoutSeconds=2`]);
    expect(own.code, own.stderr).toBe(0);
    const events = own.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type: string; object: Cluster });
    expect(events.map((e) => [e.type, e.object.metadata.name])).toEqual([["ADDED", name]]);
    const list = await asAgent(["get", "--raw", `${path}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`]);
    expect(list.code, list.stderr).toBe(0);
    const all = await asAgent(["get", "--raw", `${path}?watch=1&timeoutSeconds=2`]);
    expect(all.code).not.toBe(0);
    expect(all.stderr).toMatch(/Forbidden/i);
    const theirs = await asAgent(["get", "--raw", `${path}?watch=1&fieldSelector=${encodeURIComponent(`metadata.name=${other}`)}&timeoutSeconds=2`]);
    expect(theirs.code).not.toBe(0);
    expect(theirs.stderr).toMatch(/Forbidden/i);
  });

  it("leaves no credential of the pull member on the hub: no Secret holds a kubeconfig or token for it", async () => {
    const secrets = JSON.parse((await kubectl("hub", ["get", "secrets", "--all-namespaces", "-o", "json"])).stdout) as { items: Manifest[] };
    expect(secrets.items.length).toBeGreaterThan(0);
    const mentioning = secrets.items.filter((s) => {
      const values = Object.values((s.data as Record<string, string> | undefined) ?? {}).map((v) => Buffer.from(v, "base64").toString("utf8"));
      return s.metadata.name.includes(name) || values.some((v) => v.includes(name));
    });
    // The Secrets naming it are hub ServiceAccount tokens of its own hub namespace (the agent's,
    // and on Kubernetes before 1.24 the ones the token controller makes for every ServiceAccount):
    // credentials for the hub, none for the member.
    expect(mentioning.map((s) => `${s.metadata.namespace}/${s.metadata.name}`)).toContain(`${namespace}/flotilla-agent-token`);
    for (const secret of mentioning) {
      expect(secret.metadata.namespace).toBe(namespace);
      expect(secret.type).toBe("kubernetes.io/service-account-token");
      expect(Object.keys((secret.data as Record<string, string>) ?? {}).sort()).toEqual(["ca.crt", "namespace", "token"]);
    }
  });

  it("revokes the agent's hub credential on cluster remove: its namespace, token and RBAC go, the token stops working", async () => {
    const before = await asAgent(["get", "--raw", "/api"]);
    expect(before.code, before.stderr).toBe(0);
    const removed = await flotilla(["cluster", "remove", name, "--hub-kubeconfig", hub().kubeconfigPath]);
    expect(removed.stdout).toContain(`Cluster ${name}`);
    await waitFor(async () => (await kubectl("hub", ["get", "clusters.flotilla.dev", name], { allowFailure: true })).stderr.includes("NotFound"), {
      message: `Cluster ${name} deleted`,
    });
    expect((await kubectl("hub", ["get", "clusterrole", `flotilla-agent:${name}`], { allowFailure: true })).stderr).toContain("NotFound");
    expect((await kubectl("hub", ["get", "clusterrolebinding", `flotilla-agent:${name}`], { allowFailure: true })).stderr).toContain("NotFound");
    // The namespace terminates; once its token Secret is gone the token no longer authenticates
    // (discovery, which every authenticated user may read, answers 401 then).
    await waitFor(
      async () => {
        const r = await asAgent(["get", "--raw", "/api"]);
        return r.code !== 0 && /Unauthorized/i.test(r.stderr);
      },
      { timeoutMs: 60_000, intervalMs: 500, message: "the removed agent's token to stop authenticating" },
    );
    await waitFor(async () => (await kubectl("hub", ["get", "namespace", namespace], { allowFailure: true })).stderr.includes("NotFound"), {
      timeoutMs: 60_000,
      intervalMs: 500,
      message: `namespace ${namespace} deleted`,
    });
    // The other pull member is untouched.
    expect((await kubectl("hub", ["get", "clusters.flotilla.dev", other])).code).toBe(0);
  }, 150_000);
});
