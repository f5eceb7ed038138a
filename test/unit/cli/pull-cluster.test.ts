// `registerPullCluster` and `removePullCluster` against a fake hub (a plain HTTP server that answers
// discovery, server-side applies, gets and deletes, and fills a token Secret as the token
// controller would): what is created, in which order, the kubeconfig handed back, a push member
// refused before anything is created, and what remove deletes. The real API server's answers,
// RBAC included, are the integration test's (test/integration/pull-access.test.ts).

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { pullNamespace } from "../../../src/api/pull.js";
import { AGENT_TOKEN_SECRET, agentHubIdentity } from "../../../src/cli/pull-access.js";
import { addPullCluster, registerPullCluster, removePullCluster } from "../../../src/cli/pull-cluster.js";

const RESOURCES: Record<string, Array<{ name: string; kind: string; namespaced: boolean }>> = {
  "/api/v1": [
    { name: "namespaces", kind: "Namespace", namespaced: false },
    { name: "serviceaccounts", kind: "ServiceAccount", namespaced: true },
    { name: "secrets", kind: "Secret", namespaced: true },
    { name: "configmaps", kind: "ConfigMap", namespaced: true },
  ],
  "/apis/apps/v1": [{ name: "deployments", kind: "Deployment", namespaced: true }],
  "/apis/policy/v1": [{ name: "poddisruptionbudgets", kind: "PodDisruptionBudget", namespaced: true }],
  "/apis/rbac.authorization.k8s.io/v1": [
    { name: "roles", kind: "Role", namespaced: true },
    { name: "rolebindings", kind: "RoleBinding", namespaced: true },
    { name: "clusterroles", kind: "ClusterRole", namespaced: false },
    { name: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false },
  ],
  "/apis/flotilla.dev/v1alpha1": [{ name: "clusters", kind: "Cluster", namespaced: false }],
};

/** The fake hub's objects by path, and every write it received (`VERB path`). */
const stored = new Map<string, Record<string, unknown>>();
const writes: string[] = [];
let server: Server;
let hub: KubeConfig;

function handle(method: string, path: string, body: string): { code: number; body: unknown } {
  const discovery = RESOURCES[path];
  if (method === "GET" && discovery) return { code: 200, body: { kind: "APIResourceList", resources: discovery } };
  if (method === "PATCH") {
    writes.push(`apply ${path}`);
    const obj = JSON.parse(body) as Record<string, unknown>;
    // The token controller fills a service-account-token Secret.
    if (obj.type === "kubernetes.io/service-account-token") obj.data = { token: Buffer.from("agent-token").toString("base64"), "ca.crt": "SUBCA" };
    stored.set(path, obj);
    return { code: 200, body: obj };
  }
  if (method === "DELETE") {
    writes.push(`delete ${path}`);
    return stored.delete(path) ? { code: 200, body: {} } : { code: 404, body: { kind: "Status", code: 404 } };
  }
  const obj = stored.get(path);
  return obj ? { code: 200, body: obj } : { code: 404, body: { kind: "Status", code: 404 } };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      const { code, body: out } = handle(req.method ?? "GET", decodeURIComponent(new URL(req.url ?? "/", "http://hub").pathname), body);
      res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(out));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  hub = new KubeConfig();
  // client-node speaks plain HTTP only to a cluster marked insecure.
  hub.loadFromOptions({
    clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: "admin", token: "admin-token" }],
    contexts: [{ name: "fake", cluster: "fake", user: "admin" }],
    currentContext: "fake",
  });
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  stored.clear();
  writes.length = 0;
});

const NS = pullNamespace("edge-1");

