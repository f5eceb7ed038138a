// The ApplicationDeployment's status: phase and conditions from what a reconcile found, when a
// condition's lastTransitionTime moves, and which status differences cost a write on the hub.

import { describe, expect, it } from "vitest";
import type { ApplicationDeploymentStatus, Condition, DeploymentPhase, PlacementDecisionStatus, RolloutStatus } from "../../../src/api/types.js";
import { type ClusterObservation, computeStatus, type StatusInput, statusChanged, withTransitionTimes } from "../../../src/controller/status.js";

const status = (
  over: { appliedCommit?: string; lastSyncTime?: string; health?: "Healthy" | "Progressing"; message?: string } = {},
): ApplicationDeploymentStatus => ({
  observedGeneration: 1,
  phase: "Healthy",
  commit: "a".repeat(40),
  clusters: [
    {
      name: "prod-eu",
      health: over.health ?? "Healthy",
      revisions: [{ name: "v1", replicas: 2, readyReplicas: 2 }],
      appliedCommit: over.appliedCommit ?? "b".repeat(40),
      lastSyncTime: over.lastSyncTime ?? "2026-01-01T00:00:00Z",
      ...(over.message ? { message: over.message } : {}),
    },
  ],
});

describe("statusChanged", () => {
  it("ignores a cluster's newer applied commit and sync time: other deployments' commits move them", () => {
    expect(statusChanged(status(), status({ appliedCommit: "c".repeat(40), lastSyncTime: "2026-01-01T00:05:00Z" }))).toBe(false);
  });

  it("sees a cluster's health or message change", () => {
    expect(statusChanged(status(), status({ health: "Progressing" }))).toBe(true);
    expect(statusChanged(status(), status({ message: "sync in progress" }))).toBe(true);
  });

  it("sees a first status", () => {
    expect(statusChanged(undefined, status())).toBe(true);
  });
});

// ---------- computeStatus and withTransitionTimes ----------

const T0 = new Date("2026-03-01T12:00:00.000Z");
const T1 = new Date("2026-03-01T12:05:00.000Z");
const T2 = new Date("2026-03-01T12:10:00.000Z");
const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const FAILED = "v2 failed in prod-eu at batch 1/3: not healthy within the progress deadline (10m)";
const BUDGET_ERROR = {
  reason: "InvalidSpec",
  message:
    "spec.appRevisions[0].template.spec.components[0].settings: worker.spec.template: JSONata evaluation failed: evaluation took longer than 1000 ms and was stopped in the middle of one step",
};
const RENDER_ERROR = { reason: "InvalidSpec", message: "spec.appRevisions[1].template.spec.components[0].settings.image: must be a string (got 42)." };

/** What a sync worker saw of one cluster: by default reachable, synced and healthy with v2 at 2/2. */
const seen = (name: string, over: Partial<ClusterObservation> = {}): ClusterObservation => ({
  name,
  reachable: true,
  synced: true,
  health: "Healthy",
  revisions: [{ name: "v2", replicas: 2, readyReplicas: 2 }],
  ...over,
});
const picked = (cluster: string): PlacementDecisionStatus => ({ cluster, wave: "production", selected: true });
const left = (cluster: string): PlacementDecisionStatus => ({ cluster, selected: false, reason: "label usage=edge does not match usage=production" });
/** The rollout planner's step. */
const step = (phase: DeploymentPhase, message: string, state: RolloutStatus = {}): NonNullable<StatusInput["rollout"]> => ({ phase, message, state });

/** Generation 3 of a deployment whose target v2 is placed on prod-eu and prod-us, both healthy. */
function anInput(over: Partial<StatusInput> = {}): StatusInput {
  return {
    generation: 3,
    previous: undefined,
    now: T0,
    targetRevision: "v2",
    commit: COMMIT,
    placement: [picked("prod-eu"), picked("prod-us")],
    clusters: [seen("prod-eu"), seen("prod-us")],
    suspended: false,
    ...over,
  };
}

/** The input of a reconcile that made no commit. */
const withoutCommit = ({ commit: _, ...rest }: StatusInput): StatusInput => rest;

/** Conditions as `status reason: message`, by type. */
const conditionsOf = (s: ApplicationDeploymentStatus): Record<string, string> =>
  Object.fromEntries((s.conditions ?? []).map((c) => [c.type, `${c.status} ${c.reason}: ${c.message}`]));

