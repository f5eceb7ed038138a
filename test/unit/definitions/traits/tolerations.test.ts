// The built-in `tolerations` trait: Kubernetes tolerations added to those the component sets,
// with the rules the API server would otherwise apply refused at render time, naming the entry.

import { describe, expect, it } from "vitest";
import { aBuiltin, POD_WORKLOADS, podSpecOf, refusal, TRAIT, workload } from "./builtin.js";

const DEDICATED = { key: "dedicated", operator: "Equal", value: "batch", effect: "NoSchedule" };

describe("tolerations", () => {
  it.each(POD_WORKLOADS)("sets the tolerations of a %s's pods (%s)", async (type) => {
    const m = await workload(aBuiltin(type).withTrait("tolerations", { tolerations: [DEDICATED] }));
    expect(podSpecOf(m).tolerations).toEqual([DEDICATED]);
  });

  it("fills in operator Equal, Kubernetes' default, and keeps every field given", async () => {
    const unreachable = { key: "node.kubernetes.io/unreachable", operator: "Exists", effect: "NoExecute", tolerationSeconds: 60 };
    const m = await workload(aBuiltin().withTrait("tolerations", { tolerations: [{ key: "gpu", value: "true" }, unreachable] }));
    expect(podSpecOf(m).tolerations).toEqual([{ key: "gpu", operator: "Equal", value: "true" }, unreachable]);
  });

  it("adds to the daemon's tolerations setting and does not repeat one it already has", async () => {
    const everything = { operator: "Exists", effect: "NoSchedule" };
    const daemon = aBuiltin("daemon", { tolerations: [everything] });
    const m = await workload(daemon.withTrait("tolerations", { tolerations: [DEDICATED, everything, DEDICATED] }));
    expect(podSpecOf(m).tolerations).toEqual([everything, DEDICATED]);
  });

  it("accepts an Exists toleration without a key, which tolerates every taint", async () => {
    const m = await workload(aBuiltin().withTrait("tolerations", { tolerations: [{ operator: "Exists" }] }));
    expect(podSpecOf(m).tolerations).toEqual([{ operator: "Exists" }]);
  });

  it.each([
    [
      "a value with operator Exists",
      [DEDICATED, { key: "gpu", operator: "Exists", value: "true" }],
      "tolerations: tolerations[1] has operator Exists and a value; remove the value, or set operator: Equal to match only that value",
    ],
    [
      "operator Equal without a key",
      [{ value: "batch", effect: "NoSchedule" }],
      "tolerations: tolerations[0] has operator Equal but no key; set key, or set operator: Exists to tolerate every taint",
    ],
    [
      "tolerationSeconds without effect NoExecute",
      [{ ...DEDICATED, tolerationSeconds: 30 }],
      "tolerations: tolerations[0].tolerationSeconds only applies to effect NoExecute; set effect: NoExecute or remove tolerationSeconds",
    ],
  ])("refuses %s, naming the entry and the fix", async (_, tolerations, message) => {
    const problem = await refusal(aBuiltin().withTrait("tolerations", { tolerations } as never));
    expect(problem.path).toBe(`${TRAIT()}.properties`);
    expect(problem.message).toContain(message);
  });

  it.each([
    [
      "an unknown effect",
      [{ ...DEDICATED, effect: "NoRun" }],
      ".properties.tolerations[0].effect",
      /must be one of "NoSchedule", "PreferNoSchedule", "NoExecute"/,
    ],
    ["an unknown operator", [{ ...DEDICATED, operator: "In" }], ".properties.tolerations[0].operator", /must be one of "Exists", "Equal"/],
    ["a field tolerations do not have", [{ ...DEDICATED, seconds: 5 }], ".properties.tolerations[0].seconds", /is not a known field/],
    ["a negative tolerationSeconds", [{ ...DEDICATED, effect: "NoExecute", tolerationSeconds: -1 }], ".properties.tolerations[0].tolerationSeconds", /./],
    ["an empty list", [], ".properties.tolerations", /at least 1/],
  ])("refuses %s at the field", async (_, tolerations, path, message) => {
    const problem = await refusal(aBuiltin().withTrait("tolerations", { tolerations } as never));
    expect(problem.path).toBe(`${TRAIT()}${path}`);
    expect(problem.message).toMatch(message);
  });
});
