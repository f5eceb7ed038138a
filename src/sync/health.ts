// Health of live objects (pure): the CEL expression a definition declared (carried on the object
// in the `flotilla.dev/health` annotation) or the built-in rule for the kind, then aggregated per
// deployment folder and per revision. It only reads objects; it never talks to a cluster.

import { ANNOTATION_HEALTH, LABEL_APP, LABEL_REVISION } from "../api/labels.js";
import type { HealthState, Manifest, RevisionReplicas } from "../api/types.js";
import { compileCel } from "../definitions/cel.js";
import { BudgetExceededError, runEachWithDeadline } from "../definitions/deadline.js";
import { type Health, healthy, num, obj, progressing, staleGeneration } from "./health-common.js";
import { ruleFor } from "./health-rules.js";

/**
 * Time budget, in ms, of the CEL health expressions of one health pass (every object of one
 * aggregateHealth call). Default 250, as for placement: a simple expression takes a few µs, so
 * thousands of objects fit with room to spare even in a cold process on a loaded machine, and
 * only a runaway expression reaches it.
 */
export const HEALTH_CEL_BUDGET_MS = 250;

/**
 * How many budgets one pass may spend: each runaway expression costs one. Default 3; past it, the
 * objects with a CEL expression not yet evaluated are Unknown, so a pass never blocks the
 * controller for more than 3 × the budget (see runEachWithDeadline for a starved machine).
 */
export const HEALTH_CEL_MAX_BUDGETS = 3;

export interface HealthOptions {
  /** Budget of the pass's CEL health expressions, in ms. Default HEALTH_CEL_BUDGET_MS (250). */
  celBudgetMs?: number;
  /** Budgets one pass may spend on runaway expressions. Default HEALTH_CEL_MAX_BUDGETS (3). */
  celMaxBudgets?: number;
}

export type { Health } from "./health-common.js";
export { apiGroup, BUILT_IN_RULES, ruleFor } from "./health-rules.js";

