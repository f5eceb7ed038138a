import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { DriftSuspects, type LiveMetadata } from "../../../src/sync/drift-suspects.js";
import { ANNOTATION_APPLIED_HASH } from "../../../src/sync/hash.js";

const desired: Manifest = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", labels: { "app.kubernetes.io/name": "web" }, annotations: { "team.example/owner": "payments" } },
  spec: { replicas: 2 },
};
const KEY = "apps|Deployment|shop|web";
const DEPLOYMENT = "shop/checkout";

/** As the sync left it: the server's generation, our labels and annotations, and some of its own. */
const applied: LiveMetadata = {
  generation: 3,
  labels: { "app.kubernetes.io/name": "web" },
  annotations: { "team.example/owner": "payments", [ANNOTATION_APPLIED_HASH]: "abc", "deployment.kubernetes.io/revision": "1" },
};

function compared(): DriftSuspects {
  const s = new DriftSuspects();
  s.recordCompared(KEY, DEPLOYMENT, desired, applied);
  return s;
}

function suspectsAfter(change: Partial<LiveMetadata>, type: "ADDED" | "MODIFIED" | "DELETED" = "MODIFIED"): string[] {
  const s = compared();
  s.observe({ type, key: KEY, deployment: "shop/-", metadata: { ...applied, ...change } });
  return [...s.pending];
}

describe("DriftSuspects", () => {
  it("does not suspect a status-only change: same generation, same labels and annotations Flotilla set", () => {
    expect(suspectsAfter({})).toEqual([]);
  });

  it("does not suspect a change to a label or annotation Flotilla did not set", () => {
    expect(suspectsAfter({ annotations: { ...applied.annotations, "deployment.kubernetes.io/revision": "2" }, labels: { ...applied.labels, "pod-template-hash": "x" } })).toEqual([]);
  });

  it.each<[string, Partial<LiveMetadata>]>([
    ["a new generation (spec edited, e.g. kubectl set image)", { generation: 4 }],
    ["one of its labels changed", { labels: { "app.kubernetes.io/name": "other" } }],
    ["one of its annotations removed", { annotations: { [ANNOTATION_APPLIED_HASH]: "abc" } }],
    ["the applied hash edited", { annotations: { ...applied.annotations, [ANNOTATION_APPLIED_HASH]: "zzz" } }],
  ])("suspects the deployment the object was compared for after %s", (_, change) => {
    expect(suspectsAfter(change)).toEqual([DEPLOYMENT]);
  });

  it("suspects a deleted object, and any change of a kind that keeps no generation", () => {
    expect(suspectsAfter({}, "DELETED")).toEqual([DEPLOYMENT]);
    const s = new DriftSuspects();
    s.recordCompared("|ConfigMap|shop|settings", DEPLOYMENT, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: "shop" } }, {});
    s.observe({ type: "MODIFIED", key: "|ConfigMap|shop|settings", deployment: DEPLOYMENT, metadata: {} });
    expect([...s.pending]).toEqual([DEPLOYMENT]);
  });

  it("suspects an object it never compared, under the deployment its labels name", () => {
    const s = new DriftSuspects();
    s.observe({ type: "ADDED", key: KEY, deployment: "shop/cart", metadata: applied });
    expect([...s.pending]).toEqual(["shop/cart"]);
  });

  it("hands suspects to a sync of their deployments, and takes them back when it does not finish", () => {
    const s = new DriftSuspects();
    s.suspectAll(["shop/a", "shop/b", "shop/c"]);
    expect(s.take(new Set(["shop/b", "shop/x"]))).toEqual(["shop/b"]);
    expect([...s.pending].sort()).toEqual(["shop/a", "shop/c"]);
    const all = s.take(undefined);
    expect(all.sort()).toEqual(["shop/a", "shop/c"]);
    expect(s.pending.size).toBe(0);
    s.restore(all);
    expect([...s.pending].sort()).toEqual(["shop/a", "shop/c"]);
  });

  it("forgets compares of objects no longer desired: a later change of one is a suspect again", () => {
    const s = compared();
    s.retain(new Set());
    s.observe({ type: "MODIFIED", key: KEY, deployment: "shop/-", metadata: applied });
    expect([...s.pending]).toEqual(["shop/-"]);
  });
});
