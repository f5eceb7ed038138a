// The built-in health rules, keyed by API group AND kind: a Knative `serving.knative.dev`
// Service is not a core Service. Kinds without a rule here get the kstatus rules.

import type { Manifest } from "../api/types.js";
import { cronJobHealth, jobHealth } from "./health-batch.js";
import { crdHealth, hpaHealth, pdbHealth, pvcHealth } from "./health-cluster.js";
import type { HealthRule } from "./health-common.js";
import { kstatusHealth } from "./health-kstatus.js";
import { apiServiceHealth, ingressHealth, serviceHealth } from "./health-network.js";
import { podHealth } from "./health-pod.js";
import { daemonSetHealth, deploymentHealth, replicaSetHealth, statefulSetHealth } from "./health-workloads.js";

/** `<group>/<Kind>`, with "" for the core group: `apps/Deployment`, `/Service`. */
export const BUILT_IN_RULES: ReadonlyMap<string, HealthRule> = new Map<string, HealthRule>([
  ["/Pod", podHealth],
  ["/Service", serviceHealth],
  ["/PersistentVolumeClaim", pvcHealth],
  ["apps/Deployment", deploymentHealth],
  ["apps/ReplicaSet", replicaSetHealth],
  ["apps/StatefulSet", statefulSetHealth],
  ["apps/DaemonSet", daemonSetHealth],
  // The pre-1.16 group of the same workloads, still served by old clusters.
  ["extensions/Deployment", deploymentHealth],
  ["extensions/ReplicaSet", replicaSetHealth],
  ["extensions/DaemonSet", daemonSetHealth],
  ["extensions/Ingress", ingressHealth],
  ["batch/Job", jobHealth],
  ["batch/CronJob", cronJobHealth],
  ["networking.k8s.io/Ingress", ingressHealth],
  ["autoscaling/HorizontalPodAutoscaler", hpaHealth],
  ["policy/PodDisruptionBudget", pdbHealth],
  ["apiregistration.k8s.io/APIService", apiServiceHealth],
  ["apiextensions.k8s.io/CustomResourceDefinition", crdHealth],
]);

/** The API group of an apiVersion: `apps/v1` → `apps`, `v1` → `` (core). */
export function apiGroup(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

/** The built-in rule for the object's group and kind, else the kstatus rules. */
export function ruleFor(live: Pick<Manifest, "apiVersion" | "kind">): HealthRule {
  return BUILT_IN_RULES.get(`${apiGroup(live.apiVersion ?? "")}/${live.kind}`) ?? kstatusHealth;
}
