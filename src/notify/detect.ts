// Pure: which notification events a deployment's status shows, and which of them are new since
// its previous status. An event carries a stable dedupe key, `<event>/<generation>/<revision>/
// <wave>/<batch>` for rollout events and `<event>/<generation>/<cluster>/<commit>` for sync
// events, and for rollout events the time its step began (`since`), so a delivery is recorded
// once per deployment generation and step. No I/O, no clock: times come from the status.

import type { ApplicationDeploymentStatus, NotificationEventType, RolloutClusterStatus } from "../api/types.js";

/** The deployment an event is about. */
export interface DeploymentRef {
  namespace: string;
  name: string;
  generation: number;
  uid?: string;
}

export interface NotificationEvent {
  event: NotificationEventType;
  /** The dedupe key (see the module comment). */
  key: string;
  /**
   * Rollout events: when the step began (the rollout's or the cluster's `since`), which makes a
   * step retried after a failure a new occurrence. Absent for sync events, whose key is enough.
   */
  since?: string;
  /** When it happened (RFC 3339): `since`, or when the sync event was seen. */
  time: string;
  deployment: DeploymentRef;
  /** The target revision of the rollout. */
  revision?: string;
  stableRevision?: string;
  wave?: string;
  batch?: number;
  batches?: number;
  /** The clusters concerned: paused, failed, rolled back, synced or drifted ones; all of the rollout's for start and completion. */
  clusters: string[];
  /** The environment repository's commit (status.commit, or the sync event's). */
  commit?: string;
  /** The GitSource commit the spec came from, when a GitSource applied it. */
  sourceCommit?: string;
  message: string;
  phase?: string;
}

/** Two events are the same occurrence: same key and same step time. */
export function sameOccurrence(a: { key: string; since?: string | undefined }, b: { key: string; since?: string | undefined }): boolean {
  return a.key === b.key && a.since === b.since;
}

export function rolloutKey(event: NotificationEventType, generation: number, revision: string, wave: string | undefined, batch: number | undefined): string {
  return `${event}/${generation}/${revision}/${wave ?? ""}/${batch ?? ""}`;
}

export function syncKey(event: NotificationEventType, generation: number, cluster: string, commit: string | undefined): string {
  return `${event}/${generation}/${cluster}/${commit?.slice(0, 12) ?? ""}`;
}

/**
 * Same step regardless of the generation it was seen in (an edit of the spec during a pause is
 * not a new pause): how a previous status is compared. An in-place update is told apart by the
 * generation that started it.
 */
function stepIdentity(e: NotificationEvent, update: number | undefined): string {
  return `${e.event}|${e.key.split("/").slice(2).join("/")}|${e.since ?? ""}|${update ?? ""}`;
}

function readyMessage(status: ApplicationDeploymentStatus): string | undefined {
  return status.conditions?.find((c) => c.type === "Ready")?.message;
}

/**
 * Every rollout event whose condition holds in `status`: the rollout has started, a batch is
 * paused, it failed, it rolled back, it completed. The controller sends those not sent yet after
 * a restart; otherwise only what `rolloutEvents` finds new.
 */
