import { afterEach, describe, expect, it, vi } from "vitest";
import { KubeClient } from "../../../src/kube/client.js";
import { ClusterSyncWorker, timerDelay } from "../../../src/sync/worker.js";
import { unreachableKubeConfig } from "../builders.js";

describe("timer delays", () => {
  it.each([
    [300_000, 300_000],
    [0, 0],
    [-5, 0],
    [30 * 24 * 3600_000, 2 ** 31 - 1],
    [Number.POSITIVE_INFINITY, 2 ** 31 - 1],
    [Number.NaN, 2 ** 31 - 1],
  ])("turns a requested delay of %d ms into %d ms, which setTimeout honours", (requested, delay) => {
    expect(timerDelay(requested)).toBe(delay);
  });
});

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
