// The built-in `affinity` trait: node affinity, pod affinity and anti-affinity in Kubernetes'
// shapes, the spread shortcut over the component's pods, and refusals that name the term.

import { describe, expect, it } from "vitest";
import { aBuiltin, POD_WORKLOADS, podSpecOf, refusal, TRAIT, workload } from "./builtin.js";

const COMPONENT_PODS = { matchLabels: { "flotilla.dev/app": "team-a.shop", "flotilla.dev/component": "backend" } };
const REQ = "requiredDuringSchedulingIgnoredDuringExecution";
const PREF = "preferredDuringSchedulingIgnoredDuringExecution";
const affinityOf = async (properties: Record<string, unknown>, version?: string) =>
  podSpecOf(await workload(aBuiltin().withTrait("affinity", properties), { version })).affinity;

describe("affinity: the spread shortcut", () => {
  it.each(POD_WORKLOADS)("spreads a %s's pods over zones with a preferred anti-affinity to the component's pods (%s)", async (type) => {
    const m = await workload(aBuiltin(type).withTrait("affinity", { spread: "zone" }));
    expect(podSpecOf(m).affinity).toEqual({
      podAntiAffinity: { [PREF]: [{ weight: 100, podAffinityTerm: { labelSelector: COMPONENT_PODS, topologyKey: "topology.kubernetes.io/zone" } }] },
    });
  });

  it("spreads over nodes with host, selecting every revision of the component (no revision label)", async () => {
    const affinity = (await affinityOf({ spread: "host" })) as Record<string, Record<string, Array<Record<string, Record<string, unknown>>>>>;
    const term = affinity.podAntiAffinity?.[PREF]?.[0]?.podAffinityTerm;
    expect(term?.topologyKey).toBe("kubernetes.io/hostname");
    expect(JSON.stringify(term?.labelSelector)).not.toContain("flotilla.dev/revision");
  });

  it("puts the spread term after the preferred anti-affinity terms given", async () => {
    const given = { weight: 10, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: { app: "db" } } } };
    expect(await affinityOf({ spread: "zone", podAntiAffinity: { preferred: [given] } })).toEqual({
      podAntiAffinity: {
        [PREF]: [given, { weight: 100, podAffinityTerm: { labelSelector: COMPONENT_PODS, topologyKey: "topology.kubernetes.io/zone" } }],
      },
    });
  });
});

describe("affinity: Kubernetes' shapes", () => {
  it("renders node affinity, required and preferred, as Kubernetes spells it", async () => {
    const required = { nodeSelectorTerms: [{ matchExpressions: [{ key: "node.kubernetes.io/instance-type", operator: "In", values: ["m5.large"] }] }] };
    const preferred = [{ weight: 50, preference: { matchExpressions: [{ key: "cpu-count", operator: "Gt", values: ["4"] }] } }];
    expect(await affinityOf({ nodeAffinity: { required, preferred } })).toEqual({ nodeAffinity: { [REQ]: required, [PREF]: preferred } });
  });

  it("renders pod affinity terms with their selector, namespaces and topology key, expanding zone and host", async () => {
    const labelSelector = { matchLabels: { app: "cache" }, matchExpressions: [{ key: "tier", operator: "Exists" }] };
    const affinity = await affinityOf({
      podAffinity: {
        required: [{ topologyKey: "host", labelSelector, namespaces: ["cache"] }],
        preferred: [{ weight: 80, podAffinityTerm: { topologyKey: "topology.kubernetes.io/region", labelSelector } }],
      },
    });
    expect(affinity).toEqual({
      podAffinity: {
        [REQ]: [{ labelSelector, namespaces: ["cache"], topologyKey: "kubernetes.io/hostname" }],
        [PREF]: [{ weight: 80, podAffinityTerm: { labelSelector, topologyKey: "topology.kubernetes.io/region" } }],
      },
    });
  });

  it("selects the component's own pods for a term without labelSelector: one pod per node", async () => {
    expect(await affinityOf({ podAntiAffinity: { required: [{ topologyKey: "host" }] } })).toEqual({
      podAntiAffinity: { [REQ]: [{ labelSelector: COMPONENT_PODS, topologyKey: "kubernetes.io/hostname" }] },
    });
  });

  it("passes a namespaceSelector on a cluster from Kubernetes 1.22", async () => {
    const term = { topologyKey: "zone", labelSelector: { matchLabels: { app: "cache" } }, namespaceSelector: {} };
    const affinity = await affinityOf({ podAffinity: { required: [term] } }, "v1.22.0");
    expect(affinity).toEqual({ podAffinity: { [REQ]: [{ ...term, topologyKey: "topology.kubernetes.io/zone" }] } });
  });

  it("adds pod terms to those the workload has, an equal term once, and replaces the required node terms", async () => {
    const first = { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["a"] }] }] };
    const second = { nodeSelectorTerms: [{ matchExpressions: [{ key: "pool", operator: "In", values: ["b"] }] }] };
    const component = aBuiltin()
      .withTrait("affinity", { spread: "host", nodeAffinity: { required: first } })
      .withTrait("affinity", { spread: "host", podAntiAffinity: { required: [{ topologyKey: "zone" }] }, nodeAffinity: { required: second } });
    expect(podSpecOf(await workload(component)).affinity).toEqual({
      nodeAffinity: { [REQ]: second },
      podAntiAffinity: {
        [REQ]: [{ labelSelector: COMPONENT_PODS, topologyKey: "topology.kubernetes.io/zone" }],
        [PREF]: [{ weight: 100, podAffinityTerm: { labelSelector: COMPONENT_PODS, topologyKey: "kubernetes.io/hostname" } }],
      },
    });
  });
});

