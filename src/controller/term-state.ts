// What the controller knows about deployments and clusters during one leadership term. A new
// term (becoming leader, or starting) begins with a fresh TermState, like a new process: another
// leader may have committed since this replica last worked, so nothing learnt before is kept.

import type { ApplicationDeploymentStatus } from "../api/types.js";
import { FolderCommits } from "./folder-commits.js";
import { RenderingCache } from "./renderings.js";

/** `<namespace>/<name>` of an ApplicationDeployment. */
export type Key = string;

/** What a deployment uses: a definition or a cluster change requeues the deployments using it. */
export interface Usage {
  types: Set<string>;
  traits: Set<string>;
  selected: Set<string>;
}

export class TermState {
  readonly usage = new Map<Key, Usage>();
  /** Env-repo commits in the order this process made or first saw them. */
  readonly commitSeq = new Map<string, number>();
  /** The commit that holds each deployment's current manifests. */
  readonly deploymentCommit = new Map<Key, string>();
  readonly suspended = new Set<Key>();
  /** Clusters each deployment's folders were last committed for. */
  readonly placedOn = new Map<Key, string[]>();
  /**
   * What of each deployment a reconcile reacts to (generation, labels, annotations, finalizers,
   * deletion), as last seen: watch events that change only status (most of them this process's
   * own writes) do not requeue it.
   */
  readonly deploymentShapes = new Map<Key, string>();
  /**
   * The status this process last wrote for a deployment, until the informer's cache shows it:
   * `stale` holds the resourceVersions known to predate the write. A reconcile that runs before
   * the watch delivered the write must not plan from the status before it.
   */
  readonly ownStatus = new Map<Key, { stale: Set<string>; status: ApplicationDeploymentStatus }>();
  /** Labels and spec of each Cluster as last seen, to tell real changes from status updates. */
  readonly clusterShapes = new Map<string, string>();
  /** A hash of the files this process last committed (or found already committed) per deployment. */
  readonly committedFiles = new Map<Key, string>();
  /** The commit that last changed each deployment's folder per cluster. */
  readonly folderCommits = new FolderCommits();
  /** Consecutive renders of a deployment that failed in a way load alone can cause (see FieldProblem.transient). */
  readonly transientRenderFailures = new Map<Key, number>();
  /** What each deployment renders per cluster, replicas aside, for the planner (see renderings.ts). */
  readonly renderings = new RenderingCache();
  /** The commit that removes a deleted deployment's folders, until every cluster has applied it. */
  readonly deletionCommit = new Map<Key, string>();

  /** Drop what is known of a deployment that is gone. Returns whether it was suspended. */
  forget(key: Key): boolean {
    this.usage.delete(key);
    this.deploymentShapes.delete(key);
    this.ownStatus.delete(key);
    this.deploymentCommit.delete(key);
    this.committedFiles.delete(key);
    this.folderCommits.forget(key);
    this.renderings.forget(key);
    this.transientRenderFailures.delete(key);
    return this.suspended.delete(key);
  }
}
