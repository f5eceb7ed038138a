// Plain data exchanged by the sync loop: what it is asked to apply (the desired objects of one
// cluster at one commit) and what it reports back (a change set per object and the commit).

import type { ObjectFailure } from "../api/errors.js";
import type { Manifest } from "../api/types.js";
import type { DeploymentHealth } from "./health.js";

/** The desired objects of one cluster at one env-repo commit: the sync loop's only input. */
export interface DesiredState {
  commit: string;
  objects: Manifest[];
  /** Files that could not be read as objects; each is reported as one `failed` change. Default none. */
  invalid?: InvalidFile[];
}

/** A file of the cluster folder that is not a usable object (bad YAML, no kind ...). */
export interface InvalidFile {
  /** Path in the env repo. */
  path: string;
  /** `<namespace>/<name>` of the deployment folder holding it. */
  deployment: string;
  message: string;
}

export type ChangeAction = "created" | "configured" | "unchanged" | "deleted" | "skipped" | "failed";

/** What happened to one object during a sync. */
export interface ObjectChange {
  /** `Kind/namespace/name` or `Kind/name`. */
  object: string;
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
  /** `<namespace>/<name>` of the deployment folder the object belongs to (see health.deploymentOf). */
  deployment: string;
  action: ChangeAction;
  /** Why: what changed, why it was skipped, or what failed and what to do. */
  message: string;
  /** Fields found drifted on the live object (`path: want X, found Y`), when drift caused the write. */
  drift?: string[];
  /** The classified error of a `failed` object. */
  error?: ObjectFailure;
}

export interface SyncResult {
  /** The commit whose objects were applied. */
  commit: string;
  changes: ObjectChange[];
  /** Health per deployment folder, from the live objects seen or returned during the sync. */
  health: DeploymentHealth[];
  /** Number of objects re-applied because the live object had drifted from the desired one. */
  drifted: number;
  /** Number of `failed` changes. */
  failed: number;
  /** True when a newer commit interrupted the sync between waves; the result is partial. */
  aborted: boolean;
  startedAt: string;
  durationMs: number;
}

/** A stable identity for an object across API versions of its group. */
export function objectKey(obj: { apiVersion: string; kind: string; metadata: { namespace?: string; name: string } }): string {
  const slash = obj.apiVersion.indexOf("/");
  const group = slash < 0 ? "" : obj.apiVersion.slice(0, slash);
  return `${group}|${obj.kind}|${obj.metadata.namespace ?? ""}|${obj.metadata.name}`;
}
