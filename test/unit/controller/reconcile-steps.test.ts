// The pure steps of a reconcile: validation, usage, the commit's Git line and its write-ahead
// record, folder fingerprints, the status a step record carries, holding a status back after a
// restart, and when a deployment is looked at again.

import { describe, expect, it } from "vitest";
import { TemplateError, ValidationError } from "../../../src/api/errors.js";
import type { ApplicationDeployment, ApplicationDeploymentStatus, Manifest } from "../../../src/api/types.js";
import {
  commitSummary,
  describeRenderError,
  folderHashes,
  heldFolders,
  holdsStatusBack,
  kubeSchemaError,
  needsStepRecord,
  type RenderFailure,
  type Rendered,
  type Resolved,
  requeuePolicy,
  STARTUP_REQUEUE_MS,
  sourceCommitOf,
  statusOf,
  targetName,
  usageOf,
  validate,
} from "../../../src/controller/reconcile-steps.js";
import type { ClusterObservation } from "../../../src/controller/status.js";
import { place } from "../../../src/placement/select.js";
import type { RenderTarget } from "../../../src/render/render.js";
import { planRollout, type RolloutPlan } from "../../../src/rollout/planner.js";
import { aCluster, aComponent, aComponentDefinition, aDeployment, aRevision, aTraitDefinition, aWave, registryOf } from "../builders.js";

const clusters = [aCluster("prod-eu").withLabel("usage", "production").build(), aCluster("prod-us").withLabel("usage", "production").build()];

function aValidDeployment(): ApplicationDeployment {
  return aDeployment("shop").withRevision(aRevision("v1").withReplicas(2)).withWave(aWave("production").selectingLabel("usage", "production")).build();
}

/** A real plan for a new deployment, with some fields set for the case at hand. */
function aPlan(over: Partial<RolloutPlan> = {}): RolloutPlan {
  const ad = aValidDeployment();
  const placement = place(ad.spec.placementStrategies, clusters);
  const plan = planRollout({ deployment: ad, placement, observed: [], now: new Date("2026-01-01T00:00:00Z") });
  return { ...plan, ...over };
}

function withStatus(ad: ApplicationDeployment, status: ApplicationDeploymentStatus): ApplicationDeployment {
  return { ...ad, status };
}

function aResolved(over: Partial<Resolved> = {}): Resolved {
  return { key: "team-a/shop", namespace: "team-a", name: "shop", generation: 2, target: "v1", clusters, commit: undefined, suspended: false, ...over };
}

function anOutcome(over: Partial<Rendered> = {}): Rendered {
  return { placement: undefined, plan: undefined, targets: [], unseen: false, error: undefined, files: undefined, ...over };
}

const invalid: RenderFailure = { reason: "InvalidSpec", message: "bad", transient: false };
const starved: RenderFailure = { reason: "InvalidSpec", message: "budget", transient: true };

describe("validate", () => {
  it("accepts a valid deployment", () => {
    expect(validate(aValidDeployment())).toBeUndefined();
  });

  it("returns the problems of an invalid one as a ValidationError naming the field", () => {
    const ad = aValidDeployment();
    (ad.spec.appRevisions[0] as { name: string }).name = "Not A DNS Label";
    const error = validate(ad);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error?.problems.map((p) => p.path)).toContain("spec.appRevisions[0].name");
  });
});

describe("describeRenderError", () => {
  it("reports invalid input as InvalidSpec, transient only when a problem is", () => {
    const e = new ValidationError([
      { path: "a", message: "x" },
      { path: "b", message: "y", transient: true },
    ]);
    expect(describeRenderError(e)).toMatchObject({ reason: "InvalidSpec", transient: true });
    expect(describeRenderError(new ValidationError([{ path: "a", message: "x" }])).transient).toBe(false);
  });

  it("reports a template's failure as TemplateError with its message", () => {
    const e = new TemplateError("worker.spec.template: boom", { definition: "worker", field: "spec.template" });
    expect(describeRenderError(e)).toEqual({ reason: "TemplateError", message: e.message, transient: e.transient });
  });

  it("rethrows what is not the user's input", () => {
    const bug = new TypeError("undefined is not a function");
    expect(() => describeRenderError(bug)).toThrow(bug);
  });
});