const RENDERED = "True RenderSucceeded: rendered revision v2 for 2 cluster(s)";
const COMMITTED = "True CommitSucceeded: manifests are in commit 0123456789ab";
const SYNCED = "True SyncSucceeded: commit applied on 2 cluster(s)";
const ALL_HEALTHY = "True AllHealthy: healthy on prod-eu, prod-us";
const NOT_STALLED = "False NotStalled: making progress";
/** Stalled, Rendered, Committed, Synced and Healthy of a deployment whose clusters all run the commit, healthy. */
const STEADY = { Stalled: NOT_STALLED, Rendered: RENDERED, Committed: COMMITTED, Synced: SYNCED, Healthy: ALL_HEALTHY };
const RETRY = "Annotate flotilla.dev/retry=true to try again, or add a newer revision.";

describe("computeStatus: phase and conditions", () => {
  it.each<{ name: string; input: StatusInput; phase: DeploymentPhase; conditions: Record<string, string> }>([
    {
      name: "is Healthy and Ready when every selected cluster has the commit and is healthy",
      input: anInput(),
      phase: "Healthy",
      conditions: {
        Ready: "True Healthy: revision v2 is healthy on every selected cluster",
        Reconciling: "False Reconciled: up to date",
        ...STEADY,
      },
    },
    {
      name: "is Healthy when the planner says the rollout is done, and does not use the planner's message",
      input: anInput({
        rollout: step("Healthy", "v2 is rolled out and healthy on prod-eu, prod-us", { wave: "production", batch: 3, batches: 3, state: "Completed" }),
      }),
      phase: "Healthy",
      conditions: {
        Ready: "True Healthy: revision v2 is healthy on every selected cluster",
        Reconciling: "False Reconciled: up to date",
        ...STEADY,
      },
    },
    {
      name: "is Healthy and Ready with reason NoClusterSelected when no cluster matches",
      input: anInput({ placement: [left("edge-1")], clusters: [] }),
      phase: "Healthy",
      conditions: {
        Ready: "True NoClusterSelected: no cluster matches the placement strategies",
        Reconciling: "False Reconciled: up to date",
        Stalled: NOT_STALLED,
        Rendered: "True RenderSucceeded: rendered revision v2 for 0 cluster(s)",
        Committed: COMMITTED,
        Synced: "True SyncSucceeded: commit applied on 0 cluster(s)",
        Healthy: "True AllHealthy: no cluster is selected",
      },
    },
    {
      name: "is Progressing and Reconciling while a reachable cluster has not applied the commit",
      input: anInput({ clusters: [seen("prod-eu"), seen("prod-us", { synced: false, health: "Progressing", message: "applying 3 objects" })] }),
      phase: "Progressing",
      conditions: {
        Ready: "False Progressing: prod-us: applying 3 objects",
        Reconciling: "True Progressing: prod-us: applying 3 objects",
        Stalled: NOT_STALLED,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: "False SyncInProgress: prod-us: applying 3 objects",
        Healthy: "Unknown WorkloadProgressing: waiting for the clusters to sync",
      },
    },
    {
      name: "is Progressing while a synced cluster's workloads are still coming up",
      input: anInput({ clusters: [seen("prod-eu"), seen("prod-us", { health: "Progressing", message: "1/2 replicas ready" })] }),
      phase: "Progressing",
      conditions: {
        Ready: "False Progressing: prod-us: Progressing (1/2 replicas ready)",
        Reconciling: "True Progressing: prod-us: Progressing (1/2 replicas ready)",
        Stalled: NOT_STALLED,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: SYNCED,
        Healthy: "Unknown WorkloadProgressing: prod-us: Progressing (1/2 replicas ready)",
      },
    },
    {
      name: "is Progressing with the planner's message while a batch rolls out on healthy clusters",
      input: anInput({
        rollout: step("Progressing", "v2: prod-eu progressing at batch 1/3", { wave: "production", batch: 1, batches: 3, state: "Progressing" }),
      }),
      phase: "Progressing",
      conditions: {
        Ready: "False Progressing: v2: prod-eu progressing at batch 1/3",
        Reconciling: "True Progressing: v2: prod-eu progressing at batch 1/3",
        ...STEADY,
      },
    },
    {
      name: "is Progressing, with the cluster's words, when the planner is done but a cluster has not synced",
      input: anInput({
        rollout: step("Healthy", "v2 is rolled out and healthy on prod-eu, prod-us"),
        clusters: [seen("prod-eu"), seen("prod-us", { synced: false })],
      }),
      phase: "Progressing",
      conditions: {
        Ready: "False Progressing: prod-us: sync in progress",
        Reconciling: "True Progressing: prod-us: sync in progress",
        Stalled: NOT_STALLED,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: "False SyncInProgress: prod-us: sync in progress",
        Healthy: "Unknown WorkloadProgressing: waiting for the clusters to sync",
      },
    },
    {
      name: "is Paused, neither Reconciling nor Stalled, while a batch waits for a promote",
      input: anInput({ rollout: step("Paused", "v2: prod-eu paused at batch 1/3; annotate flotilla.dev/promote=true to continue") }),
      phase: "Paused",
      conditions: {
        Ready: "False RolloutPaused: v2: prod-eu paused at batch 1/3; annotate flotilla.dev/promote=true to continue",
        Reconciling: "False RolloutPaused: v2: prod-eu paused at batch 1/3; annotate flotilla.dev/promote=true to continue",
        ...STEADY,
      },
    },
    {
      name: "is Paused with reason Suspended and Synced Unknown when spec.suspend is true",
      input: anInput({ suspended: true }),
      phase: "Paused",
      conditions: {
        Ready: "False Suspended: spec.suspend is true: nothing is applied to clusters",
        Reconciling: "False Suspended: spec.suspend is true: nothing is applied to clusters",
        Stalled: NOT_STALLED,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: "Unknown Suspended: spec.suspend is true: nothing is applied to clusters",
        Healthy: ALL_HEALTHY,
      },
    },
    {
      name: "is Paused, not Failed, when a failed rollout is suspended",
      input: anInput({ suspended: true, rollout: step("Failed", FAILED) }),
      phase: "Paused",
      conditions: {
        Ready: `False Suspended: ${FAILED}`,
        Reconciling: `False Suspended: ${FAILED}`,
        Stalled: NOT_STALLED,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: "Unknown Suspended: spec.suspend is true: nothing is applied to clusters",
        Healthy: ALL_HEALTHY,
      },
    },
    {
      name: "is Paused with Healthy Unknown (WorkloadSuspended) while the rollout waits for a suspended workload",
      input: anInput({
        clusters: [seen("prod-eu"), seen("prod-us", { health: "Suspended", message: "Deployment/team-a/shop-v2: Suspended (rollout paused (spec.paused))" })],
        rollout: step("Paused", "v2: prod-us progressing at batch 1/3; prod-us: v2 2/2 ready, suspended; resume it to continue"),
      }),
      phase: "Paused",
      conditions: {
        Ready: "False RolloutPaused: v2: prod-us progressing at batch 1/3; prod-us: v2 2/2 ready, suspended; resume it to continue",
        Reconciling: "False RolloutPaused: v2: prod-us progressing at batch 1/3; prod-us: v2 2/2 ready, suspended; resume it to continue",
        Stalled: NOT_STALLED,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: SYNCED,
        Healthy: "Unknown WorkloadSuspended: prod-us: Suspended (Deployment/team-a/shop-v2: Suspended (rollout paused (spec.paused)))",
      },
    },
    {
      name: "is Degraded when a synced cluster's workloads are degraded",
      input: anInput({ clusters: [seen("prod-eu"), seen("prod-us", { health: "Degraded", message: "backend: CrashLoopBackOff" })] }),
      phase: "Degraded",
      conditions: {
        Ready: "False Degraded: prod-us: Degraded (backend: CrashLoopBackOff)",
        Reconciling: "True Degraded: prod-us: Degraded (backend: CrashLoopBackOff)",
        Stalled: NOT_STALLED,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: SYNCED,
        Healthy: "False WorkloadDegraded: prod-us: Degraded (backend: CrashLoopBackOff)",
      },
    },
    {
      name: "is Degraded when a selected cluster is unreachable",
      input: anInput({ clusters: [seen("prod-eu"), seen("prod-us", { reachable: false, synced: false, health: "Unknown" })] }),
      phase: "Degraded",
      conditions: {
        Ready: "False Degraded: prod-us: cluster is unreachable",
        Reconciling: "True Degraded: prod-us: cluster is unreachable",
        Stalled: NOT_STALLED,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: "False ClusterUnreachable: prod-us: cluster is unreachable",
        Healthy: "Unknown WorkloadProgressing: waiting for the clusters to sync",
      },
    },
    {
      name: "is Degraded with the planner's message when the planner finds a batch degraded",
      input: anInput({ rollout: step("Degraded", "v2: prod-eu progressing at batch 2/3; prod-eu: v2 has 1 restart(s)") }),
      phase: "Degraded",
      conditions: {
        Ready: "False Degraded: v2: prod-eu progressing at batch 2/3; prod-eu: v2 has 1 restart(s)",
        Reconciling: "True Degraded: v2: prod-eu progressing at batch 2/3; prod-eu: v2 has 1 restart(s)",
        ...STEADY,
      },
    },
    {
      name: "is Failed and Stalled, not Reconciling, when the rollout failed, and says how to retry",
      input: anInput({ rollout: step("Failed", FAILED) }),
      phase: "Failed",
      conditions: {
        Ready: `False RolloutFailed: ${FAILED}`,
        Reconciling: `False RolloutFailed: ${FAILED}`,
        Stalled: `True RolloutFailed: ${FAILED} ${RETRY}`,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: SYNCED,
        Healthy: ALL_HEALTHY,
      },
    },
    {
      name: "says how to retry once when the planner's message already says it",
      input: anInput({ rollout: step("Failed", `${FAILED}. Annotate flotilla.dev/retry=true to retry, or add a newer revision.`) }),
      phase: "Failed",
      conditions: {
        Ready: `False RolloutFailed: ${FAILED}. Annotate flotilla.dev/retry=true to retry, or add a newer revision.`,
        Reconciling: `False RolloutFailed: ${FAILED}. Annotate flotilla.dev/retry=true to retry, or add a newer revision.`,
        Stalled: `True RolloutFailed: ${FAILED}. Annotate flotilla.dev/retry=true to retry, or add a newer revision.`,
        Rendered: RENDERED,
        Committed: COMMITTED,
        Synced: SYNCED,
        Healthy: ALL_HEALTHY,
      },
    },
    {
      name: "is Failed and Stalled when the spec does not render, and says nothing deployed was changed",
      input: anInput({ renderError: RENDER_ERROR, clusters: [] }),
      phase: "Failed",
      conditions: {
        Ready: `False InvalidSpec: ${RENDER_ERROR.message}`,
        Reconciling: "False InvalidSpec: waiting for a corrected spec",
        Stalled: `True InvalidSpec: ${RENDER_ERROR.message} Nothing already deployed was changed.`,
        Rendered: `False InvalidSpec: ${RENDER_ERROR.message}`,
      },
    },
    {
      name: "is Failed but not Stalled when a template ran out of its time budget, which load alone can cause: it is tried again",
      input: anInput({ renderError: { ...BUDGET_ERROR, transient: true }, clusters: [] }),
      phase: "Failed",
      conditions: {
        Ready: `False InvalidSpec: ${BUDGET_ERROR.message}`,
        Reconciling: "True InvalidSpec: trying again; nothing already deployed was changed",
        Stalled: "False NotStalled: trying again: a busy machine can make a template run out of its time or memory budget",
        Rendered: `False InvalidSpec: ${BUDGET_ERROR.message}`,
      },
    },
  ])("$name", ({ input, phase, conditions }) => {
    const status = computeStatus(input);
    expect({ phase: status.phase, conditions: conditionsOf(status) }).toEqual({ phase, conditions });
  });

  it("never reports Pending: a rollout the planner calls Pending reads as Progressing", () => {
    // DeploymentPhase (and the CRD's enum) has Pending, but computeStatus has no branch for it.
    expect(computeStatus(anInput({ rollout: step("Pending", "v2: waiting to start") })).phase).toBe("Progressing");
  });

  it.each<{ name: string; input: StatusInput; synced: string; ready: string }>([
    {
      name: "says a cluster without a worker message is in sync progress",
      input: anInput({ clusters: [seen("prod-eu", { synced: false }), seen("prod-us")] }),
      synced: "False SyncInProgress: prod-eu: sync in progress",
      ready: "False Progressing: prod-eu: sync in progress",
    },
    {
      name: "lists clusters still syncing before unreachable ones, with reason ClusterUnreachable",
      input: anInput({
        clusters: [seen("prod-eu", { reachable: false, synced: false, health: "Unknown" }), seen("prod-us", { synced: false, message: "applying 3 objects" })],
      }),
      synced: "False ClusterUnreachable: prod-us: applying 3 objects; prod-eu: cluster is unreachable",
      ready: "False Degraded: prod-us: applying 3 objects; prod-eu: cluster is unreachable",
    },
    {
      name: "reads an unreachable cluster as unreachable even when it had the commit",
      input: anInput({ clusters: [seen("prod-eu"), seen("prod-us", { reachable: false })] }),
      synced: "False ClusterUnreachable: prod-us: cluster is unreachable",
      ready: "False Degraded: prod-us: cluster is unreachable",
    },
  ])("$name", ({ input, synced, ready }) => {
    const conditions = conditionsOf(computeStatus(input));
    expect([conditions.Synced, conditions.Ready]).toEqual([synced, ready]);
  });

  it.each<{ name: string; input: StatusInput; phase: DeploymentPhase; committed: string; ready: string }>([
    {
      name: "names the queued commit as why it is not ready while a cluster still syncs",
      input: anInput({
        commitError: "the Git remote did not take the commit yet; it is queued locally (remote unreachable)",
        clusters: [seen("prod-eu"), seen("prod-us", { synced: false })],
      }),
      phase: "Progressing",
      committed: "False CommitQueued: the Git remote did not take the commit yet; it is queued locally (remote unreachable)",
      ready: "False Progressing: the Git remote did not take the commit yet; it is queued locally (remote unreachable)",
    },
    {
      name: "leaves the phase to the clusters when the remote has not taken the commit: only Committed says so",
      input: anInput({ commitError: "the Git remote did not take the commit yet; it is queued locally (remote unreachable)" }),
      phase: "Healthy",
      committed: "False CommitQueued: the Git remote did not take the commit yet; it is queued locally (remote unreachable)",
      ready: "True Healthy: revision v2 is healthy on every selected cluster",
    },
  ])("$name", ({ input, phase, committed, ready }) => {
    const status = computeStatus(input);
    const conditions = conditionsOf(status);
    expect([status.phase, conditions.Committed, conditions.Ready]).toEqual([phase, committed, ready]);
  });

  it("lists the kstatus conditions first, then Flotilla's, in a fixed order", () => {
    const types = (input: StatusInput) => computeStatus(input).conditions?.map((c) => c.type);
    expect(types(anInput())).toEqual(["Ready", "Reconciling", "Stalled", "Rendered", "Committed", "Synced", "Healthy"]);
    expect(types(anInput({ renderError: RENDER_ERROR, clusters: [] }))).toEqual(["Ready", "Reconciling", "Stalled", "Rendered"]);
  });

  it.each([
    { name: "a healthy deployment", input: anInput({ generation: 7 }) },
    { name: "a deployment that does not render", input: anInput({ generation: 7, renderError: RENDER_ERROR, clusters: [] }) },
  ])("stamps the generation it saw as observedGeneration on the status and every condition of $name", ({ input }) => {
    const status = computeStatus(input);
    expect([status.observedGeneration, ...(status.conditions ?? []).map((c) => c.observedGeneration)]).toEqual(
      Array(1 + (status.conditions?.length ?? 0)).fill(7),
    );
    expect(status.conditions?.length).toBeGreaterThan(0);
  });
});

