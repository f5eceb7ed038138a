// What a pull-mode agent tells the hub, built from its sync worker's state: one SyncReport per
// deployment on the cluster and one for the agent itself. Pure: the writer (report-writer.ts)
// sends only the reports whose content changed, so a commit that touches one deployment costs
// one or two writes, not one per deployment on the cluster.

import { API_VERSION } from "../api/labels.js";
import { AGENT_REPORT_NAME, LABEL_REPORT_CLUSTER, pullNamespace, reportName } from "../api/pull.js";
import type { AgentReport, DeploymentReport, ReportedSyncEvent, SyncReport } from "../api/types.js";
import type { DeploymentHealth } from "../sync/health.js";
import type { SyncEvent, WorkerStatus } from "../sync/worker.js";

/** Sync events kept per deployment in its report: enough for the controller to record each once. */
export const EVENTS_PER_DEPLOYMENT = 5;

/** Failed objects listed per deployment (the rest are counted in the message). */
const FAILED_PER_DEPLOYMENT = 10;

function report(cluster: string, name: string, spec: SyncReport["spec"], status: NonNullable<SyncReport["status"]>): SyncReport {
  return {
    apiVersion: API_VERSION as SyncReport["apiVersion"],
    kind: "SyncReport",
    metadata: { name, namespace: pullNamespace(cluster), labels: { [LABEL_REPORT_CLUSTER]: cluster } },
    spec,
    status,
  };
}

/** The agent's own report. `heartbeatTime` is the only field that changes while nothing else does. */
export function agentReport(
  view: Readonly<WorkerStatus>,
  extra: { identity: string; version?: string; fetchedCommit?: string; sealingRecipient?: string; heartbeatTime: string },
): SyncReport {
  const agent: AgentReport = {
    identity: extra.identity,
    ...(extra.version ? { version: extra.version } : {}),
    ...(view.desiredCommit ? { desiredCommit: view.desiredCommit } : {}),
    ...(view.appliedCommit ? { appliedCommit: view.appliedCommit } : {}),
    ...(view.attemptedCommit ? { attemptedCommit: view.attemptedCommit } : {}),
    ...(extra.fetchedCommit ? { fetchedCommit: extra.fetchedCommit } : {}),
    paused: view.paused,
    ...(view.error ? { error: view.error } : {}),
    failures: view.failures,
    ...(view.lastSyncTime ? { lastSyncTime: view.lastSyncTime } : {}),
    ...(view.nextRetryAt ? { nextRetryAt: view.nextRetryAt } : {}),
    ...(extra.sealingRecipient ? { sealingRecipient: extra.sealingRecipient } : {}),
    heartbeatTime: extra.heartbeatTime,
  };
  return report(view.cluster, AGENT_REPORT_NAME, { cluster: view.cluster }, { agent });
}

type FailedObject = NonNullable<DeploymentReport["failed"]>[number];

function deploymentStatus(
  h: DeploymentHealth,
  commit: string | undefined,
  events: readonly ReportedSyncEvent[],
  failed: readonly FailedObject[],
): DeploymentReport {
  return {
    ...(commit ? { commit } : {}),
    health: h.health,
    ...(h.message ? { message: h.message } : {}),
    objects: h.objects.map((o) => ({ object: o.object, health: o.status, ...(o.message ? { message: o.message } : {}) })),
    revisions: h.revisions.map((r) => ({
      name: r.name,
      replicas: r.replicas,
      readyReplicas: r.readyReplicas,
      ...(r.restarts ? { restarts: r.restarts } : {}),
    })),
    ...(failed.length ? { failed: failed.slice(0, FAILED_PER_DEPLOYMENT) } : {}),
    ...(events.length ? { events: [...events] } : {}),
  };
}

const NO_EVENTS: readonly ReportedSyncEvent[] = [];
const NO_FAILURES: readonly FailedObject[] = [];

/** What one deployment's report is made of; the same four values make the same report. */
interface ReportInputs {
  health: DeploymentHealth;
  commit: string | undefined;
  events: readonly ReportedSyncEvent[];
  failed: readonly FailedObject[];
  report: SyncReport;
}

