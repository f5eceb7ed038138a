import { describe, expect, it } from "vitest";
import type { HealthState, Manifest } from "../../../src/api/types.js";
import { aggregateHealth, type DeploymentHealth, deploymentOf, objectHealth, withRestarts, worstHealth } from "../../../src/sync/health.js";
import { guarded } from "../hang-guard.js";

/** The apiVersion each kind is served at: rules are keyed by API group and kind. */
const API_VERSION: Record<string, string> = {
  Deployment: "apps/v1",
  StatefulSet: "apps/v1",
  DaemonSet: "apps/v1",
  ReplicaSet: "apps/v1",
  Job: "batch/v1",
  CronJob: "batch/v1",
  Ingress: "networking.k8s.io/v1",
  HorizontalPodAutoscaler: "autoscaling/v2",
  PodDisruptionBudget: "policy/v1",
};

const live = (
  kind: string,
  spec: unknown,
  status: unknown,
  meta: { [K in keyof Manifest["metadata"]]?: Manifest["metadata"][K] | undefined } = {},
): Manifest => ({
  apiVersion: API_VERSION[kind] ?? "v1",
  kind,
  metadata: { name: "x", namespace: "team-a", generation: 2, ...meta } as Manifest["metadata"],
  ...(spec === undefined ? {} : { spec }),
  ...(status === undefined ? {} : { status }),
});

const progressingCond = (reason: string) => ({ type: "Progressing", status: reason === "ProgressDeadlineExceeded" ? "False" : "True", reason, message: "m" });

