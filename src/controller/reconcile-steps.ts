// The pure parts of a reconcile, one function per decision: what a deployment uses, the Git line
// of its commit, the folder fingerprints, its status and when to look at it again. Each takes what
// an earlier step produced and returns a value; none reads the hub, Git or the clock.

import { createHash } from "node:crypto";
import { backoffDelay } from "../support/backoff.js";
import { type FieldProblem, formatProblem, TemplateError, ValidationError } from "../api/errors.js";
import type { ApplicationDeployment, ApplicationDeploymentStatus, Cluster, DeploymentPhase, PlacementDecisionStatus } from "../api/types.js";
import { ANNOTATION_SOURCE_COMMIT } from "../api/labels.js";
import { objectRef, resourceProblems } from "../api/validate.js";
import { deploymentExpressionProblems } from "../definitions/expressions.js";
import { type DefinitionRegistry, isBroken } from "../definitions/registry.js";
import type { Placement } from "../placement/select.js";
import { kubeMinor, kubeVersions, renderedProblems } from "../render/kube-schema.js";
import type { RenderedCluster, RenderTarget } from "../render/render.js";
import type { RolloutPlan } from "../rollout/planner.js";
import { targetRevision } from "../rollout/targets.js";
import type { Priority } from "../support/queue.js";
import { type ClusterObservation, computeStatus } from "./status.js";
import type { Key, Usage } from "./term-state.js";

/** How soon a deployment whose status was held back after a (re)start is looked at again, ms. */
export const STARTUP_REQUEUE_MS = 1_000;

/** A deployment's folder per cluster: cluster → file name → YAML. */
export type Folders = Record<string, Record<string, string>>;

/** Why the deployment does not render, for status; `transient` when the same input may render on a retry. */
export interface RenderFailure {
  reason: string;
  message: string;
  transient: boolean;
}

/** resolve: what a reconcile works from, read once at its start. */
export interface Resolved {
  key: Key;
  namespace: string;
  name: string;
  generation: number;
  /** The revision being rolled out; "" when the spec lists none (it then fails validation). */
  target: string;
  /** Every registered Cluster, with the version its probe found. */
  clusters: Cluster[];
  /** The commit holding the deployment's current manifests, when this process knows it. */
  commit: string | undefined;
  suspended: boolean;
}

/** validate → place → plan. A failure stops there: what was decided before it is kept. */
export interface Planned {
  placement: Placement | undefined;
  plan: RolloutPlan | undefined;
  /** What to render where; empty unless planning succeeded. */
  targets: RenderTarget[];
  /** Some selected cluster was not seen yet by this process when the plan was made. */
  unseen: boolean;
  error: RenderFailure | undefined;
}

/** render: the planned targets as files, or the failure. */
export interface Rendered extends Planned {
  /** Every target cluster's folder, or undefined when any of them failed to render. */
  files: Folders | undefined;
}

/** commit: the deployment's newest commit after this reconcile. */
export interface Committed {
  commit: string | undefined;
  /** Set when the commit is queued locally because the Git remote did not take it. */
  commitError: string | undefined;
}

/** resolve: the name of the target revision, "" when there is none. */
export function targetName(ad: ApplicationDeployment): string {
  return ad.spec?.appRevisions?.length ? targetRevision(ad).name : "";
}

/** validate: schema and rules first, then the deployment's CEL; undefined when it is valid. */
export function validate(ad: ApplicationDeployment): ValidationError | undefined {
  const problems = resourceProblems(ad);
  if (!problems.length) problems.push(...deploymentExpressionProblems(ad));
  return problems.length ? new ValidationError(problems, { object: objectRef(ad) }) : undefined;
}

/** A failure of validate, place, plan or render, for status. Anything else is not the user's input: rethrown. */
export function describeRenderError(e: unknown): RenderFailure {
  if (e instanceof ValidationError) {
    return { reason: "InvalidSpec", message: e.problems.map(formatProblem).join("; "), transient: e.problems.some((p) => p.transient === true) };
  }
  if (e instanceof TemplateError) return { reason: "TemplateError", message: e.message, transient: e.transient };
  throw e;
}

/**
 * render: what each cluster's Kubernetes would refuse of the objects rendered for it, checked
 * against the version the cluster reports (the one its templates saw): an apiVersion/kind it does
 * not serve, an unknown field, a wrong type. As a ValidationError, so that it becomes
 * Rendered=False like any render failure and nothing is committed; undefined when nothing is
 * refused. A cluster that reports no version, or one the schemas do not cover, is not checked.
 */