describe("kubeSchemaError", () => {
  const pdb: Manifest = {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: "backend", namespace: "team-a", labels: { "flotilla.dev/component": "backend", "flotilla.dev/revision": "v1" } },
    spec: { minAvailable: 1, selector: { matchLabels: { app: "backend" } } },
  };
  const target = (cluster: string, version?: string): RenderTarget => ({
    cluster: { name: cluster, labels: {}, ...(version ? { version } : {}) },
    wave: "production",
    revisions: [{ name: "v1", replicas: 1 }],
  });

  it("refuses what a cluster's reported version does not serve, as InvalidSpec naming the component, cluster, object and version", () => {
    const ad = aValidDeployment();
    const rendered = [
      { cluster: "old", wave: "production", manifests: [pdb] },
      { cluster: "new", wave: "production", manifests: [pdb] },
    ];
    const error = kubeSchemaError(ad, rendered, [target("old", "v1.20.2"), target("new", "v1.25.3")]);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error?.problems).toEqual([
      {
        path: "spec.appRevisions[0].template.spec.components[0]",
        message:
          "cluster old: renders PodDisruptionBudget/team-a/backend: apiVersion: policy/v1 PodDisruptionBudget is not served by Kubernetes 1.20 (added in 1.21)",
        fix: `Use apiVersion policy/v1beta1 on this version, or choose it by the cluster's version: $versionAtLeast(context.cluster.version, "1.21") ? "policy/v1" : "policy/v1beta1".`,
      },
    ]);
    expect(describeRenderError(error)).toMatchObject({ reason: "InvalidSpec", transient: false });
  });

  it("names unknown fields and wrong types with their path in the object", () => {
    const typo = { ...pdb, spec: { minAvailable: 1, selectr: {} } };
    const error = kubeSchemaError(aValidDeployment(), [{ cluster: "new", wave: "w", manifests: [typo] }], [target("new", "v1.30.0")]);
    expect(error?.problems.map((p) => p.message)).toEqual([
      'cluster new: renders PodDisruptionBudget/team-a/backend: spec.selectr: unknown field "selectr" (PodDisruptionBudgetSpec has no such field) for Kubernetes 1.30',
    ]);
  });

  it("checks nothing for a cluster that reports no version, or one the schemas do not cover", () => {
    const rendered = [
      { cluster: "unknown", wave: "w", manifests: [pdb] },
      { cluster: "ancient", wave: "w", manifests: [pdb] },
    ];
    expect(kubeSchemaError(aValidDeployment(), rendered, [target("unknown"), target("ancient", "v1.19.16")])).toBeUndefined();
  });
});

describe("targetName and usageOf", () => {
  it("names the last revision as the target, and none when there is no revision", () => {
    const ad = aDeployment().withRevision(aRevision("v1")).withRevision(aRevision("v2")).build();
    expect(targetName(ad)).toBe("v2");
    expect(targetName({ ...ad, spec: { ...ad.spec, appRevisions: [] } })).toBe("");
  });

  it("collects types and traits of every revision and override, and the clusters it renders for", () => {
    const ad = aDeployment()
      .withRevision(aRevision("v1").withComponent(aComponent("api", "webservice").withTrait("autoscaler")))
      .withRevision(aRevision("v2").withComponent(aComponent("job", "worker")))
      .withWave(aWave("w").withOverride({ component: "api", traits: [{ name: "ingress" }] }))
      .build();
    const targets = [{ cluster: { name: "prod-eu", labels: {} }, wave: "w", revisions: [] }] as RenderTarget[];
    const usage = usageOf(ad, targets);
    expect([...usage.types].sort()).toEqual(["webservice", "worker"]);
    expect([...usage.traits].sort()).toEqual(["autoscaler", "ingress"]);
    expect([...usage.selected]).toEqual(["prod-eu"]);
  });

  it("counts the default traits of the component types it uses, so a change of those requeues it", () => {
    const registry = registryOf(
      aComponentDefinition("hardened").withDefaultTrait("security-context", { profile: "restricted" }),
      aComponentDefinition("unused").withDefaultTrait("other"),
      aTraitDefinition("security-context"),
      aTraitDefinition("other"),
    );
    const ad = aDeployment()
      .withRevision(aRevision("v1").withComponent(aComponent("api", "hardened")))
      .build();
    expect([...usageOf(ad, [], registry).traits]).toEqual(["security-context"]);
    expect([...usageOf(ad, []).traits]).toEqual([]);
  });
});

describe("heldFolders", () => {
  it("lists only the clusters that keep an earlier commit's files", () => {
    const plan = aPlan();
    const [first, second] = plan.targets;
    if (!first || !second) throw new Error("the plan has two targets");
    const held = heldFolders({ ...plan, targets: [{ ...first, keepFilesOf: "c".repeat(40) }, second] });
    expect([...held]).toEqual([[first.cluster, "c".repeat(40)]]);
    expect(heldFolders(undefined).size).toBe(0);
  });
});