describe("registerPullCluster", () => {
  it("applies the agent's identity, then the Cluster once the token is there, and hands back a kubeconfig with the agent's token", async () => {
    const lines: string[] = [];
    const { hubKubeconfig } = await registerPullCluster({
      hub,
      name: "edge-1",
      labels: { region: "eu" },
      hubServer: "https://hub.example.com:6443",
      log: (l) => lines.push(l),
    });
    expect(writes).toEqual([
      `apply /api/v1/namespaces/${NS}`,
      `apply /api/v1/namespaces/${NS}/serviceaccounts/flotilla-agent`,
      `apply /apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles/flotilla-agent`,
      `apply /apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings/flotilla-agent`,
      "apply /apis/rbac.authorization.k8s.io/v1/clusterroles/flotilla-agent:edge-1",
      "apply /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/flotilla-agent:edge-1",
      `apply /api/v1/namespaces/${NS}/secrets/${AGENT_TOKEN_SECRET}`,
      "apply /apis/flotilla.dev/v1alpha1/clusters/edge-1",
    ]);
    expect(stored.get("/apis/flotilla.dev/v1alpha1/clusters/edge-1")).toMatchObject({
      metadata: { name: "edge-1", labels: { region: "eu" } },
      spec: { mode: "Pull" },
    });
    const kc = new KubeConfig();
    kc.loadFromString(hubKubeconfig);
    expect(kc.getCurrentCluster()?.server).toBe("https://hub.example.com:6443");
    expect(kc.getCurrentUser()?.token).toBe("agent-token");
    // The admin's credential the command ran with is not handed on.
    expect(hubKubeconfig).not.toContain("admin-token");
    // The fake hub's kubeconfig has no CA: the hub's root CA from the token Secret is used.
    expect(kc.getCurrentCluster()?.caData).toBe("SUBCA");
    expect(lines.join("\n")).toContain(`ServiceAccount ${NS}/flotilla-agent`);
  });

  it("points the agent at the hub kubeconfig's server without --hub-server, and is safe to repeat", async () => {
    await registerPullCluster({ hub, name: "edge-1" });
    const { hubKubeconfig } = await registerPullCluster({ hub, name: "edge-1" });
    const kc = new KubeConfig();
    kc.loadFromString(hubKubeconfig);
    expect(kc.getCurrentCluster()?.server).toBe(hub.getCurrentCluster()?.server);
    expect(kc.getCurrentCluster()?.skipTLSVerify).toBe(true);
  });

  it("refuses a cluster already registered in push mode before it creates anything", async () => {
    stored.set("/apis/flotilla.dev/v1alpha1/clusters/edge-1", {
      metadata: { name: "edge-1" },
      spec: { kubeconfigSecretRef: { namespace: "flotilla-system", name: "cluster-edge-1", key: "kubeconfig" } },
    });
    await expect(registerPullCluster({ hub, name: "edge-1" })).rejects.toThrow(
      "cluster edge-1 is already registered in push mode (the hub holds its kubeconfig). Run flotilla cluster remove edge-1 first, then add it with --mode pull.",
    );
    expect(writes).toEqual([]);
  });

  it("refuses a name too long for its hub namespace before it reaches the hub", async () => {
    await expect(registerPullCluster({ hub, name: "e".repeat(47) })).rejects.toThrow(/at most 46/);
    expect(writes).toEqual([]);
  });
});

describe("removePullCluster", () => {
  it("deletes the Cluster, the agent's ClusterRole and binding, then its hub namespace", async () => {
    await registerPullCluster({ hub, name: "edge-1" });
    writes.length = 0;
    await removePullCluster({ hub, name: "edge-1" });
    expect(writes).toEqual([
      "delete /apis/flotilla.dev/v1alpha1/clusters/edge-1",
      "delete /apis/rbac.authorization.k8s.io/v1/clusterrolebindings/flotilla-agent:edge-1",
      "delete /apis/rbac.authorization.k8s.io/v1/clusterroles/flotilla-agent:edge-1",
      `delete /api/v1/namespaces/${NS}`,
    ]);
  });

  it("leaves a namespace of that name alone when add did not create it (no label for the cluster)", async () => {
    stored.set(`/api/v1/namespaces/${NS}`, { metadata: { name: NS } });
    await removePullCluster({ hub, name: "edge-1" });
    expect(writes).not.toContain(`delete /api/v1/namespaces/${NS}`);
    expect(agentHubIdentity("edge-1")[0]?.metadata.labels?.["flotilla.dev/cluster"]).toBe("edge-1");
  });
});

describe("addPullCluster with the member's kubeconfig", () => {
  // One fake server stands for both: the hub's writes come first, then the member's (flotilla-agent).
  it("refuses the placeholder image before it creates anything", async () => {
    await expect(addPullCluster({ hub, member: hub, name: "edge-1", gitUrl: "http://c:8082/env.git" })).rejects.toThrow(
      /--image: the agent image is .*a placeholder/,
    );
    expect(writes).toEqual([]);
  });

  it("applies the agent's install to the member after the hub side, the namespace first and the Deployment after its ConfigMap and Secret", async () => {
    const result = await addPullCluster({ hub, member: hub, name: "edge-1", gitUrl: "http://c:8082/env.git", image: "reg.example.org/flotilla:1.0.0" });
    expect(result.applied).toBe(true);
    const member = writes.slice(writes.indexOf("apply /apis/flotilla.dev/v1alpha1/clusters/edge-1") + 1);
    expect(member[0]).toBe("apply /api/v1/namespaces/flotilla-agent");
    const at = (path: string) => member.indexOf(`apply ${path}`);
    expect(at("/apis/apps/v1/namespaces/flotilla-agent/deployments/flotilla-agent")).toBeGreaterThan(
      at("/api/v1/namespaces/flotilla-agent/configmaps/flotilla-agent"),
    );
    expect(at("/apis/apps/v1/namespaces/flotilla-agent/deployments/flotilla-agent")).toBeGreaterThan(
      at("/api/v1/namespaces/flotilla-agent/secrets/flotilla-agent-hub"),
    );
    expect(member).toHaveLength(result.install.length);
    const hubSecret = stored.get("/api/v1/namespaces/flotilla-agent/secrets/flotilla-agent-hub") as { stringData: { kubeconfig: string } };
    expect(hubSecret.stringData.kubeconfig).toContain("token: agent-token");
  });
});
