// The rollout's persisted state (status.rollout) and how it is read back. Everything the planner
// needs to resume after a restart lives here and in Git; nothing is kept in memory between calls.
// Reading is defensive: status comes from the API server and may be old, partial or hand-edited.

import type { PlannedRevisionReplicas, RolloutAnalysisStatus, RolloutClusterStatus, RolloutStatus } from "../api/types.js";

/**
 * Where one cluster is in the rollout.
 * - `Pending`: not started (its wave is not open yet, or maxConcurrency is reached); runs its sources,
 *   or, when `held` is set, keeps the files of `held.commit` (a change waiting for its wave).
 * - `Progressing`: a batch is committed; waiting until the target is synced and healthy. A target
 *   reported Suspended holds it here without failing: the progress deadline restarts on resume.
 * - `Soaking`: the batch is healthy; waiting for the batch's `wait`.
 * - `Analyzing`: evaluating `analysis` until success, failure or the progress deadline.
 * - `Paused`: the batch has `pause: true`; waiting for `flotilla.dev/promote`.
 * - `Completed`: every batch passed.
 * - `Failed`: a deadline or failureCondition stopped it where it was (no autoRollback).
 * - `RolledBack`: the target is at 0 and the sources are back (autoRollback or abort); after an
 *   in-place update, the files of `held.commit` are back.
 */
export type ClusterRolloutPhase = "Pending" | "Progressing" | "Soaking" | "Analyzing" | "Paused" | "Completed" | "Failed" | "RolledBack";

export const CLUSTER_PHASES: readonly ClusterRolloutPhase[] = ["Pending", "Progressing", "Soaking", "Analyzing", "Paused", "Completed", "Failed", "RolledBack"];

/** Top-level summary state: a cluster phase, or `Suspended` while `spec.suspend` is true. */
export type RolloutStateName = ClusterRolloutPhase | "Suspended";

export interface ClusterRolloutState extends RolloutClusterStatus {
  state: ClusterRolloutPhase;
}

/** What the planner persists in `status.rollout` (a RolloutStatus with every field it relies on). */
export interface RolloutState extends RolloutStatus {
  /** The revision this rollout drives; a different last appRevision starts a new rollout. */
  revision: string;
  /** When the rollout of `revision` started (ISO time). */
  startedAt: string;
  /**
   * The generation whose in-place update of `revision` is under way or was the last change (a
   * new rendering of the running revision, moved through the waves); absent for a new revision.
   */
  update?: number;
  /** The wave shown to users: the first one with a cluster that is not Completed. */
  wave?: string;
  /** Batch of `wave` (the furthest cluster's), 1-based; 0 before it starts. */
  batch: number;
  /** Number of batches of `revision`. */
  batches: number;
  state: RolloutStateName;
  message: string;
  /** When `revision`/`wave`/`batch`/`state` last changed; while Suspended, when the suspension began. */
  since: string;
  /** Per selected cluster, in wave order then by name. */
  clusters: ClusterRolloutState[];
  analysis?: RolloutAnalysisStatus;
}

function isPlanned(value: unknown): value is PlannedRevisionReplicas {
  const v = value as PlannedRevisionReplicas | null;
  return typeof v === "object" && v !== null && typeof v.name === "string" && Number.isInteger(v.replicas) && v.replicas >= 0;
}

function readCluster(value: unknown): ClusterRolloutState | undefined {
  const c = value as Partial<RolloutClusterStatus> | null;
  if (typeof c !== "object" || c === null) return undefined;
  if (typeof c.name !== "string" || typeof c.wave !== "string" || typeof c.since !== "string") return undefined;
  if (!CLUSTER_PHASES.includes(c.state as ClusterRolloutPhase) || !Number.isInteger(c.batch)) return undefined;
  if (!Array.isArray(c.revisions) || !Array.isArray(c.sources)) return undefined;
  const out: ClusterRolloutState = {
    name: c.name,
    wave: c.wave,
    batch: c.batch as number,
    state: c.state as ClusterRolloutPhase,
    since: c.since,
    revisions: c.revisions.filter(isPlanned).map((r) => ({ name: r.name, replicas: r.replicas })),
    sources: c.sources.filter(isPlanned).map((r) => ({ name: r.name, replicas: r.replicas })),
  };
  if (typeof c.batchStartedAt === "string") out.batchStartedAt = c.batchStartedAt;
  if (typeof c.message === "string") out.message = c.message;
  if (typeof c.rendering === "string") out.rendering = c.rendering;
  if (Number.isInteger(c.batches)) out.batches = c.batches as number;
  if (Number.isInteger(c.update)) out.update = c.update as number;
  if (typeof c.held?.commit === "string" && typeof c.held.rendering === "string") out.held = { commit: c.held.commit, rendering: c.held.rendering };
  return out;
}

/**
 * The planner's state from `status.rollout`, or undefined when there is none the planner wrote
 * (a new deployment, or status from before the progressive planner). A cluster entry that does
 * not parse is dropped: the planner then seeds that cluster from what is observed there.
 */
export function readRolloutState(status: RolloutStatus | undefined): RolloutState | undefined {
  if (!status || typeof status.revision !== "string" || typeof status.startedAt !== "string" || !Array.isArray(status.clusters)) return undefined;
  const clusters = status.clusters.map(readCluster).filter((c): c is ClusterRolloutState => c !== undefined);
  const state: RolloutState = {
    revision: status.revision,
    startedAt: status.startedAt,
    batch: status.batch ?? 0,
    batches: status.batches ?? 1,
    state: (status.state === "Suspended" || CLUSTER_PHASES.includes(status.state as ClusterRolloutPhase) ? status.state : "Pending") as RolloutStateName,
    message: status.message ?? "",
    since: status.since ?? status.startedAt,
    clusters,
  };
  if (status.wave !== undefined) state.wave = status.wave;
  if (Number.isInteger(status.update)) state.update = status.update as number;
  if (typeof status.waitingFor === "string") state.waitingFor = status.waitingFor;
  if (status.analysis) state.analysis = { ...status.analysis };
  return state;
}
