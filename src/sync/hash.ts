// The content hash of a desired object, stamped on it as an annotation when it is applied. When
// the live object carries the same hash (and still matches, see drift.ts) the sync skips the
// write, so an unchanged object keeps its resourceVersion and costs no API write.

import { createHash } from "node:crypto";
import { ANNOTATION_AUTOSCALED_PATH, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/labels.js";
import { canonicalize } from "../api/serialize.js";
import type { Manifest } from "../api/types.js";
import { fillApplyDefaults } from "./defaults.js";

/** Annotation holding the hash of the desired object last applied by Flotilla. */
export const ANNOTATION_APPLIED_HASH = "flotilla.dev/applied-hash";

/** Hash of an object's content, ignoring its own hash annotation and key order. */
export function contentHash(obj: Manifest): string {
  const annotations = { ...(obj.metadata.annotations ?? {}) };
  delete annotations[ANNOTATION_APPLIED_HASH];
  const metadata = { ...obj.metadata, annotations };
  const text = JSON.stringify(canonicalize({ ...obj, metadata }));
  return `sha256:${createHash("sha256").update(text).digest("hex").slice(0, 32)}`;
}

/** Annotations in Git that instruct the sync loop and are not sent to the cluster. */
const SYNC_ONLY_ANNOTATIONS: readonly string[] = [ANNOTATION_AUTOSCALED_PATH];

/** Paths of a desired object that something else owns on the cluster (not drift, see drift.ts). */
export function ownedElsewhere(desired: Manifest): string[] {
  const path = desired.metadata.annotations?.[ANNOTATION_AUTOSCALED_PATH];
  return path ? [path] : [];
}

/**
 * The object as it is sent to the cluster: Flotilla's ownership label (the renderer stamps it
 * already; a hand-written file in the env repo may not), defaults SSA needs (defaults.ts) and the
 * content hash, without the sync-only annotations. Never mutates input.
 */
export function prepareForApply(input: Manifest): Manifest {
  let out = preparedCopies.get(input);
  if (!out) {
    out = prepare(input);
    preparedCopies.set(input, out);
  }
  return out;
}

// Desired objects are never changed once parsed and the sync loop's source hands out the same
// object for an unchanged file, so the copy (and its hash, the costly part) is made once per object.
const preparedCopies = new WeakMap<Manifest, Manifest>();

function prepare(input: Manifest): Manifest {
  const obj = fillApplyDefaults(input);
  const labels = { ...(obj.metadata.labels ?? {}), [LABEL_MANAGED_BY]: MANAGED_BY_VALUE };
  const annotations = Object.fromEntries(Object.entries(obj.metadata.annotations ?? {}).filter(([k]) => !SYNC_ONLY_ANNOTATIONS.includes(k)));
  // contentHash reads absent annotations as {}, so objects without a sync-only one keep their hash.
  const sent: Manifest = { ...obj, metadata: { ...obj.metadata, labels, annotations } };
  return { ...sent, metadata: { ...sent.metadata, annotations: { ...annotations, [ANNOTATION_APPLIED_HASH]: contentHash(sent) } } };
}

/** The hash a live object was last applied with, if any. */
export function appliedHash(live: Manifest): string | undefined {
  return live.metadata.annotations?.[ANNOTATION_APPLIED_HASH];
}
