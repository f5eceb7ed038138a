// The environment repository: where rendered manifests are committed and where each cluster's
// sync loop reads them. A bare repository under a data directory, optionally mirrored to a remote.
// Commits are built from trees directly (no working directory, no index, no status walk) and
// serialized by one in-process lock.

import { mkdir, rm } from "node:fs/promises";
import * as git from "isomorphic-git";
import { GitError } from "../api/errors.js";
import { reaches } from "./ancestry.js";
import { gitFs } from "./git-fs.js";
import { type DeploymentTrailers, formatCommitMessage, parseCommitMessage } from "./commit-message.js";
import { clusterDir, deploymentDir, validateClusterName, validateDeploymentName, validateNamespace } from "./layout.js";
import { WriteLock } from "./lock.js";
import { listLooseObjects, mergePacks, type PackResult, packLooseObjects, removePacks } from "./pack.js";
import { type ClusterDiff, diffFolder, listFolder, readFolder, readText } from "./reads.js";
import { displayUrl, RemoteSession, type RemoteOptions } from "./remote.js";
import { EMPTY_TREE, isOid, ObjectStore } from "./store.js";
import { clusterNames, deploymentEdits, editTree, type LeafEdit, transplantEdits } from "./trees.js";

/** The new rendered state of one ApplicationDeployment. */
export interface DeploymentChange {
  namespace: string;
  name: string;
  /**
   * Cluster name → (file name → YAML). Each listed cluster's folder for this deployment becomes
   * exactly these files; the deployment's folder in every other cluster is removed.
   * `{}` removes the deployment everywhere.
   */
  clusters: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** `metadata.generation` the files were rendered from (trailer `Flotilla-Generation`). */
  generation?: number;
  /** Target revision (trailer `Flotilla-Revision`). */
  revision?: string;
  /** The rollout's wave at this step (trailer `Flotilla-Wave`). */
  wave?: string;
  /** The batch of that wave and how many it has (trailer `Flotilla-Batch`). */
  batch?: { batch: number; batches: number };
  /** What happened to this deployment, when several are batched; default: the commit summary. */
  summary?: string;
  /** The GitSource commit the deployment's spec came from (trailer `Flotilla-Source-Commit`). */
  sourceCommit?: string;
}

export interface Signature {
  name: string;
  email: string;
}

export interface CommitOptions {
  /** Author and committer. Default: the repository's `author` option. */
  author?: Signature;
}

/** Where a commit is: only here (embedded), on the remote, or waiting for the remote to be reachable. */
export type CommitState = "local" | "pushed" | "queued";

export interface CommitResult {
  /** The branch head after the commit (after any re-application on a newer remote head). */
  oid: string;
  state: CommitState;
  /** When queued: why the push did not happen (a retryable GitError). */
  error?: GitError;
  /**
   * `<namespace>/<name>` of the changes that moved something, in the order given. A batch may
   * hold changes that match what Git has already; those are left out of the commit's message
   * and of this list.
   */
  changed: string[];
}

export interface LogEntry {
  oid: string;
  parents: string[];
  subject: string;
  message: string;
  deployments: DeploymentTrailers[];
  /** Committer time. */
  time: Date;
}

export interface SyncResult {
  head: string | null;
  state: CommitState;
  error?: GitError;
}

export interface EnvRepoOptions {
  /** The bare repository directory; created (with its parents) when missing. */
  dir: string;
  /** Local branch. Default: `remote.branch`, else `main`. */
  branch?: string;
  /** Mirror to a remote repository; default none (embedded only). */
  remote?: RemoteOptions;
  /** Author and committer of commits. Default: `Flotilla <flotilla@localhost>`. */
  author?: Signature;
  /** Clock for commit times. Default: `() => new Date()`. */
  clock?: () => Date;
  /** Pack loose objects automatically after a commit once this many piled up; 0 disables. Default: 2,000. */
  packThreshold?: number;
  /**
   * Merge packs once there are more than this many (a fetch leaves one each time; reads slow down
   * with every pack); 0 disables. Default: 16.
   */
  maxPacks?: number;
  /** How long the data of packs replaced by a merge stays on disk, ms (a read may have found them just before). Default: 60,000. */
  retiredPackGraceMs?: number;
  /** Tree entries kept in memory to avoid re-reading trees. Default: 200,000. */
  treeCacheEntries?: number;
}

