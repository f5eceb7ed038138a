// ChangeWatch's retry loop: under a fake clock with a client that refuses every request (each
// delay checked to the millisecond), and once against the real client and a server that refuses
// connections, with no assertion on how long anything took.

import { afterEach, describe, expect, it, vi } from "vitest";
import { KubeApiError } from "../../../src/api/errors.js";
import { ChangeWatch, type KindKey, kindKey } from "../../../src/sync/change-watch.js";
import { KubeClient } from "../../../src/kube/client.js";
import type { ClusterApi } from "../../../src/kube/cluster-api.js";
import { unreachableKubeConfig } from "../builders.js";

/** A ClusterApi stand-in whose every list fails as an unreachable server's does; records who asked when. */
function refusingClient() {
  const asked: Array<[string, number]> = [];
  const client = {
    collectionVersion: async (_apiVersion: string, kind: string) => {
      asked.push([kind, Date.now()]);
      throw new KubeApiError("cannot reach 127.0.0.1:1: connect ECONNREFUSED", { object: `${kind}/*`, retryable: true });
    },
    watchMetadata: async () => {
      throw new Error("watchMetadata called although no list succeeded");
    },
  };
  return { client: client as unknown as ClusterApi, asked };
}

const KINDS: KindKey[] = ["apps/v1|Deployment", "v1|Service"];

describe("ChangeWatch", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("names kinds as apiVersion|kind", () => {
    expect(kindKey({ apiVersion: "apps/v1", kind: "Deployment" })).toBe("apps/v1|Deployment");
  });

  it("retries each kind of a cluster it cannot reach after doubling, capped delays, and reports itself incomplete", async () => {
    vi.useFakeTimers({ now: 0 });
    const { client, asked } = refusingClient();
    let changes = 0;
    let missed = 0;
    const watch = new ChangeWatch({ client, onChange: () => changes++, onMissed: () => missed++, retryMs: { initial: 100, max: 400 } });
    expect(watch.complete).toBe(false); // nothing asked for yet: nothing is watched
    watch.setKinds(KINDS);
    await vi.advanceTimersByTimeAsync(1_100);
    // Delays 100, 200, 400, then 400 again (the cap), for each kind on its own.
    const times = [0, 100, 300, 700, 1_100];
    expect(asked.filter(([k]) => k === "Deployment").map(([, t]) => t)).toEqual(times);
    expect(asked.filter(([k]) => k === "Service").map(([, t]) => t)).toEqual(times);
    expect(watch.complete).toBe(false);
    // No list succeeded, so nothing was reported.
    expect([changes, missed]).toEqual([0, 0]);
    await watch.stop();
  });

  it("stops while waiting to retry without waiting for the delay, then asks nothing and leaves no timer", async () => {
    vi.useFakeTimers({ now: 0 });
    const { client, asked } = refusingClient();
    const watch = new ChangeWatch({ client, onChange: () => {}, onMissed: () => {}, retryMs: { initial: 1_000, max: 60_000 } });
    watch.setKinds(KINDS);
    await vi.advanceTimersByTimeAsync(500); // both kinds wait for their retry at 1 000
    expect(vi.getTimerCount()).toBe(2);
    let stopped = false;
    const stopping = watch.stop().then(() => {
      stopped = true;
    });
    await vi.advanceTimersByTimeAsync(0); // promise callbacks run; the clock does not move
    expect(stopped).toBe(true);
    await stopping;
    expect(vi.getTimerCount()).toBe(0);
    const attempts = asked.length;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(asked).toHaveLength(attempts);
  });

  it("keeps retrying a real server that refuses connections, and once stopped sends nothing and holds no timer", async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const client = new KubeClient({ kubeConfig: unreachableKubeConfig() });
    let changes = 0;
    let missed = 0;
    const before = timers();
    const watch = new ChangeWatch({ client, onChange: () => changes++, onMissed: () => missed++, retryMs: { initial: 20, max: 40 } });
    watch.setKinds(KINDS);
    // Every attempt fails at discovery; wait for retries (two kinds: at least four attempts).
    await vi.waitFor(() => expect(client.stats.byVerb.discovery ?? 0).toBeGreaterThanOrEqual(4), { timeout: 20_000, interval: 10 });
    expect(watch.complete).toBe(false);
    expect([changes, missed]).toEqual([0, 0]);
    await watch.stop();
    const attempts = client.stats.total;
    await new Promise((r) => setTimeout(r, 100));
    expect(client.stats.total).toBe(attempts);
    expect(timers()).toBeLessThanOrEqual(before);
    client.close();
  }, 30_000);
});
