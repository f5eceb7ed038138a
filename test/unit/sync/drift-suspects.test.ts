import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { DriftSuspects, type LiveMetadata } from "../../../src/sync/drift-suspects.js";

const KEY = "apps|Deployment|shop|web";
const DEPLOYMENT = "shop/checkout";

const desired: Manifest = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", labels: { "app.kubernetes.io/managed-by": "flotilla" }, annotations: { "team.example/owner": "payments" } },
  spec: { replicas: 2 },
};

/** Server-side apply's records as the API server keeps them: Flotilla's entry and the controller's. */
const ours = {
  manager: "flotilla",
  operation: "Apply",
  apiVersion: "apps/v1",
  time: "2026-11-24T10:00:00Z",
  fieldsV1: { "f:spec": { "f:replicas": {}, "f:template": {} } },
};
const controller = {
  manager: "kube-controller-manager",
  operation: "Update",
  apiVersion: "apps/v1",
  time: "2026-11-24T10:00:05Z",
  fieldsV1: { "f:status": { "f:readyReplicas": {} } },
};
/** The object as a sync left it. */
const applied: LiveMetadata = {
  generation: 3,
  labels: { "app.kubernetes.io/managed-by": "flotilla" },
  annotations: { "team.example/owner": "payments", "flotilla.dev/applied-hash": "sha256:abc" },
  managedFields: [ours],
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
  it("does not suspect what controllers write: status (and its field records), their own annotations and fields", () => {
    expect(suspectsAfter({})).toEqual([]);
    const revision = {
      ...controller,
      fieldsV1: { "f:metadata": { "f:annotations": { "f:deployment.kubernetes.io/revision": {} } }, "f:status": { "f:replicas": {}, "f:conditions": {} } },
    };
    expect(suspectsAfter({ annotations: { ...applied.annotations, "deployment.kubernetes.io/revision": "1" }, managedFields: [ours, revision] })).toEqual([]);
  });

  it.each<[string, Partial<LiveMetadata>]>([
    ["a new generation (spec edited, e.g. kubectl scale)", { generation: 4 }],
    ["a label Flotilla set changed", { labels: { "app.kubernetes.io/managed-by": "someone" } }],
    ["an annotation Flotilla set removed", { annotations: { "flotilla.dev/applied-hash": "sha256:abc" } }],
    ["the applied hash edited", { annotations: { ...applied.annotations, "flotilla.dev/applied-hash": "sha256:zzz" } }],
    [
      "another writer taking over a field of Flotilla's (kubectl edit of a ConfigMap key: no generation)",
      {
        generation: undefined,
        managedFields: [
          { ...ours, fieldsV1: { "f:spec": { "f:template": {} } } },
          { manager: "kubectl-edit", operation: "Update", fieldsV1: { "f:spec": { "f:replicas": {} } } },
        ],
      },
    ],
  ])("suspects the deployment the object was compared for after %s", (_, change) => {
    expect(suspectsAfter(change)).toEqual([DEPLOYMENT]);
  });

  it("suspects a deleted object", () => {
    expect(suspectsAfter({}, "DELETED")).toEqual([DEPLOYMENT]);
  });

  it("judges a change seen before the object's first compare at that compare: the sync's own write is no suspect, another one is", () => {
    const own = new DriftSuspects();
    own.observe({ type: "ADDED", key: KEY, deployment: DEPLOYMENT, metadata: applied });
    expect(own.pending.size).toBe(0);
    own.recordCompared(KEY, DEPLOYMENT, desired, applied);
    expect(own.pending.size).toBe(0);

    const later = new DriftSuspects();
    later.observe({ type: "MODIFIED", key: KEY, deployment: DEPLOYMENT, metadata: { ...applied, generation: 4 } });
    later.recordCompared(KEY, DEPLOYMENT, desired, applied);
    expect([...later.pending]).toEqual([DEPLOYMENT]);
  });

  it("makes changes of objects never compared suspects before a resync, under the deployment their labels name", () => {
    const s = new DriftSuspects();
    s.observe({ type: "ADDED", key: KEY, deployment: "shop/cart", metadata: applied });
    s.judgeRest();
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

  it("forgets compares of objects no longer desired", () => {
    const s = compared();
    s.retain(new Set());
    s.observe({ type: "MODIFIED", key: KEY, deployment: "shop/-", metadata: applied });
    expect(s.pending.size).toBe(0);
    s.judgeRest();
    expect([...s.pending]).toEqual(["shop/-"]);
  });
});
