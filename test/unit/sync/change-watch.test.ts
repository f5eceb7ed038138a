import { describe, expect, it } from "vitest";
import { ChangeWatch, kindKey } from "../../../src/sync/change-watch.js";
import { KubeClient } from "../../../src/sync/kube.js";
import { unreachableKubeConfig } from "../builders.js";

describe("ChangeWatch", () => {
  const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

  it("names kinds as apiVersion|kind", () => {
    expect(kindKey({ apiVersion: "apps/v1", kind: "Deployment" })).toBe("apps/v1|Deployment");
  });

  it("keeps retrying a cluster it cannot reach, reports itself incomplete, and stops without a timer left", async () => {
    const client = new KubeClient({ kubeConfig: unreachableKubeConfig() });
    let changes = 0;
    let missed = 0;
    const before = timers();
    const watch = new ChangeWatch({ client, onChange: () => changes++, onMissed: () => missed++, retryMs: { initial: 20, max: 40 } });
    expect(watch.complete).toBe(false); // nothing asked for yet: nothing is watched
    watch.setKinds(["apps/v1|Deployment", "v1|Service"]);
    await new Promise((r) => setTimeout(r, 300));
    // Every attempt failed at discovery: no list succeeded, so nothing was reported.
    expect(client.stats.byVerb.discovery ?? 0).toBeGreaterThanOrEqual(4);
    expect(watch.complete).toBe(false);
    expect([changes, missed]).toEqual([0, 0]);
    const started = Date.now();
    await watch.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    const attempts = client.stats.total;
    await new Promise((r) => setTimeout(r, 100));
    expect(client.stats.total).toBe(attempts);
    expect(timers()).toBeLessThanOrEqual(before);
    client.close();
  });
});
