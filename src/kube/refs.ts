// How objects and kinds are named: references, REST path prefixes, and the text used in messages.

import type { Manifest } from "../api/types.js";

/** Identifies one object on a cluster. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

/** `Kind/namespace/name` (namespaced) or `Kind/name` (cluster-scoped): how objects are named in messages. */
export function formatRef(ref: { kind: string; namespace?: string | undefined; name: string }): string {
  return ref.namespace ? `${ref.kind}/${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

export function refOf(obj: Manifest): ObjectRef {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name };
  if (obj.metadata.namespace) ref.namespace = obj.metadata.namespace;
  return ref;
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** `/api/v1` for the core group, `/apis/<group>/<version>` for the others. */
export function groupVersionPath(apiVersion: string): string {
  return splitApiVersion(apiVersion).group === "" ? `/api/${apiVersion}` : `/apis/${apiVersion}`;
}

/** The key of a kind across its API versions (one watch cache serves them all). */
export function groupKind(ref: { apiVersion: string; kind: string }): string {
  return `${splitApiVersion(ref.apiVersion).group}/${ref.kind}`;
}
