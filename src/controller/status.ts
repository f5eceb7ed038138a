// Pure status computation: from what the reconcile found (render result, commit, placement, the
// sync workers' view of each cluster) to the ApplicationDeployment's status, with kstatus
// conditions (Ready, Reconciling, Stalled) and Flotilla's own (Rendered, Committed, Synced,
// Healthy). Keeps lastTransitionTime of conditions whose status did not change.

import { ANNOTATION_RETRY } from "../api/labels.js";
import type {
  ApplicationDeploymentStatus,
  ClusterDeploymentStatus,
  Condition,
  DeploymentPhase,
  HealthState,
  PlacementDecisionStatus,
  RolloutStatus,
} from "../api/types.js";

export interface ClusterObservation {
  name: string;
  /** The cluster answered its last probe. */
  reachable: boolean;
  /** The deployment's commit (or a later one) is applied there. */
  synced: boolean;
  appliedCommit?: string;
  health: HealthState;
  revisions: Array<{ name: string; replicas: number; readyReplicas: number; restarts?: number }>;
  lastSyncTime?: string;
  message?: string;
}

export interface StatusInput {
  generation: number;
  previous: ApplicationDeploymentStatus | undefined;
  now: Date;
  targetRevision: string;
  /**
   * Set when the deployment does not render (invalid input): the message names the field.
   * `transient`: a template's time or memory budget ran out, which load alone can cause; the
   * controller tries again, so the deployment is not stalled.
   */
  renderError?: { reason: string; message: string; transient?: boolean };
  commit?: string;
  /** Set when the commit failed (e.g. the Git remote rejected it and it is queued). */
  commitError?: string;
  placement: PlacementDecisionStatus[];
  clusters: ClusterObservation[];
  suspended: boolean;
  /** The rollout planner's step: its phase, message and state (persisted as status.rollout). */
  rollout?: {
    phase: DeploymentPhase;
    message: string;
    waitingFor?: string;
    state: RolloutStatus;
  };
}

function condition(type: string, ok: boolean | "Unknown", reason: string, message: string, generation: number): Condition {
  return { type, status: ok === "Unknown" ? "Unknown" : ok ? "True" : "False", reason, message, observedGeneration: generation };
}

/** Carry lastTransitionTime over from the previous conditions when the status is unchanged. */
export function withTransitionTimes(next: Condition[], previous: Condition[] | undefined, now: Date): Condition[] {
  return next.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : now.toISOString();
    return { ...c, lastTransitionTime };
  });
}

