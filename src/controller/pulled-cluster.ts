// The controller's view of a pull-mode cluster, built from the SyncReports its agent writes. It
// answers what a ClusterSyncWorker answers in push mode (`view`, `healthOf`), so the rollout
// planner, status.clusters[], `flotilla status` and deletion read a pull cluster exactly as a
// push one. Pure bookkeeping: the ClusterManager feeds it reports and acts on what it returns.

import { AGENT_REPORT_NAME } from "../api/pull.js";
import type { AgentReport, DeploymentReport, HealthState, SyncReport } from "../api/types.js";
import type { DeploymentHealth } from "../sync/health.js";
import type { ObjectChange, SyncResult } from "../sync/types.js";
import type { SyncEvent, SyncEventType, WorkerStatus } from "../sync/worker.js";

/** What the controller reads of a cluster's sync state, whoever does the syncing. */
export interface ClusterSyncState {
  readonly view: Readonly<WorkerStatus>;
  healthOf(deployment: string): DeploymentHealth | undefined;
}

const EVENT_TYPES = new Set<SyncEventType>(["Synced", "SyncFailed", "DriftCorrected", "Pruned", "Skipped"]);

function healthOfReport(deployment: string, d: DeploymentReport): DeploymentHealth {
  return {
    deployment,
    health: d.health as HealthState,
    message: d.message ?? "",
    objects: (d.objects ?? []).map((o) => ({ object: o.object, status: o.health as HealthState, message: o.message ?? "" })),
    revisions: (d.revisions ?? []).map((r) => ({
      name: r.name,
      replicas: r.replicas,
      readyReplicas: r.readyReplicas,
      ...(r.restarts ? { restarts: r.restarts } : {}),
    })),
  };
}

function failedChanges(deployment: string, d: DeploymentReport): ObjectChange[] {
  return (d.failed ?? []).map((f) => {
    const [kind = "", a = "", b] = f.object.split("/");
    return {
      object: f.object,
      apiVersion: "",
      kind,
      ...(b === undefined ? { name: a } : { namespace: a, name: b }),
      deployment,
      action: "failed" as const,
      message: f.message,
    };
  });
}

export class PulledCluster implements ClusterSyncState {
  private agent: AgentReport | undefined;
  private readonly deployments = new Map<string, DeploymentReport>();
  private readonly health = new Map<string, DeploymentHealth>();
  /** Per deployment, the time of the newest event already passed on. */
  private readonly eventSeen = new Map<string, string>();
  /**
   * Deployments the agent synced at a commit it has not reported applied yet: when its report of
   * that commit arrives they are looked at again — only they, not every deployment on the cluster.
   */
  private readonly awaitingApply = new Map<string, string>();
  private cached: WorkerStatus | undefined;
  /** When a report last changed (this process's clock, ms): the agent is alive while reports keep coming. */
  lastReportAt = 0;

  constructor(readonly name: string) {}

  get agentReport(): AgentReport | undefined {
    return this.agent;
  }

  get view(): Readonly<WorkerStatus> {
    this.cached ??= this.buildView();
    return this.cached;
  }

  healthOf(deployment: string): DeploymentHealth | undefined {
    return this.health.get(deployment);
  }

  /**
   * Take a report in (added or changed). Returns the sync events it brings, as a push worker would
   * emit them: the agent's events not seen before, a health change when the health state changed,
   * a look again at the deployments synced at a commit once the agent reports it applied, and a
   * SyncFailed without a deployment when the agent's error changed.
   */
  update(report: SyncReport, nowMs: number): SyncEvent[] {
    this.lastReportAt = nowMs;
    this.cached = undefined;
    if (report.metadata.name === AGENT_REPORT_NAME) {
      const before = this.agent;
      const agent = report.status?.agent ?? {};
      this.agent = agent;
      const out: SyncEvent[] = [];
      const applied = agent.appliedCommit;
      if (applied && applied !== before?.appliedCommit) {
        for (const [deployment, commit] of this.awaitingApply) {
          if (commit !== applied) continue;
          this.awaitingApply.delete(deployment);
          out.push({ type: "HealthChanged", cluster: this.name, commit, deployment, message: `the agent applied ${commit.slice(0, 12)}` });
        }
      }
      if (agent.error && agent.error !== before?.error)
        out.push({ type: "SyncFailed", cluster: this.name, commit: agent.attemptedCommit, message: agent.error });
      return out;
    }
    const deployment = report.spec.deployment;
    const d = report.status?.deployment;
    if (!deployment || !d) return [];
    const was = this.health.get(deployment)?.health;
    this.deployments.set(deployment, d);
    this.health.set(deployment, healthOfReport(deployment, d));
    const seen = this.eventSeen.get(deployment);
    const fresh = (d.events ?? []).filter((e) => EVENT_TYPES.has(e.type as SyncEventType) && (seen === undefined || e.time > seen));
    const last = d.events?.at(-1)?.time;
    if (last) this.eventSeen.set(deployment, last);
    const out: SyncEvent[] = fresh.map((e) => ({
      type: e.type as SyncEventType,
      cluster: this.name,
      commit: e.commit,
      deployment,
      message: e.message,
    }));
    // A first sight after a restart passes on only the newest event: the others were recorded before.
    if (seen === undefined && out.length > 1) out.splice(0, out.length - 1);
    for (const e of fresh) if ((e.type === "Synced" || e.type === "Pruned") && e.commit) this.awaitingApply.set(deployment, e.commit);
    if (was !== undefined && was !== d.health)
      out.push({
        type: "HealthChanged",
        cluster: this.name,
        commit: d.commit,
        deployment,
        message: `${was} → ${d.health}${d.message ? `: ${d.message}` : ""}`,
      });
    return out;
  }

  /** A report was deleted: a deployment's objects are gone from the cluster. */
  remove(report: SyncReport, nowMs: number): SyncEvent[] {
    this.lastReportAt = nowMs;
    this.cached = undefined;
    if (report.metadata.name === AGENT_REPORT_NAME) {
      this.agent = undefined;
      return [];
    }
    const deployment = report.spec.deployment;
    if (!deployment) return [];
    this.deployments.delete(deployment);
    this.health.delete(deployment);
    this.eventSeen.delete(deployment);
    this.awaitingApply.delete(deployment);
    return [{ type: "HealthChanged", cluster: this.name, commit: undefined, deployment, message: "removed from the cluster" }];
  }

  private buildView(): WorkerStatus {
    const a = this.agent ?? {};
    const deploymentCommits: Record<string, string> = {};
    const changes: ObjectChange[] = [];
    for (const [key, d] of this.deployments) {
      if (d.commit) deploymentCommits[key] = d.commit;
      changes.push(...failedChanges(key, d));
    }
    const lastResult: SyncResult | undefined = a.attemptedCommit
      ? {
          commit: a.attemptedCommit,
          changes,
          health: [...this.health.values()],
          drifted: 0,
          failed: changes.length,
          aborted: false,
          startedAt: a.lastSyncTime ?? "",
          durationMs: 0,
        }
      : undefined;
    return {
      cluster: this.name,
      paused: a.paused ?? false,
      desiredCommit: a.desiredCommit,
      appliedCommit: a.appliedCommit,
      attemptedCommit: a.attemptedCommit,
      deploymentCommits,
      lastSyncTime: a.lastSyncTime,
      lastResult,
      health: [...this.health.values()],
      error: a.error,
      failures: a.failures ?? 0,
      nextRetryAt: a.nextRetryAt,
      counters: { syncs: 0, failedSyncs: 0, driftCorrections: 0, requests: 0 },
    };
  }
}