describe("objectHealth built-in rules", () => {
  it.each<[string, Manifest | undefined, HealthState]>([
    ["a missing object", undefined, "Missing"],
    ["an object being deleted", live("ConfigMap", undefined, undefined, { deletionTimestamp: "2024-01-01T00:00:00Z" }), "Progressing"],
    ["a Deployment whose generation is not observed yet", live("Deployment", { replicas: 2 }, { observedGeneration: 1 }), "Progressing"],
    ["a Deployment without status", live("Deployment", { replicas: 2 }, undefined), "Progressing"],
    [
      "a Deployment with every replica updated and available",
      live("Deployment", { replicas: 2 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
      "Healthy",
    ],
    [
      "a Deployment with replicas still updating",
      live("Deployment", { replicas: 3 }, { observedGeneration: 2, replicas: 3, updatedReplicas: 1, availableReplicas: 3 }),
      "Progressing",
    ],
    [
      "a Deployment with old replicas terminating",
      live("Deployment", { replicas: 2 }, { observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 2 }),
      "Progressing",
    ],
    [
      "a Deployment past its progress deadline",
      live(
        "Deployment",
        { replicas: 2 },
        { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 0, conditions: [progressingCond("ProgressDeadlineExceeded")] },
      ),
      "Degraded",
    ],
    ["a Deployment scaled to zero", live("Deployment", { replicas: 0 }, { observedGeneration: 2 }), "Healthy"],
    [
      "a StatefulSet with all replicas ready and current",
      live("StatefulSet", { replicas: 2 }, { observedGeneration: 2, readyReplicas: 2, updatedReplicas: 2, currentRevision: "r1", updateRevision: "r1" }),
      "Healthy",
    ],
    [
      "a StatefulSet mid-update",
      live("StatefulSet", { replicas: 2 }, { observedGeneration: 2, readyReplicas: 2, updatedReplicas: 1, currentRevision: "r1", updateRevision: "r2" }),
      "Progressing",
    ],
    [
      "a DaemonSet fully available",
      live("DaemonSet", {}, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberReady: 3, numberAvailable: 3 }),
      "Healthy",
    ],
    [
      "a DaemonSet not yet available",
      live("DaemonSet", {}, { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 1 }),
      "Progressing",
    ],
    ["a completed Job", live("Job", {}, { conditions: [{ type: "Complete", status: "True" }] }), "Healthy"],
    ["a failed Job", live("Job", {}, { conditions: [{ type: "Failed", status: "True", reason: "BackoffLimitExceeded" }] }), "Degraded"],
    ["a running Job", live("Job", {}, { active: 1 }), "Progressing"],
    ["a CronJob", live("CronJob", { schedule: "* * * * *" }, {}, { generation: undefined }), "Healthy"],
    ["a ClusterIP Service", live("Service", { type: "ClusterIP" }, {}, { generation: undefined }), "Healthy"],
    ["a LoadBalancer Service without an address", live("Service", { type: "LoadBalancer" }, { loadBalancer: {} }, { generation: undefined }), "Progressing"],
    [
      "a LoadBalancer Service with an address",
      live("Service", { type: "LoadBalancer" }, { loadBalancer: { ingress: [{ ip: "1.2.3.4" }] } }, { generation: undefined }),
      "Healthy",
    ],
    ["an Ingress without an address", live("Ingress", {}, { loadBalancer: {} }), "Progressing"],
    ["an Ingress with an address", live("Ingress", {}, { loadBalancer: { ingress: [{ hostname: "lb" }] } }), "Healthy"],
    ["a bound PVC", live("PersistentVolumeClaim", {}, { phase: "Bound" }), "Healthy"],
    ["a pending PVC", live("PersistentVolumeClaim", {}, { phase: "Pending" }), "Progressing"],
    ["a lost PVC", live("PersistentVolumeClaim", {}, { phase: "Lost" }), "Degraded"],
    [
      "an HPA unable to scale",
      live("HorizontalPodAutoscaler", {}, { conditions: [{ type: "AbleToScale", status: "False", reason: "FailedGetScale" }] }),
      "Degraded",
    ],
    [
      "an HPA without metrics",
      live(
        "HorizontalPodAutoscaler",
        {},
        {
          conditions: [
            { type: "AbleToScale", status: "True" },
            { type: "ScalingActive", status: "False", reason: "FailedGetResourceMetric" },
          ],
        },
      ),
      "Healthy",
    ],
    ["a PDB with enough healthy pods", live("PodDisruptionBudget", {}, { observedGeneration: 2, currentHealthy: 2, desiredHealthy: 1 }), "Healthy"],
    ["a PDB short of healthy pods", live("PodDisruptionBudget", {}, { observedGeneration: 2, currentHealthy: 0, desiredHealthy: 1 }), "Progressing"],
    ["a ready Pod", live("Pod", {}, { phase: "Running", conditions: [{ type: "Ready", status: "True" }] }, { generation: undefined }), "Healthy"],
    ["an unknown kind that exists", live("Widget", { a: 1 }, undefined), "Healthy"],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });
});

describe("objectHealth with a CEL expression", () => {
  const expr = "status.availableReplicas >= spec.replicas";
  const withExpr = (status: unknown, generation = 1) =>
    live("Deployment", { replicas: 2 }, status, { generation, annotations: { "flotilla.dev/health": expr } });

  it.each<[string, Manifest, HealthState]>([
    ["true", withExpr({ observedGeneration: 1, availableReplicas: 2 }), "Healthy"],
    ["false", withExpr({ observedGeneration: 1, availableReplicas: 1 }), "Progressing"],
    ["a field not written yet", withExpr({ observedGeneration: 1 }), "Progressing"],
    ["true on a stale status", withExpr({ observedGeneration: 1, availableReplicas: 2 }, 2), "Progressing"],
  ])("reports %s as %s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });

  it("wins over the built-in rule", () => {
    // The built-in rule would say Progressing (nothing updated); the expression says Healthy.
    const object = live("Deployment", { replicas: 2 }, { observedGeneration: 2 }, { annotations: { "flotilla.dev/health": "true" } });
    expect(objectHealth(object).status).toBe("Healthy");
  });

  it("is read from the desired object when the live one lacks it", () => {
    const desired = live("ConfigMap", undefined, undefined, { annotations: { "flotilla.dev/health": "data.ready == 'yes'" } });
    expect(objectHealth({ ...live("ConfigMap", undefined, undefined), data: { ready: "no" } }, desired).status).toBe("Progressing");
    expect(objectHealth({ ...live("ConfigMap", undefined, undefined), data: { ready: "yes" } }, desired).status).toBe("Healthy");
  });

  it("reports Unknown with the position for an expression that does not compile", () => {
    const h = objectHealth(live("ConfigMap", undefined, undefined, { annotations: { "flotilla.dev/health": "status.(" } }));
    expect(h.status).toBe("Unknown");
    expect(h.message).toMatch(/does not compile/);
  });
});

describe("aggregation", () => {
  it.each<[HealthState[], HealthState]>([
    [[], "Healthy"],
    [["Healthy", "Progressing"], "Progressing"],
    [["Progressing", "Missing"], "Missing"],
    [["Missing", "Degraded", "Healthy"], "Degraded"],
    [["Unknown", "Progressing"], "Unknown"],
    [["Healthy", "Suspended"], "Suspended"],
    [["Suspended", "Progressing"], "Progressing"],
    [["Suspended", "Degraded"], "Degraded"],
  ])("the worst of %j is %s", (states, worst) => {
    expect(worstHealth(states)).toBe(worst);
  });

  it("reads the deployment from the flotilla.dev/app label", () => {
    expect(deploymentOf({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", labels: { "flotilla.dev/app": "team-a.shop.v2" } } })).toBe(
      "team-a/shop.v2",
    );
  });

  it("aggregates per deployment and sums replicas per revision from workloads", () => {
    const labels = (app: string, revision?: string) => ({ "flotilla.dev/app": app, ...(revision ? { "flotilla.dev/revision": revision } : {}) });
    const dep = (name: string, app: string, revision: string, status: Record<string, number>): Manifest => ({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name, namespace: "team-a", generation: 1, labels: labels(app, revision) },
      spec: { replicas: status.replicas },
      status: { observedGeneration: 1, updatedReplicas: status.replicas, availableReplicas: status.readyReplicas, ...status },
    });
    const v1 = dep("web-v1", "team-a.shop", "v1", { replicas: 3, readyReplicas: 3 });
    const v2 = dep("web-v2", "team-a.shop", "v2", { replicas: 2, readyReplicas: 1 });
    const other = dep("api-v1", "team-a.other", "v1", { replicas: 1, readyReplicas: 1 });
    const svc: Manifest = { apiVersion: "v1", kind: "Service", metadata: { name: "web", namespace: "team-a", labels: labels("team-a.shop") }, spec: {} };
    const result = aggregateHealth([
      { desired: v1, live: v1 },
      { desired: v2, live: v2 },
      { desired: svc, live: undefined },
      { desired: other, live: other },
    ]);
    expect(result.map((d) => [d.deployment, d.health])).toEqual([
      ["team-a/other", "Healthy"],
      ["team-a/shop", "Missing"],
    ]);
    expect(result[1]?.revisions).toEqual([
      { name: "v1", replicas: 3, readyReplicas: 3 },
      { name: "v2", replicas: 2, readyReplicas: 1 },
    ]);
    expect(result[1]?.message).toContain("Service/team-a/web: Missing");
  });
});

describe("withRestarts", () => {
  const pod = (app: string, revision: string, counts: number[]): Manifest => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: `${revision}-${counts.join("-")}`, namespace: "team-a", labels: { "flotilla.dev/app": app, "flotilla.dev/revision": revision } },
    status: { containerStatuses: counts.map((restartCount) => ({ restartCount })) },
  });

  it("sums container restarts per deployment and revision, and counts 0 for a revision without pods", () => {
    const health: DeploymentHealth[] = [
      {
        deployment: "team-a/web",
        health: "Progressing",
        message: "",
        objects: [],
        revisions: [
          { name: "v1", replicas: 2, readyReplicas: 2 },
          { name: "v2", replicas: 1, readyReplicas: 0 },
          { name: "v3", replicas: 0, readyReplicas: 0 },
        ],
      },
    ];
    const pods = [pod("team-a.web", "v2", [3, 1]), pod("team-a.web", "v2", [2]), pod("team-a.web", "v1", [0]), pod("team-a.other", "v2", [9])];
    const out = withRestarts(health, pods);
    expect(out[0]?.revisions).toEqual([
      { name: "v1", replicas: 2, readyReplicas: 2, restarts: 0 },
      { name: "v2", replicas: 1, readyReplicas: 0, restarts: 6 },
      { name: "v3", replicas: 0, readyReplicas: 0, restarts: 0 },
    ]);
    expect(health[0]?.revisions[1]).toEqual({ name: "v2", replicas: 1, readyReplicas: 0 });
  });
});

