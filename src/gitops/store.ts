// Object access for one bare repository: blobs, trees and commits through isomorphic-git with a
// shared `cache`, plus an in-memory map of tree entries by oid (trees are immutable, so the map
// never needs invalidation). Never touches a working directory or the index.

import { createHash } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import * as git from "isomorphic-git";
import { GitError } from "../api/errors.js";
import { gitFs } from "./git-fs.js";
import { LooseWriter, serializeTree } from "./loose.js";

export type TreeEntry = git.TreeEntry;
export type CommitObject = git.CommitObject;

export const EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const OID = /^[0-9a-f]{40}$/;

export interface ObjectStoreOptions {
  /** The bare repository (git directory). */
  gitdir: string;
  /** Upper bound on tree entries kept in memory across all cached trees. Default: 200,000. */
  treeCacheEntries?: number;
}

/** The oid Git gives a blob with this content; lets us skip writing blobs that did not change. */
export function blobOid(content: Uint8Array): string {
  return createHash("sha1").update(`blob ${content.byteLength}\0`).update(content).digest("hex");
}

export function isOid(value: string): boolean {
  return OID.test(value);
}

export class ObjectStore {
  readonly gitdir: string;
  /** isomorphic-git's cache object: keeps parsed pack indexes (and pack contents) between calls. */
  cache: object = {};
  /** Loose objects written by this process since the last pack (an estimate for `maybePack`). */
  looseWrites = 0;
  private readonly trees = new Map<string, readonly TreeEntry[]>();
  private readonly commits = new Map<string, CommitObject>();
  private cachedEntries = 0;
  private readonly maxEntries: number;
  private readonly loose: LooseWriter;
  private readonly refFolders = new Set<string>();

  constructor(options: ObjectStoreOptions) {
    this.gitdir = options.gitdir;
    this.maxEntries = options.treeCacheEntries ?? 200_000;
    this.loose = new LooseWriter(options.gitdir);
  }

  /** Start a new library cache: after packs were merged, the old ones' indexes and contents are dead weight. */
  resetCache(): void {
    this.cache = {};
  }

  /**
   * Let go of what the library cached for packs merged away (`pack-<sha>` names): their indexes
   * and contents would otherwise stay in memory for good. The other packs stay cached; starting a
   * new cache instead made the first reads after every merge load and parse every pack again
   * (seconds at N = 1,000). The library keeps its packs in a Map, under a symbol of the cache
   * object, keyed by the .idx path.
   */
  forgetPacks(names: Iterable<string>): void {
    const gone = new Set([...names].map((n) => `${n}.idx`));
    if (gone.size === 0) return;
    const cache = this.cache as Record<symbol, unknown>;
    for (const key of Object.getOwnPropertySymbols(cache)) {
      const packs = cache[key];
      if (!(packs instanceof Map)) continue;
      for (const path of [...packs.keys()]) {
        if (typeof path === "string" && gone.has(path.slice(path.lastIndexOf("/") + 1))) packs.delete(path);
      }
    }
  }

  /** Whether the object is in the repository (loose or packed). */
  async has(oid: string): Promise<boolean> {
    try {
      await git.readObject({ fs: gitFs, gitdir: this.gitdir, oid, format: "deflated", cache: this.cache });
      return true;
    } catch (err) {
      if (err instanceof git.Errors.NotFoundError) return false;
      throw err;
    }
  }

  async readTree(oid: string): Promise<readonly TreeEntry[]> {
    const hit = this.trees.get(oid);
    if (hit) {
      // Refresh recency: Map iteration order is insertion order, so re-inserting makes it newest.
      this.trees.delete(oid);
      this.trees.set(oid, hit);
      return hit;
    }
    if (oid === EMPTY_TREE) return [];
    const { tree } = await this.wrap(`read tree ${oid}`, () => git.readTree({ fs: gitFs, gitdir: this.gitdir, oid, cache: this.cache }));
    this.remember(oid, tree);
    return tree;
  }

  async writeTree(entries: readonly TreeEntry[]): Promise<string> {
    const tree = entries.map((e) => ({ ...e }));
    const oid = await this.wrap("write tree", () => this.loose.write("tree", serializeTree(tree)));
    this.looseWrites++;
    this.remember(oid, tree);
    return oid;
  }

  async writeBlob(content: Uint8Array): Promise<string> {
    const oid = await this.wrap("write blob", () => this.loose.write("blob", content));
    this.looseWrites++;
    return oid;
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    const { blob } = await this.wrap(`read blob ${oid}`, () => git.readBlob({ fs: gitFs, gitdir: this.gitdir, oid, cache: this.cache }));
    return blob;
  }

  async readCommit(oid: string): Promise<CommitObject> {
    const hit = this.commits.get(oid);
    if (hit) return hit;
    const { commit } = await this.wrap(`read commit ${oid}`, () => git.readCommit({ fs: gitFs, gitdir: this.gitdir, oid, cache: this.cache }));
    if (this.commits.size > 10_000) this.commits.clear();
    this.commits.set(oid, commit);
    return commit;
  }

  async writeCommit(commit: CommitObject): Promise<string> {
    const oid = await this.wrap("write commit", () => git.writeCommit({ fs: gitFs, gitdir: this.gitdir, commit }));
    this.looseWrites++;
    this.commits.set(oid, commit);
    return oid;
  }

  /** The entry at a slash-separated path below a tree, reading only the trees along the path. */
  async entryAt(treeOid: string, path: string): Promise<TreeEntry | undefined> {
    let entry: TreeEntry | undefined = { mode: "040000", path: "", oid: treeOid, type: "tree" };
    for (const segment of path.split("/")) {
      if (entry?.type !== "tree") return undefined;
      entry = (await this.readTree(entry.oid)).find((e) => e.path === segment);
    }
    return entry;
  }

  /** A full ref (`refs/heads/main`) or null when it does not exist yet. */
  async readRef(ref: string): Promise<string | null> {
    try {
      return await git.resolveRef({ fs: gitFs, gitdir: this.gitdir, ref });
    } catch (err) {
      if ((err as { code?: string }).code === "NotFoundError") return null;
      throw new GitError(`reading ${ref} in ${this.gitdir} failed`, { cause: err });
    }
  }

  /**
   * Point a ref at a commit. Written to a temporary file and renamed, like stock git's
   * `<ref>.lock`, so a crash never leaves a half-written ref behind.
   */
  async writeRef(ref: string, oid: string): Promise<void> {
    const target = join(this.gitdir, ref);
    const tmp = `${target}.lock`;
    try {
      if (!this.refFolders.has(dirname(target))) {
        await mkdir(dirname(target), { recursive: true });
        this.refFolders.add(dirname(target));
      }
      await writeFile(tmp, `${oid}\n`);
      await rename(tmp, target);
    } catch (err) {
      throw new GitError(`updating ${ref} in ${this.gitdir} failed`, { cause: err });
    }
  }

  private remember(oid: string, tree: readonly TreeEntry[]): void {
    this.trees.set(oid, tree);
    this.cachedEntries += tree.length + 1;
    for (const [old, entries] of this.trees) {
      if (this.cachedEntries <= this.maxEntries) break;
      this.trees.delete(old);
      this.cachedEntries -= entries.length + 1;
    }
  }

  private async wrap<T>(what: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (first) {
      let err = first;
      // A pack merged away while this read looked through the packs (its index listed, then gone):
      // once more with a fresh cache, which sees the merged pack instead.
      if (first instanceof git.Errors.InternalError) {
        this.resetCache();
        try {
          return await op();
        } catch (again) {
          err = again;
        }
      }
      throw new GitError(`${what} in ${this.gitdir} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
