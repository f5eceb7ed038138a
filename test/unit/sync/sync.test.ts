// One sync of one cluster against a fake cluster: the namespace first, objects wave by wave, one
// refused object failing alone, a file that disappeared pruned, and a second sync of the same
// commit sending no write. The API server's own behaviour (merge rules, caches) is tested in
// test/integration/sync.test.ts.

import { describe, expect, it } from "vitest";
import { LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../../src/api/labels.js";
import type { Manifest } from "../../../src/api/types.js";
import { syncCluster } from "../../../src/sync/sync.js";
import { FakeCluster } from "../fake-cluster.js";

const NS = "team-a";
const LABELS = { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_APP]: `${NS}.web` };

const settings: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: NS, labels: LABELS }, data: { a: "1" } } as Manifest;
const service: Manifest = {
  apiVersion: "v1",
  kind: "Service",
  metadata: { name: "web", namespace: NS, labels: LABELS },
  spec: { ports: [{ port: 80 }] },
} as Manifest;
const deployment: Manifest = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: NS, labels: LABELS },
  spec: { replicas: 1 },
} as Manifest;

describe("syncCluster", () => {
  it("creates the namespace, then applies wave by wave in kind order", async () => {
    const cluster = new FakeCluster();
    const result = await syncCluster({ client: cluster, desired: { commit: "c1", objects: [deployment, service, settings] } });
    expect(cluster.callsOf("apply")).toEqual(["Namespace/team-a", `ConfigMap/${NS}/settings`, `Service/${NS}/web`, `Deployment/${NS}/web`]);
    expect(result.failed).toBe(0);
    expect(result.inSync.map((s) => s.desired.kind)).toEqual(["ConfigMap", "Service", "Deployment"]);
  });

  it("lets one refused object fail alone: the others are applied and counted in sync", async () => {
    const cluster = new FakeCluster();
    cluster.failOn("apply", `Service/${NS}/web`, 422, "Invalid");
    const result = await syncCluster({ client: cluster, desired: { commit: "c1", objects: [deployment, service, settings] } });
    expect(result.failed).toBe(1);
    expect(result.changes.filter((c) => c.action === "failed").map((c) => c.object)).toEqual([`Service/${NS}/web`]);
    expect(cluster.peek("Deployment", "web", NS)).toBeDefined();
    expect(cluster.peek("ConfigMap", "settings", NS)).toBeDefined();
  });

  it("names the member's reason on every object of a namespace it may not use (a restricted member's Forbidden)", async () => {
    const cluster = new FakeCluster();
    cluster.failOn("get", `Namespace/${NS}`, 403, "Forbidden");
    const result = await syncCluster({ client: cluster, desired: { commit: "c1", objects: [deployment, settings] } });
    const blocked = result.changes.filter((c) => c.deployment === `${NS}/web`);
    expect(blocked.map((c) => c.action)).toEqual(["failed", "failed"]);
    for (const c of blocked) expect(c.message).toMatch(new RegExp(`^namespace ${NS} is not usable: .*HTTP 403`));
    expect(cluster.callsOf("apply")).toEqual([]);
  });

  it("prunes the object whose file disappeared between two commits, and writes nothing for the unchanged rest", async () => {
    const cluster = new FakeCluster();
    await syncCluster({ client: cluster, desired: { commit: "c1", objects: [deployment, service, settings] } });
    cluster.calls.length = 0;
    const result = await syncCluster({
      client: cluster,
      desired: { commit: "c2", objects: [deployment, settings] },
      previous: [deployment, service, settings],
    });
    expect(cluster.callsOf("delete")).toEqual([`Service/${NS}/web`]);
    expect(cluster.callsOf("apply")).toEqual([]);
    expect(result.changes.filter((c) => c.action !== "unchanged").map((c) => [c.object, c.action])).toEqual([[`Service/${NS}/web`, "deleted"]]);
    expect(cluster.peek("Service", "web", NS)).toBeUndefined();
  });

  it("does not prune when told not to, and keeps what it could not delete for the next sync", async () => {
    const cluster = new FakeCluster();
    await syncCluster({ client: cluster, desired: { commit: "c1", objects: [service, settings] } });
    const kept = await syncCluster({ client: cluster, desired: { commit: "c2", objects: [settings] }, previous: [service, settings], prune: false });
    expect(kept.changes.some((c) => c.action === "deleted")).toBe(false);
    cluster.failOn("delete", `Service/${NS}/web`, 503, "ServiceUnavailable");
    const refused = await syncCluster({ client: cluster, desired: { commit: "c2", objects: [settings] }, previous: [service, settings] });
    expect(refused.pruneFailed.map((o) => o.metadata.name)).toEqual(["web"]);
    expect(refused.changes.find((c) => c.object === `Service/${NS}/web`)?.error?.retryable).toBe(true);
  });
});
