import { afterEach, describe, expect, it, vi } from "vitest";
import { LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../../src/api/labels.js";
import type { Manifest } from "../../../src/api/types.js";
import { KubeClient } from "../../../src/kube/client.js";
import { ClusterSyncWorker } from "../../../src/sync/worker.js";
import type { DesiredState } from "../../../src/sync/types.js";
import { unreachableKubeConfig } from "../builders.js";
import { FakeCluster } from "../fake-cluster.js";

describe("ClusterSyncWorker lifecycle", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("stops cleanly, leaving no timer behind", async () => {
    // Fake timers count only what the worker starts, not the test process's other timers.
    vi.useFakeTimers();
    // Never contacted: the worker is paused, so it sends no request.
    const worker = new ClusterSyncWorker({
      cluster: "c",
      client: new KubeClient({ kubeConfig: unreachableKubeConfig() }),
      source: async (commit) => ({ commit, objects: [] }),
      paused: true,
      healthInterval: 20,
      resyncInterval: 20,
    });
    worker.setDesired("c1");
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    await vi.advanceTimersByTimeAsync(60);
    expect(worker.status.attemptedCommit).toBeUndefined();
    await worker.stop();
    expect(vi.getTimerCount()).toBe(0);
    worker.setDesired("c2");
    expect(worker.status.desiredCommit).toBe("c1");
  });
});

/** A ConfigMap of deployment team-a/web holding `value`: each commit of these tests changes it. */
function settings(value: string): Manifest {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "settings", namespace: "team-a", labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_APP]: "team-a.web" } },
    data: { value },
  } as Manifest;
}

function dataOf(cluster: FakeCluster): unknown {
  return (cluster.peek("ConfigMap", "settings", "team-a") as (Manifest & { data?: unknown }) | undefined)?.data;
}

/** A worker on a fake cluster with no health polling and no watches: only the commit loop runs. */
function commitLoop(cluster: FakeCluster, source: (commit: string) => Promise<DesiredState>) {
  return new ClusterSyncWorker({
    cluster: "c",
    client: cluster,
    source,
    healthInterval: 0,
    resyncInterval: 3_600_000,
    backoff: { initialMs: 1_000, maxMs: 8_000 },
  });
}

