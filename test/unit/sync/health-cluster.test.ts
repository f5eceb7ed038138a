import { describe, expect, it } from "vitest";
import type { HealthState, Manifest } from "../../../src/api/types.js";
import { objectHealth } from "../../../src/sync/health.js";

const an = (apiVersion: string, kind: string, status?: Record<string, unknown>, annotations?: Record<string, string>, generation?: number): Manifest => ({
  apiVersion,
  kind,
  metadata: { name: "shop", ...(annotations ? { annotations } : {}), ...(generation === undefined ? {} : { generation }) },
  spec: {},
  ...(status ? { status } : {}),
});
const cond = (type: string, status: string, reason = "") => ({ type, status, reason, message: "m" });
const hpa = (conditions: unknown[]) => an("autoscaling/v2", "HorizontalPodAutoscaler", { currentReplicas: 2, desiredReplicas: 2, conditions });
const hpaV1 = (conditions: unknown[] | undefined) =>
  an(
    "autoscaling/v1",
    "HorizontalPodAutoscaler",
    { currentReplicas: 2, desiredReplicas: 2 },
    conditions ? { "autoscaling.alpha.kubernetes.io/conditions": JSON.stringify(conditions) } : undefined,
  );
const crd = (conditions?: unknown[]) => an("apiextensions.k8s.io/v1", "CustomResourceDefinition", conditions ? { conditions } : undefined);
const pdb = (status?: Record<string, unknown>) => an("policy/v1", "PodDisruptionBudget", status, undefined, 1);

describe("PersistentVolumeClaim health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["a bound claim is Healthy", an("v1", "PersistentVolumeClaim", { phase: "Bound" }), "Healthy"],
    ["a pending claim is Progressing", an("v1", "PersistentVolumeClaim", { phase: "Pending" }), "Progressing"],
    ["a claim without status is Progressing", an("v1", "PersistentVolumeClaim"), "Progressing"],
    ["a claim whose volume is lost is Degraded", an("v1", "PersistentVolumeClaim", { phase: "Lost" }), "Degraded"],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });
});

describe("HorizontalPodAutoscaler health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["an autoscaler able to scale is Healthy", hpa([cond("AbleToScale", "True", "ReadyForNewScale"), cond("ScalingActive", "True")]), "Healthy"],
    ["an autoscaler that cannot read its target's scale is Degraded", hpa([cond("AbleToScale", "False", "FailedGetScale")]), "Degraded"],
    ["an autoscaler that cannot update its target's scale is Degraded", hpa([cond("AbleToScale", "True", "FailedUpdateScale")]), "Degraded"],
    ["an autoscaler with an invalid selector is Degraded", hpa([cond("AbleToScale", "True"), cond("ScalingActive", "False", "InvalidSelector")]), "Degraded"],
    ["an autoscaler in back-off after a rescale is Progressing", hpa([cond("AbleToScale", "False", "BackoffBoth")]), "Progressing"],
    [
      "an autoscaler without metrics yet still serves: Healthy",
      hpa([cond("AbleToScale", "True"), cond("ScalingActive", "False", "FailedGetResourceMetric")]),
      "Healthy",
    ],
    ["an autoscaler that has not said it can scale is Progressing", hpa([cond("ScalingActive", "True"), cond("ScalingLimited", "False")]), "Progressing"],
    ["an autoscaler held at its limits is Healthy", hpa([cond("ScalingLimited", "True", "TooFewReplicas")]), "Healthy"],
    ["an autoscaling/v1 autoscaler is judged by its conditions annotation: failing", hpaV1([cond("AbleToScale", "True", "FailedGetScale")]), "Degraded"],
    ["an autoscaling/v1 autoscaler is judged by its conditions annotation: able", hpaV1([cond("AbleToScale", "True", "SucceededRescale")]), "Healthy"],
    ["an autoscaling/v1 autoscaler without the annotation is Progressing", hpaV1(undefined), "Progressing"],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });

  it("ignores a conditions annotation that is not JSON", () => {
    const object = an("autoscaling/v1", "HorizontalPodAutoscaler", {}, { "autoscaling.alpha.kubernetes.io/conditions": "[{" });
    expect(objectHealth(object).status).toBe("Progressing");
  });
});

describe("PodDisruptionBudget health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["a budget without status is Progressing", pdb(), "Progressing"],
    ["a budget at an older generation is Progressing", pdb({ observedGeneration: 0, currentHealthy: 3, desiredHealthy: 2 }), "Progressing"],
    [
      "a budget that allows disruptions is Healthy",
      pdb({
        observedGeneration: 1,
        currentHealthy: 3,
        desiredHealthy: 2,
        disruptionsAllowed: 1,
        conditions: [cond("DisruptionAllowed", "True", "SufficientPods")],
      }),
      "Healthy",
    ],
    [
      "a budget short of pods is Degraded",
      pdb({ observedGeneration: 1, currentHealthy: 1, desiredHealthy: 2, conditions: [cond("DisruptionAllowed", "False", "InsufficientPods")] }),
      "Degraded",
    ],
    [
      "a budget that failed to sync is Progressing",
      pdb({ observedGeneration: 1, conditions: [cond("DisruptionAllowed", "False", "SyncFailed")] }),
      "Progressing",
    ],
    ["a budget without conditions and enough pods is Healthy", pdb({ observedGeneration: 1, currentHealthy: 2, desiredHealthy: 2 }), "Healthy"],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });
});

describe("CustomResourceDefinition health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["an established definition is Healthy", crd([cond("NamesAccepted", "True"), cond("Established", "True")]), "Healthy"],
    ["a definition without conditions yet is Progressing", crd(), "Progressing"],
    ["a definition still installing is Progressing", crd([cond("NamesAccepted", "True"), cond("Established", "False", "Installing")]), "Progressing"],
    ["a definition whose names conflict is Degraded", crd([cond("NamesAccepted", "False", "NameConflict")]), "Degraded"],
    [
      "a definition with a non-structural schema is Degraded",
      crd([cond("NamesAccepted", "True"), cond("NonStructuralSchema", "True", "Violations"), cond("Established", "True")]),
      "Degraded",
    ],
    [
      "a definition not established for another reason is Degraded",
      crd([cond("NamesAccepted", "True"), cond("Established", "False", "NotAccepted")]),
      "Degraded",
    ],
    ["a definition being deleted is Progressing", crd([cond("Terminating", "True", "InstanceDeletionInProgress")]), "Progressing"],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });
});
