import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { applyWaves, kindRank, sortForApply, sortForPrune, UNKNOWN_RANK } from "../../../src/sync/order.js";

const o = (kind: string, name = "x", namespace?: string): Manifest => ({
  apiVersion: "v1",
  kind,
  metadata: namespace ? { name, namespace } : { name },
});

describe("apply order", () => {
  it.each([
    ["Namespace", "CustomResourceDefinition"],
    ["CustomResourceDefinition", "ServiceAccount"],
    ["ServiceAccount", "ConfigMap"],
    ["Secret", "PersistentVolumeClaim"],
    ["PersistentVolumeClaim", "Role"],
    ["Role", "RoleBinding"],
    ["RoleBinding", "Service"],
    ["Service", "Deployment"],
    ["Deployment", "HorizontalPodAutoscaler"],
    ["StatefulSet", "PodDisruptionBudget"],
    ["Deployment", "Ingress"],
    ["Ingress", "Widget"],
  ])("applies %s before %s", (first, second) => {
    expect(kindRank(first)).toBeLessThan(kindRank(second));
  });

  it("ranks unknown kinds last", () => {
    expect(kindRank("Widget")).toBe(UNKNOWN_RANK);
  });

  it("sorts deterministically by rank, kind, namespace and name", () => {
    const input = [o("Deployment", "b", "n"), o("Widget"), o("ConfigMap", "z", "n"), o("Namespace", "n"), o("Deployment", "a", "n")];
    expect(sortForApply(input).map((m) => `${m.kind}/${m.metadata.name}`)).toEqual(["Namespace/n", "ConfigMap/z", "Deployment/a", "Deployment/b", "Widget/x"]);
  });

  it("prunes in the reverse of the apply order", () => {
    const input = [o("Service"), o("Deployment"), o("HorizontalPodAutoscaler"), o("ConfigMap")];
    expect(sortForPrune(input).map((m) => m.kind)).toEqual(["HorizontalPodAutoscaler", "Deployment", "Service", "ConfigMap"]);
  });

  it("groups objects of equal rank into one wave, Namespaces and CRDs in their own waves", () => {
    const waves = applyWaves([o("Deployment", "a"), o("StatefulSet"), o("CustomResourceDefinition"), o("Namespace"), o("Secret"), o("ConfigMap")]);
    expect(waves.map((w) => w.map((m) => m.kind))).toEqual([
      ["Namespace"],
      ["CustomResourceDefinition"],
      ["ConfigMap", "Secret"],
      ["Deployment", "StatefulSet"],
    ]);
  });

  it("returns no waves for no objects", () => {
    expect(applyWaves([])).toEqual([]);
  });
});
