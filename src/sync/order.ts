// Apply order of Kubernetes kinds (pure). Definitions first (Namespaces, CRDs), then what others
// refer to (accounts, config, storage, RBAC, Services), then workloads, then what points at
// workloads (HPA, PDB, Ingress), then kinds we do not know. Prune walks the same order backwards.

import type { Manifest } from "../api/types.js";

/** Kinds applied in the first stage; the sync waits for CRDs to be Established after it. */
export const DEFINITION_KINDS: ReadonlySet<string> = new Set(["Namespace", "CustomResourceDefinition"]);

/** Kind rank for the second stage; equal rank means no ordering between the kinds. */
const KIND_ORDER: readonly (readonly string[])[] = [
  ["Namespace"],
  ["CustomResourceDefinition"],
  ["PriorityClass", "StorageClass", "IngressClass", "RuntimeClass"],
  ["NetworkPolicy", "ResourceQuota", "LimitRange"],
  ["ServiceAccount"],
  ["Secret", "ConfigMap"],
  ["PersistentVolume"],
  ["PersistentVolumeClaim"],
  ["ClusterRole", "Role"],
  ["ClusterRoleBinding", "RoleBinding"],
  ["Service", "Endpoints"],
  ["DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment", "StatefulSet", "Job", "CronJob"],
  ["HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress"],
  ["APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
];

const RANK = new Map<string, number>(KIND_ORDER.flatMap((kinds, rank) => kinds.map((k) => [k, rank] as const)));
/** Rank of kinds not in the table: after every known kind (their CRD or API service comes first). */
export const UNKNOWN_RANK = KIND_ORDER.length;

export function kindRank(kind: string): number {
  return RANK.get(kind) ?? UNKNOWN_RANK;
}

function compare(a: Manifest, b: Manifest): number {
  return (
    kindRank(a.kind) - kindRank(b.kind) ||
    cmp(a.kind, b.kind) ||
    cmp(a.metadata.namespace ?? "", b.metadata.namespace ?? "") ||
    cmp(a.metadata.name, b.metadata.name)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Objects in apply order (stable and deterministic). */
export function sortForApply<T extends Manifest>(objects: readonly T[]): T[] {
  return [...objects].sort(compare);
}

/** Objects in prune order: the apply order reversed, so dependents go before what they use. */
export function sortForPrune<T extends Manifest>(objects: readonly T[]): T[] {
  return sortForApply(objects).reverse();
}

/**
 * Objects grouped into waves applied one after another; objects within a wave have no order
 * between them and may be applied concurrently. The first wave holds Namespaces, the second CRDs
 * (so the caller can wait for them to be Established before anything that might use them).
 */
export function applyWaves<T extends Manifest>(objects: readonly T[]): T[][] {
  const waves: T[][] = [];
  let rank = -1;
  for (const obj of sortForApply(objects)) {
    const r = kindRank(obj.kind);
    if (r !== rank || waves.length === 0) {
      waves.push([]);
      rank = r;
    }
    waves[waves.length - 1]!.push(obj);
  }
  return waves;
}
