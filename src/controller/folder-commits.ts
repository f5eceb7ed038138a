// Which commit a cluster must have synced to show a deployment as it is now: the last commit that
// changed the deployment's folder for that cluster, not the deployment's newest commit. A commit
// that changes only another cluster's folder (the next wave, a hand-over to the autoscaler) must
// not make this cluster look behind until it syncs a commit that brings it nothing: no event tells
// the deployment when that sync happens, so its status waited for the next periodic look.

/** Per cluster: a hash of the deployment's folder there and the commit that last changed it. */
type Folders = ReadonlyMap<string, { hash: string; commit: string }>;

export class FolderCommits {
  private readonly byDeployment = new Map<string, Folders>();

  /**
   * The deployment's folders are in Git at `commit` with these hashes: a folder whose hash did not
   * change keeps the commit that last changed it; clusters no longer listed are forgotten.
   */
  record(deployment: string, hashes: ReadonlyArray<readonly [cluster: string, hash: string]>, commit: string): void {
    const before = this.byDeployment.get(deployment);
    const now = new Map<string, { hash: string; commit: string }>();
    for (const [cluster, hash] of hashes) {
      const kept = before?.get(cluster);
      now.set(cluster, kept?.hash === hash ? kept : { hash, commit });
    }
    this.byDeployment.set(deployment, now);
  }

  /**
   * The commit `cluster` must have synced for the deployment, given its newest commit `commit`.
   * Nothing newer than `commit` is ever asked for (`order` ranks commits, older lower); without a
   * record (e.g. just after a restart) it is `commit` itself.
   */
  required(deployment: string, cluster: string, commit: string | undefined, order: (commit: string) => number): string | undefined {
    const last = this.byDeployment.get(deployment)?.get(cluster)?.commit;
    return last !== undefined && commit !== undefined && order(last) <= order(commit) ? last : commit;
  }

  forget(deployment: string): void {
    this.byDeployment.delete(deployment);
  }

  clear(): void {
    this.byDeployment.clear();
  }
}