const DEFAULT_MAX_PACKS = 16;
/** How long a pack replaced by a merge stays on disk: far longer than any read that found it. */
const DEFAULT_RETIRED_PACK_GRACE_MS = 60_000;
const DEFAULT_AUTHOR: Signature = { name: "Flotilla", email: "flotilla@localhost" };

export class EnvRepo {
  readonly dir: string;
  readonly branch: string;
  private readonly store: ObjectStore;
  private readonly lock = new WriteLock();
  private readonly remote: RemoteSession | undefined;
  private readonly author: Signature;
  private readonly clock: () => Date;
  private readonly packThreshold: number;
  private readonly maxPacks: number;
  private readonly retiredPackGraceMs: number;

  private constructor(options: EnvRepoOptions, store: ObjectStore) {
    this.dir = options.dir;
    this.branch = options.branch ?? options.remote?.branch ?? "main";
    this.store = store;
    this.remote = options.remote ? new RemoteSession(store, { ...options.remote, branch: options.remote.branch ?? this.branch }) : undefined;
    this.author = options.author ?? DEFAULT_AUTHOR;
    this.clock = options.clock ?? (() => new Date());
    this.packThreshold = options.packThreshold ?? 2000;
    this.maxPacks = options.maxPacks ?? DEFAULT_MAX_PACKS;
    this.retiredPackGraceMs = options.retiredPackGraceMs ?? DEFAULT_RETIRED_PACK_GRACE_MS;
  }

  /**
   * Open (or create) the repository. In remote mode the remote is fetched once; an unreachable
   * remote is not an error (commits queue locally), refused credentials are.
   */
  static async open(options: EnvRepoOptions): Promise<EnvRepo> {
    const store = new ObjectStore({
      gitdir: options.dir,
      ...(options.treeCacheEntries === undefined ? {} : { treeCacheEntries: options.treeCacheEntries }),
    });
    const repo = new EnvRepo(options, store);
    try {
      await mkdir(options.dir, { recursive: true });
      await git.init({ fs: gitFs, bare: true, dir: options.dir, defaultBranch: repo.branch });
    } catch (err) {
      throw new GitError(`creating the environment repository in ${options.dir} failed`, { cause: err });
    }
    store.looseWrites = (await listLooseObjects(options.dir)).length;
    if (repo.remote) {
      await repo.remote.configure();
      const result = await repo.sync();
      if (result.error && !result.error.retryable) throw result.error;
      // An empty local repository (a new Pod, a fresh emptyDir) cannot know the remote's history
      // while the remote is down: committing now would start a second history that can never be
      // pushed. Wait for the remote instead; a non-empty one keeps working and pushes later.
      if (result.error && result.head === null) {
        throw new GitError(
          `the local environment repository ${options.dir} is empty and ${displayUrl(repo.remote.url)} cannot be reached, so its history is unknown; starting only once the remote answers (${result.error.message})`,
          { retryable: true, cause: result.error },
        );
      }
    }
    return repo;
  }

  private get branchRef(): string {
    return `refs/heads/${this.branch}`;
  }

  /** The current commit of the branch, or null in a repository without commits. */
  head(): Promise<string | null> {
    return this.store.readRef(this.branchRef);
  }

