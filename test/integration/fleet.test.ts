// Proves the local fleet is real: Deployments become Available on members through the real
// controllers and the node simulator, `-broken` images crash-loop, scale-down finishes pod
// deletion, nodes are Ready, and the hub enforces RBAC for a token without rights.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { AppsV1Api, CoreV1Api, type V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FleetAlreadyRunningError, type RunningFleet, readFleet, startFleet } from "../../src/fleet/index.js";
import { findFleetProcesses } from "../../src/fleet/processes.js";
import { cluster, fleet, hub, kubeConfig, kubectl, members, waitFor, withNamespace } from "./support/fleet.js";

function deployment(name: string, image: string, replicas: number): V1Deployment {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: "main", image }] } },
    },
  };
}

describe("the local fleet", () => {
  it("has a hub and the quickstart members with their labels", () => {
    expect(fleet().clusters.map((c) => c.name)).toEqual(["hub", "staging", "prod-eu", "prod-us"]);
    expect(cluster("staging").labels).toEqual({ usage: "staging", region: "eu" });
    expect(cluster("prod-eu").labels).toEqual({ usage: "production", region: "eu" });
    expect(cluster("prod-us").labels).toEqual({ usage: "production", region: "us" });
    expect(new Set(fleet().clusters.map((c) => c.server)).size).toBe(4);
  });

  it.each(["staging", "prod-eu", "prod-us"])("has a Ready node with room for thousands of pods on %s", async (name) => {
    const nodes = await kubeConfig(name).makeApiClient(CoreV1Api).listNode();
    expect(nodes.items).toHaveLength(1);
    const node = nodes.items[0];
    expect(node?.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    const pods = node?.status?.allocatable?.pods ?? "0";
    expect(pods.endsWith("k") ? Number(pods.slice(0, -1)) * 1000 : Number(pods)).toBeGreaterThanOrEqual(5000);
  });

  it("serves kubectl with the generated kubeconfig and verifies the server's certificate", async () => {
    const { stdout } = await kubectl("prod-eu", ["get", "nodes", "--no-headers"]);
    expect(stdout).toMatch(/prod-eu-node-1\s+Ready/);
    const { stdout: config } = await kubectl("prod-eu", ["config", "view", "--raw", "-o", "jsonpath={.clusters[0].cluster}"]);
    expect(config).toContain("certificate-authority-data");
    expect(config).not.toContain("insecure-skip-tls-verify");
  });

  it("makes a Deployment Available on a member", async () => {
    await withNamespace("prod-eu", async (ns) => {
      const apps = kubeConfig("prod-eu").makeApiClient(AppsV1Api);
      await apps.createNamespacedDeployment({ namespace: ns, body: deployment("web", "nginx:1.27", 3) });
      const ready = await waitFor(
        async () => {
          const d = await apps.readNamespacedDeployment({ name: "web", namespace: ns });
          return d.status?.availableReplicas === 3 ? d : undefined;
        },
        { timeoutMs: 30_000, message: "web to have 3 available replicas" },
      );
      expect(ready.status?.conditions?.find((c) => c.type === "Available")?.status).toBe("True");
      const pods = await kubeConfig("prod-eu").makeApiClient(CoreV1Api).listNamespacedPod({ namespace: ns });
      expect(pods.items.map((p) => p.spec?.nodeName)).toEqual(["prod-eu-node-1", "prod-eu-node-1", "prod-eu-node-1"]);
      expect(pods.items.every((p) => p.status?.phase === "Running" && p.status.podIP)).toBe(true);
    });
  });

  it("finishes the deletion of pods so a Deployment can scale down", async () => {
    await withNamespace("staging", async (ns) => {
      const apps = kubeConfig("staging").makeApiClient(AppsV1Api);
      const core = kubeConfig("staging").makeApiClient(CoreV1Api);
      await apps.createNamespacedDeployment({ namespace: ns, body: deployment("api", "nginx:1.27", 4) });
      await waitFor(async () => (await apps.readNamespacedDeployment({ name: "api", namespace: ns })).status?.availableReplicas === 4, {
        message: "api to have 4 available replicas",
      });
      await kubectl("staging", ["-n", ns, "scale", "deployment/api", "--replicas=1"]);
      await waitFor(async () => (await core.listNamespacedPod({ namespace: ns })).items.length === 1, {
        message: "terminated pods to be removed",
      });
      const d = await apps.readNamespacedDeployment({ name: "api", namespace: ns });
      expect(d.status?.availableReplicas).toBe(1);
    });
  });

  it("keeps pods of a -broken image not ready in CrashLoopBackOff with rising restarts", async () => {
    await withNamespace("prod-us", async (ns) => {
      const apps = kubeConfig("prod-us").makeApiClient(AppsV1Api);
      const core = kubeConfig("prod-us").makeApiClient(CoreV1Api);
      await apps.createNamespacedDeployment({ namespace: ns, body: deployment("bad", "registry.local:5000/app:v2-broken", 2) });
      const pods = await waitFor(
        async () => {
          const list = await core.listNamespacedPod({ namespace: ns, labelSelector: "app=bad" });
          const crashing = list.items.filter((p) => (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2);
          return crashing.length === 2 ? crashing : undefined;
        },
        { timeoutMs: 30_000, message: "both pods to restart twice" },
      );
      for (const pod of pods) {
        const status = pod.status?.containerStatuses?.[0];
        expect(status?.state?.waiting?.reason).toBe("CrashLoopBackOff");
        expect(status?.ready).toBe(false);
        expect(pod.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
      }
      const d = await apps.readNamespacedDeployment({ name: "bad", namespace: ns });
      expect(d.status?.availableReplicas ?? 0).toBe(0);
      expect(d.status?.unavailableReplicas).toBe(2);
      const { stdout } = await kubectl("prod-us", ["-n", ns, "get", "pods", "--no-headers"]);
      expect(stdout).toContain("CrashLoopBackOff");
    });
  });

  it("forbids a token without RBAC rights on the hub, and allows the admin", async () => {
    const unprivileged = kubeConfig("hub", { token: hub().unprivilegedToken }).makeApiClient(CoreV1Api);
    await expect(unprivileged.listNamespace()).rejects.toMatchObject({ code: 403 });
    const admin = kubeConfig("hub").makeApiClient(CoreV1Api);
    const namespaces = await admin.listNamespace();
    expect(namespaces.items.map((n) => n.metadata?.name)).toContain("kube-system");
    const anonymous = kubeConfig("hub", { token: "not-a-valid-token" }).makeApiClient(CoreV1Api);
    await expect(anonymous.listNamespace()).rejects.toMatchObject({ code: 401 });
  });

  it("keeps clusters separate: a member's token is not accepted by the hub", async () => {
    const member = members()[0];
    expect(member).toBeDefined();
    const foreign = kubeConfig("hub", { token: member?.unprivilegedToken ?? "" }).makeApiClient(CoreV1Api);
    await expect(foreign.listNamespace()).rejects.toMatchObject({ code: 401 });
    expect((await kubeConfig("hub").makeApiClient(CoreV1Api).listNode()).items).toHaveLength(0);
  });
});

// A second, small fleet owned by this test file: proves restarts and a clean stop without touching
// the shared fleet the other tests use.
describe("a fleet's lifecycle", () => {
  let own: RunningFleet | undefined;
  let dir = "";

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "flotilla-lifecycle-"));
    own = await startFleet({ dir, members: ["edge"] });
  });

  afterAll(async () => {
    await own?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("records itself in fleet.json with the owner's pid and refuses a second start in the same directory", async () => {
    const info = await readFleet(dir);
    expect(info?.state).toBe("running");
    expect(info?.ownerPid).toBe(process.pid);
    expect(info?.clusters.map((c) => c.name)).toEqual(["hub", "edge"]);
    expect(info?.clusters[1]?.labels).toEqual({ usage: "development" });
    await expect(startFleet({ dir, members: ["edge"] })).rejects.toBeInstanceOf(FleetAlreadyRunningError);
  });

  it("serves a member again after its API server is stopped and started", async () => {
    const edge = own?.members[0];
    if (!own || !edge) throw new Error("no fleet");
    const core = kubeConfig(edge).makeApiClient(CoreV1Api);
    await own.stopApiServer("edge");
    await expect(core.listNode()).rejects.toThrow();
    await own.startApiServer("edge");
    await withNamespace(edge, async (ns) => {
      const apps = kubeConfig(edge).makeApiClient(AppsV1Api);
      await apps.createNamespacedDeployment({ namespace: ns, body: deployment("after-restart", "nginx:1.27", 2) });
      await waitFor(async () => (await apps.readNamespacedDeployment({ name: "after-restart", namespace: ns })).status?.availableReplicas === 2, {
        timeoutMs: 45_000,
        message: "the node simulator to recover after the restart",
      });
    });
  });

  it("leaves no control-plane process and no fleet.json behind when stopped", async () => {
    expect(findFleetProcesses(path.resolve(dir)).length).toBe(1 + 2 + 2); // etcd, 2 API servers, 2 controller managers
    await own?.stop();
    expect(findFleetProcesses(path.resolve(dir))).toEqual([]);
    expect(await readFleet(dir)).toBeUndefined();
  });
});
