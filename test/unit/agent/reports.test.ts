// What an agent reports, and how the controller reads it back: the round trip must give the
// controller the same answers a push worker's state gives (commit bookkeeping, health, failures).

import { describe, expect, it } from "vitest";
import { agentReport, DeploymentReportMemo, deploymentReports, EVENTS_PER_DEPLOYMENT, RecentEvents } from "../../../src/agent/reports.js";
import { PulledCluster } from "../../../src/controller/pulled-cluster.js";
import type { WorkerStatus } from "../../../src/sync/worker.js";

function workerState(over: Partial<WorkerStatus> = {}): WorkerStatus {
  return {
    cluster: "eu",
    paused: false,
    desiredCommit: "c3",
    appliedCommit: "c2",
    attemptedCommit: "c3",
    deploymentCommits: { "team-a/web": "c3" },
    lastSyncTime: "2026-12-03T08:00:00.000Z",
    lastResult: {
      commit: "c3",
      changes: [
        {
          object: "Deployment/team-b/api-v1",
          apiVersion: "apps/v1",
          kind: "Deployment",
          namespace: "team-b",
          name: "api-v1",
          deployment: "team-b/api",
          action: "failed",
          message: "admission webhook denied it",
        },
        {
          object: "Service/team-a/web",
          apiVersion: "v1",
          kind: "Service",
          namespace: "team-a",
          name: "web",
          deployment: "team-a/web",
          action: "configured",
          message: "ports",
        },
      ],
      health: [],
      drifted: 0,
      failed: 1,
      aborted: false,
      startedAt: "2026-12-03T07:59:59.000Z",
      durationMs: 800,
    },
    health: [
      {
        deployment: "team-a/web",
        health: "Progressing",
        message: "Deployment/team-a/web-v2: 1/4 ready",
        objects: [{ object: "Deployment/team-a/web-v2", status: "Progressing", message: "1/4 ready" }],
        revisions: [
          { name: "v1", replicas: 3, readyReplicas: 3 },
          { name: "v2", replicas: 1, readyReplicas: 0, restarts: 2 },
        ],
      },
      { deployment: "team-b/api", health: "Degraded", message: "failed", objects: [], revisions: [] },
      // Objects outside any deployment folder have no report of their own.
      { deployment: "team-c/-", health: "Healthy", message: "", objects: [], revisions: [] },
    ],
    error: "1 object failed",
    failures: 1,
    nextRetryAt: "2026-12-03T08:00:05.000Z",
    counters: { syncs: 3, failedSyncs: 1, driftCorrections: 0, requests: 40 },
    ...over,
  };
}

