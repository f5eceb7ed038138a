// Health of cluster plumbing: PersistentVolumeClaims, HorizontalPodAutoscalers,
// PodDisruptionBudgets and CustomResourceDefinitions, each from the conditions or phase its
// controller writes. An autoscaling/v1 HPA keeps its conditions in an annotation, read here too.

import type { Manifest } from "../api/types.js";
import {
  type Cond,
  condition,
  conditionsOf,
  degraded,
  explain,
  type Health,
  healthy,
  joined,
  num,
  obj,
  progressing,
  staleGeneration,
} from "./health-common.js";

export function pvcHealth(live: Manifest): Health {
  const phase = obj(live.status).phase;
  if (phase === "Bound") return healthy("bound");
  if (phase === "Lost") return degraded("the bound volume is lost");
  return progressing(`waiting for a volume (phase ${String(phase ?? "Pending")})`);
}

/** autoscaling/v1 has no status.conditions: the controller writes them as JSON in this annotation. */
export const HPA_V1_CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions";

function hpaConditions(live: Manifest): Cond[] {
  const own = conditionsOf(obj(live.status));
  if (own.length > 0) return own;
  const text = live.metadata.annotations?.[HPA_V1_CONDITIONS_ANNOTATION];
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed.filter((c) => c !== null && typeof c === "object") as Cond[]) : [];
  } catch {
    return [];
  }
}

/** Reasons the autoscaler gives when it cannot read or write its target's scale. */
const SCALE_FAILURES = new Set(["FailedGetScale", "FailedUpdateScale"]);

export function hpaHealth(live: Manifest): Health {
  const conditions = hpaConditions(live);
  const status = obj(live.status);
  const replicas = `${num(status.currentReplicas)} current, ${num(status.desiredReplicas)} desired replicas`;
  const able = conditions.find((c) => c.type === "AbleToScale");
  if (able?.reason !== undefined && SCALE_FAILURES.has(able.reason)) return degraded(joined("cannot scale its target", explain(able)));
  const invalid = conditions.find((c) => c.type === "ScalingActive" && c.reason === "InvalidSelector");
  if (invalid) return degraded(joined("cannot select its target's pods", explain(invalid)));
  if (able?.status === "False") return progressing(joined("waiting to be able to scale", explain(able)));
  if (able?.status === "True" || conditions.some((c) => c.type === "ScalingLimited" && c.status === "True")) {
    // ScalingActive=False (no metrics yet, scaling disabled) does not stop the workload serving: report it, do not fail on it.
    const active = conditions.find((c) => c.type === "ScalingActive");
    return healthy(active?.status === "False" ? `${replicas}; scaling inactive: ${explain(active)}` : replicas);
  }
  return progressing("waiting for the autoscaler to report that it can scale its target");
}

export function pdbHealth(live: Manifest): Health {
  const status = obj(live.status);
  const stale = staleGeneration(live, status);
  if (stale) return stale;
  const current = num(status.currentHealthy);
  const desired = num(status.desiredHealthy);
  const allowed = condition(status, "DisruptionAllowed");
  if (allowed?.status === "False" && allowed.reason === "InsufficientPods") {
    return degraded(`${current} of ${desired} pods healthy: no disruption allowed (InsufficientPods)`);
  }
  if (allowed?.status === "False") return progressing(joined("disruptions not allowed", explain(allowed)));
  if (allowed === undefined && current < desired) return progressing(`${current} of ${desired} pods healthy`);
  return healthy(`${current} healthy, ${num(status.disruptionsAllowed)} disruptions allowed`);
}

export function crdHealth(live: Manifest): Health {
  const status = obj(live.status);
  if (conditionsOf(status).length === 0) return progressing("waiting for the API server to report conditions");
  const terminating = condition(status, "Terminating");
  if (terminating?.status === "True") return progressing(joined("being deleted", explain(terminating)));
  const names = condition(status, "NamesAccepted");
  if (names?.status === "False") return degraded(joined("names not accepted", explain(names)));
  const nonStructural = condition(status, "NonStructuralSchema");
  if (nonStructural?.status === "True") return degraded(joined("schema is not structural", explain(nonStructural)));
  const established = condition(status, "Established");
  if (established?.status === "True") return healthy("established");
  if (established?.status === "False" && established.reason !== "Installing") return degraded(joined("not established", explain(established)));
  return progressing(joined("being installed", explain(established)));
}