export function standingEvents(deployment: DeploymentRef, status: ApplicationDeploymentStatus | undefined): NotificationEvent[] {
  const r = status?.rollout;
  if (!status || !r?.revision || !r.startedAt) return [];
  const revision = r.revision;
  const clusters = (r.clusters ?? []) as RolloutClusterStatus[];
  const base = {
    deployment,
    revision,
    ...(status.stableRevision ? { stableRevision: status.stableRevision } : {}),
    ...(status.commit ? { commit: status.commit } : {}),
    ...(status.sourceCommit ? { sourceCommit: status.sourceCommit } : {}),
    ...(status.phase ? { phase: status.phase } : {}),
  };
  const out: NotificationEvent[] = [];
  const g = deployment.generation;
  // An in-place update is a rollout of its own, started by the generation that changed it.
  const startedBy = r.update ?? g;
  out.push({
    ...base,
    event: "RolloutStarted",
    key: rolloutKey("RolloutStarted", startedBy, revision, undefined, undefined),
    since: r.startedAt,
    // The status does not keep when an update started; its current step's time is the closest.
    time: r.update !== undefined ? (r.since ?? r.startedAt) : r.startedAt,
    clusters: clusters.map((c) => c.name),
    message: r.update !== undefined ? `${revision}: a change (generation ${r.update}) is rolling out` : `${revision} is rolling out`,
    ...(r.batches !== undefined ? { batches: r.batches } : {}),
  });
  // Clusters paused at the same wave and batch make one event.
  const paused = new Map<string, RolloutClusterStatus[]>();
  for (const c of clusters.filter((c) => c.state === "Paused")) {
    const at = `${c.wave}/${c.batch}`;
    paused.set(at, [...(paused.get(at) ?? []), c]);
  }
  for (const group of paused.values()) {
    const first = group[0] as RolloutClusterStatus;
    const since = group.map((c) => c.since).sort()[0] ?? first.since;
    out.push({
      ...base,
      event: "BatchPaused",
      key: rolloutKey("BatchPaused", g, revision, first.wave, first.batch),
      since,
      time: since,
      wave: first.wave,
      batch: first.batch,
      ...(first.batches !== undefined ? { batches: first.batches } : {}),
      clusters: group.map((c) => c.name),
      message: `${revision} batch ${first.batch}${first.batches ? `/${first.batches}` : ""} in wave ${first.wave} is paused on ${group
        .map((c) => c.name)
        .join(", ")}: waiting for promote (annotate flotilla.dev/promote=true or run flotilla rollout promote)`,
    });
  }
  const since = r.since ?? r.startedAt;
  const failed = clusters.filter((c) => c.state === "Failed" || c.state === "RolledBack");
  if (status.phase === "Failed") {
    const at = failed[0];
    out.push({
      ...base,
      event: "RolloutFailed",
      key: rolloutKey("RolloutFailed", g, status.targetRevision ?? revision, at?.wave ?? r.wave, at?.batch ?? r.batch),
      since,
      time: since,
      ...waveOf(at?.wave ?? r.wave, at?.batch ?? r.batch, at?.batches ?? r.batches),
      clusters: failed.map((c) => c.name),
      message: readyMessage(status) ?? r.message ?? "the rollout failed",
    });
  }
  const rolledBack = clusters.filter((c) => c.state === "RolledBack");
  if (rolledBack.length) {
    const at = rolledBack[0] as RolloutClusterStatus;
    out.push({
      ...base,
      event: "RolledBack",
      key: rolloutKey("RolledBack", g, revision, at.wave, at.batch),
      since,
      time: since,
      ...waveOf(at.wave, at.batch, at.batches),
      clusters: rolledBack.map((c) => c.name),
      message: `${revision} was rolled back on ${rolledBack.map((c) => c.name).join(", ")}: ${at.message ?? r.message ?? ""}`.replace(/: $/, ""),
    });
  }
  if (r.state === "Completed" && status.phase === "Healthy" && status.stableRevision === revision) {
    out.push({
      ...base,
      event: "RolloutCompleted",
      key: rolloutKey("RolloutCompleted", startedBy, revision, undefined, undefined),
      since,
      time: since,
      ...(r.batches !== undefined ? { batches: r.batches } : {}),
      clusters: clusters.map((c) => c.name),
      message: readyMessage(status) ?? `${revision} is rolled out and healthy`,
    });
  }
  return out;
}

function waveOf(wave: string | undefined, batch: number | undefined, batches: number | undefined): Pick<NotificationEvent, "wave" | "batch" | "batches"> {
  return { ...(wave !== undefined ? { wave } : {}), ...(batch !== undefined ? { batch } : {}), ...(batches !== undefined ? { batches } : {}) };
}

/** The rollout events that hold in `next` and did not in `previous` (same step, whatever the generation). */
export function rolloutEvents(
  deployment: DeploymentRef,
  previous: ApplicationDeploymentStatus | undefined,
  next: ApplicationDeploymentStatus,
): NotificationEvent[] {
  const before = new Set(standingEvents(deployment, previous).map((e) => stepIdentity(e, previous?.rollout?.update)));
  return standingEvents(deployment, next).filter((e) => !before.has(stepIdentity(e, next.rollout?.update)));
}

/** What the sync loop reports that a Notification can be about. */
export interface SyncEventInput {
  type: string;
  cluster: string;
  commit: string | undefined;
  message: string;
}

/** A SyncFailed or DriftCorrected sync event as a notification event; undefined for the others. */
export function syncEvent(
  deployment: DeploymentRef,
  status: ApplicationDeploymentStatus | undefined,
  ev: SyncEventInput,
  now: Date,
): NotificationEvent | undefined {
  if (ev.type !== "SyncFailed" && ev.type !== "DriftCorrected") return undefined;
  const event: NotificationEventType = ev.type;
  const commit = ev.commit ?? status?.commit;
  const wave = status?.rollout?.clusters?.find((c) => c.name === ev.cluster)?.wave;
  return {
    event,
    key: syncKey(event, deployment.generation, ev.cluster, commit),
    time: now.toISOString(),
    deployment,
    ...(status?.targetRevision ? { revision: status.targetRevision } : {}),
    ...(status?.stableRevision ? { stableRevision: status.stableRevision } : {}),
    ...(wave ? { wave } : {}),
    clusters: [ev.cluster],
    ...(commit ? { commit } : {}),
    ...(status?.sourceCommit ? { sourceCommit: status.sourceCommit } : {}),
    ...(status?.phase ? { phase: status.phase } : {}),
    message: `${ev.cluster}: ${ev.message}`,
  };
}
