// The commits of the environment repository that changed one deployment, for `flotilla history`:
// a first-parent walk from a head that reads each commit's message and walks trees only for the
// commits whose trailers name the deployment, and stops once `limit` of them are found, so a
// repository with thousands of commits of other deployments costs one commit read each.
// Read-only: never writes a ref or an object.

import { deploymentDir } from "./layout.js";
import { type DeploymentCommit, mayName, trailersFor } from "./deployment-steps.js";
import type { ObjectStore } from "./store.js";
import { clusterNames } from "./trees.js";

export interface DeploymentLogOptions {
  /** The commit to start from (the branch head); null: an empty repository. */
  head: string | null;
  namespace: string;
  name: string;
  /** Most commits to return. Default: no bound. */
  limit?: number;
}

export interface DeploymentLog {
  /** Newest first. */
  commits: DeploymentCommit[];
  /** Commits read, matching or not. */
  scanned: number;
}

/** The clusters whose folder of the deployment differs between two root trees (null: no tree), sorted. */
export async function changedClusters(store: ObjectStore, from: string | null, to: string, namespace: string, name: string): Promise<string[]> {
  const clusters = [...new Set([...(await clusterNames(store, from)), ...(await clusterNames(store, to))])].sort();
  const entry = async (tree: string | null, path: string) => (tree ? (await store.entryAt(tree, path))?.oid : undefined);
  const out: string[] = [];
  for (const cluster of clusters) {
    const path = deploymentDir(cluster, namespace, name);
    if ((await entry(from, path)) !== (await entry(to, path))) out.push(cluster);
  }
  return out;
}

/** The deployment's commits, newest first (see the module comment). */
export async function readDeploymentLog(store: ObjectStore, options: DeploymentLogOptions): Promise<DeploymentLog> {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const { namespace, name } = options;
  const commits: DeploymentCommit[] = [];
  let scanned = 0;
  for (let oid = options.head; oid && commits.length < limit; ) {
    const c = await store.readCommit(oid);
    scanned++;
    if (mayName(c.message, namespace, name) && trailersFor(c.message, namespace, name)) {
      const parent = c.parent[0];
      const parentTree = parent ? (await store.readCommit(parent)).tree : null;
      commits.push({
        oid,
        time: new Date(c.committer.timestamp * 1000),
        message: c.message,
        clusters: await changedClusters(store, parentTree, c.tree, namespace, name),
      });
    }
    oid = c.parent[0] ?? null;
  }
  return { commits, scanned };
}