function celHealth(expression: string, live: Manifest): Health {
  let program: ReturnType<typeof compileCel>;
  try {
    program = compileCel(expression, { definition: `${live.kind}/${live.metadata.name}`, field: `metadata.annotations["${ANNOTATION_HEALTH}"]` });
  } catch (error) {
    return { status: "Unknown", message: error instanceof Error ? error.message : String(error) };
  }
  const status = obj(live.status);
  // Only a status that says it is older than the spec overrides the expression; kinds without
  // status (ConfigMaps, most custom resources) are judged by the expression alone.
  const stale = staleGeneration(live, status, false);
  try {
    // The expression sees the live object's fields at top level: `status.availableReplicas >= spec.replicas`.
    if (program.test(live as Record<string, unknown>)) return stale ?? healthy(`health expression holds: ${expression}`);
    return progressing(`waiting for: ${expression}`);
  } catch (error) {
    if (error instanceof BudgetExceededError) return outOfBudget(error);
    // Usually a field the controller has not written yet (status.availableReplicas of a new Deployment).
    return progressing(`health expression not yet true: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * An expression stopped by its deadline says nothing about the object, only about the expression:
 * Unknown, as Argo CD reports a resource whose health check fails ("health assessment failed and
 * actual health status is unknown"). Not Degraded: that would fail a rollout, and roll back a
 * workload that may well be fine, over a definition's mistake; Unknown holds the rollout until
 * the expression is fixed or the progress deadline passes, and the message says what to fix.
 */
function outOfBudget(error: BudgetExceededError): Health {
  return { status: "Unknown", message: error.message };
}

/** The CEL health expression that judges an object, if any: the live object's, else the desired one's. */
function healthExpression(live: Manifest, desired: Manifest | undefined): string | undefined {
  return live.metadata.annotations?.[ANNOTATION_HEALTH] ?? desired?.metadata.annotations?.[ANNOTATION_HEALTH];
}

/** The expression objectHealth evaluates for this observation; undefined when it needs no CEL. */
function celJudged(o: ObservedObject): string | undefined {
  return o.live && !o.live.metadata.deletionTimestamp ? healthExpression(o.live, o.desired) : undefined;
}

/**
 * Health of one object. `live` undefined → Missing. The `flotilla.dev/health` CEL expression on
 * the live object (or, failing that, on the desired one) wins over the built-in rule for the
 * object's API group and kind (see health-rules.ts); other kinds get the kstatus rules.
 */
export function objectHealth(live: Manifest | undefined, desired?: Manifest): Health {
  if (!live) return { status: "Missing", message: "not found on the cluster" };
  if (live.metadata.deletionTimestamp) return progressing("being deleted");
  const expression = healthExpression(live, desired);
  // Alone, the expression runs under its own deadline (DEFAULT_CEL_BUDGET_MS); in a pass, under the pass's.
  if (expression) return celHealth(expression, live);
  return ruleFor(live)(live);
}

/**
 * Worst last: the order in which aggregated health picks the state to report. Suspended sits just
 * above Healthy, as in Argo CD: a deployment is Suspended only when every other object is
 * Healthy, so anything still moving, unknown, missing or failing is what gets reported.
 */
const SEVERITY: Record<HealthState, number> = { Healthy: 0, Suspended: 1, Progressing: 2, Unknown: 3, Missing: 4, Degraded: 5 };

export function worstHealth(states: readonly HealthState[]): HealthState {
  let worst: HealthState = "Healthy";
  for (const s of states) if (SEVERITY[s] > SEVERITY[worst]) worst = s;
  return worst;
}

/** One object's observation, as health aggregation consumes it. */
export interface ObservedObject {
  desired: Manifest;
  live: Manifest | undefined;
}

export interface ObjectHealthReport extends Health {
  /** `Kind/namespace/name`. */
  object: string;
}

export interface DeploymentHealth {
  /** `<namespace>/<name>` of the ApplicationDeployment (its folder in the env repo). */
  deployment: string;
  health: HealthState;
  /** The first non-healthy objects' messages, or empty when healthy. */
  message: string;
  objects: ObjectHealthReport[];
  /** Replicas per revision, from the workloads labelled `flotilla.dev/revision`. */
  revisions: RevisionReplicas[];
}

/** The deployment a desired object belongs to: from its `flotilla.dev/app` label `<ns>.<name>`. */
export function deploymentOf(obj: Manifest): string {
  const app = obj.metadata.labels?.[LABEL_APP];
  if (app) {
    const dot = app.indexOf(".");
    return dot > 0 ? `${app.slice(0, dot)}/${app.slice(dot + 1)}` : app;
  }
  return obj.metadata.namespace ? `${obj.metadata.namespace}/-` : "-";
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet"]);

function replicasOf(live: Manifest): { replicas: number; readyReplicas: number } {
  const status = obj(live.status);
  if (live.kind === "DaemonSet") return { replicas: num(status.desiredNumberScheduled), readyReplicas: num(status.numberReady) };
  return { replicas: num(status.replicas), readyReplicas: num(status.readyReplicas) };
}

function refName(o: Manifest): string {
  return o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`;
}

/**
 * Health of every observed object in one pass under one CEL deadline. An expression that runs
 * past it makes its own object Unknown with the budget message, and the pass goes on under a new
 * deadline; the other objects judged by that same expression are Unknown without running it
 * again, and once the pass has spent its budgets the remaining CEL-judged objects are Unknown.
 * Built-in rules never need a deadline, so those objects keep their health whatever happens.
 */
function passHealth(observed: readonly ObservedObject[], options: HealthOptions): Health[] {
  const judge = (o: ObservedObject) => objectHealth(o.live, o.desired);
  // A pass of built-in rules only needs no deadline (and starting one costs more than the pass).
  if (!observed.some((o) => celJudged(o) !== undefined)) return observed.map(judge);
  // Compile before the deadline starts: compiling is bounded by the parse limits, and a first
  // compile is no reason to blame an expression. One that does not compile is reported by celHealth.
  for (const o of observed) {
    const expression = celJudged(o);
    if (expression === undefined) continue;
    try {
      compileCel(expression, { definition: refName(o.desired), field: `metadata.annotations["${ANNOTATION_HEALTH}"]` });
    } catch {
      // celHealth reports it as Unknown, with the position.
    }
  }
  const budgetMs = options.celBudgetMs ?? HEALTH_CEL_BUDGET_MS;
  const maxBudgets = options.celMaxBudgets ?? HEALTH_CEL_MAX_BUDGETS;
  const ranAway = new Map<string, string>(); // expression → the object it ran away on
  return runEachWithDeadline(observed, {
    budgetMs,
    maxDeadlines: maxBudgets,
    culprit: (o) => ({
      definition: refName(o.desired),
      field: `metadata.annotations["${ANNOTATION_HEALTH}"]`,
      expression: celJudged(o) ?? "(built-in health rule)",
      during: `judging the health of ${observed.length} object(s)`,
    }),
    run: (o) => {
      const expression = celJudged(o);
      const first = expression === undefined ? undefined : ranAway.get(expression);
      if (first === undefined) return judge(o);
      return { status: "Unknown", message: `not evaluated: the same health expression ran out of its budget of ${budgetMs} ms on ${first} in this pass` };
    },
    stopped: (o, error) => {
      const expression = celJudged(o);
      if (expression !== undefined) ranAway.set(expression, refName(o.desired));
      return outOfBudget(error);
    },
    skipped: (o) =>
      celJudged(o) === undefined
        ? judge(o)
        : { status: "Unknown", message: `not evaluated: this health pass ran out of its CEL budget of ${budgetMs} ms ${maxBudgets} time(s)` },
  });
}

/**
 * Health per deployment folder (sorted by name), with per-object detail and replicas per revision.
 * The CEL health expressions of all the objects share one budget (see passHealth).
 */
export function aggregateHealth(observed: readonly ObservedObject[], options: HealthOptions = {}): DeploymentHealth[] {
  const judged = passHealth(observed, options);
  const byDeployment = new Map<string, Array<ObservedObject & { health: Health }>>();
  observed.forEach((o, i) => {
    const key = deploymentOf(o.desired);
    const list = byDeployment.get(key) ?? [];
    list.push({ ...o, health: judged[i] as Health });
    byDeployment.set(key, list);
  });
  const out: DeploymentHealth[] = [];
  for (const [deployment, items] of [...byDeployment].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const objects = items.map((o) => ({ object: refName(o.desired), ...o.health }));
    const revisions = new Map<string, RevisionReplicas>();
    for (const o of items) {
      const revision = o.desired.metadata.labels?.[LABEL_REVISION];
      if (!revision || !WORKLOAD_KINDS.has(o.desired.kind)) continue;
      const r = revisions.get(revision) ?? { name: revision, replicas: 0, readyReplicas: 0 };
      if (o.live) {
        const counts = replicasOf(o.live);
        r.replicas += counts.replicas;
        r.readyReplicas += counts.readyReplicas;
      }
      revisions.set(revision, r);
    }
    const health = worstHealth(objects.map((o) => o.status));
    const message = objects
      .filter((o) => o.status !== "Healthy")
      .slice(0, 3)
      .map((o) => `${o.object}: ${o.status}${o.message ? ` (${o.message})` : ""}`)
      .join("; ");
    out.push({ deployment, health, message, objects, revisions: [...revisions.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)) });
  }
  return out;
}

/**
 * Add container restarts per revision, summed over the live Pods that carry the deployment's
 * `flotilla.dev/app` and `flotilla.dev/revision` labels (what rollout analysis calls
 * `revision.restarts`). Returns new reports; the input is not changed.
 */
export function withRestarts(health: DeploymentHealth[], pods: readonly Manifest[]): DeploymentHealth[] {
  const restarts = new Map<string, number>();
  for (const pod of pods) {
    const revision = pod.metadata.labels?.[LABEL_REVISION];
    if (!revision) continue;
    const statuses = (obj(pod.status).containerStatuses ?? []) as Array<{ restartCount?: number }>;
    const count = statuses.reduce((n, c) => n + num(c.restartCount), 0);
    const key = `${deploymentOf(pod)}\u0000${revision}`;
    restarts.set(key, (restarts.get(key) ?? 0) + count);
  }
  return health.map((h) => ({
    ...h,
    revisions: h.revisions.map((r) => ({ ...r, restarts: restarts.get(`${h.deployment}\u0000${r.name}`) ?? 0 })),
  }));
}
