// The built-in `lifecycle` trait: postStart / preStop hooks of one container and the pod's
// termination grace period, with sleep only where the cluster's Kubernetes serves it.

import { describe, expect, it } from "vitest";
import { aBuiltin, containerOf, POD_WORKLOADS, podSpecOf, refusal, TRAIT, workload } from "./builtin.js";

const preStop = { exec: { command: ["sh", "-c", "sleep 10"] } };
const postStart = { httpGet: { path: "/warm-up", port: 8080, httpHeaders: [{ name: "X-Warm", value: "1" }] } };

describe("lifecycle", () => {
  it.each(POD_WORKLOADS)("sets the hooks of a %s's main container and the pod's grace period (%s)", async (type) => {
    const m = await workload(aBuiltin(type).withTrait("lifecycle", { preStop, postStart, terminationGracePeriodSeconds: 45 }));
    expect(containerOf(m).lifecycle).toEqual({ preStop, postStart });
    expect(podSpecOf(m).terminationGracePeriodSeconds).toBe(45);
  });

  it("sets only the grace period when no hook is given, and no lifecycle at all", async () => {
    const m = await workload(aBuiltin().withTrait("lifecycle", { terminationGracePeriodSeconds: 0 }));
    expect(podSpecOf(m).terminationGracePeriodSeconds).toBe(0);
    expect(containerOf(m)).not.toHaveProperty("lifecycle");
  });

  it("sets the hooks of a sidecar named by containerName", async () => {
    const component = aBuiltin().withTrait("sidecar", { name: "proxy", image: "envoy:1.30" }).withTrait("lifecycle", { containerName: "proxy", preStop });
    const m = await workload(component);
    expect(containerOf(m, "proxy").lifecycle).toEqual({ preStop });
    expect(containerOf(m)).not.toHaveProperty("lifecycle");
  });

  it("sets a sleep on a cluster from Kubernetes 1.30", async () => {
    const m = await workload(aBuiltin().withTrait("lifecycle", { preStop: { sleep: { seconds: 5 } } }), { version: "v1.30.2" });
    expect(containerOf(m).lifecycle).toEqual({ preStop: { sleep: { seconds: 5 } } });
  });

  it("accepts the same hook twice (an override that repeats it) but refuses a second, different one", async () => {
    const same = await workload(aBuiltin().withTrait("lifecycle", { preStop }).withTrait("lifecycle", { preStop }));
    expect(containerOf(same).lifecycle).toEqual({ preStop });
    const problem = await refusal(
      aBuiltin()
        .withTrait("lifecycle", { preStop })
        .withTrait("lifecycle", { preStop: { httpGet: { port: 8080 } } }),
    );
    expect(problem.path).toBe(`${TRAIT(1)}.properties`);
    expect(problem.message).toContain(
      "lifecycle: container backend already has a preStop hook, from its component or another trait; set the hook in one place",
    );
  });

  it.each([
    [
      "a sleep before Kubernetes 1.30, with the exec that works there",
      { preStop: { sleep: { seconds: 5 } } },
      "v1.29.4",
      'lifecycle: preStop.sleep needs Kubernetes 1.30 or newer, and cluster prod-eu runs v1.29.4; use exec: {command: ["sleep", "5"]} instead',
    ],
    [
      "a preStop sleep as long as the grace period",
      { preStop: { sleep: { seconds: 30 } } },
      "v1.31.0",
      "lifecycle: preStop.sleep.seconds (30) must be shorter than the termination grace period (30 s), or the container is killed before it ends; raise terminationGracePeriodSeconds or shorten the sleep",
    ],
    [
      "a preStop sleep longer than the grace period given",
      { preStop: { sleep: { seconds: 20 } }, terminationGracePeriodSeconds: 15 },
      "v1.31.0",
      "lifecycle: preStop.sleep.seconds (20) must be shorter than the termination grace period (15 s)",
    ],
    [
      "a hook with two handlers",
      { postStart: { exec: { command: ["true"] }, httpGet: { port: 80 } } },
      undefined,
      "lifecycle: postStart has exec and httpGet; give exactly one of exec, httpGet or sleep",
    ],
    [
      "an unknown container, naming those there are",
      { containerName: "proxy", preStop },
      undefined,
      'lifecycle: the workload has no container named "proxy"; set containerName to one of: backend',
    ],
    [
      "a containerName without a hook",
      { containerName: "backend", terminationGracePeriodSeconds: 10 },
      undefined,
      "lifecycle: containerName says whose hooks to set, but no hook is given; add postStart or preStop, or remove containerName",
    ],
  ])("refuses %s", async (_, properties, version, message) => {
    const problem = await refusal(aBuiltin().withTrait("lifecycle", properties), { version });
    expect(problem.path).toBe(`${TRAIT()}.properties`);
    expect(problem.message).toContain(message);
  });

  it.each([
    ["a tcpSocket handler, which Kubernetes does not run for hooks", { preStop: { tcpSocket: { port: 80 } } }, ".properties.preStop.tcpSocket"],
    ["a hook without a handler", { preStop: {} }, ".properties.preStop"],
    ["an exec without a command", { preStop: { exec: { command: [] } } }, ".properties.preStop.exec.command"],
    ["a sleep of 0 seconds", { preStop: { sleep: { seconds: 0 } } }, ".properties.preStop.sleep.seconds"],
    ["a negative grace period", { terminationGracePeriodSeconds: -1 }, ".properties.terminationGracePeriodSeconds"],
  ])("refuses %s at the field", async (_, properties, path) => {
    expect((await refusal(aBuiltin().withTrait("lifecycle", properties))).path).toBe(`${TRAIT()}${path}`);
  });
});