/**
 * Builds the deployment reports (see deploymentReports) and remembers them: a deployment's report
 * is made again only when its health entry, commit, events or failed objects are not the very
 * values it was made from, else the earlier report object is handed back. An agent publishes on
 * every sync event, and a sync of a few deployments emits one event each: made afresh every time,
 * the reports of every deployment on the cluster were built (and serialized by the writer) once
 * per event, which made an agent's cost per deployment grow with the deployments on its cluster.
 */
export class DeploymentReportMemo {
  private built = new Map<string, ReportInputs>();
  private failedFrom: { result: WorkerStatus["lastResult"]; byDeployment: Map<string, FailedObject[]> } = {
    result: undefined,
    byDeployment: new Map(),
  };

  build(view: Readonly<WorkerStatus>, events: ReadonlyMap<string, readonly ReportedSyncEvent[]>): Map<string, SyncReport> {
    const failedBy = this.failedByDeployment(view.lastResult);
    const next = new Map<string, ReportInputs>();
    const out = new Map<string, SyncReport>();
    for (const h of view.health) {
      if (!h.deployment.includes("/") || h.deployment.endsWith("/-")) continue; // objects outside any deployment folder
      const name = reportName(h.deployment);
      const commit = view.deploymentCommits[h.deployment];
      const evs = events.get(h.deployment) ?? NO_EVENTS;
      const failed = failedBy.get(h.deployment) ?? NO_FAILURES;
      const was = this.built.get(name);
      const inputs =
        was && was.health === h && was.commit === commit && was.events === evs && was.failed === failed
          ? was
          : {
              health: h,
              commit,
              events: evs,
              failed,
              report: report(view.cluster, name, { cluster: view.cluster, deployment: h.deployment }, { deployment: deploymentStatus(h, commit, evs, failed) }),
            };
      next.set(name, inputs);
      out.set(name, inputs.report);
    }
    this.built = next;
    return out;
  }

  /** The failed objects of the last sync by deployment, grouped once per sync result. */
  private failedByDeployment(result: WorkerStatus["lastResult"]): Map<string, FailedObject[]> {
    if (this.failedFrom.result === result) return this.failedFrom.byDeployment;
    const byDeployment = new Map<string, FailedObject[]>();
    for (const c of result?.changes ?? []) {
      if (c.action !== "failed") continue;
      const list = byDeployment.get(c.deployment) ?? [];
      list.push({ object: c.object, message: c.message });
      byDeployment.set(c.deployment, list);
    }
    this.failedFrom = { result, byDeployment };
    return byDeployment;
  }
}

/**
 * One report per deployment the worker holds health for, by report name. A deployment whose
 * folder is gone from the cluster has no health entry, so its report is absent: the controller
 * reads that as "removed here", as it reads a missing health entry in push mode.
 */
export function deploymentReports(view: Readonly<WorkerStatus>, events: ReadonlyMap<string, readonly ReportedSyncEvent[]>): Map<string, SyncReport> {
  return new DeploymentReportMemo().build(view, events);
}

/** Keeps the last few sync events per deployment, as reports carry them. */
export class RecentEvents {
  private readonly byDeployment = new Map<string, ReportedSyncEvent[]>();
  private lastTime = 0;

  constructor(private readonly now: () => Date = () => new Date()) {}

  get view(): ReadonlyMap<string, readonly ReportedSyncEvent[]> {
    return this.byDeployment;
  }

  /** Record an event about a deployment; HealthChanged is not an event users see. Returns whether it was kept. */
  add(ev: SyncEvent): boolean {
    if (!ev.deployment || ev.type === "HealthChanged") return false;
    // Strictly increasing times: the controller tells new events from recorded ones by time.
    const t = Math.max(this.now().getTime(), this.lastTime + 1);
    this.lastTime = t;
    const list = this.byDeployment.get(ev.deployment) ?? [];
    list.push({ type: ev.type, message: ev.message, ...(ev.commit ? { commit: ev.commit } : {}), time: new Date(t).toISOString() });
    this.byDeployment.set(ev.deployment, list.slice(-EVENTS_PER_DEPLOYMENT));
    return true;
  }

  /** Forget deployments no longer on the cluster. */
  retain(deployments: ReadonlySet<string>): void {
    for (const d of this.byDeployment.keys()) if (!deployments.has(d)) this.byDeployment.delete(d);
  }
}
