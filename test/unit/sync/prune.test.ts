// pruneObjects against a fake cluster: what it deletes (owned objects whose files went away, with
// their uid as precondition), what it refuses, in which order, and how a refused deletion is kept
// for the next try.

import { describe, expect, it } from "vitest";
import type { KubeApiError } from "../../../src/api/errors.js";
import { LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../../src/api/labels.js";
import type { Manifest } from "../../../src/api/types.js";
import { pruneObjects } from "../../../src/sync/prune.js";
import { objectKey } from "../../../src/sync/types.js";
import { FakeCluster } from "../fake-cluster.js";

const NS = "team-a";
const OWNED = { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_APP]: `${NS}.web` };

function object(apiVersion: string, kind: string, name: string, labels: Record<string, string> = OWNED, extra: Partial<Manifest["metadata"]> = {}): Manifest {
  return { apiVersion, kind, metadata: { name, namespace: NS, labels, ...extra } };
}

describe("pruneObjects", () => {
  it("deletes owned objects, dependents first: the Deployment before the Service before the ConfigMap", async () => {
    const cluster = new FakeCluster();
    const candidates = [object("v1", "ConfigMap", "settings"), object("v1", "Service", "web"), object("apps/v1", "Deployment", "web")].map((o) =>
      cluster.seed(o),
    );
    const { changes, failedObjects } = await pruneObjects(cluster, candidates);
    expect(cluster.callsOf("delete")).toEqual([`Deployment/${NS}/web`, `Service/${NS}/web`, `ConfigMap/${NS}/settings`]);
    expect(changes.map((c) => c.action)).toEqual(["deleted", "deleted", "deleted"]);
    expect(failedObjects).toEqual([]);
    expect(cluster.peek("ConfigMap", "settings", NS)).toBeUndefined();
  });

  it.each([
    { name: "a Namespace", live: { apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels: OWNED } }, says: "Namespaces are never deleted" },
    {
      name: "an object another tool manages",
      live: object("v1", "ConfigMap", "settings", { [LABEL_MANAGED_BY]: "Helm", [LABEL_APP]: `${NS}.web` }),
      says: "not owned by Flotilla",
    },
    {
      name: "an object of no deployment folder",
      live: object("v1", "ConfigMap", "settings", { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE }),
      says: `has no ${LABEL_APP} label`,
    },
    {
      name: "an object a controller created",
      live: object("v1", "Pod", "web-1", OWNED, {
        ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-1a", uid: "u", controller: true }],
      } as Partial<Manifest["metadata"]>),
      says: "created by ReplicaSet/web-1a",
    },
  ])("refuses to delete $name, and says why", async ({ live, says }) => {
    const cluster = new FakeCluster();
    const seeded = cluster.seed(live as Manifest);
    const { changes } = await pruneObjects(cluster, [seeded]);
    expect(cluster.callsOf("delete")).toEqual([]);
    expect(changes).toHaveLength(1);
    expect(changes[0]?.action).toBe("skipped");
    expect(changes[0]?.message).toContain(says);
  });

  it("reads the live object first and judges that, not the file: an object handed to another tool since is kept", async () => {
    const cluster = new FakeCluster();
    const before = object("v1", "ConfigMap", "settings");
    cluster.seed({ ...before, metadata: { ...before.metadata, labels: { [LABEL_MANAGED_BY]: "Helm", [LABEL_APP]: `${NS}.web` } } });
    const { changes } = await pruneObjects(cluster, [before]);
    expect(cluster.callsOf("get")).toEqual([`ConfigMap/${NS}/settings`]);
    expect(changes.map((c) => c.action)).toEqual(["skipped"]);
    expect(cluster.peek("ConfigMap", "settings", NS)).toBeDefined();
  });

  it("says nothing of an object already gone", async () => {
    const cluster = new FakeCluster();
    const { changes, failedObjects } = await pruneObjects(cluster, [object("v1", "ConfigMap", "settings")]);
    expect({ changes, failedObjects }).toEqual({ changes: [], failedObjects: [] });
    expect(cluster.callsOf("delete")).toEqual([]);
  });

  it("deletes only the very object it read: one recreated meanwhile (another uid) is refused by the precondition and kept", async () => {
    const cluster = new FakeCluster();
    const read = cluster.seed(object("v1", "ConfigMap", "settings"));
    // Someone deletes and recreates it between the read (handed in as live) and the delete.
    await cluster.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: NS, name: "settings" });
    cluster.seed(object("v1", "ConfigMap", "settings"));
    const { changes, failedObjects } = await pruneObjects(cluster, [read], { live: new Map([[objectKey(read), read]]) });
    expect(changes.map((c) => c.action)).toEqual(["failed"]);
    expect((changes[0]?.error as KubeApiError | undefined)?.reason).toBe("Conflict");
    expect(failedObjects).toEqual([read]);
    expect(cluster.peek("ConfigMap", "settings", NS)).toBeDefined();
  });

  it("keeps an object whose deletion was refused for the next try, with the server's reason, and goes on with the rest", async () => {
    const cluster = new FakeCluster();
    const settings = cluster.seed(object("v1", "ConfigMap", "settings"));
    const service = cluster.seed(object("v1", "Service", "web"));
    cluster.failOn("delete", `Service/${NS}/web`, 403, "Forbidden");
    const { changes, failedObjects } = await pruneObjects(cluster, [settings, service]);
    expect(failedObjects).toEqual([service]);
    expect(changes.map((c) => [c.object, c.action])).toEqual([
      [`Service/${NS}/web`, "failed"],
      [`ConfigMap/${NS}/settings`, "deleted"],
    ]);
    expect(changes[0]?.message).toMatch(/^prune failed: Service\/team-a\/web: delete failed/);
    expect({ retryable: changes[0]?.error?.retryable, reason: (changes[0]?.error as KubeApiError | undefined)?.reason }).toEqual({
      retryable: false,
      reason: "Forbidden",
    });
  });

  it("stops before the next wave once aborted", async () => {
    const cluster = new FakeCluster();
    const deployment = cluster.seed(object("apps/v1", "Deployment", "web"));
    const settings = cluster.seed(object("v1", "ConfigMap", "settings"));
    const abort = new AbortController();
    abort.abort();
    const { changes } = await pruneObjects(cluster, [deployment, settings], { signal: abort.signal });
    expect(changes).toEqual([]);
    expect(cluster.calls).toEqual([]);
  });
});
