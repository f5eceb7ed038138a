// Which deployments may have drifted on one member cluster since their objects were last compared
// with Git, so a resync compares those only (Argo CD's way: live state is known from watches, not
// re-listed on every resync). Pure: the worker feeds it the metadata of what each sync compared and
// of every change its watch sees.
//
// A change can be drift only if it touched what Flotilla applied, and the metadata a watch sends
// shows that without the object. Flotilla's entry in server-side apply's field records
// (`metadata.managedFields`) changes when another writer takes over one of its fields (a
// `kubectl edit`, `set image` or `patch`), which is how a ConfigMap edit shows; `generation` moves
// on every spec change of the kinds that keep one, and the values of the labels and annotations
// Flotilla set are there, for a writer that changes again a field it took over before. Status
// writes, controllers' own annotations and fields Flotilla never set move none of these: the
// Deployment, ReplicaSet and HPA controllers' constant updates are not suspects. Blind spot: on a
// kind without a generation, a writer changing again a field it took over earlier, after the field
// was set back to Flotilla's value by hand before a resync; the periodic full resync catches it.

import { createHash } from "node:crypto";
import { FIELD_MANAGER } from "../api/labels.js";
import type { ManagedFieldsEntry, Manifest } from "../api/types.js";
import { ANNOTATION_APPLIED_HASH } from "./hash.js";

/** The metadata a compare or a watch event tells about a live object. */
export interface LiveMetadata {
  generation?: number | undefined;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
  managedFields?: readonly ManagedFieldsEntry[] | undefined;
}

/** One watched change of an object: `key` is its objectKey, `deployment` what its labels name. */
export interface ObservedChange {
  type: "ADDED" | "MODIFIED" | "DELETED";
  key: string;
  deployment: string;
  metadata: LiveMetadata;
}

interface Compared {
  deployment: string;
  labelKeys: readonly string[];
  annotationKeys: readonly string[];
  fingerprint: string;
}

/** A digest of what, in an object's metadata, moves when something Flotilla applied is changed. */
export function fingerprint(meta: LiveMetadata, labelKeys: readonly string[], annotationKeys: readonly string[]): string {
  const ours = meta.managedFields?.find((m) => m.manager === FIELD_MANAGER && m.operation === "Apply");
  const parts = [
    meta.generation ?? null,
    labelKeys.map((k) => meta.labels?.[k] ?? null),
    annotationKeys.map((k) => meta.annotations?.[k] ?? null),
    ours ? [ours.apiVersion, ours.fieldsV1] : null,
  ];
  return createHash("sha1").update(JSON.stringify(parts)).digest("base64");
}

export class DriftSuspects {
  private readonly compared = new Map<string, Compared>();
  private readonly suspects = new Set<string>();
  /** The last change per object seen before any compare of it. */
  private readonly unjudged = new Map<string, ObservedChange>();

  /** Deployments that may have drifted since their last compare. */
  get pending(): ReadonlySet<string> {
    return this.suspects;
  }

  /**
   * A sync found `desired` in sync on the cluster (or made it so): `live` is the object as it left
   * it. A change seen before this record (the sync's own write, usually) is judged now.
   */
  recordCompared(key: string, deployment: string, desired: Manifest, live: LiveMetadata): void {
    const labelKeys = Object.keys(desired.metadata.labels ?? {}).sort();
    const annotationKeys = [...new Set([...Object.keys(desired.metadata.annotations ?? {}), ANNOTATION_APPLIED_HASH])].sort();
    const record = { deployment, labelKeys, annotationKeys, fingerprint: fingerprint(live, labelKeys, annotationKeys) };
    this.compared.set(key, record);
    const early = this.unjudged.get(key);
    if (early === undefined) return;
    this.unjudged.delete(key);
    if (fingerprint(early.metadata, labelKeys, annotationKeys) !== record.fingerprint) this.suspects.add(deployment);
  }

  /**
   * A watched change: its deployment becomes a suspect unless the change left what Flotilla
   * applied alone. The change of an object not compared yet waits for its compare (or the next
   * resync, see {@link judgeRest}): a sync's own writes come back before it records them.
   */
  observe(change: ObservedChange): void {
    const before = this.compared.get(change.key);
    if (change.type === "DELETED") this.suspects.add(before?.deployment ?? change.deployment);
    else if (!before) this.unjudged.set(change.key, change);
    else if (fingerprint(change.metadata, before.labelKeys, before.annotationKeys) !== before.fingerprint) this.suspects.add(before.deployment);
  }

  /** Changes of objects no sync has compared since: their deployments are suspects (before a resync). */
  judgeRest(): void {
    for (const change of this.unjudged.values()) this.suspects.add(change.deployment);
    this.unjudged.clear();
  }

  /** Changes may have been missed (a watch listed again): all these deployments are suspects. */
  suspectAll(deployments: Iterable<string>): void {
    for (const d of deployments) this.suspects.add(d);
  }

  /**
   * A sync of these deployments (undefined: all) starts reading the cluster: they stop being
   * suspects, and changes seen from now on make them suspects again. Returns the ones taken, for
   * {@link restore} when the sync does not finish.
   */
  take(scope: ReadonlySet<string> | undefined): string[] {
    const taken = scope === undefined ? [...this.suspects] : [...this.suspects].filter((d) => scope.has(d));
    for (const d of taken) this.suspects.delete(d);
    return taken;
  }

  restore(deployments: Iterable<string>): void {
    for (const d of deployments) this.suspects.add(d);
  }

  /** Forget the compares of objects no longer desired (after a sync of everything). */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.compared.keys()) if (!keys.has(key)) this.compared.delete(key);
  }
}