  /**
   * Commit the new state of one or more deployments as ONE commit, or return null when the tree
   * would not change. In remote mode: fetch first, commit on top of the remote head, push; when
   * the remote moved meanwhile, re-apply on the new head (bounded retries); when unreachable, the
   * commit stays local (`state: "queued"`) for a later {@link sync}.
   */
  async commitDeployments(changes: readonly DeploymentChange[], message: string, options: CommitOptions = {}): Promise<CommitResult | null> {
    const seen = new Set<string>();
    for (const c of changes) {
      validateNamespace(c.namespace);
      validateDeploymentName(c.name);
      for (const cluster of Object.keys(c.clusters)) validateClusterName(cluster);
      const key = `${c.namespace}/${c.name}`;
      if (seen.has(key)) throw new GitError(`${key} appears twice in one commit; merge the changes first`);
      seen.add(key);
    }
    return this.lock.run(async () => {
      let offline: GitError | undefined;
      if (this.remote) {
        const synced = await this.integrateRemote();
        offline = synced.error;
      }
      const before = await this.head();
      const made = await this.commitOn(before, changes, message, options.author ?? this.author);
      if (made === null) return null;
      const { oid, changed } = made;
      if (!this.remote) {
        await this.maybePackLocked();
        return { oid, state: "local", changed };
      }
      if (offline) return { oid, state: "queued", error: offline, changed };
      try {
        const pushed = await this.pushLocked();
        await this.maybePackLocked();
        return pushed.error
          ? { oid: pushed.head ?? oid, state: "queued", error: pushed.error, changed }
          : { oid: pushed.head ?? oid, state: "pushed", changed };
      } catch (err) {
        // Not a network problem (refused token, hook rejected ...): undo our commit so the
        // caller's retry recomputes it instead of finding "nothing changed".
        if (before) await this.store.writeRef(this.branchRef, before);
        else await rm(`${this.dir}/${this.branchRef}`, { force: true });
        throw err;
      }
    });
  }

  /** Fetch, re-apply local commits the remote does not have, push. Embedded mode: nothing to do. */
  sync(): Promise<SyncResult> {
    return this.lock.run(async () => {
      if (!this.remote) return { head: await this.head(), state: "local" as const };
      const fetched = await this.integrateRemote();
      if (fetched.error) return { head: await this.head(), state: "queued" as const, error: fetched.error };
      await this.mergePacksLocked();
      const pushed = await this.pushLocked();
      return pushed.error ? { head: pushed.head, state: "queued" as const, error: pushed.error } : { head: pushed.head, state: "pushed" as const };
    });
  }

