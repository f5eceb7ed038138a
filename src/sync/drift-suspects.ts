// Which deployments may have drifted on one member cluster since their objects were last compared
// with Git, so a resync compares those only (Argo CD's way: live state is known from watches, not
// re-listed on every resync). Pure: the worker feeds it the metadata of what each sync compared and
// of every change its watch sees.
//
// A change can be drift only if it touched what Flotilla applied. For an object whose kind keeps
// `metadata.generation`, the API server bumps it on every change outside metadata (spec, data) but
// not on status writes, so "same generation, same values of the labels and annotations Flotilla
// set" means a status-only change: the Deployment and ReplicaSet controllers' constant updates are
// not suspects. Kinds without a generation (ConfigMap, Service, Secret ...) are suspect on any change;
// they rarely change by themselves.

import type { Manifest } from "../api/types.js";
import { ANNOTATION_APPLIED_HASH } from "./hash.js";

/** The metadata a compare or a watch event tells about a live object. */
export interface LiveMetadata {
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
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
  /** Undefined when the kind keeps no generation: any change is then a suspect. */
  fingerprint: string | undefined;
}

function fingerprint(meta: LiveMetadata, labelKeys: readonly string[], annotationKeys: readonly string[]): string | undefined {
  if (meta.generation === undefined) return undefined;
  return JSON.stringify([meta.generation, labelKeys.map((k) => meta.labels?.[k] ?? null), annotationKeys.map((k) => meta.annotations?.[k] ?? null)]);
}

export class DriftSuspects {
  private readonly compared = new Map<string, Compared>();
  private readonly suspects = new Set<string>();

  /** Deployments that may have drifted since their last compare. */
  get pending(): ReadonlySet<string> {
    return this.suspects;
  }

  /**
   * A sync found `desired` in sync on the cluster (or made it so): `live` is the object as it
   * left it. Later changes that keep this generation and these label and annotation values are
   * not drift.
   */
  recordCompared(key: string, deployment: string, desired: Manifest, live: LiveMetadata): void {
    const labelKeys = Object.keys(desired.metadata.labels ?? {}).sort();
    const annotationKeys = [...new Set([...Object.keys(desired.metadata.annotations ?? {}), ANNOTATION_APPLIED_HASH])].sort();
    this.compared.set(key, { deployment, labelKeys, annotationKeys, fingerprint: fingerprint(live, labelKeys, annotationKeys) });
  }

  /** A watched change: its deployment becomes a suspect unless the change is status only. */
  observe(change: ObservedChange): void {
    const before = this.compared.get(change.key);
    const deployment = before?.deployment ?? change.deployment;
    if (change.type === "DELETED" || !before || before.fingerprint === undefined) {
      this.suspects.add(deployment);
      return;
    }
    if (fingerprint(change.metadata, before.labelKeys, before.annotationKeys) !== before.fingerprint) this.suspects.add(deployment);
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
