import { describe, expect, it } from "vitest";
import type { Cluster, TenantPolicy, TenantPolicySpec, TenantPolicyStatus } from "../../../src/api/types.js";
import { TenantPolicyStatusWriter } from "../../../src/controller/tenant-policy-status.js";
import { tenantPolicyStatus } from "../../../src/tenancy/status.js";
import { aCluster } from "../builders.js";

function aPolicy(name: string, spec: TenantPolicySpec, generation = 1, status?: TenantPolicyStatus): TenantPolicy {
  return { apiVersion: "flotilla.dev/v1alpha1", kind: "TenantPolicy", metadata: { name, generation }, spec, ...(status ? { status } : {}) };
}

const clusters: Cluster[] = [
  aCluster("staging").withLabel("usage", "staging").build(),
  aCluster("prod-us").withLabel("usage", "production").build(),
  aCluster("prod-eu").withLabel("usage", "production").build(),
];
const namespaces = [
  { name: "team-b", labels: { tenant: "yes" } },
  { name: "team-a", labels: { tenant: "yes" } },
  { name: "kube-system", labels: {} },
];

describe("a TenantPolicy's status", () => {
  it("lists the namespaces it names and those its selector matches, and the Clusters its selector allows, sorted and counted", () => {
    const policy = aPolicy(
      "tenants",
      { namespaces: { names: ["team-z"], selector: { matchLabels: { tenant: "yes" } } }, clusters: { matchLabels: { usage: "production" } } },
      3,
    );
    expect(tenantPolicyStatus(policy, namespaces, clusters)).toEqual({
      observedGeneration: 3,
      namespaces: ["team-a", "team-b", "team-z"],
      namespaceCount: 3,
      clusters: ["prod-eu", "prod-us"],
      clusterCount: 2,
      clusterTotal: 3,
    });
  });

  it("allows every Cluster without a cluster selector, and knows only the named namespaces while namespaces are not watched", () => {
    const status = tenantPolicyStatus(
      aPolicy("kinds-only", { namespaces: { names: ["team-a"] }, kinds: { deny: [{ group: "", kind: "Pod" }] } }),
      undefined,
      clusters,
    );
    expect(status.namespaces).toEqual(["team-a"]);
    expect(status.clusters).toEqual(["prod-eu", "prod-us", "staging"]);
    expect(status.clusterCount).toBe(3);
  });

  it("lists at most 100 names of each, and counts them all", () => {
    const many = Array.from({ length: 250 }, (_, i) => ({ name: `team-${String(i).padStart(3, "0")}`, labels: { tenant: "yes" } }));
    const status = tenantPolicyStatus(aPolicy("all", { namespaces: { selector: { matchLabels: { tenant: "yes" } } } }), many, clusters);
    expect(status.namespaces).toHaveLength(100);
    expect(status.namespaces?.[99]).toBe("team-099");
    expect(status.namespaceCount).toBe(250);
  });
});

describe("the TenantPolicy status writer", () => {
  function writer(policies: TenantPolicy[], failures = 0) {
    const writes: Array<[string, TenantPolicyStatus]> = [];
    const errors: string[] = [];
    let ready = true;
    let left = failures;
    const w = new TenantPolicyStatusWriter({
      policies: () => policies,
      namespaces: () => namespaces,
      clusters: () => clusters,
      ready: () => ready,
      write: async (name, status) => {
        if (left-- > 0) throw Object.assign(new Error("the hub is down"), { code: 503 });
        writes.push([name, status]);
      },
      onError: (name) => errors.push(name),
      delayMs: 1,
      retryMs: 5,
    });
    return { w, writes, errors, setReady: (r: boolean) => (ready = r) };
  }

  it("writes each policy's status once for a burst of changes, and nothing for a status already shown", async () => {
    const current = tenantPolicyStatus(aPolicy("b", { namespaces: { names: ["team-b"] } }), namespaces, clusters);
    const { w, writes } = writer([aPolicy("a", { namespaces: { names: ["team-a"] } }), aPolicy("b", { namespaces: { names: ["team-b"] } }, 1, current)]);
    for (let i = 0; i < 10; i++) w.changed();
    await w.settled();
    expect(writes.map(([name]) => name)).toEqual(["a"]);
    w.changed();
    await w.settled();
    expect(writes).toHaveLength(1);
    w.stop();
  });

  it("takes a status the hub hands back with its keys sorted as the same, and writes a policy created again under the same name", async () => {
    const computed = tenantPolicyStatus(aPolicy("b", { namespaces: { names: ["team-b"] } }), namespaces, clusters);
    const sorted = Object.fromEntries(Object.entries(computed).sort(([a], [b]) => a.localeCompare(b))) as TenantPolicyStatus;
    const first = { ...aPolicy("b", { namespaces: { names: ["team-b"] } }), metadata: { name: "b", generation: 1, uid: "uid-1" } };
    const policies: TenantPolicy[] = [{ ...first, status: sorted }];
    const { w, writes } = writer(policies);
    w.changed();
    await w.settled();
    expect(writes).toEqual([]);
    // Deleted and created again: a new uid, no status yet, the same status to write.
    policies[0] = { ...first, metadata: { ...first.metadata, uid: "uid-2" } };
    w.changed();
    await w.settled();
    expect(writes.map(([name]) => name)).toEqual(["b"]);
    // The informer has not caught up yet: the same status is not written twice.
    w.changed();
    await w.settled();
    expect(writes).toHaveLength(1);
    w.stop();
  });

  it("retries a failed write, and waits for the caches before writing anything", async () => {
    const { w, writes, errors, setReady } = writer([aPolicy("a", { namespaces: { names: ["team-a"] } })], 2);
    setReady(false);
    w.changed();
    await new Promise((r) => setTimeout(r, 20));
    expect(writes).toEqual([]);
    setReady(true);
    await w.settled();
    expect(errors).toEqual(["a", "a"]);
    expect(writes.map(([name, s]) => [name, s.namespaces])).toEqual([["a", ["team-a"]]]);
    w.stop();
  });
});