export function kubeSchemaError(
  ad: ApplicationDeployment,
  rendered: readonly RenderedCluster[],
  targets: readonly RenderTarget[],
): ValidationError | undefined {
  const { all } = kubeVersions();
  const problems: FieldProblem[] = [];
  for (const c of rendered) {
    const minor = kubeMinor(targets.find((t) => t.cluster.name === c.cluster)?.cluster.version ?? "");
    if (!minor || !all.includes(minor)) continue;
    problems.push(...renderedProblems(ad, c.manifests, minor, { cluster: c.cluster }).problems);
  }
  return problems.length ? new ValidationError(problems, { object: objectRef(ad) }) : undefined;
}

/**
 * What a deployment uses: a change of any of these requeues it. With the registry, the default
 * traits of the component types it uses count as used too.
 */
export function usageOf(ad: ApplicationDeployment, targets: readonly RenderTarget[], registry?: DefinitionRegistry): Usage {
  const usage: Usage = { types: new Set(), traits: new Set(), selected: new Set(targets.map((t) => t.cluster.name)) };
  for (const rev of ad.spec?.appRevisions ?? []) {
    for (const c of rev.template?.spec?.components ?? []) {
      usage.types.add(c.type);
      for (const t of c.traits ?? []) usage.traits.add(t.name);
    }
  }
  for (const s of ad.spec?.placementStrategies ?? []) for (const o of s.overrides ?? []) for (const t of o.traits ?? []) usage.traits.add(t.name);
  for (const type of usage.types) {
    const def = registry?.components.get(type);
    if (def && !isBroken(def)) for (const t of def.defaultTraits) usage.traits.add(t.name);
  }
  return usage;
}

/** render: the clusters whose change waits for their wave (or was rolled back), with the commit whose files they keep. */
export function heldFolders(plan: RolloutPlan | undefined): Map<string, string> {
  return new Map((plan?.targets ?? []).flatMap((t) => (t.keepFilesOf === undefined ? [] : [[t.cluster, t.keepFilesOf] as const])));
}

/**
 * commit: the line Git records. A step's own summary when the planner moved; otherwise the
 * summary a status record left pending (a controller killed between record and commit), or a
 * generic line.
 */
export function commitSummary(ad: ApplicationDeployment, plan: RolloutPlan, at: { target: string; generation: number; clusters: readonly string[] }): string {
  const where = at.clusters.join(", ") || "no cluster";
  const generic = `${at.target} on ${where} (generation ${at.generation})`;
  const pending = ad.status?.rollout?.pendingCommit;
  const resumed = pending ? (ad.status?.observedGeneration === at.generation ? pending : `${pending}; ${generic}`) : undefined;
  return plan.changed && plan.summary ? plan.summary : (resumed ?? generic);
}

/**
 * commit: does the step go to status before its commit (a write-ahead record)? A first plan (no
 * rollout state yet) needs none: re-planned after a kill, it is the same step.
 */
export function needsStepRecord(ad: ApplicationDeployment, plan: RolloutPlan): boolean {
  return plan.changed && ad.status?.rollout !== undefined;
}

/** commit: a hash of each cluster's folder, to tell an unchanged folder without asking Git. */
export function folderHashes(files: Folders): Array<readonly [cluster: string, hash: string]> {
  return Object.entries(files).map(([cluster, clusterFiles]) => [cluster, createHash("sha256").update(JSON.stringify(clusterFiles)).digest("base64")] as const);
}

/** status: the placement decisions as status lists them. */
export function decisionsOf(placement: Placement | undefined): PlacementDecisionStatus[] {
  return (placement?.decisions ?? []).map((d) => ({
    cluster: d.cluster,
    selected: d.selected,
    ...(d.wave ? { wave: d.wave } : {}),
    reason: d.reason,
  }));
}

/** The GitSource commit a deployment's spec came from (its annotation), if a GitSource applied it. */
export function sourceCommitOf(ad: ApplicationDeployment): string | undefined {
  const value = ad.metadata.annotations?.[ANNOTATION_SOURCE_COMMIT]?.trim();
  return value ? value : undefined;
}