describe("computeStatus: what else the status carries", () => {
  const previous: ApplicationDeploymentStatus = {
    observedGeneration: 2,
    phase: "Healthy",
    targetRevision: "v1",
    stableRevision: "v1",
    commit: "f".repeat(40),
    rollout: { wave: "production", batch: 3, batches: 3, state: "Completed", revision: "v1" },
  };

  it.each<{ name: string; input: StatusInput; progress: string }>([
    { name: "done once Healthy", input: anInput({ rollout: step("Healthy", "done", { wave: "production", batch: 3, batches: 3 }) }), progress: "done" },
    {
      name: "the wave and batch while a rollout moves",
      input: anInput({ rollout: step("Progressing", "moving", { wave: "production", batch: 2, batches: 3 }) }),
      progress: "production 2/3",
    },
    {
      name: "batch 0 before the wave's first batch",
      input: anInput({ rollout: step("Progressing", "starting", { wave: "production", batches: 3 }) }),
      progress: "production 0/3",
    },
    {
      name: "the wave and batch where a rollout failed",
      input: anInput({ rollout: step("Failed", FAILED, { wave: "production", batch: 1, batches: 3 }) }),
      progress: "production 1/3",
    },
    { name: "a dash when the spec does not render", input: anInput({ renderError: RENDER_ERROR, clusters: [] }), progress: "-" },
    {
      name: "healthy clusters out of observed ones otherwise",
      input: anInput({ clusters: [seen("prod-eu"), seen("prod-us", { health: "Degraded" }), seen("prod-ap", { synced: false, health: "Progressing" })] }),
      progress: "1/3 clusters",
    },
  ])("shows in the PROGRESS column $name", ({ input, progress }) => {
    expect(computeStatus(input).progress).toBe(progress);
  });

  it.each<{ name: string; input: StatusInput; stable: string | undefined }>([
    { name: "moves stableRevision to the target once Healthy", input: anInput({ previous }), stable: "v2" },
    { name: "keeps the previous stableRevision while the target is not healthy", input: anInput({ previous, rollout: step("Failed", FAILED) }), stable: "v1" },
    {
      name: "keeps the previous stableRevision when the spec does not render",
      input: anInput({ previous, renderError: RENDER_ERROR, clusters: [] }),
      stable: "v1",
    },
    { name: "has no stableRevision before any revision was healthy", input: anInput({ rollout: step("Progressing", "moving") }), stable: undefined },
  ])("$name", ({ input, stable }) => {
    const status = computeStatus(input);
    expect(status.stableRevision).toBe(stable);
    expect("stableRevision" in status).toBe(stable !== undefined);
  });

  it.each<{ name: string; input: StatusInput; commit: string | undefined; rollout: RolloutStatus | undefined }>([
    {
      name: "takes this reconcile's commit and rollout state",
      input: anInput({ previous, rollout: step("Progressing", "moving", { wave: "production", batch: 1, batches: 3, revision: "v2" }) }),
      commit: COMMIT,
      rollout: { wave: "production", batch: 1, batches: 3, revision: "v2" },
    },
    {
      name: "keeps the previous commit and rollout state when this reconcile has neither (a spec that does not render)",
      input: withoutCommit(anInput({ previous, renderError: RENDER_ERROR, clusters: [] })),
      commit: "f".repeat(40),
      rollout: previous.rollout,
    },
    {
      name: "has neither on a first status without them",
      input: withoutCommit(anInput()),
      commit: undefined,
      rollout: undefined,
    },
  ])("$name", ({ input, commit, rollout }) => {
    const status = computeStatus(input);
    expect({ commit: status.commit, rollout: status.rollout, hasCommit: "commit" in status, hasRollout: "rollout" in status }).toEqual({
      commit,
      rollout,
      hasCommit: commit !== undefined,
      hasRollout: rollout !== undefined,
    });
  });

  it("passes the placement through and shows each cluster without the worker's reachable and synced flags", () => {
    const placement = [picked("prod-eu"), left("edge-1")];
    const status = computeStatus(
      anInput({
        placement,
        clusters: [
          seen("prod-eu", { appliedCommit: COMMIT, lastSyncTime: "2026-03-01T11:59:00Z", message: "3 objects applied" }),
          seen("prod-us", { reachable: false, synced: false, health: "Unknown", revisions: [] }),
        ],
      }),
    );
    expect({ targetRevision: status.targetRevision, placement: status.placement, clusters: status.clusters }).toStrictEqual({
      targetRevision: "v2",
      placement,
      clusters: [
        {
          name: "prod-eu",
          health: "Healthy",
          revisions: [{ name: "v2", replicas: 2, readyReplicas: 2 }],
          appliedCommit: COMMIT,
          lastSyncTime: "2026-03-01T11:59:00Z",
          message: "3 objects applied",
        },
        { name: "prod-us", health: "Unknown", revisions: [] },
      ],
    });
  });
});

