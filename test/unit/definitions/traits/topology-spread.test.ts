// The built-in `topology-spread` trait: the one-constraint shortcut and the list form, the
// component's pods as the default selector, and the newer fields only where Kubernetes serves them.

import { describe, expect, it } from "vitest";
import { aBuiltin, POD_WORKLOADS, podSpecOf, refusal, TRAIT, workload } from "./builtin.js";

const COMPONENT_PODS = { matchLabels: { "flotilla.dev/app": "team-a.shop", "flotilla.dev/component": "backend" } };
const constraintsOf = async (properties: Record<string, unknown>, version?: string) =>
  podSpecOf(await workload(aBuiltin().withTrait("topology-spread", properties), { version })).topologySpreadConstraints;

describe("topology-spread", () => {
  it.each(POD_WORKLOADS)("spreads a %s's pods over zones from topologyKey alone, with the defaults (%s)", async (type) => {
    const m = await workload(aBuiltin(type).withTrait("topology-spread", { topologyKey: "zone" }));
    expect(podSpecOf(m).topologySpreadConstraints).toEqual([
      { topologyKey: "topology.kubernetes.io/zone", maxSkew: 1, whenUnsatisfiable: "ScheduleAnyway", labelSelector: COMPONENT_PODS },
    ]);
  });

  it("renders several constraints, each with its own settings and key", async () => {
    const labelSelector = { matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "In", values: ["front"] }] };
    expect(
      await constraintsOf({
        constraints: [
          { topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule" },
          { topologyKey: "host", maxSkew: 2, labelSelector },
          { topologyKey: "topology.kubernetes.io/region" },
        ],
      }),
    ).toEqual([
      { topologyKey: "topology.kubernetes.io/zone", maxSkew: 1, whenUnsatisfiable: "DoNotSchedule", labelSelector: COMPONENT_PODS },
      { topologyKey: "kubernetes.io/hostname", maxSkew: 2, whenUnsatisfiable: "ScheduleAnyway", labelSelector },
      { topologyKey: "topology.kubernetes.io/region", maxSkew: 1, whenUnsatisfiable: "ScheduleAnyway", labelSelector: COMPONENT_PODS },
    ]);
  });

  it("passes the newer fields on a cluster from Kubernetes 1.27", async () => {
    const properties = {
      topologyKey: "zone",
      whenUnsatisfiable: "DoNotSchedule",
      minDomains: 3,
      matchLabelKeys: ["flotilla.dev/revision"],
      nodeAffinityPolicy: "Honor",
      nodeTaintsPolicy: "Honor",
    };
    expect(await constraintsOf(properties, "v1.27.3")).toEqual([
      { ...properties, topologyKey: "topology.kubernetes.io/zone", maxSkew: 1, labelSelector: COMPONENT_PODS },
    ]);
  });

  it("adds to the constraints the workload has, an equal one once", async () => {
    const component = aBuiltin()
      .withTrait("topology-spread", { topologyKey: "zone" })
      .withTrait("topology-spread", { constraints: [{ topologyKey: "zone" }, { topologyKey: "host" }] });
    const constraints = podSpecOf(await workload(component)).topologySpreadConstraints as Array<{ topologyKey: string }>;
    expect(constraints.map((c) => c.topologyKey)).toEqual(["topology.kubernetes.io/zone", "kubernetes.io/hostname"]);
  });

  it.each([
    [
      "minDomains before Kubernetes 1.27",
      { topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", minDomains: 2 },
      "v1.20.2",
      "topology-spread: minDomains needs Kubernetes 1.27 or newer, and cluster prod-eu runs v1.20.2; remove it for this cluster (e.g. in a wave override)",
    ],
    [
      "matchLabelKeys and nodeTaintsPolicy in an entry before Kubernetes 1.27",
      { constraints: [{ topologyKey: "zone" }, { topologyKey: "host", matchLabelKeys: ["x"], nodeTaintsPolicy: "Honor" }] },
      "v1.26.9",
      "topology-spread: constraints[1].matchLabelKeys and constraints[1].nodeTaintsPolicy need Kubernetes 1.27 or newer, and cluster prod-eu runs v1.26.9",
    ],
    [
      "minDomains with ScheduleAnyway",
      { topologyKey: "zone", minDomains: 2 },
      undefined,
      "topology-spread: minDomains only applies to whenUnsatisfiable: DoNotSchedule; set that, or remove minDomains",
    ],
    [
      "top-level fields and constraints together",
      { topologyKey: "zone", maxSkew: 2, constraints: [{ topologyKey: "host" }] },
      undefined,
      "topology-spread: topologyKey and maxSkew at the top level and constraints both given; move them into an entry of constraints",
    ],
    ["no topologyKey", { maxSkew: 2 }, undefined, "topology-spread: no topologyKey; set topologyKey (e.g. zone or host), or list constraints"],
    [
      "two constraints Kubernetes would take for one",
      { constraints: [{ topologyKey: "zone" }, { topologyKey: "topology.kubernetes.io/zone", maxSkew: 2 }] },
      undefined,
      "topology-spread: two constraints with topologyKey topology.kubernetes.io/zone and whenUnsatisfiable ScheduleAnyway, which Kubernetes refuses; merge them into one",
    ],
    [
      "a key in both matchLabelKeys and the default selector",
      { topologyKey: "zone", matchLabelKeys: ["flotilla.dev/component"] },
      undefined,
      "topology-spread: matchLabelKeys has flotilla.dev/component, which labelSelector already selects on; remove it from one of them",
    ],
    [
      "NotIn without values",
      { constraints: [{ topologyKey: "zone", labelSelector: { matchExpressions: [{ key: "a", operator: "NotIn" }] } }] },
      undefined,
      "topology-spread: constraints[0].labelSelector.matchExpressions[0] has operator NotIn but no values",
    ],
  ])("refuses %s", async (_, properties, version, message) => {
    const problem = await refusal(aBuiltin().withTrait("topology-spread", properties), { version });
    expect(problem.path).toBe(`${TRAIT()}.properties`);
    expect(problem.message).toContain(message);
  });

  it.each([
    ["a maxSkew of 0", { topologyKey: "zone", maxSkew: 0 }, ".properties.maxSkew"],
    ["an unknown whenUnsatisfiable", { topologyKey: "zone", whenUnsatisfiable: "Never" }, ".properties.whenUnsatisfiable"],
    ["an entry without topologyKey", { constraints: [{ maxSkew: 1 }] }, ".properties.constraints[0].topologyKey"],
    ["an unknown field", { topologyKey: "zone", skew: 1 }, ".properties.skew"],
  ])("refuses %s at the field", async (_, properties, path) => {
    expect((await refusal(aBuiltin().withTrait("topology-spread", properties))).path).toBe(`${TRAIT()}${path}`);
  });
});
