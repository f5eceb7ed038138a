import { describe, expect, it } from "vitest";
import { KubeClient } from "../../../src/sync/kube.js";
import { backoffDelay, ClusterSyncWorker } from "../../../src/sync/worker.js";
import { unreachableKubeConfig } from "../builders.js";

describe("retry backoff", () => {
  it.each<[number, Parameters<typeof backoffDelay>[1], number]>([
    [1, {}, 1_000],
    [2, {}, 2_000],
    [5, {}, 16_000],
    [20, {}, 300_000],
    [3, { initialMs: 100, factor: 3 }, 900],
    [10, { initialMs: 100, maxMs: 5_000 }, 5_000],
  ])("waits before retry %i with %j: %i ms", (failures, options, expected) => {
    expect(backoffDelay(failures, options)).toBe(expected);
  });
});

describe("ClusterSyncWorker lifecycle", () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

  it("stops cleanly, leaving no timer behind", async () => {
    // Never contacted: the worker is paused, so it sends no request.
    const kubeConfig = unreachableKubeConfig();
    const before = timers();
    const worker = new ClusterSyncWorker({
      cluster: "c",
      client: new KubeClient({ kubeConfig }),
      source: async (commit) => ({ commit, objects: [] }),
      paused: true,
      healthInterval: 20,
      resyncInterval: 20,
    });
    worker.setDesired("c1");
    expect(timers()).toBeGreaterThan(before);
    await new Promise((r) => setTimeout(r, 60));
    expect(worker.status.attemptedCommit).toBeUndefined();
    await worker.stop();
    expect(timers()).toBe(before);
    worker.setDesired("c2");
    expect(worker.status.desiredCommit).toBe("c1");
  });
});
