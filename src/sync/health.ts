// Health of live objects (pure): the CEL expression a definition declared (carried on the object
// in the `flotilla.dev/health` annotation) or the built-in rule for the kind, then aggregated per
// deployment folder and per revision. It only reads objects; it never talks to a cluster.

import { ANNOTATION_HEALTH, LABEL_APP, LABEL_REVISION } from "../api/labels.js";
import type { HealthState, JsonObject, Manifest, RevisionReplicas } from "../api/types.js";
import { compileCel } from "../definitions/cel.js";

export interface Health {
  status: HealthState;
  message: string;
}

interface Cond {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

const healthy = (message = ""): Health => ({ status: "Healthy", message });
const progressing = (message: string): Health => ({ status: "Progressing", message });
const degraded = (message: string): Health => ({ status: "Degraded", message });

function obj(v: unknown): JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as JsonObject) : {};
}
function num(v: unknown, fallback = 0): number {
  return typeof v === "number" ? v : fallback;
}
function conditions(status: JsonObject): Cond[] {
  return Array.isArray(status.conditions) ? (status.conditions as Cond[]) : [];
}
function condition(status: JsonObject, type: string): Cond | undefined {
  return conditions(status).find((c) => c.type === type);
}

/** Status not yet caught up with the latest spec: the controller has not looked at it. */
function staleGeneration(live: Manifest, status: JsonObject, requireStatus = true): Health | undefined {
  const generation = live.metadata.generation;
  const observed = status.observedGeneration;
  if (typeof generation === "number" && typeof observed === "number" && observed < generation) {
    return progressing(`waiting for the controller to observe generation ${generation} (observed ${observed})`);
  }
  if (requireStatus && typeof generation === "number" && observed === undefined && Object.keys(status).length === 0) {
    return progressing("waiting for the controller to report status");
  }
  return undefined;
}

function deploymentHealth(live: Manifest): Health {
  const spec = obj(live.spec);
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  const cond = condition(status, "Progressing");
  if (cond?.reason === "ProgressDeadlineExceeded") {
    return degraded(`rollout exceeded its progress deadline: ${cond.message ?? ""}`.trim());
  }
  if (spec.paused === true) return healthy("rollout paused");
  const want = num(spec.replicas, 1);
  const updated = num(status.updatedReplicas);
  const total = num(status.replicas);
  const available = num(status.availableReplicas);
  if (updated < want) return progressing(`${updated} of ${want} replicas updated`);
  if (total > updated) return progressing(`${total - updated} old replicas pending termination`);
  if (available < updated) return progressing(`${available} of ${updated} updated replicas available`);
  return healthy(`${available} of ${want} replicas available`);
}

function statefulSetHealth(live: Manifest): Health {
  const spec = obj(live.spec);
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  const want = num(spec.replicas, 1);
  const ready = num(status.readyReplicas);
  const strategy = obj(spec.updateStrategy);
  if (strategy.type === "OnDelete") {
    return ready < want ? progressing(`${ready} of ${want} replicas ready`) : healthy(`${ready} of ${want} replicas ready (OnDelete)`);
  }
  const partition = num(obj(strategy.rollingUpdate).partition);
  const updated = num(status.updatedReplicas);
  if (partition === 0 && updated < want) return progressing(`${updated} of ${want} replicas updated`);
  if (ready < want) return progressing(`${ready} of ${want} replicas ready`);
  if (partition === 0 && status.updateRevision !== undefined && status.currentRevision !== status.updateRevision) {
    return progressing(`waiting for revision ${String(status.updateRevision)} to become current`);
  }
  return healthy(`${ready} of ${want} replicas ready`);
}

function daemonSetHealth(live: Manifest): Health {
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  const want = num(status.desiredNumberScheduled);
  const updated = num(status.updatedNumberScheduled);
  const available = num(status.numberAvailable);
  if (updated < want) return progressing(`${updated} of ${want} pods updated`);
  if (available < want) return progressing(`${available} of ${want} pods available`);
  return healthy(`${available} of ${want} pods available`);
}

function jobHealth(live: Manifest): Health {
  const status = obj(live.status);
  const failed = condition(status, "Failed");
  if (failed?.status === "True") return degraded(`job failed: ${failed.reason ?? ""} ${failed.message ?? ""}`.trim());
  const complete = condition(status, "Complete");
  if (complete?.status === "True") return healthy("job completed");
  return progressing(`job running (${num(status.active)} active, ${num(status.succeeded)} succeeded)`);
}

function cronJobHealth(live: Manifest): Health {
  return healthy(obj(live.spec).suspend === true ? "suspended" : "scheduled");
}

