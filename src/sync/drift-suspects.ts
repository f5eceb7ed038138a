// Which deployments may have drifted on one member cluster since their objects were last compared
// with Git, so a resync compares those only (Argo CD's way: live state is known from watches, not
// re-listed on every resync). Pure: the worker feeds it the metadata of what each sync compared and
// of every change its watch sees.
//
// A change can be drift only if it touched a field Flotilla applied, and the API server tracks
// exactly those: with server-side apply every field belongs to the field managers that set it, and
// another writer changing one of Flotilla's fields (kubectl edit, set image, patch, a controller)
// takes it over, which changes Flotilla's entry in `metadata.managedFields`. Status writes, fields
// Flotilla never set and controllers' own annotations leave that entry alone, so the Deployment,
// ReplicaSet and HPA controllers' constant updates are not suspects. An object without the entry
// (never applied by Flotilla, or a server without managed fields) is suspect on any change.

import { createHash } from "node:crypto";
import { FIELD_MANAGER } from "../api/labels.js";
import type { ManagedFieldsEntry } from "../api/types.js";

/** The metadata a compare or a watch event tells about a live object. */
export interface LiveMetadata {
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
  /** Undefined when the object has no entry of Flotilla's: any change is then a suspect. */
  fingerprint: string | undefined;
}

/** A digest of the fields Flotilla owns on the object (its server-side apply entry). */
export function ownedFieldsDigest(meta: LiveMetadata): string | undefined {
  const entry = meta.managedFields?.find((m) => m.manager === FIELD_MANAGER && m.operation === "Apply");
  if (!entry) return undefined;
  return createHash("sha1").update(JSON.stringify([entry.apiVersion, entry.fieldsV1])).digest("base64");
}

export class DriftSuspects {
  private readonly compared = new Map<string, Compared>();
  private readonly suspects = new Set<string>();

  /** Deployments that may have drifted since their last compare. */
  get pending(): ReadonlySet<string> {
    return this.suspects;
  }

  /**
   * A sync found the object in sync on the cluster (or made it so): `live` is its metadata as the
   * sync left it. Later changes that leave Flotilla's fields to Flotilla are not drift.
   */
  recordCompared(key: string, deployment: string, live: LiveMetadata): void {
    this.compared.set(key, { deployment, fingerprint: ownedFieldsDigest(live) });
  }

  /** A watched change: its deployment becomes a suspect unless Flotilla's fields are untouched. */
  observe(change: ObservedChange): void {
    const before = this.compared.get(change.key);
    const deployment = before?.deployment ?? change.deployment;
    if (change.type === "DELETED" || !before || before.fingerprint === undefined) {
      this.suspects.add(deployment);
      return;
    }
    if (ownedFieldsDigest(change.metadata) !== before.fingerprint) this.suspects.add(deployment);
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
