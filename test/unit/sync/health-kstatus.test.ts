import { describe, expect, it } from "vitest";
import type { HealthState, Manifest } from "../../../src/api/types.js";
import { apiGroup, objectHealth } from "../../../src/sync/health.js";

const aCustom = (status?: Record<string, unknown>, generation = 2, annotations?: Record<string, string>): Manifest => ({
  apiVersion: "cert-manager.io/v1",
  kind: "Certificate",
  metadata: { name: "web", namespace: "team-a", generation, ...(annotations ? { annotations } : {}) },
  spec: {},
  ...(status ? { status } : {}),
});
const cond = (type: string, status: string, reason = "") => ({ type, status, reason, message: "m" });

describe("kstatus rules for kinds without a built-in rule", () => {
  it.each<[string, Manifest, HealthState]>([
    ["a resource that writes no status is Healthy once it exists", aCustom(), "Healthy"],
    ["a resource without conditions is Healthy", aCustom({ observedGeneration: 2 }), "Healthy"],
    ["a resource whose status is older than its spec is Progressing", aCustom({ observedGeneration: 1, conditions: [cond("Ready", "True")] }), "Progressing"],
    ["a Ready resource is Healthy", aCustom({ observedGeneration: 2, conditions: [cond("Ready", "True")] }), "Healthy"],
    ["a resource not Ready yet is Progressing", aCustom({ conditions: [cond("Ready", "False", "Issuing")] }), "Progressing"],
    [
      "a Reconciling resource is Progressing, even when it was Ready",
      aCustom({ conditions: [cond("Ready", "True"), cond("Reconciling", "True")] }),
      "Progressing",
    ],
    ["a Stalled resource is Degraded", aCustom({ conditions: [cond("Ready", "False"), cond("Stalled", "True", "InvalidSpec")] }), "Degraded"],
    ["conditions kstatus does not know say nothing: Healthy", aCustom({ conditions: [cond("SomethingElse", "False")] }), "Healthy"],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });

  it("lets a definition's CEL expression win over the kstatus rules", () => {
    const object = aCustom({ conditions: [cond("Stalled", "True")] }, 2, { "flotilla.dev/health": "true" });
    expect(objectHealth(object).status).toBe("Healthy");
  });

  it("keys rules by API group: `v1` is the core group", () => {
    expect([apiGroup("v1"), apiGroup("apps/v1"), apiGroup("serving.knative.dev/v1")]).toEqual(["", "apps", "serving.knative.dev"]);
  });
});