describe("commitSummary", () => {
  const at = { target: "v2", generation: 3, clusters: ["prod-eu", "prod-us"] };

  it.each([
    ["a step the planner made", aPlan({ changed: true, summary: "v2 batch 1/3 in wave w (prod-eu)" }), undefined, "v2 batch 1/3 in wave w (prod-eu)"],
    ["nothing new and no step pending", aPlan({ changed: false, summary: "" }), undefined, "v2 on prod-eu, prod-us (generation 3)"],
    [
      "a step pending from this generation (killed after its record)",
      aPlan({ changed: false }),
      { observedGeneration: 3, pending: "v2 batch 2/3" },
      "v2 batch 2/3",
    ],
    [
      "a step pending from an older generation",
      aPlan({ changed: false }),
      { observedGeneration: 2, pending: "v2 batch 2/3" },
      "v2 batch 2/3; v2 on prod-eu, prod-us (generation 3)",
    ],
  ])("gives Git the line for %s", (_label, plan, before, line) => {
    const ad = aValidDeployment();
    const withBefore = before ? withStatus(ad, { observedGeneration: before.observedGeneration, rollout: { pendingCommit: before.pending } }) : ad;
    expect(commitSummary(withBefore, plan, at)).toBe(line);
  });

  it("says no cluster when the deployment renders nowhere", () => {
    expect(commitSummary(aValidDeployment(), aPlan({ changed: false }), { ...at, clusters: [] })).toBe("v2 on no cluster (generation 3)");
  });
});

describe("needsStepRecord", () => {
  it("records a step before its commit only when a rollout state exists already", () => {
    const ad = aValidDeployment();
    expect(needsStepRecord(ad, aPlan({ changed: true }))).toBe(false);
    const running = withStatus(ad, { rollout: { revision: "v1" } });
    expect(needsStepRecord(running, aPlan({ changed: true }))).toBe(true);
    expect(needsStepRecord(running, aPlan({ changed: false }))).toBe(false);
  });
});

describe("folderHashes", () => {
  it("hashes each cluster's folder, the same files to the same hash", () => {
    const a = folderHashes({ "prod-eu": { "core.ConfigMap.x.yaml": "a: 1\n" }, "prod-us": { "core.ConfigMap.x.yaml": "a: 1\n" } });
    expect(a.map(([cluster]) => cluster)).toEqual(["prod-eu", "prod-us"]);
    expect(a[0]?.[1]).toBe(a[1]?.[1]);
    const b = folderHashes({ "prod-eu": { "core.ConfigMap.x.yaml": "a: 2\n" } });
    expect(b[0]?.[1]).not.toBe(a[0]?.[1]);
  });
});

describe("statusOf", () => {
  const observation = (name: string, reachable: boolean): ClusterObservation => ({
    name,
    reachable,
    synced: reachable,
    health: reachable ? "Healthy" : "Unknown",
    revisions: [{ name: "v1", replicas: 2, readyReplicas: reachable ? 2 : 0 }],
  });

  it("marks the reachable clusters Progressing in a step's record and names the pending commit", () => {
    const ad = withStatus(aValidDeployment(), { rollout: { revision: "v1" } });
    const placement = place(ad.spec.placementStrategies, clusters);
    const plan = aPlan({ changed: true, summary: "v1 batch 1/1 in wave production (prod-eu, prod-us)" });
    const status = statusOf({
      deployment: ad,
      resolved: aResolved(),
      outcome: anOutcome({ placement, plan }),
      observations: [observation("prod-eu", true), observation("prod-us", false)],
      commit: undefined,
      pendingStep: plan.summary,
      now: new Date("2026-01-01T00:00:00Z"),
    });
    expect(status.rollout?.pendingCommit).toBe(plan.summary);
    expect(status.clusters?.map((c) => [c.name, c.health, c.message])).toEqual([
      ["prod-eu", "Progressing", `committing "${plan.summary}"`],
      ["prod-us", "Unknown", undefined],
    ]);
    expect(status.placement?.map((p) => [p.cluster, p.selected, p.wave])).toEqual([
      ["prod-eu", true, "production"],
      ["prod-us", true, "production"],
    ]);
  });

  it("leaves the rollout out of a status whose deployment does not render", () => {
    const status = statusOf({
      deployment: aValidDeployment(),
      resolved: aResolved(),
      outcome: anOutcome({ plan: aPlan(), error: invalid }),
      observations: [],
      commit: "a".repeat(40),
      now: new Date("2026-01-01T00:00:00Z"),
    });
    expect(status.rollout).toBeUndefined();
    expect(status.commit).toBe("a".repeat(40));
    expect(status.sourceCommit).toBeUndefined();
    expect(status.conditions?.find((c) => c.type === "Rendered")).toMatchObject({ status: "False", reason: "InvalidSpec", message: "bad" });
  });
});