/** What status is computed from. */
export interface StatusFacts {
  deployment: ApplicationDeployment;
  resolved: Resolved;
  outcome: Rendered;
  /** observe: what each cluster the deployment renders for shows of it, sorted by name. */
  observations: ClusterObservation[];
  commit: string | undefined;
  commitError?: string;
  /** Set for the write-ahead record of a step whose commit is not made yet: the step's Git line. */
  pendingStep?: string;
  now: Date;
}

/** status: the deployment's status from what the steps found. */
export function statusOf(f: StatusFacts): ApplicationDeploymentStatus {
  const { resolved: r, outcome } = f;
  const renderError = outcome.error;
  const { pendingStep } = f;
  let observations = f.observations;
  // No cluster has the step's commit yet: the record must not say Healthy (nor move
  // stableRevision) on the strength of the previous commit.
  if (pendingStep !== undefined) {
    observations = observations.map((o) => (o.reachable ? { ...o, synced: false, health: "Progressing" as const, message: `committing "${pendingStep}"` } : o));
  }
  const status = computeStatus({
    generation: r.generation,
    previous: f.deployment.status,
    now: f.now,
    targetRevision: r.target,
    ...(renderError ? { renderError } : {}),
    ...(f.commit ? { commit: f.commit } : {}),
    ...(f.commitError ? { commitError: f.commitError } : {}),
    ...(outcome.plan && !renderError ? { rollout: outcome.plan } : {}),
    placement: decisionsOf(outcome.placement),
    clusters: observations,
    suspended: r.suspended,
  });
  if (pendingStep !== undefined && status.rollout) status.rollout = { ...status.rollout, pendingCommit: pendingStep };
  const sourceCommit = sourceCommitOf(f.deployment);
  if (sourceCommit) status.sourceCommit = sourceCommit;
  return status;
}

/**
 * status: hold the status back? Just after a (re)start this process has not seen the clusters
 * yet: its status would say "sync in progress" or "unreachable" where the previous process saw
 * them, and flap back a moment later. Unless this reconcile changed something, the status
 * written before stays.
 */
export function holdsStatusBack(ad: ApplicationDeployment, r: Resolved, outcome: Rendered, committed: Committed): boolean {
  const { plan } = outcome;
  return outcome.unseen && plan !== undefined && !plan.changed && !outcome.error && !committed.commitError && ad.status?.observedGeneration === r.generation;
}

/** When to look at a deployment again. */
export interface Requeue {
  /** Undefined: not on a timer (events of its clusters and hub objects still requeue it). */
  afterMs: number | undefined;
  priority: Priority;
  /** Consecutive transient render failures, this one included; 0 when this reconcile had none. */
  transientFailures: number;
}

export interface RequeueInput {
  error: RenderFailure | undefined;
  /** Consecutive transient render failures before this reconcile. */
  transientFailures: number;
  plan: RolloutPlan | undefined;
  phase: DeploymentPhase | undefined;
  /** The status was held back (see holdsStatusBack). */
  heldBack: boolean;
  /** The period of the fallback look at a deployment that is not Healthy yet, ms. */
  progressRequeueMs: number;
}

/** requeue: when to look again, from the render failure, the planner's wish and the phase. */
export function requeuePolicy(i: RequeueInput): Requeue {
  let afterMs: number | undefined;
  // The periodic look at a deployment that is not Healthy yet is a fallback (its clusters' events
  // requeue it as they happen): low priority, so during a ramp hundreds of them do not hold up
  // the reconciles events ask for, which report health and start rollouts.
  let priority: Priority = "normal";
  let transientFailures = 0;
  if (i.error?.transient) {
    // A template stopped at its budget may have been starved by a loaded machine: try again, backing off.
    transientFailures = i.transientFailures + 1;
    afterMs = backoffDelay(transientFailures, { initialMs: 5_000, maxMs: 300_000 });
  } else if (i.plan?.requeueAfterMs !== undefined) afterMs = Math.max(250, i.plan.requeueAfterMs);
  else if (i.phase === "Progressing" || i.phase === "Degraded") {
    afterMs = i.progressRequeueMs;
    priority = "low";
  }
  if (i.heldBack) {
    afterMs = Math.min(afterMs ?? STARTUP_REQUEUE_MS, STARTUP_REQUEUE_MS);
    priority = "normal";
  }
  return { afterMs, priority, transientFailures };
}