describe("withTransitionTimes", () => {
  const cond = (type: string, status: Condition["status"], lastTransitionTime?: string, reason = "Reason", message = "message"): Condition => ({
    type,
    status,
    reason,
    message,
    ...(lastTransitionTime ? { lastTransitionTime } : {}),
  });
  const EARLIER = "2026-02-01T08:00:00.000Z";
  const NOW = T1.toISOString();

  it.each<{ name: string; next: Condition; previous: Condition[] | undefined; time: string }>([
    { name: "stamps now on a condition seen for the first time", next: cond("Ready", "True"), previous: undefined, time: NOW },
    { name: "stamps now when there were no previous conditions", next: cond("Ready", "True"), previous: [], time: NOW },
    {
      name: "keeps the time of a condition whose status did not change",
      next: cond("Ready", "True"),
      previous: [cond("Ready", "True", EARLIER)],
      time: EARLIER,
    },
    {
      name: "keeps the time when only the reason and message changed (metav1.Condition: a transition is a change of status)",
      next: cond("Ready", "False", undefined, "Degraded", "prod-us: Degraded"),
      previous: [cond("Ready", "False", EARLIER, "Progressing", "prod-us: sync in progress")],
      time: EARLIER,
    },
    { name: "stamps now when the status went from True to False", next: cond("Ready", "False"), previous: [cond("Ready", "True", EARLIER)], time: NOW },
    {
      name: "stamps now when the status went from False to Unknown",
      next: cond("Healthy", "Unknown"),
      previous: [cond("Healthy", "False", EARLIER)],
      time: NOW,
    },
    { name: "stamps now when the status went from Unknown to True", next: cond("Healthy", "True"), previous: [cond("Healthy", "Unknown", EARLIER)], time: NOW },
    { name: "stamps now when the unchanged previous condition had no time", next: cond("Ready", "True"), previous: [cond("Ready", "True")], time: NOW },
    {
      name: "matches the previous condition by type, not position",
      next: cond("Stalled", "False"),
      previous: [cond("Ready", "False", "2026-01-01T00:00:00.000Z"), cond("Stalled", "False", EARLIER)],
      time: EARLIER,
    },
    {
      name: "does not take the time of another type with the same status",
      next: cond("Stalled", "False"),
      previous: [cond("Reconciling", "False", EARLIER)],
      time: NOW,
    },
    {
      name: "replaces a time the new condition carries with the transition time",
      next: cond("Ready", "True", "2030-01-01T00:00:00.000Z"),
      previous: [cond("Ready", "True", EARLIER)],
      time: EARLIER,
    },
  ])("$name", ({ next, previous, time }) => {
    expect(withTransitionTimes([next], previous, T1)).toEqual([{ ...next, lastTransitionTime: time }]);
  });

  it("returns the new conditions in their order and drops previous ones no longer present", () => {
    const out = withTransitionTimes([cond("Ready", "True"), cond("Healthy", "True")], [cond("Healthy", "True", EARLIER), cond("Synced", "True", EARLIER)], T1);
    expect(out.map((c) => [c.type, c.lastTransitionTime])).toEqual([
      ["Ready", NOW],
      ["Healthy", EARLIER],
    ]);
  });

  it("moves lastTransitionTime in computed status only for the conditions whose status changed", () => {
    const first = computeStatus(anInput({ now: T0 }));
    const again = computeStatus(anInput({ now: T1, previous: first }));
    const degraded = computeStatus(
      anInput({ now: T2, previous: again, clusters: [seen("prod-eu"), seen("prod-us", { health: "Degraded", message: "CrashLoopBackOff" })] }),
    );
    const times = (s: ApplicationDeploymentStatus) => Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c.lastTransitionTime]));
    const t0 = T0.toISOString();
    const t2 = T2.toISOString();
    expect(times(first)).toEqual({ Ready: t0, Reconciling: t0, Stalled: t0, Rendered: t0, Committed: t0, Synced: t0, Healthy: t0 });
    // Same state five minutes later: nothing transitioned.
    expect(times(again)).toEqual(times(first));
    // prod-us degrades: Ready True→False, Reconciling False→True, Healthy True→False; the rest stay.
    expect(times(degraded)).toEqual({ Ready: t2, Reconciling: t2, Stalled: t0, Rendered: t0, Committed: t0, Synced: t0, Healthy: t2 });
  });
});