describe("the source commit", () => {
  it("shows in status the GitSource commit the spec came from, trimmed; none for a deployment applied by hand", () => {
    const fromGit = aValidDeployment();
    fromGit.metadata.annotations = { "flotilla.dev/source-commit": ` ${"c".repeat(40)}\n` };
    const facts = {
      resolved: aResolved(),
      outcome: anOutcome({ plan: aPlan() }),
      observations: [],
      commit: "a".repeat(40),
      now: new Date("2026-01-01T00:00:00Z"),
    };
    expect(statusOf({ ...facts, deployment: fromGit }).sourceCommit).toBe("c".repeat(40));
    expect(sourceCommitOf(fromGit)).toBe("c".repeat(40));
    fromGit.metadata.annotations = { "flotilla.dev/source-commit": "  " };
    expect(sourceCommitOf(fromGit)).toBeUndefined();
    expect(statusOf({ ...facts, deployment: aValidDeployment() }).sourceCommit).toBeUndefined();
  });
});

describe("holdsStatusBack", () => {
  const seen = withStatus(aValidDeployment(), { observedGeneration: 2 });
  const quiet = anOutcome({ unseen: true, plan: aPlan({ changed: false }) });
  const committed = { commit: "a".repeat(40), commitError: undefined };

  it("holds back a status made before this process saw the clusters, when nothing changed", () => {
    expect(holdsStatusBack(seen, aResolved(), quiet, committed)).toBe(true);
  });

  it.each([
    ["every cluster was seen", seen, anOutcome({ unseen: false, plan: aPlan({ changed: false }) }), committed],
    ["the planner took a step", seen, anOutcome({ unseen: true, plan: aPlan({ changed: true }) }), committed],
    ["there is no plan", seen, anOutcome({ unseen: true }), committed],
    ["the deployment does not render", seen, { ...quiet, error: invalid }, committed],
    ["the commit is queued", seen, quiet, { ...committed, commitError: "queued" }],
    ["the generation is new", withStatus(aValidDeployment(), { observedGeneration: 1 }), quiet, committed],
  ])("writes it when %s", (_label, ad, outcome, c) => {
    expect(holdsStatusBack(ad, aResolved(), outcome, c)).toBe(false);
  });
});

describe("requeuePolicy", () => {
  const base = { error: undefined, transientFailures: 0, plan: undefined, phase: undefined, heldBack: false, progressRequeueMs: 10_000 };

  it.each([
    ["a starved template backs off from 5 s", { error: starved }, { afterMs: 5_000, priority: "normal", transientFailures: 1 }],
    ["a third starved template in a row waits 20 s", { error: starved, transientFailures: 2 }, { afterMs: 20_000, priority: "normal", transientFailures: 3 }],
    [
      "an invalid spec waits for a change",
      { error: invalid, transientFailures: 4, phase: "Failed" as const },
      { afterMs: undefined, priority: "normal", transientFailures: 0 },
    ],
    [
      "the planner's wish wins over the phase",
      { plan: aPlan({ requeueAfterMs: 30_000 }), phase: "Progressing" as const },
      { afterMs: 30_000, priority: "normal", transientFailures: 0 },
    ],
    ["the planner's wish is at least 250 ms", { plan: aPlan({ requeueAfterMs: 10 }) }, { afterMs: 250, priority: "normal", transientFailures: 0 }],
    ["a Progressing deployment is looked at on the low lane", { phase: "Progressing" as const }, { afterMs: 10_000, priority: "low", transientFailures: 0 }],
    ["a Degraded one too", { phase: "Degraded" as const }, { afterMs: 10_000, priority: "low", transientFailures: 0 }],
    ["a Healthy one is not on a timer", { phase: "Healthy" as const }, { afterMs: undefined, priority: "normal", transientFailures: 0 }],
    [
      "a held-back status is looked at again soon",
      { phase: "Healthy" as const, heldBack: true },
      { afterMs: STARTUP_REQUEUE_MS, priority: "normal", transientFailures: 0 },
    ],
    [
      "a held-back status keeps a sooner wish, on the normal lane",
      { phase: "Progressing" as const, heldBack: true, progressRequeueMs: 500 },
      { afterMs: 500, priority: "normal", transientFailures: 0 },
    ],
  ])("%s", (_label, over, expected) => {
    expect(requeuePolicy({ ...base, ...over })).toEqual(expected);
  });
});
