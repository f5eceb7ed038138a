// The built-in `node-selector` trait: its labels land in the pod spec of every workload kind and
// merge with a node selector the component sets; keys and values must be valid labels.

import { describe, expect, it } from "vitest";
import { aBuiltin, POD_WORKLOADS, podSpecOf, refusal, TRAIT, workload } from "./builtin.js";

describe("node-selector", () => {
  it.each(POD_WORKLOADS)("sets the node selector of a %s's pods (%s)", async (type) => {
    const m = await workload(aBuiltin(type).withTrait("node-selector", { "kubernetes.io/os": "linux", disktype: "ssd" }));
    expect(podSpecOf(m).nodeSelector).toEqual({ "kubernetes.io/os": "linux", disktype: "ssd" });
  });

  it("merges with the daemon's nodeSelector setting, and wins for a key both set", async () => {
    const daemon = aBuiltin("daemon", { nodeSelector: { "kubernetes.io/os": "linux", pool: "default" } });
    const m = await workload(daemon.withTrait("node-selector", { pool: "agents", zone: "a" }));
    expect(podSpecOf(m).nodeSelector).toEqual({ "kubernetes.io/os": "linux", pool: "agents", zone: "a" });
  });

  it("puts nothing but the node selector into the pod spec", async () => {
    const without = podSpecOf(await workload(aBuiltin("worker")));
    const withIt = podSpecOf(await workload(aBuiltin("worker").withTrait("node-selector", { disktype: "ssd" })));
    expect({ ...withIt, nodeSelector: undefined }).toEqual({ ...without, nodeSelector: undefined });
  });

  it.each([
    ["a key that is no label key", { "bad key": "x" }, ".properties"],
    ["a value that is no label value", { disktype: "-ssd-" }, ".properties.disktype"],
    ["a value that is not a string", { replicas: 3 }, ".properties.replicas"],
  ])("refuses %s", async (_, properties, path) => {
    const problem = await refusal(aBuiltin("worker").withTrait("node-selector", properties as never));
    expect(problem.path).toBe(`${TRAIT()}${path}`);
  });

  it("refuses an empty selector, which would select nothing new", async () => {
    const problem = await refusal(aBuiltin("worker").withTrait("node-selector", {}));
    expect(problem.path).toBe(`${TRAIT()}.properties`);
  });
});
