// `flotilla diff --live`: what the sync loop would change on a member, asked of its API server.
// Each desired object is prepared exactly as the sync loop prepares it and applied with a
// server-side dry run, so the answer carries the server's own merge (defaults, list merge keys,
// what other managers own); the live object and that answer are compared with managed fields,
// status and write records stripped. Never writes: only `get` and dry-run `apply`.

import { KubeApiError } from "../api/errors.js";
import { toYaml } from "../api/serialize.js";
import type { Manifest } from "../api/types.js";
import { type ChangeAction, unifiedPatch } from "../gitops/folder-diff.js";
import type { ClusterApi } from "../kube/cluster-api.js";
import { formatRef, refOf } from "../kube/refs.js";
import { isOwned } from "./apply.js";
import { prepareForApply } from "./hash.js";

/** What one object would become on the member. */
export interface LiveChange {
  /** `Kind/namespace/name`. */
  object: string;
  /** `unchanged`: the dry run leaves it as it is; `skipped`: not Flotilla's, never written; `failed`: the member refused or did not answer. */
  action: ChangeAction | "unchanged" | "skipped" | "failed";
  /** Unified diff of the live object against the dry run's answer (`/dev/null` for a side that does not exist); empty when unchanged. */
  patch: string;
  /** Why it is skipped or failed, or what else to know. */
  message?: string;
}

/** Metadata that records writes, not intent: differs on every write and is not shown. */
const WRITE_RECORDS = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"];

/** The object as the diff shows it: no status, no write records. */
export function comparableObject(obj: Manifest): Manifest {
  const { status: _status, metadata, ...rest } = obj;
  const meta = Object.fromEntries(Object.entries(metadata).filter(([k]) => !WRITE_RECORDS.includes(k))) as Manifest["metadata"];
  return { ...rest, metadata: meta } as Manifest;
}

function failed(object: string, error: unknown): LiveChange {
  return { object, action: "failed", patch: "", message: error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error) };
}

async function desiredChange(client: ClusterApi, desired: Manifest): Promise<LiveChange> {
  const object = formatRef(refOf(desired));
  let live: Manifest | undefined;
  try {
    live = await client.get(refOf(desired));
  } catch (e) {
    return failed(object, e);
  }
  if (live && !isOwned(live)) {
    return { object, action: "skipped", patch: "", message: "exists and is not owned by Flotilla: the sync loop leaves it untouched" };
  }
  const prepared = prepareForApply(desired);
  let after: Manifest;
  let message: string | undefined;
  try {
    after = await client.apply(prepared, { dryRun: true });
  } catch (e) {
    // A namespace the member does not have yet: the sync loop creates it first, so the object
    // would be created as sent. Anything else is what the real apply would meet too.
    if (live || !(e instanceof KubeApiError && e.status === 404 && desired.metadata.namespace)) return failed(object, e);
    after = prepared;
    message = `namespace ${desired.metadata.namespace} does not exist yet: the sync loop creates it, then the object as sent (not checked by the server)`;
  }
  const before = live ? toYaml(comparableObject(live)) : "";
  const patch = unifiedPatch(live ? `live/${object}` : "/dev/null", `dry-run/${object}`, before, toYaml(comparableObject(after)));
  const action = !live ? "added" : patch ? "changed" : "unchanged";
  return { object, action, patch, ...(message ? { message } : {}) };
}

async function removedChange(client: ClusterApi, gone: Manifest): Promise<LiveChange | undefined> {
  const object = formatRef(refOf(gone));
  let live: Manifest | undefined;
  try {
    live = await client.get(refOf(gone));
  } catch (e) {
    return failed(object, e);
  }
  // The sync loop prunes only what Flotilla owns; anything else stays.
  if (!live || !isOwned(live)) return undefined;
  return { object, action: "removed", patch: unifiedPatch(`live/${object}`, "/dev/null", toYaml(comparableObject(live)), ""), message: "pruned" };
}

/**
 * What syncing `desired` to the member would change, and which of `removed` (objects the cluster's
 * folder no longer has) it would prune; in the order given, unchanged objects included.
 */
export async function liveChanges(client: ClusterApi, desired: readonly Manifest[], removed: readonly Manifest[] = []): Promise<LiveChange[]> {
  const changes = await Promise.all(desired.map((d) => desiredChange(client, d)));
  const pruned = await Promise.all(removed.map((r) => removedChange(client, r)));
  return [...changes, ...pruned.filter((c): c is LiveChange => c !== undefined)];
}
