// The built-in `update-strategy` trait: the strategies and fields each workload kind has, and a
// refusal that names the ones it has for any other.

import { describe, expect, it } from "vitest";
import { aBuiltin, refusal, TRAIT, workload } from "./builtin.js";

const spec = async (type: string, properties: Record<string, unknown>, version?: string) =>
  (await workload(aBuiltin(type).withTrait("update-strategy", properties), { version })).spec as Record<string, unknown>;

describe("update-strategy", () => {
  it.each<[string, string, Record<string, unknown>, string, unknown]>([
    [
      "a Deployment's rolling update",
      "worker",
      { maxSurge: 1, maxUnavailable: 0 },
      "strategy",
      { type: "RollingUpdate", rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
    ],
    [
      "a Deployment's rolling update by percentages",
      "webservice",
      { maxSurge: "50%" },
      "strategy",
      { type: "RollingUpdate", rollingUpdate: { maxSurge: "50%" } },
    ],
    ["a Deployment's Recreate", "worker", { type: "Recreate" }, "strategy", { type: "Recreate" }],
    ["a StatefulSet's partition", "stateful", { partition: 2 }, "updateStrategy", { type: "RollingUpdate", rollingUpdate: { partition: 2 } }],
    ["a StatefulSet's OnDelete", "stateful", { type: "OnDelete" }, "updateStrategy", { type: "OnDelete" }],
    [
      "a DaemonSet's maxUnavailable",
      "daemon",
      { maxUnavailable: "10%" },
      "updateStrategy",
      { type: "RollingUpdate", rollingUpdate: { maxUnavailable: "10%" } },
    ],
    ["a DaemonSet's OnDelete", "daemon", { type: "OnDelete" }, "updateStrategy", { type: "OnDelete" }],
    ["a rolling update with Kubernetes' defaults", "worker", { type: "RollingUpdate" }, "strategy", { type: "RollingUpdate" }],
  ])("sets %s", async (_, type, properties, field, expected) => {
    expect((await spec(type, properties))[field]).toEqual(expected);
  });

  it("surges a DaemonSet from Kubernetes 1.22, with maxUnavailable 0 as Kubernetes requires", async () => {
    expect((await spec("daemon", { maxSurge: 1 }, "v1.22.0")).updateStrategy).toEqual({
      type: "RollingUpdate",
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
  });

  it("renders only the field of the kind: no strategy on a StatefulSet's spec, no updateStrategy on a Deployment's", async () => {
    expect(await spec("stateful", { type: "OnDelete" })).not.toHaveProperty("strategy");
    expect(await spec("worker", { type: "Recreate" })).not.toHaveProperty("updateStrategy");
  });

  it("removes the rolling parameters a Deployment had when it turns to Recreate", async () => {
    const component = aBuiltin("worker").withTrait("update-strategy", { maxSurge: 1 }).withTrait("update-strategy", { type: "Recreate" });
    expect(((await workload(component)).spec as Record<string, unknown>).strategy).toEqual({ type: "Recreate" });
  });

  it.each([
    [
      "Recreate on a StatefulSet",
      "stateful",
      { type: "Recreate" },
      undefined,
      "update-strategy: a StatefulSet has no update strategy Recreate; set type to RollingUpdate or OnDelete",
    ],
    [
      "Recreate on a DaemonSet",
      "daemon",
      { type: "Recreate" },
      undefined,
      "update-strategy: a DaemonSet has no update strategy Recreate; set type to RollingUpdate or OnDelete",
    ],
    [
      "OnDelete on a Deployment",
      "worker",
      { type: "OnDelete" },
      undefined,
      "update-strategy: a Deployment has no update strategy OnDelete; set type to RollingUpdate or Recreate",
    ],
    [
      "a partition on a Deployment",
      "worker",
      { partition: 1 },
      undefined,
      "update-strategy: partition is not a field of a Deployment's update strategy; it takes maxSurge and maxUnavailable",
    ],
    [
      "maxUnavailable on a StatefulSet",
      "stateful",
      { maxUnavailable: 1 },
      undefined,
      "update-strategy: maxUnavailable is not a field of a StatefulSet's update strategy; it takes partition (maxUnavailable of a StatefulSet is an alpha feature of Kubernetes that Flotilla does not set)",
    ],
    [
      "rolling parameters with Recreate",
      "worker",
      { type: "Recreate", maxSurge: 1 },
      undefined,
      "update-strategy: maxSurge only applies to type RollingUpdate; remove it or set type: RollingUpdate",
    ],
    [
      "a partition with OnDelete",
      "stateful",
      { type: "OnDelete", partition: 1 },
      undefined,
      "update-strategy: partition only applies to type RollingUpdate; remove it or set type: RollingUpdate",
    ],
    [
      "a Deployment that could never replace a pod",
      "worker",
      { maxSurge: 0, maxUnavailable: "0%" },
      undefined,
      "update-strategy: maxSurge and maxUnavailable are both 0, so no pod could ever be replaced; raise one of them",
    ],
    [
      "more than 100% unavailable",
      "worker",
      { maxUnavailable: "150%" },
      undefined,
      'update-strategy: maxUnavailable 150% is more than 100%; use at most "100%"',
    ],
    [
      "a DaemonSet surge before Kubernetes 1.22",
      "daemon",
      { maxSurge: 1 },
      "v1.20.2",
      "update-strategy: maxSurge of a DaemonSet needs Kubernetes 1.22 or newer, and cluster prod-eu runs v1.20.2; use maxUnavailable instead",
    ],
    [
      "a DaemonSet that surges and takes nodes down at once",
      "daemon",
      { maxSurge: 1, maxUnavailable: 1 },
      undefined,
      "update-strategy: a DaemonSet either starts the new pod first (maxSurge) or stops the old one first (maxUnavailable), not both; set maxUnavailable: 0 or remove maxSurge",
    ],
    [
      "a DaemonSet that could never replace a pod",
      "daemon",
      { maxUnavailable: 0 },
      undefined,
      "update-strategy: maxUnavailable 0 without maxSurge means no pod could ever be replaced; raise maxUnavailable or set maxSurge",
    ],
    [
      "a StatefulSet's field on a DaemonSet",
      "daemon",
      { partition: 1, type: "OnDelete" },
      undefined,
      "update-strategy: partition is not a field of a DaemonSet's update strategy; it takes maxSurge and maxUnavailable",
    ],
    [
      "a Deployment's fields on a StatefulSet",
      "stateful",
      { maxSurge: 1, maxUnavailable: 1 },
      undefined,
      "update-strategy: maxSurge and maxUnavailable are not fields of a StatefulSet's update strategy; it takes partition",
    ],
    [
      "two rolling parameters with Recreate",
      "worker",
      { type: "Recreate", maxSurge: 1, maxUnavailable: 1 },
      undefined,
      "update-strategy: maxSurge and maxUnavailable only apply to type RollingUpdate; remove them or set type: RollingUpdate",
    ],
  ])("refuses %s, with the strategies or fields the kind has", async (_, type, properties, version, message) => {
    const problem = await refusal(aBuiltin(type).withTrait("update-strategy", properties), { version });
    expect(problem.path).toBe(`${TRAIT()}.properties`);
    expect(problem.message).toContain(message);
  });

  it.each([
    ["task", "batch/v1/Job"],
    ["cron-task", "batch/v1/CronJob"],
  ])("does not apply to a %s (%s), which has no update strategy", async (type, kind) => {
    const problem = await refusal(aBuiltin(type).withTrait("update-strategy", { type: "RollingUpdate" }));
    expect(problem.path).toBe(`${TRAIT()}.name`);
    expect(problem.message).toContain(`does not apply to ${kind}`);
  });

  it.each([
    ["a negative number", { maxSurge: -1 }, ".properties.maxSurge", /wrong form/],
    ["a fraction as a string", { maxUnavailable: "0.5" }, ".properties.maxUnavailable", /wrong form/],
    ["an unknown type", { type: "BlueGreen" }, ".properties.type", /must be one of "RollingUpdate", "Recreate", "OnDelete"/],
  ])("refuses %s at the field", async (_, properties, path, message) => {
    const problem = await refusal(aBuiltin().withTrait("update-strategy", properties));
    expect(problem.path).toBe(`${TRAIT()}${path}`);
    expect(problem.message).toMatch(message);
  });
});