  /** Is `ancestor` the commit `descendant` or one of its ancestors (both present locally)? */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    try {
      return (
        (await reaches(this.store, descendant, ancestor)) ??
        (await git.isDescendent({ fs: gitFs, gitdir: this.dir, oid: descendant, ancestor, depth: -1, cache: this.store.cache }))
      );
    } catch {
      return false; // not fetched yet
    }
  }

  /** Same as {@link sync}: send queued commits. */
  push(): Promise<SyncResult> {
    return this.sync();
  }

  /** Pack loose objects when at least `threshold` (default: the `packThreshold` option) piled up. */
  maybePack(threshold?: number): Promise<PackResult> {
    return this.lock.run(() => this.maybePackLocked(threshold));
  }

  /** Every file under `clusters/<cluster>/` at a commit (oid or ref), by full path, in path order. */
  async readCluster(cluster: string, commit: string): Promise<Map<string, string>> {
    const tree = await this.treeOf(commit);
    return readFolder(this.store, tree, clusterDir(cluster));
  }

  /**
   * The files of a cluster's folder at a commit as path → blob oid, without reading any file: a
   * reader that keeps what it parsed by oid reads only the files that changed.
   */
  async listCluster(cluster: string, commit: string): Promise<Map<string, string>> {
    return listFolder(this.store, await this.treeOf(commit), clusterDir(cluster));
  }

  /** The text of a file by its blob oid (from listCluster). */
  async readFile(oid: string): Promise<string> {
    return readText(this.store, oid);
  }

  /** The files of one deployment in one cluster at a commit, by full path. */
  async readDeployment(cluster: string, namespace: string, name: string, commit: string): Promise<Map<string, string>> {
    const tree = await this.treeOf(commit);
    return readFolder(this.store, tree, deploymentDir(cluster, namespace, name));
  }

  /** Paths added, modified and removed in a cluster's folder from one commit to another. */
  async diffCluster(cluster: string, fromCommit: string | null, toCommit: string): Promise<ClusterDiff> {
    const from = fromCommit ? await this.treeOf(fromCommit) : null;
    return diffFolder(this.store, from, await this.treeOf(toCommit), cluster);
  }

  /** The last `limit` commits of the branch, newest first (first-parent history). */
  async log(limit = 20): Promise<LogEntry[]> {
    const out: LogEntry[] = [];
    let oid = await this.head();
    while (oid && out.length < limit) {
      const c = await this.store.readCommit(oid);
      const parsed = parseCommitMessage(c.message);
      out.push({
        oid,
        parents: c.parent,
        subject: parsed.subject,
        message: c.message,
        deployments: parsed.deployments,
        time: new Date(c.committer.timestamp * 1000),
      });
      oid = c.parent[0] ?? null;
    }
    return out;
  }

  // ---------- internals (called with the lock held) ----------

  private async resolve(commit: string): Promise<string> {
    if (isOid(commit)) return commit;
    const ref = commit === "HEAD" ? this.branchRef : commit;
    const oid = await this.store.readRef(ref);
    if (!oid) throw new GitError(`${commit} does not name a commit in ${this.dir}`);
    return oid;
  }

  private async treeOf(commit: string): Promise<string> {
    return (await this.store.readCommit(await this.resolve(commit))).tree;
  }

  private signature(author: Signature) {
    return { ...author, timestamp: Math.floor(this.clock().getTime() / 1000), timezoneOffset: 0 };
  }

  /**
   * Build and record one commit of `changes` on `parent`, naming only the changes that moved
   * something; null when the tree does not change.
   */
  private async commitOn(
    parent: string | null,
    changes: readonly DeploymentChange[],
    message: string,
    author: Signature,
  ): Promise<{ oid: string; changed: string[] } | null> {
    const baseTree = parent ? (await this.store.readCommit(parent)).tree : null;
    const edits = await deploymentEdits(this.store, baseTree, changes);
    const tree = await this.newTree(baseTree, edits);
    if (tree === (baseTree ?? EMPTY_TREE)) return null;
    const moved = changes.length === 1 ? changes : await this.changesThatMoved(baseTree, tree, changes);
    const sig = this.signature(author);
    const oid = await this.store.writeCommit({
      message: formatCommitMessage(message, moved.map(trailersOf)),
      tree,
      parent: parent ? [parent] : [],
      author: sig,
      committer: sig,
    });
    await this.store.writeRef(this.branchRef, oid);
    return { oid, changed: moved.map((c) => `${c.namespace}/${c.name}`) };
  }

  /** The changes whose deployment folder differs, in some cluster, between two root trees. */
  private async changesThatMoved(from: string | null, to: string, changes: readonly DeploymentChange[]): Promise<DeploymentChange[]> {
    const clusters = [...new Set([...(await clusterNames(this.store, from)), ...(await clusterNames(this.store, to))])];
    const entry = async (tree: string | null, path: string) => (tree ? (await this.store.entryAt(tree, path))?.oid : undefined);
    const moved: DeploymentChange[] = [];
    for (const c of changes) {
      for (const cluster of clusters) {
        const path = deploymentDir(cluster, c.namespace, c.name);
        if ((await entry(from, path)) !== (await entry(to, path))) {
          moved.push(c);
          break;
        }
      }
    }
    return moved;
  }

  private async newTree(baseTree: string | null, edits: ReadonlyMap<string, LeafEdit>): Promise<string> {
    const tree = await editTree(this.store, baseTree, edits);
    if (tree !== null) return tree;
    // Everything was removed: Git still needs a (empty) root tree object.
    return this.store.writeTree([]);
  }

  /**
   * Fetch and put local commits the remote does not have on top of the remote head, by
   * transplanting the folders of the deployments named in each commit's trailers. Network
   * failures are returned (not thrown): the caller keeps working locally.
   */
  private async integrateRemote(): Promise<{ error?: GitError }> {
    const remote = this.remote;
    if (!remote) return {};
    let remoteHead: string | null;
    try {
      remoteHead = await remote.fetch();
    } catch (err) {
      if (err instanceof GitError && err.retryable) return { error: err };
      throw err;
    }
    await this.rebaseOnto(remoteHead);
    return {};
  }

  private async rebaseOnto(remoteHead: string | null): Promise<void> {
    const local = await this.head();
    if (!remoteHead || local === remoteHead) return;
    if (!local) {
      await this.store.writeRef(this.branchRef, remoteHead);
      return;
    }
    // The usual cases first, by a short walk: the remote moved on (an agent's every fetch), or
    // only we did (commits not pushed yet). The library's merge base walks all history for them.
    if (await reaches(this.store, remoteHead, local)) {
      await this.store.writeRef(this.branchRef, remoteHead);
      return;
    }
    if (await reaches(this.store, local, remoteHead)) return;
    const bases = await git.findMergeBase({ fs: gitFs, gitdir: this.dir, oids: [local, remoteHead], cache: this.store.cache });
    const base = bases[0] as string | undefined;
    if (base === local) {
      await this.store.writeRef(this.branchRef, remoteHead); // fast-forward
      return;
    }
    if (base === remoteHead) return; // we are ahead: just push
    if (!base) {
      throw new GitError(
        `the local environment repository ${this.dir} and ${remoteHead.slice(0, 12)} on the remote share no history; move the local directory aside to start from the remote`,
      );
    }
    // Our commits since the fork point, oldest first.
    const pending: string[] = [];
    for (let oid: string | undefined = local; oid && oid !== base; ) {
      pending.push(oid);
      oid = (await this.store.readCommit(oid)).parent[0];
    }
    pending.reverse();
    let head = remoteHead;
    for (const oid of pending) {
      const commit = await this.store.readCommit(oid);
      const headTree = (await this.store.readCommit(head)).tree;
      const { deployments } = parseCommitMessage(commit.message);
      const edits = await transplantEdits(this.store, commit.tree, headTree, deployments);
      const tree = await this.newTree(headTree, edits);
      if (tree === headTree) continue; // the remote already has this state
      head = await this.store.writeCommit({ ...commit, tree, parent: [head] });
    }
    await this.store.writeRef(this.branchRef, head);
  }

  /** Push with bounded re-application on non-fast-forward. Network failures are returned. */
  private async pushLocked(): Promise<{ head: string | null; error?: GitError }> {
    const remote = this.remote;
    if (!remote) return { head: await this.head() };
    for (let attempt = 1; ; attempt++) {
      const head = await this.head();
      if (!head || head === (await this.store.readRef(remote.trackingRef))) return { head };
      let outcome: "pushed" | "rejected";
      try {
        outcome = await remote.push(this.branchRef, head);
      } catch (err) {
        if (err instanceof GitError && err.retryable) return { head, error: err };
        throw err;
      }
      if (outcome === "pushed") return { head };
      if (attempt >= remote.maxPushAttempts) {
        return {
          head,
          error: new GitError(`push rejected ${attempt} times because the remote branch kept moving; the commit is queued for the next sync`, {
            retryable: true,
          }),
        };
      }
      const fetched = await this.integrateRemote();
      if (fetched.error) return { head: await this.head(), error: fetched.error };
    }
  }

  private async maybePackLocked(threshold = this.packThreshold): Promise<PackResult> {
    if (threshold <= 0 || this.store.looseWrites < threshold) return { packed: 0 };
    const result = await packLooseObjects(this.store);
    await this.mergePacksLocked();
    return result;
  }

  /**
   * Merge packs past `maxPacks` (each fetch and each housekeeping pass leaves one). Housekeeping:
   * a failure is left for the next pass, the commit or fetch that ran it stands.
   */
  private async mergePacksLocked(): Promise<void> {
    if (this.maxPacks <= 0) return;
    const result = await mergePacks(this.store, { maxPacks: this.maxPacks }).catch(() => undefined);
    if (!result?.merged) return;
    // Reads from here on find the merged pack; what the library keeps of the old ones is let go.
    this.store.forgetPacks(result.retired);
    const timer = setTimeout(() => void removePacks(this.dir, result.retired).catch(() => undefined), this.retiredPackGraceMs);
    timer.unref();
  }
}

function trailersOf(c: DeploymentChange): DeploymentTrailers {
  const t: DeploymentTrailers = { namespace: c.namespace, name: c.name };
  if (c.generation !== undefined) t.generation = c.generation;
  if (c.revision !== undefined) t.revision = c.revision;
  if (c.wave !== undefined) t.wave = c.wave;
  if (c.batch !== undefined) t.batch = c.batch;
  if (c.summary !== undefined) t.summary = c.summary;
  if (c.sourceCommit !== undefined) t.sourceCommit = c.sourceCommit;
  return t;
}
