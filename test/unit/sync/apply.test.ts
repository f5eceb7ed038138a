// applyOne's decision table and ensureNamespaces, against a fake cluster: which requests each case
// sends (none for an object in sync, none for an object Flotilla does not own), what change it
// reports, and how a refused request is reported (the server's status and reason kept).

import { describe, expect, it } from "vitest";
import { KubeApiError } from "../../../src/api/errors.js";
import { LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../../src/api/labels.js";
import type { Manifest } from "../../../src/api/types.js";
import { applyOne, ensureNamespaces, LABEL_CREATED_BY } from "../../../src/sync/apply.js";
import { prepareForApply } from "../../../src/sync/hash.js";
import { FakeCluster } from "../fake-cluster.js";

const NS = "team-a";

function configMap(
  data: Record<string, string>,
  labels: Record<string, string> = { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_APP]: `${NS}.web` },
): Manifest {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: NS, labels }, data };
}

function clusterWithNamespace(): FakeCluster {
  const cluster = new FakeCluster();
  cluster.seed({ apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  return cluster;
}

/** The cluster after Flotilla applied `desired` once, and the live object it holds. */
async function applied(desired: Manifest): Promise<{ cluster: FakeCluster; live: Manifest }> {
  const cluster = clusterWithNamespace();
  const { live } = await applyOne(cluster, desired, { live: undefined });
  cluster.calls.length = 0;
  return { cluster, live: live as Manifest };
}

describe("applyOne", () => {
  it("creates an absent object with one apply, carrying the hash of what it applied", async () => {
    const cluster = clusterWithNamespace();
    const { change, live } = await applyOne(cluster, configMap({ a: "1" }), { live: undefined });
    expect({ action: change.action, deployment: change.deployment, object: change.object }).toEqual({
      action: "created",
      deployment: `${NS}/web`,
      object: `ConfigMap/${NS}/settings`,
    });
    expect(cluster.callsOf("apply")).toEqual([`ConfigMap/${NS}/settings`]);
    expect(live?.metadata.annotations).toEqual(prepareForApply(configMap({ a: "1" })).metadata.annotations);
  });

  it("sends nothing for an object whose hash matches and whose fields did not drift", async () => {
    const { cluster, live } = await applied(configMap({ a: "1" }));
    const { change } = await applyOne(cluster, configMap({ a: "1" }), { live });
    expect(change.action).toBe("unchanged");
    expect(cluster.calls).toEqual([]);
  });

  it("re-applies a drifted field after a dry run confirms the apply would change it, naming the field", async () => {
    const { cluster, live } = await applied(configMap({ a: "1" }));
    const edited = cluster.seed({ ...live, data: { a: "edited by hand" } });
    const { change, live: after } = await applyOne(cluster, configMap({ a: "1" }), { live: edited });
    expect(change.action).toBe("configured");
    expect(change.drift?.join(" ")).toContain("data.a");
    expect(cluster.calls.map((c) => c.verb)).toEqual(["dryRun", "apply"]);
    expect((after as Manifest & { data: unknown }).data).toEqual({ a: "1" });
  });

  it("reads again before calling a difference drift when the object changed after our read", async () => {
    const { cluster, live } = await applied(configMap({ a: "1" }));
    // We read the object while a hand edit was on it; before our dry run, the edit was undone and
    // another controller added a field of its own. Our read is stale, the object is in sync.
    const read = cluster.seed({ ...live, data: { a: "edited by hand" } });
    cluster.seed({ ...live, binaryData: { blob: "AA==" } } as Manifest);
    cluster.calls.length = 0;
    const { change } = await applyOne(cluster, configMap({ a: "1" }), { live: read });
    expect(change.action).toBe("unchanged");
    expect(cluster.calls.map((c) => c.verb)).toEqual(["dryRun", "get", "dryRun"]);
  });

  it("applies a changed desired object and reports it configured when the server moved its version", async () => {
    const { cluster, live } = await applied(configMap({ a: "1" }));
    const { change, live: after } = await applyOne(cluster, configMap({ a: "2" }), { live });
    expect(change.action).toBe("configured");
    expect(cluster.callsOf("apply")).toHaveLength(1);
    expect(after?.metadata.resourceVersion).not.toBe(live.metadata.resourceVersion);
  });

  it("never writes an object another tool manages, and says how to hand it over", async () => {
    const cluster = clusterWithNamespace();
    const theirs = cluster.seed(configMap({ a: "theirs" }, { [LABEL_MANAGED_BY]: "Helm" }));
    const { change } = await applyOne(cluster, configMap({ a: "1" }), { live: theirs });
    expect(change.action).toBe("skipped");
    expect(change.message).toContain('managed by "Helm"');
    expect(change.message).toContain(`${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE}`);
    expect(cluster.calls).toEqual([]);
    expect((cluster.peek("ConfigMap", "settings", NS) as Manifest & { data: unknown }).data).toEqual({ a: "theirs" });
  });

  it("reports a refused apply as failed, keeping the server's status and reason and not retrying a 422", async () => {
    const cluster = clusterWithNamespace();
    cluster.failOn("apply", `ConfigMap/${NS}/settings`, 422, "Invalid");
    const { change, live } = await applyOne(cluster, configMap({ a: "1" }), { live: undefined });
    expect(change.action).toBe("failed");
    expect(change.error).toBeInstanceOf(KubeApiError);
    expect({ status: change.error?.status, retryable: change.error?.retryable, reason: (change.error as KubeApiError | undefined)?.reason }).toEqual({
      status: 422,
      retryable: false,
      reason: "Invalid",
    });
    expect(live).toBeUndefined();
  });

  it("fails an object whose read failed without sending anything, with the read's error", async () => {
    const cluster = clusterWithNamespace();
    const readError = new KubeApiError("get failed: throttled (HTTP 429)", {
      object: `ConfigMap/${NS}/settings`,
      status: 429,
      reason: "TooManyRequests",
      retryable: true,
    });
    const { change } = await applyOne(cluster, configMap({ a: "1" }), { live: undefined, error: readError });
    expect(change.action).toBe("failed");
    expect(change.error).toBe(readError);
    expect(cluster.calls).toEqual([]);
  });

  it("fails a manifest without a name before any request, as not retryable, pointing at the file", async () => {
    const cluster = clusterWithNamespace();
    const nameless = configMap({ a: "1" });
    nameless.metadata.name = "";
    const { change } = await applyOne(cluster, nameless, { live: undefined });
    expect(change.action).toBe("failed");
    expect(change.error?.retryable).toBe(false);
    expect(change.message).toContain("metadata.name is missing; fix the file in the env repo");
    expect(cluster.calls).toEqual([]);
  });
});

describe("ensureNamespaces", () => {
  it("creates only missing namespaces, labelled created-by but never managed-by (so never pruned)", async () => {
    const cluster = clusterWithNamespace();
    const { changes, failed } = await ensureNamespaces(cluster, [NS, "team-b"]);
    expect(changes.map((c) => [c.object, c.action])).toEqual([["Namespace/team-b", "created"]]);
    expect(failed.size).toBe(0);
    expect(cluster.peek("Namespace", "team-b")?.metadata.labels).toEqual({ [LABEL_CREATED_BY]: MANAGED_BY_VALUE });
    expect(cluster.callsOf("apply")).toEqual(["Namespace/team-b"]);
  });

  it("names the namespace it could not create, so the objects in it are not attempted", async () => {
    const cluster = clusterWithNamespace();
    cluster.failOn("apply", "Namespace/team-b", 403, "Forbidden");
    const { changes, failed } = await ensureNamespaces(cluster, ["team-b"]);
    expect([...failed.keys()]).toEqual(["team-b"]);
    expect(failed.get("team-b")).toMatch(/HTTP 403/);
    expect(changes.map((c) => [c.object, c.action, c.deployment])).toEqual([["Namespace/team-b", "failed", "team-b/-"]]);
  });
});