describe("ClusterSyncWorker's commit loop on a fake cluster", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("applies a commit and records it applied, with the cluster holding its objects", async () => {
    const cluster = new FakeCluster();
    const worker = commitLoop(cluster, async (commit) => ({ commit, objects: [settings(commit)] }));
    worker.setDesired("c1");
    await worker.idle();
    expect({ applied: worker.status.appliedCommit, failures: worker.status.failures, data: dataOf(cluster) }).toEqual({
      applied: "c1",
      failures: 0,
      data: { value: "c1" },
    });
    await worker.stop();
  });

  it("interrupts a sync that has waited 15 s when a newer commit comes: the older commit's objects are never applied", async () => {
    vi.useFakeTimers({ now: 0 });
    const cluster = new FakeCluster();
    let releaseC1: () => void = () => {};
    const c1Loaded = new Promise<void>((resolve) => {
      releaseC1 = resolve;
    });
    const worker = commitLoop(cluster, async (commit) => {
      if (commit === "c1") await c1Loaded; // a slow read of the env repo
      return { commit, objects: [settings(commit)] };
    });
    worker.setDesired("c1");
    await vi.advanceTimersByTimeAsync(15_000);
    worker.setDesired("c2");
    releaseC1();
    await vi.advanceTimersByTimeAsync(0);
    await worker.idle();
    expect(dataOf(cluster)).toEqual({ value: "c2" });
    expect(cluster.calls.filter((c) => c.verb === "apply").length).toBe(2); // the namespace, then c2's ConfigMap
    expect(worker.status.appliedCommit).toBe("c2");
    await worker.stop();
  });

  it("lets a sync that started moments ago finish, then applies the newer commit after it", async () => {
    vi.useFakeTimers({ now: 0 });
    const cluster = new FakeCluster();
    let releaseC1: () => void = () => {};
    const c1Loaded = new Promise<void>((resolve) => {
      releaseC1 = resolve;
    });
    const applied: string[] = [];
    const worker = new ClusterSyncWorker({
      cluster: "c",
      client: cluster,
      source: async (commit) => {
        if (commit === "c1") await c1Loaded;
        return { commit, objects: [settings(commit)] };
      },
      healthInterval: 0,
      onEvent: (e) => {
        if (e.type === "Synced" && e.deployment === "team-a/web") applied.push(e.commit ?? "");
      },
    });
    worker.setDesired("c1");
    await vi.advanceTimersByTimeAsync(1_000);
    worker.setDesired("c2");
    releaseC1();
    await vi.advanceTimersByTimeAsync(0);
    await worker.idle();
    expect(applied).toEqual(["c1", "c2"]);
    expect(dataOf(cluster)).toEqual({ value: "c2" });
    await worker.stop();
  });

  it("retries a failing commit after doubling, capped delays, and clears the failure once it applies", async () => {
    vi.useFakeTimers({ now: 0 });
    const cluster = new FakeCluster();
    let broken = true;
    const attempts: number[] = [];
    const worker = commitLoop(cluster, async (commit) => {
      attempts.push(Date.now());
      if (broken) throw new Error("env repo unreadable");
      return { commit, objects: [settings(commit)] };
    });
    worker.setDesired("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect({ failures: worker.status.failures, error: worker.status.error, nextRetryAt: worker.status.nextRetryAt }).toEqual({
      failures: 1,
      error: "env repo unreadable",
      nextRetryAt: new Date(1_000).toISOString(),
    });
    await vi.advanceTimersByTimeAsync(1_000 + 2_000 + 4_000 + 8_000 + 8_000);
    // First try at 0, then after 1, 2, 4, 8 and 8 (the cap) seconds.
    expect(attempts).toEqual([0, 1_000, 3_000, 7_000, 15_000, 23_000]);
    broken = false;
    await vi.advanceTimersByTimeAsync(8_000);
    expect({
      applied: worker.status.appliedCommit,
      failures: worker.status.failures,
      error: worker.status.error,
      nextRetryAt: worker.status.nextRetryAt,
    }).toEqual({
      applied: "c1",
      failures: 0,
      error: undefined,
      nextRetryAt: undefined,
    });
    await worker.stop();
  });

  it("does not make a new commit wait out the backoff of a failing one", async () => {
    vi.useFakeTimers({ now: 0 });
    const cluster = new FakeCluster();
    const worker = commitLoop(cluster, async (commit) => {
      if (commit === "c1") throw new Error("c1 is unreadable");
      return { commit, objects: [settings(commit)] };
    });
    worker.setDesired("c1");
    await vi.advanceTimersByTimeAsync(2_500); // failed at 0 and 1 s: the next try is at 3 s
    expect(worker.status.failures).toBe(2);
    worker.setDesired("c2");
    await vi.advanceTimersByTimeAsync(0);
    expect({ applied: worker.status.appliedCommit, failures: worker.status.failures, data: dataOf(cluster) }).toEqual({
      applied: "c2",
      failures: 0,
      data: { value: "c2" },
    });
    await worker.stop();
  });

  it("does not record a commit with a refused object as applied, retries it, and records it once the server takes it", async () => {
    vi.useFakeTimers({ now: 0 });
    const cluster = new FakeCluster();
    cluster.failOn("apply", "ConfigMap/team-a/settings", 503, "ServiceUnavailable");
    const events: string[] = [];
    const worker = new ClusterSyncWorker({
      cluster: "c",
      client: cluster,
      source: async (commit) => ({ commit, objects: [settings(commit)] }),
      healthInterval: 0,
      backoff: { initialMs: 1_000 },
      onEvent: (e) => events.push(`${e.type} ${e.deployment ?? "-"}`),
    });
    worker.setDesired("c1");
    await vi.advanceTimersByTimeAsync(0);
    expect({ applied: worker.status.appliedCommit, attempted: worker.status.attemptedCommit, failures: worker.status.failures }).toEqual({
      applied: undefined,
      attempted: "c1",
      failures: 1,
    });
    expect(events).toContain("SyncFailed team-a/web");
    cluster.clearFailures();
    await vi.advanceTimersByTimeAsync(1_000);
    expect({ applied: worker.status.appliedCommit, failures: worker.status.failures, data: dataOf(cluster) }).toEqual({
      applied: "c1",
      failures: 0,
      data: { value: "c1" },
    });
    await worker.stop();
  });
});