describe("an agent's reports", () => {
  it("has one report per deployment, named <namespace>.<name> in the cluster's hub namespace, and none for loose objects", () => {
    const reports = deploymentReports(workerState(), new Map());
    expect([...reports.keys()]).toEqual(["team-a.web", "team-b.api"]);
    const web = reports.get("team-a.web")!;
    expect(web.metadata).toEqual({ name: "team-a.web", namespace: "flotilla-cluster-eu", labels: { "flotilla.dev/cluster": "eu" } });
    expect(web.spec).toEqual({ cluster: "eu", deployment: "team-a/web" });
    expect(web.status?.deployment).toEqual({
      commit: "c3",
      health: "Progressing",
      message: "Deployment/team-a/web-v2: 1/4 ready",
      objects: [{ object: "Deployment/team-a/web-v2", health: "Progressing", message: "1/4 ready" }],
      revisions: [
        { name: "v1", replicas: 3, readyReplicas: 3 },
        { name: "v2", replicas: 1, readyReplicas: 0, restarts: 2 },
      ],
    });
    // A deployment at the cluster's applied commit carries no commit of its own: a new commit
    // applied as a whole rewrites the agent's report only, not one report per deployment.
    expect(reports.get("team-b.api")!.status?.deployment?.commit).toBeUndefined();
    expect(reports.get("team-b.api")!.status?.deployment?.failed).toEqual([{ object: "Deployment/team-b/api-v1", message: "admission webhook denied it" }]);
  });

  it("keeps a deployment's report unchanged when only another deployment or the applied commit moves", () => {
    const before = deploymentReports(workerState(), new Map()).get("team-b.api");
    const after = deploymentReports(workerState({ appliedCommit: "c3", deploymentCommits: {} }), new Map()).get("team-b.api");
    expect(JSON.stringify(after)).toBe(JSON.stringify(before));
  });

  it("builds again only the reports whose deployment changed, and builds them as from scratch", () => {
    const memo = new DeploymentReportMemo();
    const state = workerState();
    const first = memo.build(state, new Map());
    expect(first).toEqual(deploymentReports(state, new Map()));

    // The worker replaces web's health entry and records an event for it; api's entry is the same object.
    const events = new RecentEvents(() => new Date("2026-12-03T08:00:02.000Z"));
    events.add({ type: "Synced", cluster: "eu", deployment: "team-a/web", commit: "c4", message: "synced c4" });
    const [web, api] = state.health;
    const moved = workerState({ health: [{ ...web!, health: "Healthy", message: "" }, api!, ...state.health.slice(2)], lastResult: state.lastResult });
    const second = memo.build(moved, events.view);
    expect(second.get("team-b.api")).toBe(first.get("team-b.api"));
    expect(second.get("team-a.web")).not.toBe(first.get("team-a.web"));
    expect(second).toEqual(deploymentReports(moved, events.view));
    expect(second.get("team-a.web")!.status?.deployment?.events?.map((e) => e.type)).toEqual(["Synced"]);

    // A new sync result without api's failure rebuilds api's report: its failed list is gone.
    const fixed = { ...moved, lastResult: { ...state.lastResult!, changes: [], failed: 0 } };
    const third = memo.build(fixed, events.view);
    expect(third.get("team-a.web")).toBe(second.get("team-a.web"));
    expect(third.get("team-b.api")!.status?.deployment?.failed).toBeUndefined();
    // A deployment's own commit moving rebuilds its report.
    const committed = memo.build({ ...fixed, deploymentCommits: { "team-a/web": "c4" } }, events.view);
    expect(committed.get("team-a.web")!.status?.deployment?.commit).toBe("c4");
    expect(committed.get("team-b.api")).toBe(third.get("team-b.api"));
  });

  it("puts the sync loop's commit bookkeeping in the agent's report", () => {
    const r = agentReport(workerState(), { identity: "agent-0", version: "v1.30.2", fetchedCommit: "c3", heartbeatTime: "2026-12-03T08:00:01.000Z" });
    expect(r.metadata.name).toBe("agent");
    expect(r.spec).toEqual({ cluster: "eu" });
    expect(r.status?.agent).toEqual({
      identity: "agent-0",
      version: "v1.30.2",
      desiredCommit: "c3",
      appliedCommit: "c2",
      attemptedCommit: "c3",
      fetchedCommit: "c3",
      paused: false,
      error: "1 object failed",
      failures: 1,
      lastSyncTime: "2026-12-03T08:00:00.000Z",
      nextRetryAt: "2026-12-03T08:00:05.000Z",
      heartbeatTime: "2026-12-03T08:00:01.000Z",
    });
  });

  it("carries the member's sealing recipient, and no field for it before the key exists", () => {
    const recipient = `age1${"q".repeat(58)}`;
    const r = agentReport(workerState(), { identity: "agent-0", sealingRecipient: recipient, heartbeatTime: "t" });
    expect(r.status?.agent?.sealingRecipient).toBe(recipient);
    expect(agentReport(workerState(), { identity: "agent-0", heartbeatTime: "t" }).status?.agent).not.toHaveProperty("sealingRecipient");
  });

  it("keeps the last few sync events per deployment, with strictly increasing times, and forgets removed deployments", () => {
    const events = new RecentEvents(() => new Date("2026-12-03T08:00:00.000Z"));
    expect(events.add({ type: "HealthChanged", cluster: "eu", commit: "c1", deployment: "team-a/web", message: "Healthy" })).toBe(false);
    expect(events.add({ type: "Synced", cluster: "eu", commit: "c1", message: "no deployment" })).toBe(false);
    for (let i = 0; i < EVENTS_PER_DEPLOYMENT + 2; i++)
      events.add({ type: "Synced", cluster: "eu", commit: `c${i}`, deployment: "team-a/web", message: `step ${i}` });
    const kept = events.view.get("team-a/web")!;
    expect(kept.map((e) => e.message)).toEqual(["step 2", "step 3", "step 4", "step 5", "step 6"]);
    expect(new Set(kept.map((e) => e.time)).size).toBe(kept.length);
    expect([...kept.map((e) => e.time)].sort()).toEqual(kept.map((e) => e.time));
    events.retain(new Set(["team-b/api"]));
    expect(events.view.size).toBe(0);
  });
});

