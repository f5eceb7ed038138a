// Reads the live counterparts of desired objects with as few requests as possible: one LIST per
// (kind, namespace) for namespaced objects (or GETs, for a group small enough: getUpTo), one GET
// per cluster-scoped object. Lists are not
// filtered by label, so an unowned object with a desired name is seen (and then left alone).

import { type ObjectFailure, objectFailure } from "../api/errors.js";
import type { Manifest } from "../api/types.js";
import type { ClusterApi } from "../kube/cluster-api.js";
import { refOf } from "../kube/refs.js";
import { objectKey } from "./types.js";

export interface Observation {
  /** The live object, or undefined when it does not exist. */
  live: Manifest | undefined;
  /** Set when the object could not be read (its kind is not served, the server failed ...). */
  error?: ObjectFailure;
}

export interface LiveSnapshot {
  /** Observation per desired object, by objectKey. */
  byKey: Map<string, Observation>;
  /** Every live object the lists returned, including ones not desired (prune's safety net reads them). */
  seen: Manifest[];
}

export interface ObserveOptions {
  /** Read a (kind, namespace) group of at most this many objects by GET instead of a LIST. Default 0. */
  getUpTo?: number;
  /** Read from the API server's watch cache (see ReadOptions). Default false. */
  cached?: boolean;
}

export async function observeLive(client: ClusterApi, objects: readonly Manifest[], options: ObserveOptions = {}): Promise<LiveSnapshot> {
  const byKey = new Map<string, Observation>();
  const seen: Manifest[] = [];
  const groups = new Map<string, Manifest[]>();
  const singles: Manifest[] = [];
  for (const o of objects) {
    if (!o.metadata.namespace) {
      singles.push(o);
      continue;
    }
    const g = `${o.apiVersion}|${o.kind}|${o.metadata.namespace}`;
    const list = groups.get(g) ?? [];
    list.push(o);
    groups.set(g, list);
  }
  const getUpTo = options.getUpTo ?? 0;
  for (const [g, members] of groups) {
    if (members.length > getUpTo) continue;
    singles.push(...members);
    groups.delete(g);
  }
  const listJobs = [...groups.values()].map(async (members) => {
    const first = members[0]!;
    try {
      const items = await client.list(first.apiVersion, first.kind, { namespace: first.metadata.namespace!, cached: options.cached ?? false });
      const live = new Map(items.map((i) => [objectKey(i), i] as const));
      seen.push(...items);
      for (const m of members) byKey.set(objectKey(m), { live: live.get(objectKey(m)) });
    } catch (error) {
      for (const m of members) byKey.set(objectKey(m), { live: undefined, error: objectFailure(error, `${first.kind}/${first.metadata.namespace}`) });
    }
  });
  const getJobs = singles.map(async (o) => {
    try {
      const live = await client.get(refOf(o), { cached: options.cached ?? false });
      if (live) seen.push(live);
      byKey.set(objectKey(o), { live });
    } catch (error) {
      byKey.set(objectKey(o), { live: undefined, error: objectFailure(error, `${o.kind}/${o.metadata.name}`) });
    }
  });
  await Promise.all([...listJobs, ...getJobs]);
  return { byKey, seen };
}