/** `[0..9].all(a, [0..9].all(b, …))` nested `depth` deep: 10^depth steps (issue #29). */
function nestedComprehension(depth: number, over = "size(data)"): string {
  const list = "[0,1,2,3,4,5,6,7,8,9]";
  const vars = "abcdefghijklmnopqrstuvwxyz".slice(0, depth).split("");
  return vars.reduceRight((inner, v) => `${list}.all(${v}, ${inner})`, `${over} + ${vars.join(" + ")} >= 0`);
}

describe("health expressions that run away (issue #29)", () => {
  const app = { "flotilla.dev/app": "team-a.shop" };
  const configMap = (name: string, expression?: string): Manifest => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: "team-a", labels: app, ...(expression ? { annotations: { "flotilla.dev/health": expression } } : {}) },
    data: { ready: "yes" },
  });
  const deployment: Manifest = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "team-a", generation: 1, labels: app },
    spec: { replicas: 1 },
    status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 },
  };
  const observe = (...objects: Manifest[]) => objects.map((o) => ({ desired: o, live: o }));
  const healthOf = (report: DeploymentHealth[] | undefined) => Object.fromEntries((report?.[0]?.objects ?? []).map((o) => [o.object, [o.status, o.message]]));

  // 50 ms: quick, yet far above what the other objects' expressions need even on a loaded machine.
  it("reports the object whose expression runs away as Unknown with the budget message, and judges the rest of the pass", () => {
    const runaway = nestedComprehension(9);
    const report = guarded(() =>
      aggregateHealth(
        observe(
          configMap("a", "data.ready == 'yes'"),
          configMap("slow", runaway),
          deployment,
          configMap("b", "data.ready == 'yes'"),
          configMap("slow-too", runaway),
        ),
        {
          celBudgetMs: 50,
        },
      ),
    );
    const health = healthOf(report);
    expect(health["ConfigMap/team-a/a"]).toEqual(["Healthy", "health expression holds: data.ready == 'yes'"]);
    expect(health["Deployment/team-a/web"]?.[0]).toBe("Healthy");
    expect(health["ConfigMap/team-a/b"]?.[0]).toBe("Healthy");
    const [status, message] = health["ConfigMap/team-a/slow"] ?? [];
    expect(status).toBe("Unknown");
    expect(message).toMatch(/^ConfigMap\/team-a\/slow\.metadata\.annotations\["flotilla\.dev\/health"\]: CEL evaluation exceeded its budget of 50 ms /);
    expect(message).toContain("Simplify the expression: nested comprehensions");
    // The same expression is not run again in the pass: one budget per runaway expression.
    expect(health["ConfigMap/team-a/slow-too"]).toEqual([
      "Unknown",
      "not evaluated: the same health expression ran out of its budget of 50 ms on ConfigMap/team-a/slow in this pass",
    ]);
    expect(report[0]?.health).toBe("Unknown");
    expect(report[0]?.message).toContain("ConfigMap/team-a/slow: Unknown (");
  });

  it("stops evaluating expressions once the pass has spent its budgets, and still applies the built-in rules", () => {
    const report = guarded(() =>
      aggregateHealth(
        observe(
          configMap("slow-1", nestedComprehension(9)),
          configMap("slow-2", nestedComprehension(9, "size(data) * 2")),
          configMap("fine", "true"),
          deployment,
        ),
        {
          celBudgetMs: 50,
          celMaxBudgets: 1,
        },
      ),
    );
    const health = healthOf(report);
    expect(health["ConfigMap/team-a/slow-1"]?.[0]).toBe("Unknown");
    expect(health["ConfigMap/team-a/slow-2"]).toEqual(["Unknown", "not evaluated: this health pass ran out of its CEL budget of 50 ms 1 time(s)"]);
    expect(health["ConfigMap/team-a/fine"]?.[0]).toBe("Unknown");
    expect(health["Deployment/team-a/web"]?.[0]).toBe("Healthy");
  });

  it("gives the same Unknown to a runaway expression judged on its own, outside a pass", () => {
    const h = guarded(() => objectHealth(configMap("slow", nestedComprehension(9))));
    expect(h.status).toBe("Unknown");
    expect(h.message).toContain("CEL evaluation exceeded its budget of 100 ms");
  });

  it("ends an expression whose regular expression backtracks catastrophically", () => {
    const object: Manifest = { ...configMap("note", 'data.note.matches("^(a+)+$")'), data: { note: `${"a".repeat(40)}!` } };
    const h = healthOf(guarded(() => aggregateHealth(observe(object, configMap("fine", "true")), { celBudgetMs: 50 })));
    // cel-js 8 runs matches() with JavaScript's RegExp: Unknown with the budget message; a
    // linear-time engine would answer false (Progressing, waiting for the expression).
    expect(["Unknown", "Progressing"]).toContain(h["ConfigMap/team-a/note"]?.[0]);
    expect(h["ConfigMap/team-a/fine"]?.[0]).toBe("Healthy");
  });
});
