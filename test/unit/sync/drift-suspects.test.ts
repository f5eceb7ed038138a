import { describe, expect, it } from "vitest";
import { DriftSuspects, type LiveMetadata } from "../../../src/sync/drift-suspects.js";

const KEY = "apps|Deployment|shop|web";
const DEPLOYMENT = "shop/checkout";

/** Flotilla's server-side apply entry as the API server keeps it, plus other writers' entries. */
const ours = { manager: "flotilla", operation: "Apply", apiVersion: "apps/v1", fieldsV1: { "f:spec": { "f:replicas": {}, "f:template": { "f:spec": { "f:containers": { 'k:{"name":"app"}': { "f:image": {} } } } } } } };
const controllerStatus = { manager: "kube-controller-manager", operation: "Update", apiVersion: "apps/v1", fieldsV1: { "f:status": { "f:readyReplicas": {} } } };
const applied: LiveMetadata = { managedFields: [ours, controllerStatus] };

function compared(): DriftSuspects {
  const s = new DriftSuspects();
  s.recordCompared(KEY, DEPLOYMENT, applied);
  return s;
}

function suspectsAfter(metadata: LiveMetadata, type: "ADDED" | "MODIFIED" | "DELETED" = "MODIFIED"): string[] {
  const s = compared();
  s.observe({ type, key: KEY, deployment: "shop/-", metadata });
  return [...s.pending];
}

describe("DriftSuspects", () => {
  it("does not suspect a change that leaves Flotilla's fields to Flotilla (status, other writers' own fields)", () => {
    expect(suspectsAfter(applied)).toEqual([]);
    const rolloutRestart = { manager: "kubectl-rollout", operation: "Update", fieldsV1: { "f:spec": { "f:template": { "f:metadata": { "f:annotations": {} } } } } };
    expect(suspectsAfter({ managedFields: [ours, { ...controllerStatus, fieldsV1: { "f:status": { "f:replicas": {} } } }, rolloutRestart] })).toEqual([]);
  });

  it("suspects the object's deployment when another writer took over one of Flotilla's fields (kubectl set image)", () => {
    const taken = { ...ours, fieldsV1: { "f:spec": { "f:replicas": {} } } };
    const kubectl = { manager: "kubectl-set", operation: "Update", fieldsV1: { "f:spec": { "f:template": { "f:spec": { "f:containers": { 'k:{"name":"app"}': { "f:image": {} } } } } } } };
    expect(suspectsAfter({ managedFields: [taken, controllerStatus, kubectl] })).toEqual([DEPLOYMENT]);
  });

  it("suspects a deleted object, an object whose entry of Flotilla's is gone, and any change of one that had none", () => {
    expect(suspectsAfter(applied, "DELETED")).toEqual([DEPLOYMENT]);
    expect(suspectsAfter({ managedFields: [controllerStatus] })).toEqual([DEPLOYMENT]);
    const s = new DriftSuspects();
    s.recordCompared("|ConfigMap|shop|settings", DEPLOYMENT, {});
    s.observe({ type: "MODIFIED", key: "|ConfigMap|shop|settings", deployment: "shop/-", metadata: {} });
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
