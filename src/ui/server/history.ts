// A deployment's history for the web UI, read from the controller's environment repository the
// way `flotilla history` reads it (deployment-log.ts, deployment-steps.ts), and one commit's
// per-cluster diff of the deployment's folders the way `flotilla diff` prints one
// (folder-diff.ts). Read-only: never writes a ref or an object.

import { readDeploymentLog, changedClusters } from "../../gitops/deployment-log.js";
import { deploymentSteps } from "../../gitops/deployment-steps.js";
import { folderChanges } from "../../gitops/folder-diff.js";
import { deploymentDir, folderFiles } from "../../gitops/layout.js";
import { readFolder } from "../../gitops/reads.js";
import { isOid, ObjectStore } from "../../gitops/store.js";

/** Where the history is read: the repository's git directory and its branch head now. */
export interface HistorySource {
  gitdir: string;
  head(): Promise<string | null>;
}

export interface HistoryItem {
  commit: string;
  time: string;
  message: string;
  revision?: string;
  wave?: string;
  /** `<batch>/<batches>`. */
  batch?: string;
  clusters: string[];
  sourceCommit?: string;
}

export interface CommitDiff {
  clusters: Array<{ cluster: string; diff: string }>;
}

const stores = new Map<string, ObjectStore>();

/** One reader per repository, kept: its caches of trees and commits serve every request. */
function storeOf(gitdir: string): ObjectStore {
  let store = stores.get(gitdir);
  if (!store) {
    store = new ObjectStore({ gitdir });
    stores.set(gitdir, store);
  }
  return store;
}

/** The deployment's steps, newest first, at most `limit`. */
export async function deploymentHistory(source: HistorySource, namespace: string, name: string, limit = 50): Promise<HistoryItem[]> {
  const head = await source.head();
  const log = await readDeploymentLog(storeOf(source.gitdir), { head, namespace, name, limit });
  return deploymentSteps(log.commits, namespace, name).map((s) => ({
    commit: s.commit,
    time: s.time,
    message: s.summary,
    ...(s.revision === undefined ? {} : { revision: s.revision }),
    ...(s.wave === undefined ? {} : { wave: s.wave }),
    ...(s.batch === undefined ? {} : { batch: s.batch }),
    clusters: s.clusters,
    ...(s.sourceCommit === undefined ? {} : { sourceCommit: s.sourceCommit }),
  }));
}

export class UnknownCommitError extends Error {}

/**
 * What `commit` changed in the deployment's folder of each cluster, against its first parent, as
 * unified diffs (one per cluster whose folder changed). UnknownCommitError when the repository
 * has no such commit.
 */
export async function commitDiff(source: HistorySource, namespace: string, name: string, commit: string): Promise<CommitDiff> {
  if (!isOid(commit)) throw new UnknownCommitError(`${commit} is not a commit id (40 hexadecimal digits)`);
  const store = storeOf(source.gitdir);
  let tree: string;
  let parentTree: string | null = null;
  try {
    const c = await store.readCommit(commit);
    tree = c.tree;
    if (c.parent[0]) parentTree = (await store.readCommit(c.parent[0])).tree;
  } catch (e) {
    throw new UnknownCommitError(`the environment repository has no commit ${commit}`, { cause: e });
  }
  const clusters = await changedClusters(store, parentTree, tree, namespace, name);
  const out: CommitDiff = { clusters: [] };
  for (const cluster of clusters) {
    const folder = deploymentDir(cluster, namespace, name);
    const before = parentTree ? folderFiles(await readFolder(store, parentTree, folder)) : {};
    const after = folderFiles(await readFolder(store, tree, folder));
    const diff = folderChanges(folder, before, after)
      .map((c) => c.patch)
      .join("");
    out.clusters.push({ cluster, diff });
  }
  return out;
}
