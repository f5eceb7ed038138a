// Health of the apps/v1 workloads (Deployment, ReplicaSet, StatefulSet, DaemonSet): every
// replica updated, ready and available at the generation the controller observed. A paused
// Deployment is Suspended: nothing moves until someone resumes it, and nothing is failing.

import type { Manifest } from "../api/types.js";
import { condition, degraded, explain, type Health, healthy, joined, num, obj, progressing, staleGeneration, suspended } from "./health-common.js";

export function deploymentHealth(live: Manifest): Health {
  const spec = obj(live.spec);
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  if (spec.paused === true) return suspended("rollout paused (spec.paused)");
  const cond = condition(status, "Progressing");
  if (cond?.reason === "ProgressDeadlineExceeded") return degraded(joined("rollout exceeded its progress deadline", cond.message));
  const want = num(spec.replicas, 1);
  const updated = num(status.updatedReplicas);
  const total = num(status.replicas);
  const available = num(status.availableReplicas);
  if (updated < want) return progressing(`${updated} of ${want} replicas updated`);
  if (total > updated) return progressing(`${total - updated} old replicas pending termination`);
  if (available < updated) return progressing(`${available} of ${updated} updated replicas available`);
  const availableCond = condition(status, "Available");
  if (availableCond?.status === "False") return progressing(joined("not available", explain(availableCond)));
  return healthy(`${available} of ${want} replicas available`);
}

export function replicaSetHealth(live: Manifest): Health {
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  const want = num(obj(live.spec).replicas, 1);
  // Usually a quota or an admission webhook refusing pods: it can clear, so it is not a failure yet.
  const failure = condition(status, "ReplicaFailure");
  if (failure?.status === "True") return progressing(joined("cannot create replicas", explain(failure)));
  const total = num(status.replicas);
  const ready = num(status.readyReplicas);
  const available = num(status.availableReplicas);
  if (total > want) return progressing(`${total - want} extra replicas pending termination`);
  if (ready < want) return progressing(`${ready} of ${want} replicas ready`);
  if (available < want) return progressing(`${available} of ${want} replicas available`);
  return healthy(`${available} of ${want} replicas available`);
}

export function statefulSetHealth(live: Manifest): Health {
  const spec = obj(live.spec);
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  const want = num(spec.replicas, 1);
  const ready = num(status.readyReplicas);
  const total = num(status.replicas, want);
  const strategy = obj(spec.updateStrategy);
  if (total > want) return progressing(`${total - want} extra replicas pending termination`);
  // OnDelete: pods change only when someone deletes them; updating them is not the controller's work.
  if (strategy.type === "OnDelete") {
    return ready < want ? progressing(`${ready} of ${want} replicas ready`) : healthy(`${ready} of ${want} replicas ready (OnDelete)`);
  }
  // A partition keeps the ordinals below it at the old revision on purpose: only those above must update.
  const partition = num(obj(strategy.rollingUpdate).partition);
  const updated = num(status.updatedReplicas);
  if (partition > 0) {
    const toUpdate = Math.max(0, want - partition);
    if (updated < toUpdate) return progressing(`${updated} of ${toUpdate} replicas above partition ${partition} updated`);
  } else if (status.updatedReplicas !== undefined && updated < want) return progressing(`${updated} of ${want} replicas updated`);
  if (ready < want) return progressing(`${ready} of ${want} replicas ready`);
  if (partition === 0) {
    if (status.updateRevision !== undefined && status.currentRevision !== status.updateRevision) {
      return progressing(`waiting for revision ${String(status.updateRevision)} to become current`);
    }
    const current = num(status.currentReplicas, want);
    if (status.updateRevision === undefined && current < want) return progressing(`${current} of ${want} replicas current`);
  }
  return healthy(`${ready} of ${want} replicas ready`);
}

export function daemonSetHealth(live: Manifest): Health {
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  if (status.desiredNumberScheduled === undefined) return progressing("waiting for the controller to report scheduled pods");
  const want = num(status.desiredNumberScheduled);
  const updated = num(status.updatedNumberScheduled);
  const ready = num(status.numberReady);
  const available = num(status.numberAvailable);
  // OnDelete: old pods are replaced only when someone deletes them, so they are not waited for.
  if (obj(obj(live.spec).updateStrategy).type !== "OnDelete" && updated < want) return progressing(`${updated} of ${want} pods updated`);
  if (ready < want) return progressing(`${ready} of ${want} pods ready`);
  if (available < want) return progressing(`${available} of ${want} pods available`);
  return healthy(`${available} of ${want} pods available`);
}
