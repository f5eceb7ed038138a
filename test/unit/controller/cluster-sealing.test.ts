// The ClusterManager's part in sealing: a push cluster gets its key on the hub and its recipient in
// status.sealing, once; a pull cluster's status.sealing is what its agent reports; a deleted
// Cluster's key Secret is deleted; the sync loop's identity getter answers push clusters only.

import { afterEach, describe, expect, it } from "vitest";
import { ClusterManager } from "../../../src/controller/clusters.js";
import type { Hub } from "../../../src/controller/hub.js";
import { hubSealingKeys } from "../../../src/controller/sealing-keys.js";
import type { EnvRepo } from "../../../src/gitops/repo.js";
import type { Cluster, ClusterStatus, SyncReport } from "../../../src/api/types.js";
import { recipientOf } from "../../../src/secrets/age.js";
import { FakeKeyObjects, identityIn } from "../secrets/fake-key-objects.js";

const NS = "flotilla-system";
const managers: ClusterManager[] = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.stop();
});

function setup() {
  const objects = new FakeKeyObjects("2026-12-03T10:00:00Z");
  const patches: Array<{ name: string; status: ClusterStatus }> = [];
  const hub = {
    patchClusterStatus: async (name: string, status: ClusterStatus) => {
      patches.push({ name, status });
    },
    readSecretKey: async () => undefined,
  } as unknown as Hub;
  const manager = new ClusterManager({
    hub,
    repo: {} as EnvRepo,
    resyncIntervalMs: 60_000,
    onSyncEvent: () => {},
    onClusterChanged: () => {},
    sealing: hubSealingKeys(objects, NS),
    now: () => new Date("2026-12-03T11:00:00Z"),
  });
  managers.push(manager);
  const sealingPatches = () => patches.filter((p) => p.status.sealing).map((p) => ({ name: p.name, sealing: p.status.sealing }));
  return { objects, manager, sealingPatches };
}

const cluster = (name: string, spec: Cluster["spec"] = {}, status?: ClusterStatus): Cluster => ({
  apiVersion: "flotilla.dev/v1alpha1",
  kind: "Cluster",
  metadata: { name },
  spec,
  ...(status ? { status } : {}),
});

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe("ClusterManager sealing keys", () => {
  it("makes a push cluster's key Secret on the hub and publishes its recipient in status.sealing, since the Secret's creation", async () => {
    const { objects, manager, sealingPatches } = setup();
    manager.upsert(cluster("eu"));
    await until(() => sealingPatches().length === 1);
    const identity = identityIn(objects.secret(NS, "flotilla-sealing-eu"));
    expect(sealingPatches()).toEqual([{ name: "eu", sealing: { recipient: await recipientOf(identity ?? ""), since: "2026-12-03T10:00:00Z" } }]);
    expect(await manager.sealingIdentity("eu")).toBe(identity);
    // Its own status write coming back through the watch changes nothing.
    manager.upsert(cluster("eu", {}, { sealing: sealingPatches()[0]?.sealing as NonNullable<ClusterStatus["sealing"]> }));
    await new Promise((r) => setTimeout(r, 50));
    expect(sealingPatches()).toHaveLength(1);
  });

  it("does not write status.sealing when the Cluster already shows the key's recipient (a restarted controller)", async () => {
    const { objects, manager, sealingPatches } = setup();
    const first = await hubSealingKeys(objects, NS).ensure("eu");
    manager.upsert(cluster("eu", {}, { sealing: first }));
    await until(() => objects.secret(NS, "flotilla-sealing-eu") !== undefined);
    await new Promise((r) => setTimeout(r, 50));
    expect(sealingPatches()).toEqual([]);
    expect(objects.creates).toBe(1);
  });

  it("deletes the key Secret when the Cluster is deleted", async () => {
    const { objects, manager, sealingPatches } = setup();
    manager.upsert(cluster("eu"));
    await until(() => sealingPatches().length === 1);
    await manager.remove("eu");
    expect(objects.secret(NS, "flotilla-sealing-eu")).toBeUndefined();
  });

  it("publishes a pull cluster's recipient from its agent's report, makes no key for it on the hub and gives its sync loop no identity", async () => {
    const { objects, manager, sealingPatches } = setup();
    manager.upsert(cluster("edge", { mode: "Pull" }));
    const recipient = `age1${"x".repeat(58)}`;
    const report: SyncReport = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "SyncReport",
      metadata: { name: "agent", namespace: "flotilla-cluster-edge" },
      spec: { cluster: "edge" },
      status: { agent: { identity: "agent-0", heartbeatTime: "2026-12-03T11:00:00Z", sealingRecipient: recipient } },
    };
    manager.onReport(report, false);
    await until(() => sealingPatches().length === 1);
    expect(sealingPatches()).toEqual([{ name: "edge", sealing: { recipient, since: "2026-12-03T11:00:00.000Z" } }]);
    manager.onReport({ ...report, status: { agent: { ...report.status?.agent, heartbeatTime: "2026-12-03T11:00:10Z" } } }, false);
    await new Promise((r) => setTimeout(r, 50));
    expect(sealingPatches()).toHaveLength(1);
    expect(objects.secret(NS, "flotilla-sealing-edge")).toBeUndefined();
    expect(await manager.sealingIdentity("edge")).toBeUndefined();
  });
});