describe("the controller's view of a pull cluster", () => {
  function fed(): PulledCluster {
    const state = workerState();
    const pulled = new PulledCluster("eu");
    for (const r of deploymentReports(state, new Map()).values()) pulled.update(r, 1_000);
    pulled.update(agentReport(state, { identity: "agent-0", heartbeatTime: "t" }), 1_000);
    return pulled;
  }

  it("answers as the push worker would: commits, health, failed objects", () => {
    const pulled = fed();
    const state = workerState();
    expect(pulled.view.appliedCommit).toBe(state.appliedCommit);
    expect(pulled.view.attemptedCommit).toBe(state.attemptedCommit);
    expect(pulled.view.deploymentCommits).toEqual(state.deploymentCommits);
    expect(pulled.view.error).toBe(state.error);
    expect(pulled.view.failures).toBe(1);
    expect(pulled.healthOf("team-a/web")).toEqual(state.health[0]);
    expect(pulled.healthOf("team-c/-")).toBeUndefined();
    const failed = pulled.view.lastResult?.changes.filter((c) => c.action === "failed");
    expect(failed).toEqual([
      {
        object: "Deployment/team-b/api-v1",
        apiVersion: "",
        kind: "Deployment",
        namespace: "team-b",
        name: "api-v1",
        deployment: "team-b/api",
        action: "failed",
        message: "admission webhook denied it",
      },
    ]);
    expect(pulled.lastReportAt).toBe(1_000);
  });

  it("passes on each agent event once, and only the newest when it first sees a report after a restart", () => {
    const events = new RecentEvents(() => new Date("2026-12-03T08:00:00.000Z"));
    const state = workerState();
    const pulled = new PulledCluster("eu");
    events.add({ type: "Synced", cluster: "eu", commit: "c1", deployment: "team-a/web", message: "first" });
    events.add({ type: "DriftCorrected", cluster: "eu", commit: "c1", deployment: "team-a/web", message: "second" });
    const first = pulled.update(deploymentReports(state, events.view).get("team-a.web")!, 1);
    expect(first.map((e) => [e.type, e.message])).toEqual([["DriftCorrected", "second"]]);
    events.add({ type: "SyncFailed", cluster: "eu", commit: "c2", deployment: "team-a/web", message: "third" });
    const next = pulled.update(deploymentReports(state, events.view).get("team-a.web")!, 2);
    expect(next.map((e) => e.message)).toEqual(["third"]);
    expect(pulled.update(deploymentReports(state, events.view).get("team-a.web")!, 3)).toEqual([]);
  });

  it("tells of a health state change, as a push worker does, and of nothing else a report rewrites", () => {
    const pulled = fed();
    const progressing = workerState();
    const healthy = workerState({ health: [{ ...progressing.health[0]!, health: "Healthy", message: "", objects: [] }] });
    const more = workerState({ health: [{ ...progressing.health[0]!, revisions: [{ name: "v2", replicas: 1, readyReplicas: 1 }] }] });
    expect(pulled.update(deploymentReports(more, new Map()).get("team-a.web")!, 2)).toEqual([]);
    expect(pulled.update(deploymentReports(healthy, new Map()).get("team-a.web")!, 3).map((e) => [e.type, e.deployment, e.message])).toEqual([
      ["HealthChanged", "team-a/web", "Progressing → Healthy"],
    ]);
  });

  it("looks again at the deployments synced at a commit once the agent reports it applied, not at every deployment", () => {
    const events = new RecentEvents(() => new Date("2026-12-03T08:00:00.000Z"));
    const pulled = fed();
    events.add({ type: "Synced", cluster: "eu", commit: "c3", deployment: "team-a/web", message: "synced c3" });
    pulled.update(deploymentReports(workerState(), events.view).get("team-a.web")!, 2);
    const applied = pulled.update(
      agentReport(workerState({ appliedCommit: "c3", error: undefined, failures: 0 }), { identity: "agent-0", heartbeatTime: "t2" }),
      3,
    );
    expect(applied.map((e) => [e.type, e.deployment, e.commit])).toEqual([["HealthChanged", "team-a/web", "c3"]]);
    // A heartbeat with the same applied commit brings nothing.
    expect(
      pulled.update(agentReport(workerState({ appliedCommit: "c3", error: undefined, failures: 0 }), { identity: "agent-0", heartbeatTime: "t3" }), 4),
    ).toEqual([]);
  });

  it("tells of a new error without a deployment, and forgets a deleted deployment's report", () => {
    const pulled = fed();
    const failing = pulled.update(agentReport(workerState({ error: "the member refused the apply" }), { identity: "agent-0", heartbeatTime: "t3" }), 3_000);
    expect(failing.map((e) => [e.type, e.deployment, e.message])).toEqual([["SyncFailed", undefined, "the member refused the apply"]]);
    const web = deploymentReports(workerState(), new Map()).get("team-a.web")!;
    expect(pulled.remove(web, 4_000).map((e) => [e.type, e.deployment])).toEqual([["HealthChanged", "team-a/web"]]);
    expect(pulled.healthOf("team-a/web")).toBeUndefined();
    expect(pulled.view.deploymentCommits["team-a/web"]).toBeUndefined();
  });
});