describe("affinity: refusals", () => {
  it.each([
    [
      "In without values",
      { podAffinity: { required: [{ topologyKey: "zone", labelSelector: { matchExpressions: [{ key: "app", operator: "In" }] } }] } },
      "affinity: podAffinity.required[0].labelSelector.matchExpressions[0] has operator In but no values; list the values, or use operator Exists",
    ],
    [
      "Exists with values",
      { nodeAffinity: { preferred: [{ weight: 1, preference: { matchExpressions: [{ key: "gpu", operator: "Exists", values: ["x"] }] } }] } },
      "affinity: nodeAffinity.preferred[0].preference.matchExpressions[0] has operator Exists and values; remove the values, or use operator In",
    ],
    [
      "Gt with a value that is no integer",
      { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: "cpus", operator: "Gt", values: ["four"] }] }] } } },
      'affinity: nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0] has operator Gt, which takes exactly one integer value, e.g. values: ["4"]',
    ],
    [
      "a namespaceSelector before Kubernetes 1.22",
      { podAntiAffinity: { preferred: [{ weight: 5, podAffinityTerm: { topologyKey: "zone", namespaceSelector: {} } }] } },
      "affinity: podAntiAffinity.preferred[0].podAffinityTerm.namespaceSelector needs Kubernetes 1.22 or newer, and cluster prod-eu runs v1.20.2; list the namespaces instead",
    ],
  ])("refuses %s, naming the term", async (_, properties, message) => {
    const problem = await refusal(aBuiltin().withTrait("affinity", properties), { version: "v1.20.2" });
    expect(problem.path).toBe(`${TRAIT()}.properties`);
    expect(problem.message).toContain(message);
  });

  it.each([
    ["an unknown spread", { spread: "region" }, ".properties.spread"],
    ["a weight above 100", { nodeAffinity: { preferred: [{ weight: 101, preference: { matchFields: [] } }] } }, ".properties.nodeAffinity.preferred[0].weight"],
    ["a pod term without topologyKey", { podAffinity: { required: [{ namespaces: ["a"] }] } }, ".properties.podAffinity.required[0].topologyKey"],
    ["an empty node selector term", { nodeAffinity: { required: { nodeSelectorTerms: [{}] } } }, ".properties.nodeAffinity.required.nodeSelectorTerms[0]"],
    [
      "a node field other than metadata.name",
      { nodeAffinity: { required: { nodeSelectorTerms: [{ matchFields: [{ key: "spec.unschedulable", operator: "In", values: ["x"] }] }] } } },
      ".properties.nodeAffinity.required.nodeSelectorTerms[0].matchFields[0].key",
    ],
    ["Kubernetes' long field names", { podAntiAffinity: { [REQ]: [] } }, `.properties.podAntiAffinity.${REQ}`],
  ])("refuses %s at the field", async (_, properties, path) => {
    expect((await refusal(aBuiltin().withTrait("affinity", properties as never))).path).toBe(`${TRAIT()}${path}`);
  });
});
