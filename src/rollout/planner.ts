// The progressive rollout planner: spec + placement + the previous rollout state (status.rollout)
// + what the clusters report + now → the replicas of every revision in every cluster for this
// step, the state to persist, and when to look again. Pure: no I/O, no timers, no memory between
// calls — a controller restarted at any moment resumes from status and Git alone.

import { parseDuration } from "../api/duration.js";
import { FlotillaError } from "../api/errors.js";
import { ANNOTATION_ABORT, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from "../api/labels.js";
import type {
  AppRevision,
  ApplicationDeployment,
  HealthState,
  PlannedRevisionReplicas,
  RolloutAnalysisStatus,
  RolloutBatch,
  RolloutStatus,
} from "../api/types.js";
import { distributeReplicas } from "../placement/distribution.js";
import type { Placement, Wave } from "../placement/select.js";
import { type AnalysisContext, evaluateAnalysis } from "./analysis.js";
import { batchReplicas, revisionsAtBatch, rolledBackRevisions, sourceRevisions } from "./batches.js";
import { type Controls, readControls } from "./controls.js";
import { type ClusterRolloutPhase, type ClusterRolloutState, type RolloutState, type RolloutStateName, readRolloutState } from "./state.js";
import { startableClusters } from "./waves.js";

/** One revision as observed in a cluster (the sync loop's health report). */
export interface ObservedRevision {
  name: string;
  replicas: number;
  readyReplicas: number;
  /** Health of the revision's workloads; falls back to the cluster's health when absent. */
  health?: HealthState;
  /** Container restarts of the revision's pods, for `revision.restarts` in analysis; default 0. */
  restarts?: number;
}

/** What a cluster reports. Structurally compatible with the controller's ClusterObservation. */
export interface ObservedCluster {
  name: string;
  /**
   * The cluster has applied the commit holding the planner's latest targets for this deployment
   * (or a later one). Must be false until then: health seen before the batch's commit is applied
   * says nothing about the batch.
   */
  synced: boolean;
  /**
   * False when the cluster did not answer its last probe: it cannot apply anything, and the
   * rollout says so instead of just waiting for the commit. Default: reachable.
   */
  reachable?: boolean;
  health: HealthState;
  /**
   * What the health report says about the objects that are not Healthy (e.g. `Deployment/team-a/shop:
   * Suspended (rollout paused (spec.paused))`); quoted when the rollout waits on them. Optional.
   */
  message?: string;
  revisions: ObservedRevision[];
}

export interface PlanInput {
  /** The ApplicationDeployment (spec, and metadata.annotations for promote/abort/retry). */
  deployment: ApplicationDeployment;
  /** `place(spec.placementStrategies, clusters)`: waves in order, clusters sorted by name. */
  placement: Placement;
  /** `status.rollout` as last persisted; undefined for a new deployment. */
  previous?: RolloutStatus | undefined;
  /** One entry per selected cluster; a missing one counts as not synced. */
  observed: ObservedCluster[];
  now: Date;
  /**
   * Per selected cluster, a fingerprint of what the deployment renders there now with replicas
   * set aside (the controller's renderingFingerprints): when it differs from the one the rollout
   * brought the cluster, the spec, a definition or an override changed, and the change goes
   * through the waves. Without it, such changes are not told apart from replica changes.
   */
  renderings?: ReadonlyMap<string, string>;
  /**
   * The environment commit that holds the deployment's files as they are now: a cluster whose
   * change waits for its wave keeps that commit's files. Without it no change can be held.
   */
  commit?: string;
}

export type RolloutPhase = "Progressing" | "Paused" | "Healthy" | "Degraded" | "Failed";

/** What to render for one cluster (see `toRenderTargets` for the renderer's RenderTarget). */
export interface PlannedTarget {
  cluster: string;
  wave: string;
  /** Revisions present in the cluster, oldest first, with their replicas (0 = kept for rollback). */
  revisions: PlannedRevisionReplicas[];
  /** True only where the rollout is complete: an autoscaler then owns the replica count. */
  releaseReplicasToAutoscaler: boolean;
  /**
   * Keep this cluster's files exactly as this environment commit holds them instead of rendering
   * the current spec: a change that waits for the cluster's wave, or one rolled back there.
   */
  keepFilesOf?: string;
  /** Fingerprint of the rendering the cluster's files get when they are rendered (see PlanInput.renderings). */
  rendering?: string;
}

export interface RolloutPlan {
  /** Persist as `status.rollout` (it fits the CRD's status schema). */
  state: RolloutState;
  /** Render and commit these; identical to the previous call's when nothing moved. */
  targets: PlannedTarget[];
  /** The targets differ from the previous step's: a commit is due, with `summary` as its message. */
  changed: boolean;
  /** What this step did, e.g. `v2 batch 2/3 in wave production (prod-eu)`; empty when unchanged. */
  summary: string;
  phase: RolloutPhase;
  /** Where the rollout stands, for status and events. */
  message: string;
  /** What the rollout waits for: `promote`, `analysis`, `soak 20s`, `healthy replicas`, ... */
  waitingFor?: string;
  /** Control annotations seen on this call: the controller removes them. */
  consumedAnnotations: string[];
  /** Look again after this long (a soak ends, a deadline passes, analysis is due). */
  requeueAfterMs?: number;
}

/** Default period between analysis evaluations while the success condition does not hold yet. */
export const DEFAULT_ANALYSIS_INTERVAL_MS = 10_000;

const IN_FLIGHT: readonly ClusterRolloutPhase[] = ["Progressing", "Soaking", "Analyzing", "Paused"];
const STOPPED: readonly ClusterRolloutPhase[] = ["Failed", "RolledBack"];

/** A cluster's outcome on this call, for phase, message, waitingFor and requeue. */
type Outcome =
  | { kind: "moved" }
  | { kind: "waiting"; waitingFor: string; detail: string; at?: number; degraded?: boolean; suspended?: boolean }
  | { kind: "failed"; reason: string };

interface StepEvent {
  /** `changed`: an in-flight cluster got the new rendering and restarted its batch. */
  kind: "batch" | "changed" | "completed" | "rolledBack" | "failed";
  cluster: string;
  wave: string;
  batch: number;
  reason?: string;
}

/** Everything a step needs, computed once per call. */
interface Step {
  deployment: string;
  target: AppRevision;
  targetIndex: number;
  order: string[];
  now: number;
  nowIso: string;
  /** The target's batches: `rollout.batches`, or one batch of 100%. A wave may set its own (waveBatches). */
  batchSpecs: RolloutBatch[];
  /** Waves with their own `batches`, which replace the target's for their clusters. */
  waveBatches: Map<string, RolloutBatch[]>;
  totals: Map<string, number>;
  waves: Wave[];
  observed: Map<string, ObservedCluster>;
  deadlineMs: number | undefined;
  events: StepEvent[];
  analysis: RolloutAnalysisStatus | undefined;
  generation: number;
  renderings: ReadonlyMap<string, string>;
  commit: string | undefined;
  /** The generation of the in-place update this rollout is (see RolloutState.update), if it is one. */
  update: number | undefined;
  /** In-flight clusters whose batch starts over with a new rendering: judged after its commit, not now. */
  restarted: Set<string>;
}

/** Human duration: `45s`, `2m30s`, `1h5m`. */
export function formatDuration(ms: number): string {
  let s = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [h ? `${h}h` : "", m ? `${m}m` : "", s || (!h && !m) ? `${s}s` : ""];
  return parts.join("");
}

function durationOf(text: string | undefined, field: string): number | undefined {
  return text === undefined ? undefined : parseDuration(text, field);
}

function total(step: Step, cluster: string): number {
  return step.totals.get(cluster) ?? step.target.rollout?.replicas ?? 1;
}

/** The batches of a wave's clusters: the wave's own, else the target revision's. */
function specsOf(step: Step, wave: string): RolloutBatch[] {
  return step.waveBatches.get(wave) ?? step.batchSpecs;
}

function batchCounts(step: Step, c: ClusterRolloutState): number[] {
  return batchReplicas({ batches: specsOf(step, c.wave) }, total(step, c.name));
}

/** The revisions a cluster runs in its current phase. */
function revisionsFor(step: Step, c: ClusterRolloutState): PlannedRevisionReplicas[] {
  const name = step.target.name;
  switch (c.state) {
    case "Pending":
      return sourceRevisions(step.order, c.sources);
    case "RolledBack":
      return rolledBackRevisions(step.order, name, c.sources);
    case "Failed":
      // Stays where it stopped; only revisions removed from the spec disappear.
      return sourceRevisions(step.order, c.revisions);
    default: {
      const counts = batchCounts(step, c);
      const batch = Math.min(Math.max(c.batch, 1), counts.length);
      return revisionsAtBatch({ order: step.order, target: name, sources: c.sources, batchReplicas: counts[batch - 1] ?? 0, total: total(step, c.name) });
    }
  }
}

function planned(c: ClusterRolloutState, revision: string): number {
  return c.revisions.find((r) => r.name === revision)?.replicas ?? 0;
}

/**
 * Is the current batch of `c` applied and healthy? `why` says what is missing. A Suspended target
 * (a paused Deployment, a suspended Job) is neither done nor failing: `suspended` says the batch
 * waits for someone to resume it.
 */
function batchHealth(step: Step, c: ClusterRolloutState): { ok: boolean; why: string; degraded: boolean; suspended?: boolean } {
  const obs = step.observed.get(c.name);
  if (obs?.reachable === false) return { ok: false, why: `${c.name}: cluster is unreachable; the batch is applied when it answers again`, degraded: false };
  if (!obs?.synced) return { ok: false, why: `${c.name}: waiting for the batch's commit to be applied`, degraded: false };
  const want = planned(c, step.target.name);
  const rev = obs.revisions.find((r) => r.name === step.target.name);
  const health = rev?.health ?? obs.health;
  if (want === 0) return { ok: true, why: "", degraded: false };
  const ready = rev?.readyReplicas ?? 0;
  if (health === "Suspended") {
    const what = obs.message ? `suspended: ${obs.message}` : "suspended (spec.paused or spec.suspend)";
    return { ok: false, why: `${c.name}: ${step.target.name} ${ready}/${want} ready, ${what}; resume it to continue`, degraded: false, suspended: true };
  }
  if (ready < want) return { ok: false, why: `${c.name}: ${step.target.name} ${ready}/${want} ready (${health})`, degraded: health === "Degraded" };
  if (health !== "Healthy") return { ok: false, why: `${c.name}: ${step.target.name} is ${health}`, degraded: health === "Degraded" };
  return { ok: true, why: "", degraded: false };
}

/**
 * Is the cluster seen at the batch's commit? One that is not (a controller that just restarted and
 * has not synced yet, a member that does not answer) says nothing about the batch: judged anyway,
 * its empty report would read as unhealthy (restarting a soak) or as a passing analysis (0 of 0
 * replicas ready). The planner waits instead, without changing the cluster's state.
 */
function observedAtBatch(step: Step, c: ClusterRolloutState): boolean {
  const obs = step.observed.get(c.name);
  return obs?.synced === true && obs.reachable !== false;
}

function enter(step: Step, c: ClusterRolloutState, state: ClusterRolloutPhase, message?: string): void {
  c.state = state;
  c.since = step.nowIso;
  if (message === undefined) delete c.message;
  else c.message = message;
}

/** Apply batch `batch` (1-based) to a cluster: a new step that needs a commit. */
function applyBatch(step: Step, c: ClusterRolloutState, batch: number): void {
  c.batch = batch;
  c.batchStartedAt = step.nowIso;
  enter(step, c, "Progressing");
  // A revision rollout restores revisions, not files: a held change is released when it starts.
  if (c.update === undefined) delete c.held;
  c.revisions = revisionsFor(step, c);
  step.events.push({ kind: "batch", cluster: c.name, wave: c.wave, batch });
}

/**
 * Where a started cluster begins: batch 1 of a new revision; the last batch for an in-place update,
 * which needs no second revision beside the first and so moves the whole cluster at once.
 */
function firstBatch(step: Step, c: ClusterRolloutState): number {
  return c.update === undefined ? 1 : specsOf(step, c.wave).length;
}

function analysisContext(step: Step, c: ClusterRolloutState): AnalysisContext {
  const target = step.target.name;
  const obs = step.observed.get(c.name);
  const rev = obs?.revisions.find((r) => r.name === target);
  const wave = step.waves.find((w) => w.name === c.wave);
  return {
    revision: { name: target, replicas: rev?.replicas ?? 0, readyReplicas: rev?.readyReplicas ?? 0, restarts: rev?.restarts ?? 0 },
    clusters: (wave?.clusters ?? [c.name]).map((name) => {
      const o = step.observed.get(name);
      const r = o?.revisions.find((x) => x.name === target);
      return { name, health: o?.health ?? "Unknown", replicas: r?.replicas ?? 0, readyReplicas: r?.readyReplicas ?? 0 };
    }),
    cluster: c.name,
    batch: c.batch,
    batches: specsOf(step, c.wave).length,
    elapsed: (step.now - Date.parse(c.batchStartedAt ?? c.since)) / 1000,
    wave: c.wave,
  };
}

function runAnalysis(step: Step, c: ClusterRolloutState, only?: "failure") {
  const analysis = step.target.rollout?.analysis;
  const verdict = evaluateAnalysis({
    analysis: only ? (analysis?.failureCondition ? { failureCondition: analysis.failureCondition } : undefined) : analysis,
    context: analysisContext(step, c),
    deployment: step.deployment,
    revisionIndex: step.targetIndex,
  });
  if (!only || verdict.result !== "Successful") {
    step.analysis = { cluster: c.name, batch: c.batch, result: verdict.result, message: verdict.message, at: step.nowIso };
  }
  return verdict;
}

/**
 * Move one in-flight cluster as far as the observations allow: Progressing → Soaking →
 * Analyzing → Paused → next batch (or Completed). Stops at the first thing to wait for, at a
 * failure, or when a new batch is applied (that needs a commit before anything else is judged).
 */
function advance(step: Step, c: ClusterRolloutState, promoted: boolean): Outcome {
  const analysis = step.target.rollout?.analysis;
  const hasAnalysis = Boolean(analysis?.successCondition || analysis?.failureCondition);
  const specs = specsOf(step, c.wave);
  const batchLabel = () => `batch ${c.batch}/${specs.length}`;
  const deadlineAt = () => (step.deadlineMs === undefined ? undefined : Date.parse(c.batchStartedAt ?? c.since) + step.deadlineMs);
  // The batch is done (and promoted, if it paused): complete the cluster, or apply the next batch.
  const nextBatchOrComplete = (): Outcome => {
    if (c.batch >= specs.length) {
      enter(step, c, "Completed");
      step.events.push({ kind: "completed", cluster: c.name, wave: c.wave, batch: c.batch });
      c.revisions = revisionsFor(step, c);
      return { kind: "moved" };
    }
    applyBatch(step, c, c.batch + 1);
    return { kind: "moved" };
  };
  const afterAnalysis = (): Outcome | undefined => {
    const spec = specs[c.batch - 1];
    if (spec?.pause && !promoted) {
      enter(step, c, "Paused", `${batchLabel()} passed; waiting for ${ANNOTATION_PROMOTE}`);
      return { kind: "waiting", waitingFor: "promote", detail: `${c.name}: ${batchLabel()} paused, annotate ${ANNOTATION_PROMOTE}=true to continue` };
    }
    return nextBatchOrComplete();
  };
  // Each pass either returns or moves the cluster to a later phase, so this ends within a few passes.
  for (let pass = 0; pass < 8; pass++) {
    switch (c.state) {
      case "Progressing": {
        const health = batchHealth(step, c);
        if (health.ok) {
          const wait = durationOf(specs[c.batch - 1]?.wait, `batches[${c.batch - 1}].wait of wave ${c.wave}`);
          if (wait) enter(step, c, "Soaking");
          else if (hasAnalysis) enter(step, c, "Analyzing");
          else {
            const out = afterAnalysis();
            if (out) return out;
          }
          continue;
        }
        if (health.suspended) {
          // Not failing, not moving: the deadline restarts when the target is resumed, as a paused
          // Deployment's own progress deadline does.
          c.batchStartedAt = step.nowIso;
          c.message = health.why;
          return { kind: "waiting", waitingFor: "resume", detail: health.why, suspended: true };
        }
        const at = deadlineAt();
        if (at !== undefined && step.now >= at) {
          return { kind: "failed", reason: `${batchLabel()} not healthy within progressDeadline ${step.target.rollout?.progressDeadline} (${health.why})` };
        }
        c.message = health.why;
        return { kind: "waiting", waitingFor: "healthy replicas", detail: health.why, degraded: health.degraded, ...(at === undefined ? {} : { at }) };
      }
      case "Soaking": {
        if (!observedAtBatch(step, c)) return { kind: "waiting", waitingFor: "sync", detail: batchHealth(step, c).why };
        const health = batchHealth(step, c);
        if (!health.ok) {
          // Health must hold through the soak; the batch's deadline still counts from its start.
          enter(step, c, "Progressing", `became unhealthy while soaking: ${health.why}`);
          continue;
        }
        if (analysis?.failureCondition) {
          const verdict = runAnalysis(step, c, "failure");
          if (verdict.result === "Failed" || verdict.result === "Error") return { kind: "failed", reason: `${batchLabel()}: ${verdict.message}` };
        }
        const wait = durationOf(specs[c.batch - 1]?.wait, "wait") ?? 0;
        const end = Date.parse(c.since) + wait;
        if (step.now < end) {
          return {
            kind: "waiting",
            waitingFor: `soak ${formatDuration(end - step.now)}`,
            detail: `${c.name}: ${batchLabel()} healthy, soaking until ${new Date(end).toISOString()}`,
            at: end,
          };
        }
        if (hasAnalysis) enter(step, c, "Analyzing");
        else {
          const out = afterAnalysis();
          if (out) return out;
        }
        continue;
      }
      case "Analyzing": {
        if (!observedAtBatch(step, c)) return { kind: "waiting", waitingFor: "sync", detail: batchHealth(step, c).why };
        const verdict = runAnalysis(step, c);
        if (verdict.result === "Successful") {
          const out = afterAnalysis();
          if (out) return out;
          continue;
        }
        if (verdict.result === "Failed" || verdict.result === "Error") return { kind: "failed", reason: `${batchLabel()}: ${verdict.message}` };
        const at = deadlineAt();
        if (at !== undefined && step.now >= at) {
          return {
            kind: "failed",
            reason: `${batchLabel()}: analysis did not succeed within progressDeadline ${step.target.rollout?.progressDeadline} (${verdict.message})`,
          };
        }
        c.message = verdict.message;
        const interval = durationOf(analysis?.interval, "interval") ?? DEFAULT_ANALYSIS_INTERVAL_MS;
        return {
          kind: "waiting",
          waitingFor: "analysis",
          detail: `${c.name}: ${verdict.message}`,
          at: Math.min(step.now + interval, at ?? Number.POSITIVE_INFINITY),
        };
      }
      case "Paused": {
        if (!promoted)
          return { kind: "waiting", waitingFor: "promote", detail: `${c.name}: ${batchLabel()} paused, annotate ${ANNOTATION_PROMOTE}=true to continue` };
        promoted = false;
        return nextBatchOrComplete();
      }
      default:
        return { kind: "moved" };
    }
  }
  return { kind: "moved" };
}

/**
 * Roll back every cluster the rollout has touched: target to its pre-rollout count, sources
 * restored; where an in-place update reached, the files of its restore point come back. In an
 * update, a cluster the update left alone (its rendering did not change) is not touched.
 */
function rollBack(step: Step, clusters: ClusterRolloutState[], reason: string): string[] {
  const untouchedByUpdate = (c: ClusterRolloutState) => step.update !== undefined && c.state === "Completed" && c.update === undefined;
  const touched = clusters.filter((c) => c.state !== "Pending" && c.state !== "RolledBack" && !untouchedByUpdate(c));
  for (const c of touched) {
    enter(step, c, "RolledBack", reason);
    c.revisions = revisionsFor(step, c);
    step.events.push({ kind: "rolledBack", cluster: c.name, wave: c.wave, batch: c.batch, reason });
  }
  return touched.map((c) => c.name);
}

function seedSources(step: Step, cluster: string, fromState: PlannedRevisionReplicas[] | undefined): PlannedRevisionReplicas[] {
  if (fromState) return sourceRevisions(step.order, fromState);
  // No state for this cluster (new deployment, a cluster that just joined, or status written
  // before this planner): start from what runs there, so taking over never scales anything down.
  const obs = step.observed.get(cluster);
  return sourceRevisions(
    step.order,
    (obs?.revisions ?? []).map((r) => ({ name: r.name, replicas: r.replicas })),
  );
}

function pending(step: Step, name: string, wave: string, sources: PlannedRevisionReplicas[]): ClusterRolloutState {
  return { name, wave, batch: 0, state: "Pending", since: step.nowIso, revisions: sourceRevisions(step.order, sources), sources };
}

function targetsOf(clusters: ClusterRolloutState[]): PlannedTarget[] {
  return clusters.map((c) => {
    const target: PlannedTarget = {
      cluster: c.name,
      wave: c.wave,
      revisions: c.revisions.map((r) => ({ name: r.name, replicas: r.replicas })),
      // An update starts from a completed cluster: the autoscaler keeps the replica count through it.
      releaseReplicasToAutoscaler: c.state === "Completed" || c.update !== undefined,
    };
    if (c.held && (c.state === "Pending" || c.state === "RolledBack")) target.keepFilesOf = c.held.commit;
    else if (c.rendering !== undefined) target.rendering = c.rendering;
    return target;
  });
}

/**
 * Do the targets differ from the previous step's? A rendering the previous state did not record
 * (written before renderings were tracked) is adopted, not a change.
 */
function targetsChanged(before: PlannedTarget[], after: PlannedTarget[]): boolean {
  if (before.length !== after.length) return true;
  return after.some((t, i) => {
    const b = before[i];
    if (!b) return true;
    const { rendering, ...rest } = t;
    const { rendering: was, ...restBefore } = b;
    return JSON.stringify(rest) !== JSON.stringify(restBefore) || (was !== undefined && rendering !== was);
  });
}

/**
 * Compare what each cluster renders now with what the rollout brought it, and send a change into
 * the waves. A completed cluster waits for its wave as part of an in-place update, keeping its
 * files (its restore point); a cluster not started yet keeps its files too; an in-flight one gets
 * the change at once and its batch starts over, health gate and deadline included; a failed or
 * rolled-back one joins the new attempt. A change undone before it reached a cluster releases the
 * cluster where it was. Returns the clusters that join an update.
 */
function followRenderings(step: Step, clusters: ClusterRolloutState[]): string[] {
  const joined: string[] = [];
  const joinUpdate = (c: ClusterRolloutState, fp: string) => {
    c.rendering = fp;
    c.update = step.generation;
    enter(step, c, "Pending", `waiting for its wave to take the update of generation ${step.generation}`);
    joined.push(c.name);
  };
  const backToCompleted = (c: ClusterRolloutState, fp: string) => {
    c.rendering = fp;
    delete c.held;
    delete c.update;
    enter(step, c, "Completed");
  };
  for (const c of clusters) {
    const fp = step.renderings.get(c.name);
    if (fp === undefined || fp === c.rendering) continue;
    if (c.rendering === undefined || step.commit === undefined) {
      // State from before renderings were tracked, or nothing committed yet: adopt, hold nothing.
      c.rendering = fp;
      continue;
    }
    switch (c.state) {
      case "Completed":
        c.held = { commit: step.commit, rendering: c.rendering };
        c.sources = c.revisions.map((r) => ({ ...r }));
        joinUpdate(c, fp);
        break;
      case "Pending":
        if (!c.held) c.held = { commit: step.commit, rendering: c.rendering };
        if (fp !== c.held.rendering) c.rendering = fp;
        else if (c.update !== undefined) backToCompleted(c, fp);
        else {
          c.rendering = fp;
          delete c.held;
        }
        break;
      case "Failed":
      case "RolledBack":
        if (c.held && fp === c.held.rendering) backToCompleted(c, fp);
        else if (c.held) joinUpdate(c, fp);
        else {
          // A failed new revision whose rendering changed (fixed in place): a new attempt from batch 1.
          Object.assign(c, pending(step, c.name, c.wave, c.sources));
          delete c.batchStartedAt;
          c.rendering = fp;
        }
        break;
      default:
        // In flight: the batch is applied again with the change and judged from the start.
        c.rendering = fp;
        c.batchStartedAt = step.nowIso;
        enter(step, c, "Progressing", "the rendering changed; the batch starts over");
        step.restarted.add(c.name);
        step.events.push({ kind: "changed", cluster: c.name, wave: c.wave, batch: c.batch });
    }
  }
  return joined;
}

function group<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

/** The rollout's name in messages: `v2`, or `v1 update (generation 7)` for an in-place update. */
function rolloutLabel(step: Step): string {
  return step.update === undefined ? step.target.name : `${step.target.name} update (generation ${step.update})`;
}

function describeEvents(step: Step, events: StepEvent[]): string[] {
  const name = rolloutLabel(step);
  const lines: string[] = [];
  for (const list of group(events, (e) => `${e.kind}\u0000${e.wave}\u0000${e.kind === "batch" ? e.batch : ""}\u0000${e.reason ?? ""}`).values()) {
    const e = list[0] as StepEvent;
    const who = list.map((x) => x.cluster).join(", ");
    const n = specsOf(step, e.wave).length;
    if (e.kind === "batch" && step.update !== undefined && e.batch === n) lines.push(`${name} in wave ${e.wave} (${who})`);
    else if (e.kind === "batch") lines.push(`${name} batch ${e.batch}/${n} in wave ${e.wave} (${who})`);
    else if (e.kind === "changed")
      lines.push(`${step.target.name} batch ${e.batch}/${n} in wave ${e.wave} (${who}) applied again: generation ${step.generation} changed what it renders`);
    else if (e.kind === "completed") lines.push(`${name} completed in wave ${e.wave} (${who})`);
    else if (e.kind === "rolledBack") lines.push(`${name} rolled back in wave ${e.wave} (${who}): ${e.reason}`);
    else lines.push(`${name} failed in wave ${e.wave} (${who}): ${e.reason}`);
  }
  return lines;
}

/** Everything a step needs, from the input. Throws FlotillaError for a spec without revisions. */
function newStep(input: PlanInput): Step {
  const revisions = input.deployment.spec.appRevisions;
  const target = revisions[revisions.length - 1];
  if (!target) throw new FlotillaError("spec.appRevisions is empty: add a revision to roll out.");
  const targetIndex = revisions.length - 1;
  const meta = input.deployment.metadata;
  const totals = new Map<string, number>();
  for (const wave of input.placement.waves) {
    const share = distributeReplicas({ total: target.rollout?.replicas ?? 1, clusters: wave.clusters, distribution: wave.strategy.distribution });
    for (const [cluster, n] of share) totals.set(cluster, n);
  }
  return {
    deployment: `${meta.namespace ?? "default"}/${meta.name}`,
    target,
    targetIndex,
    order: revisions.map((r) => r.name),
    now: input.now.getTime(),
    nowIso: input.now.toISOString(),
    batchSpecs: target.rollout?.batches?.length ? target.rollout.batches : [{ replicas: "100%" }],
    waveBatches: new Map(input.placement.waves.flatMap((w) => (w.strategy.batches?.length ? [[w.name, w.strategy.batches] as const] : []))),
    totals,
    waves: input.placement.waves,
    observed: new Map(input.observed.map((o) => [o.name, o])),
    deadlineMs: durationOf(target.rollout?.progressDeadline, `spec.appRevisions[${targetIndex}].rollout.progressDeadline`),
    events: [],
    analysis: undefined,
    generation: meta.generation ?? 0,
    renderings: input.renderings ?? new Map(),
    commit: input.commit,
    update: undefined,
    restarted: new Set(),
  };
}

/**
 * Every placed cluster's state at the start of this step: carried over from the previous state
 * for the same rollout (shifted by time spent suspended, which does not count against soaks and
 * deadlines), or Pending for a new rollout and for clusters that joined. Notes what changed.
 */
function resumeClusters(
  step: Step,
  prev: RolloutState | undefined,
  placed: Array<{ name: string; wave: string }>,
  sameRollout: boolean,
  notes: string[],
): ClusterRolloutState[] {
  const prevByName = new Map((prev?.clusters ?? []).map((c) => [c.name, c]));
  const shift = sameRollout && prev?.state === "Suspended" ? Math.max(0, step.now - Date.parse(prev.since)) : 0;
  const later = (iso: string | undefined) => (iso === undefined ? undefined : new Date(Date.parse(iso) + shift).toISOString());
  // A cluster starting over takes the rendering it has now as the one the rollout brings it.
  const fresh = (name: string, wave: string, sources: PlannedRevisionReplicas[]) => {
    const c = pending(step, name, wave, sources);
    const fp = step.renderings.get(name);
    if (fp !== undefined) c.rendering = fp;
    return c;
  };
  const clusters = placed.map(({ name, wave }) => {
    const old = prevByName.get(name);
    if (!sameRollout) {
      const c = fresh(name, wave, seedSources(step, name, old?.revisions));
      // A change still held there stays held until the new revision's first batch reaches it.
      if (old?.held && (old.state === "Pending" || old.state === "RolledBack")) c.held = old.held;
      return c;
    }
    if (!old) {
      notes.push(`${name} joined wave ${wave}`);
      return fresh(name, wave, seedSources(step, name, undefined));
    }
    const c: ClusterRolloutState = { ...structuredClone(old), wave, since: later(old.since) ?? old.since };
    const started = later(old.batchStartedAt);
    if (started !== undefined) c.batchStartedAt = started;
    return c;
  });
  for (const old of prev?.clusters ?? []) {
    if (!placed.some((p) => p.name === old.name)) notes.push(`${old.name} left the placement`);
  }
  return clusters;
}

/** The control annotations, strongest first: abort, then retry, then promote. */
function applyControls(
  step: Step,
  clusters: ClusterRolloutState[],
  controls: Controls,
  notes: string[],
): { retried: boolean; promote: boolean; pausedNow: Set<string>; ignored: string[] } {
  const ignored: string[] = [];
  if (controls.abort) {
    const rolled = rollBack(step, clusters, `aborted by ${ANNOTATION_ABORT}`);
    if (rolled.length === 0) ignored.push(`${ANNOTATION_ABORT} ignored: nothing to roll back`);
  }
  let retried = false;
  if (controls.retry) {
    if (controls.abort) ignored.push(`${ANNOTATION_RETRY} ignored: aborted on the same call`);
    else if (!clusters.some((c) => STOPPED.includes(c.state))) ignored.push(`${ANNOTATION_RETRY} ignored: the rollout has not failed`);
    else {
      retried = true;
      for (const c of clusters) {
        if (c.state === "Pending" || c.state === "Completed") continue;
        // Back to the start line; the wave gate restarts them at batch 1 on this same call.
        Object.assign(c, pending(step, c.name, c.wave, c.sources));
        delete c.batchStartedAt;
      }
      notes.push(`${step.target.name} retried from batch 1`);
    }
  }
  const pausedNow = new Set(clusters.filter((c) => c.state === "Paused").map((c) => c.name));
  if (controls.promote && (pausedNow.size === 0 || controls.abort)) ignored.push(`${ANNOTATION_PROMOTE} ignored: no batch is paused`);
  return { retried, promote: controls.promote && !controls.abort, pausedNow, ignored };
}

/**
 * Advance in-flight clusters, then start the ones the wave gate allows. Nothing moves while a
 * cluster is Failed or RolledBack: only retry, abort or a newer revision gets out of that.
 */
function moveClusters(
  step: Step,
  clusters: ClusterRolloutState[],
  promote: boolean,
  pausedNow: ReadonlySet<string>,
): { outcomes: Map<string, Outcome>; failure: { cluster: ClusterRolloutState; reason: string } | undefined } {
  const outcomes = new Map<string, Outcome>();
  let failure: { cluster: ClusterRolloutState; reason: string } | undefined;
  if (clusters.some((c) => STOPPED.includes(c.state))) return { outcomes, failure };
  for (const c of clusters) {
    if (!IN_FLIGHT.includes(c.state)) continue;
    if (step.restarted.has(c.name)) {
      outcomes.set(c.name, { kind: "moved" });
      continue;
    }
    const out = advance(step, c, promote && pausedNow.has(c.name));
    outcomes.set(c.name, out);
    if (out.kind === "failed") {
      failure = { cluster: c, reason: out.reason };
      break;
    }
  }
  if (failure) {
    if (step.target.rollout?.autoRollback) rollBack(step, clusters, `${failure.cluster.name}: ${failure.reason}`);
    else {
      enter(step, failure.cluster, "Failed", failure.reason);
      step.events.push({ kind: "failed", cluster: failure.cluster.name, wave: failure.cluster.wave, batch: failure.cluster.batch, reason: failure.reason });
    }
  } else {
    const phases = new Map(clusters.map((c) => [c.name, c.state]));
    for (const name of startableClusters({ waves: step.waves, phases })) {
      const c = clusters.find((x) => x.name === name);
      if (c) applyBatch(step, c, firstBatch(step, c));
    }
  }
  return { outcomes, failure };
}

/** Plan the next step of the rollout. Throws FlotillaError only for a spec without revisions. */
export function planRollout(input: PlanInput): RolloutPlan {
  const step = newStep(input);
  const target = step.target;
  const prev = readRolloutState(input.previous);
  const placed = input.placement.waves.flatMap((w) => w.clusters.map((name) => ({ name, wave: w.name })));
  const prevTargets = targetsOf(prev?.clusters ?? []);
  const notes: string[] = [];

  if (input.deployment.spec.suspend) return suspended(step, prev, placed, prevTargets);

  // Which rollout is this? A different last revision starts a new one at once, whatever state
  // the old one is in: the old target becomes a source at its current replicas.
  const sameRollout = prev !== undefined && prev.revision === target.name;
  const startedAt = sameRollout ? prev.startedAt : step.nowIso;
  if (prev && !sameRollout) {
    notes.push(step.order.includes(prev.revision) ? `${target.name} supersedes ${prev.revision}` : `${target.name} replaces ${prev.revision}`);
  }
  const clusters = resumeClusters(step, prev, placed, sameRollout, notes);
  if (sameRollout) {
    step.update = prev.update;
    if (followRenderings(step, clusters).length > 0) step.update = step.generation;
  }

  const controls = readControls(input.deployment.metadata.annotations);
  const { retried, promote, pausedNow, ignored } = applyControls(step, clusters, controls, notes);
  const { outcomes, failure } = moveClusters(step, clusters, promote, pausedNow);
  for (const c of clusters) {
    c.revisions = revisionsFor(step, c);
    c.batches = specsOf(step, c.wave).length;
  }
  if (clusters.every((c) => c.state === "Completed")) {
    // Done everywhere: no restore point is needed any more.
    for (const c of clusters) {
      delete c.held;
      delete c.update;
    }
  }

  const targets = targetsOf(clusters);
  const changed = targetsChanged(prevTargets, targets);
  const happened = [...notes, ...describeEvents(step, step.events)];
  const summary = changed ? happened.join("; ") || `${target.name}: replicas updated` : "";

  const view = overview(step, clusters, outcomes);
  const message = [
    ...(failure ? [`${rolloutLabel(step)} ${target.rollout?.autoRollback ? "rolled back" : "failed"} in ${failure.cluster.name}: ${failure.reason}`] : []),
    view.message,
    ...ignored,
  ]
    .filter(Boolean)
    .join("; ");
  const top = topLevel(step, clusters);
  const keepSince = sameRollout && prev.wave === top.wave && prev.batch === top.batch && prev.state === top.state;
  const state: RolloutState = {
    revision: target.name,
    startedAt,
    ...(step.update === undefined ? {} : { update: step.update }),
    ...(top.wave === undefined ? {} : { wave: top.wave }),
    batch: top.batch,
    batches: top.wave === undefined ? step.batchSpecs.length : specsOf(step, top.wave).length,
    state: top.state,
    message,
    since: keepSince ? prev.since : step.nowIso,
    clusters,
  };
  const analysis = step.analysis ?? (sameRollout && !retried ? prev.analysis : undefined);
  if (analysis) state.analysis = analysis;
  if (view.waitingFor) state.waitingFor = view.waitingFor;
  const plan: RolloutPlan = {
    state,
    targets,
    changed,
    summary,
    phase: view.phase,
    message,
    consumedAnnotations: controls.present,
  };
  if (view.waitingFor) plan.waitingFor = view.waitingFor;
  if (view.at !== undefined) plan.requeueAfterMs = Math.max(0, view.at - step.now);
  return plan;
}

/** `spec.suspend`: change nothing, report Paused, and remember when the suspension began. */
function suspended(step: Step, prev: RolloutState | undefined, placed: Array<{ name: string; wave: string }>, prevTargets: PlannedTarget[]): RolloutPlan {
  const message = "spec.suspend is true: the rollout is paused and nothing changes";
  const clusters = prev?.clusters ?? placed.map(({ name, wave }) => pending(step, name, wave, seedSources(step, name, undefined)));
  const state: RolloutState = {
    ...(prev ?? { revision: step.target.name, startedAt: step.nowIso, batch: 0, batches: step.batchSpecs.length, clusters }),
    state: "Suspended",
    message,
    since: prev?.state === "Suspended" ? prev.since : step.nowIso,
    waitingFor: "spec.suspend: false",
  };
  // Nothing changes while suspended, an edit of the spec included: every cluster keeps its files,
  // and the edit goes through the waves once the deployment is resumed.
  const targets = (prev ? prevTargets : targetsOf(clusters)).map((t) =>
    step.commit === undefined || t.keepFilesOf !== undefined ? t : { ...t, keepFilesOf: step.commit },
  );
  return {
    state,
    targets,
    changed: false,
    summary: "",
    phase: "Paused",
    message,
    waitingFor: "spec.suspend: false",
    consumedAnnotations: [],
  };
}

/** The user-facing wave/batch/state of status.rollout. */
function topLevel(step: Step, clusters: ClusterRolloutState[]): { wave: string | undefined; batch: number; state: RolloutStateName } {
  const open = step.waves.find((w) => w.clusters.some((n) => clusters.find((c) => c.name === n)?.state !== "Completed"));
  const wave = open ?? [...step.waves].reverse().find((w) => w.clusters.length > 0);
  const inWave = clusters.filter((c) => c.wave === wave?.name);
  const batch = inWave.reduce((m, c) => Math.max(m, c.batch), 0);
  let state: RolloutStateName;
  if (clusters.some((c) => c.state === "Failed")) state = "Failed";
  else if (clusters.some((c) => c.state === "RolledBack")) state = "RolledBack";
  else if (clusters.every((c) => c.state === "Completed")) state = "Completed";
  else state = inWave.find((c) => IN_FLIGHT.includes(c.state))?.state ?? "Pending";
  return { wave: wave?.name, batch, state };
}

/** Phase, message, waitingFor and the next timer, from every cluster's outcome. */
function overview(
  step: Step,
  clusters: ClusterRolloutState[],
  outcomes: Map<string, Outcome>,
): { phase: RolloutPhase; message: string; waitingFor?: string; at?: number } {
  const name = rolloutLabel(step);
  const n = (c: ClusterRolloutState) => specsOf(step, c.wave).length;
  if (clusters.some((c) => STOPPED.includes(c.state))) {
    const stopped = clusters.filter((c) => STOPPED.includes(c.state));
    const rolled = stopped.filter((c) => c.state === "RolledBack").map((c) => c.name);
    const failed = stopped.filter((c) => c.state === "Failed");
    const parts = [
      ...failed.map((c) => `${name} failed in ${c.name} at batch ${c.batch}/${n(c)}: ${c.message ?? "failed"}`),
      ...(rolled.length ? [`${name} rolled back in ${rolled.join(", ")}: ${stopped.find((c) => c.state === "RolledBack")?.message ?? ""}`] : []),
    ];
    return { phase: "Failed", message: `${parts.join("; ")}. Annotate ${ANNOTATION_RETRY}=true to retry, or add a newer revision.` };
  }
  if (clusters.length === 0) return { phase: "Healthy", message: `${name}: no cluster is selected` };
  if (clusters.every((c) => c.state === "Completed")) {
    const notHealthy = clusters.map((c) => ({ c, h: batchHealth(step, c) })).filter((x) => !x.h.ok);
    if (notHealthy.length === 0) return { phase: "Healthy", message: `${name} is rolled out and healthy on ${clusters.map((c) => c.name).join(", ")}` };
    const degraded = notHealthy.some((x) => x.h.degraded);
    const suspended = notHealthy.every((x) => x.h.suspended);
    return {
      phase: degraded ? "Degraded" : suspended ? "Paused" : "Progressing",
      message: `${name} is rolled out; ${notHealthy.map((x) => x.h.why).join("; ")}`,
      waitingFor: "healthy replicas",
    };
  }
  const waiting = [...outcomes.values()].filter((o): o is Extract<Outcome, { kind: "waiting" }> => o.kind === "waiting");
  const moved = [...outcomes.values()].some((o) => o.kind === "moved") || step.events.length > 0;
  const inFlight = clusters.filter((c) => IN_FLIGHT.includes(c.state));
  const pendingNames = clusters.filter((c) => c.state === "Pending").map((c) => c.name);
  const progress = inFlight.map((c) => `${c.name} ${c.state.toLowerCase()} at batch ${c.batch}/${n(c)}`);
  const lines = [
    `${name}: ${progress.join(", ") || "waiting to start"}`,
    ...waiting.map((w) => w.detail),
    ...(pendingNames.length ? [`not started: ${pendingNames.join(", ")}`] : []),
  ];
  const timers = waiting.map((w) => w.at).filter((t): t is number => t !== undefined);
  const at = timers.length ? Math.min(...timers) : undefined;
  const allPromote = !moved && waiting.length > 0 && waiting.every((w) => w.waitingFor === "promote") && inFlight.every((c) => c.state === "Paused");
  // Held by people only (a promote to give, a suspended target to resume): Paused, not Progressing.
  const allHeld = !moved && waiting.length > 0 && waiting.every((w) => w.waitingFor === "promote" || w.suspended === true);
  const phase: RolloutPhase = allPromote || allHeld ? "Paused" : waiting.some((w) => w.degraded) ? "Degraded" : "Progressing";
  const first = waiting[0];
  return { phase, message: lines.join("; "), ...(first ? { waitingFor: first.waitingFor } : {}), ...(at === undefined ? {} : { at }) };
}