function serviceHealth(live: Manifest): Health {
  if (obj(live.spec).type !== "LoadBalancer") return healthy();
  const ingress = obj(obj(live.status).loadBalancer).ingress;
  return Array.isArray(ingress) && ingress.length > 0 ? healthy("load balancer ready") : progressing("waiting for a load-balancer address");
}

function ingressHealth(live: Manifest): Health {
  const ingress = obj(obj(live.status).loadBalancer).ingress;
  return Array.isArray(ingress) && ingress.length > 0 ? healthy("address assigned") : progressing("waiting for an ingress controller to assign an address");
}

function pvcHealth(live: Manifest): Health {
  const phase = obj(live.status).phase;
  if (phase === "Bound") return healthy("bound");
  if (phase === "Lost") return degraded("volume lost");
  return progressing(`waiting for a volume (phase ${String(phase ?? "Pending")})`);
}

function hpaHealth(live: Manifest): Health {
  const status = obj(live.status);
  const able = condition(status, "AbleToScale");
  if (able?.status === "False") return degraded(`cannot scale its target: ${able.reason ?? ""} ${able.message ?? ""}`.trim());
  // ScalingActive=False (e.g. no metrics server) does not stop the workload serving: report it, do not fail on it.
  const active = condition(status, "ScalingActive");
  if (active?.status === "False") return healthy(`scaling inactive: ${active.reason ?? ""}`.trim());
  return healthy(`${num(status.currentReplicas)} current, ${num(status.desiredReplicas)} desired replicas`);
}

function pdbHealth(live: Manifest): Health {
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  const current = num(status.currentHealthy);
  const desired = num(status.desiredHealthy);
  return current < desired ? progressing(`${current} of ${desired} pods healthy`) : healthy(`${current} healthy, ${num(status.disruptionsAllowed)} disruptions allowed`);
}

function podHealth(live: Manifest): Health {
  const status = obj(live.status);
  const phase = status.phase;
  if (phase === "Succeeded") return healthy("completed");
  if (phase === "Failed") return degraded(`pod failed: ${String(status.reason ?? "")}`.trim());
  return condition(status, "Ready")?.status === "True" ? healthy("ready") : progressing(`pod ${String(phase ?? "Pending")}, not ready`);
}

const BUILT_IN: Record<string, (live: Manifest) => Health> = {
  Deployment: deploymentHealth,
  StatefulSet: statefulSetHealth,
  DaemonSet: daemonSetHealth,
  Job: jobHealth,
  CronJob: cronJobHealth,
  Service: serviceHealth,
  Ingress: ingressHealth,
  PersistentVolumeClaim: pvcHealth,
  HorizontalPodAutoscaler: hpaHealth,
  PodDisruptionBudget: pdbHealth,
  Pod: podHealth,
};

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
    // Usually a field the controller has not written yet (status.availableReplicas of a new Deployment).
    return progressing(`health expression not yet true: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/**
 * Health of one object. `live` undefined → Missing. The `flotilla.dev/health` CEL expression on
 * the live object (or, failing that, on the desired one) wins over the built-in rule for the kind;
 * kinds without a rule are Healthy once they exist.
 */
export function objectHealth(live: Manifest | undefined, desired?: Manifest): Health {
  if (!live) return { status: "Missing", message: "not found on the cluster" };
  if (live.metadata.deletionTimestamp) return progressing("being deleted");
  const expression = live.metadata.annotations?.[ANNOTATION_HEALTH] ?? desired?.metadata.annotations?.[ANNOTATION_HEALTH];
  if (expression) return celHealth(expression, live);
  const rule = BUILT_IN[live.kind];
  return rule ? rule(live) : healthy("exists");
}

/** Worst first: the order in which aggregated health picks the state to report. */
const SEVERITY: Record<HealthState, number> = { Healthy: 0, Progressing: 1, Unknown: 2, Missing: 3, Degraded: 4 };

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

/** Health per deployment folder (sorted by name), with per-object detail and replicas per revision. */
export function aggregateHealth(observed: readonly ObservedObject[]): DeploymentHealth[] {
  const byDeployment = new Map<string, ObservedObject[]>();
  for (const o of observed) {
    const key = deploymentOf(o.desired);
    const list = byDeployment.get(key) ?? [];
    list.push(o);
    byDeployment.set(key, list);
  }
  const out: DeploymentHealth[] = [];
  for (const [deployment, items] of [...byDeployment].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const objects = items.map((o) => ({ object: refName(o.desired), ...objectHealth(o.live, o.desired) }));
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