export function computeStatus(input: StatusInput): ApplicationDeploymentStatus {
  const g = input.generation;
  const selected = input.placement.filter((p) => p.selected);
  const conditions: Condition[] = [];
  let phase: DeploymentPhase;
  const clusters: ClusterDeploymentStatus[] = input.clusters.map((c) => ({
    name: c.name,
    health: c.health,
    revisions: c.revisions,
    ...(c.appliedCommit ? { appliedCommit: c.appliedCommit } : {}),
    ...(c.lastSyncTime ? { lastSyncTime: c.lastSyncTime } : {}),
    ...(c.message ? { message: c.message } : {}),
  }));

  if (input.renderError) {
    conditions.push(condition("Rendered", false, input.renderError.reason, input.renderError.message, g));
    conditions.push(condition("Ready", false, input.renderError.reason, input.renderError.message, g));
    if (input.renderError.transient) {
      conditions.push(condition("Stalled", false, "NotStalled", "trying again: a busy machine can make a template run out of its time or memory budget", g));
      conditions.push(condition("Reconciling", true, input.renderError.reason, `trying again; nothing already deployed was changed`, g));
    } else {
      conditions.push(condition("Stalled", true, input.renderError.reason, `${input.renderError.message} Nothing already deployed was changed.`, g));
      conditions.push(condition("Reconciling", false, input.renderError.reason, "waiting for a corrected spec", g));
    }
    phase = "Failed";
  } else {
    conditions.push(condition("Rendered", true, "RenderSucceeded", `rendered revision ${input.targetRevision} for ${selected.length} cluster(s)`, g));
    conditions.push(
      input.commitError
        ? condition("Committed", false, "CommitQueued", input.commitError, g)
        : condition("Committed", true, "CommitSucceeded", `manifests are in commit ${input.commit?.slice(0, 12) ?? "(none)"}`, g),
    );
    const unreachable = input.clusters.filter((c) => !c.reachable);
    const unsynced = input.clusters.filter((c) => c.reachable && !c.synced);
    const unhealthy = input.clusters.filter((c) => c.synced && c.health !== "Healthy");
    const degraded = unhealthy.filter((c) => c.health === "Degraded");
    if (input.suspended) {
      conditions.push(condition("Synced", "Unknown", "Suspended", "spec.suspend is true: nothing is applied to clusters", g));
    } else if (unsynced.length || unreachable.length) {
      const parts = [...unsynced.map((c) => `${c.name}: ${c.message ?? "sync in progress"}`), ...unreachable.map((c) => `${c.name}: cluster is unreachable`)];
      conditions.push(condition("Synced", false, unreachable.length ? "ClusterUnreachable" : "SyncInProgress", parts.join("; "), g));
    } else {
      conditions.push(condition("Synced", true, "SyncSucceeded", `commit applied on ${input.clusters.length} cluster(s)`, g));
    }
    const healthy = !unsynced.length && !unreachable.length && !unhealthy.length;
    if (healthy) {
      conditions.push(
        condition("Healthy", true, "AllHealthy", selected.length ? `healthy on ${selected.map((p) => p.cluster).join(", ")}` : "no cluster is selected", g),
      );
    } else {
      const parts = unhealthy.map((c) => `${c.name}: ${c.health}${c.message ? ` (${c.message})` : ""}`);
      const suspendedOnly = unhealthy.length > 0 && unhealthy.every((c) => c.health === "Suspended") && !unsynced.length && !unreachable.length;
      const reason = degraded.length ? "WorkloadDegraded" : suspendedOnly ? "WorkloadSuspended" : "WorkloadProgressing";
      conditions.push(condition("Healthy", degraded.length ? false : "Unknown", reason, parts.join("; ") || "waiting for the clusters to sync", g));
    }
    const rolloutPhase = input.rollout?.phase;
    if (input.suspended) phase = "Paused";
    else if (rolloutPhase === "Failed") phase = "Failed";
    else if (rolloutPhase === "Paused") phase = "Paused";
    else if (healthy && (rolloutPhase === undefined || rolloutPhase === "Healthy")) phase = "Healthy";
    else if (degraded.length || unreachable.length || rolloutPhase === "Degraded") phase = "Degraded";
    else phase = "Progressing";
    const ready = phase === "Healthy";
    const rolloutMessage = input.rollout && rolloutPhase !== "Healthy" ? input.rollout.message : undefined;
    const readyMessage = ready
      ? selected.length
        ? `revision ${input.targetRevision} is healthy on every selected cluster`
        : "no cluster matches the placement strategies"
      : (rolloutMessage ?? conditions.find((c) => c.status !== "True" && c.type !== "Rendered")?.message ?? phase);
    const reason = ready
      ? selected.length
        ? "Healthy"
        : "NoClusterSelected"
      : input.suspended
        ? "Suspended"
        : phase === "Paused"
          ? "RolloutPaused"
          : phase === "Failed"
            ? "RolloutFailed"
            : phase === "Degraded"
              ? "Degraded"
              : "Progressing";
    conditions.push(condition("Ready", ready, reason, readyMessage, g));
    conditions.push(
      condition("Reconciling", !ready && phase !== "Paused" && phase !== "Failed", ready ? "Reconciled" : reason, ready ? "up to date" : readyMessage, g),
    );
    conditions.push(
      phase === "Failed"
        ? condition(
            "Stalled",
            true,
            "RolloutFailed",
            readyMessage.includes(ANNOTATION_RETRY) ? readyMessage : `${readyMessage} Annotate ${ANNOTATION_RETRY}=true to try again, or add a newer revision.`,
            g,
          )
        : condition("Stalled", false, "NotStalled", "making progress", g),
    );
  }

  const order = ["Ready", "Reconciling", "Stalled", "Rendered", "Committed", "Synced", "Healthy"];
  conditions.sort((a, b) => order.indexOf(a.type) - order.indexOf(b.type));
  const status: ApplicationDeploymentStatus = {
    observedGeneration: g,
    phase,
    targetRevision: input.targetRevision,
    conditions: withTransitionTimes(conditions, input.previous?.conditions, input.now),
    placement: input.placement,
    clusters,
    progress: progressOf(phase, input.rollout?.state, clusters),
  };
  if (input.rollout) status.rollout = input.rollout.state;
  else if (input.previous?.rollout) status.rollout = input.previous.rollout;
  const commit = input.commit ?? input.previous?.commit;
  if (commit) status.commit = commit;
  const stable = phase === "Healthy" ? input.targetRevision : input.previous?.stableRevision;
  if (stable) status.stableRevision = stable;
  return status;
}

/** The PROGRESS column: `production 2/3`, `done`, or clusters healthy out of selected. */
function progressOf(phase: DeploymentPhase, rollout: RolloutStatus | undefined, clusters: ClusterDeploymentStatus[]): string {
  if (phase === "Healthy") return "done";
  if (rollout?.wave && rollout.batches) return `${rollout.wave} ${rollout.batch ?? 0}/${rollout.batches}`;
  if (phase === "Failed") return "-";
  return `${clusters.filter((c) => c.health === "Healthy").length}/${clusters.length} clusters`;
}

/**
 * True when two statuses differ in anything but timestamps and the clusters' applied commits (so
 * unchanged status costs no write). A cluster's applied commit moves with every commit of any
 * deployment placed there; it is written with the next real change. Whether the cluster has this
 * deployment's commit shows in its health and message, which are compared.
 */
export function statusChanged(a: ApplicationDeploymentStatus | undefined, b: ApplicationDeploymentStatus): boolean {
  const strip = (s: ApplicationDeploymentStatus | undefined) =>
    JSON.stringify(s, (k, v) => (k === "lastTransitionTime" || k === "lastSyncTime" || k === "appliedCommit" ? undefined : v));
  return strip(a) !== strip(b);
}
