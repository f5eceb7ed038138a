// The apply-time half of the cluster-scope rule: the renderer knows the scope of built-in kinds
// only, so before an object is written the sync loop asks the cluster's discovery. An object the
// cluster says is cluster-wide is refused unless the renderer marked it as coming from a definition
// the platform team allowed to create cluster-scoped objects (`flotilla.dev/cluster-scoped: "true"`).
// A tenant's admission policy, ClusterIssuer or any CRD of cluster scope never reaches the cluster.

import { ANNOTATION_CLUSTER_SCOPED } from "../api/labels.js";
import type { Manifest } from "../api/types.js";
import { changeOf } from "./apply.js";
import type { ClusterApi } from "../kube/cluster-api.js";
import type { ObjectChange } from "./types.js";

export interface ScopeCheck {
  /**
   * Objects that may be applied, in input order. A marked cluster-scoped object comes without the
   * namespace the renderer gave it (it could not know the scope), so it is read and keyed as the
   * cluster holds it.
   */
  allowed: Array<{ original: Manifest; object: Manifest }>;
  /** The refused objects, each with its failed change. */
  refused: Array<{ object: Manifest; change: ObjectChange }>;
}

export function hasClusterScopedMark(obj: Manifest): boolean {
  return obj.metadata.annotations?.[ANNOTATION_CLUSTER_SCOPED] === "true";
}

/**
 * Sort objects by what the cluster's discovery says of their kinds. A kind discovery cannot
 * resolve stays allowed: applying it fails with the discovery error, as it would without this check.
 */
export async function checkClusterScope(client: ClusterApi, objects: readonly Manifest[]): Promise<ScopeCheck> {
  const allowed: ScopeCheck["allowed"] = [];
  const refused: ScopeCheck["refused"] = [];
  const infos = await Promise.all(objects.map((o) => client.resource(o.apiVersion, o.kind).catch(() => undefined)));
  objects.forEach((obj, i) => {
    const info = infos[i];
    if (!info || info.namespaced) {
      allowed.push({ original: obj, object: obj });
      return;
    }
    if (!hasClusterScopedMark(obj)) {
      const message = `the cluster serves ${obj.kind} (${obj.apiVersion}) as cluster-scoped, and only definitions marked flotilla.dev/cluster-scoped: "true" by the platform team may create cluster-scoped objects; not applied. Render it from such a definition, or remove it`;
      refused.push({ object: obj, change: changeOf(obj, "failed", message) });
      return;
    }
    if (obj.metadata.namespace === undefined) allowed.push({ original: obj, object: obj });
    else {
      const { namespace: _ignored, ...metadata } = obj.metadata;
      allowed.push({ original: obj, object: { ...obj, metadata } });
    }
  });
  return { allowed, refused };
}
