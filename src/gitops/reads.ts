// Reads by commit for the sync loop: a cluster's files at a commit, and what changed in a cluster
// between two commits. Diffs compare tree oids and descend only into subtrees that differ.

import { clusterDir } from "./layout.js";
import type { ObjectStore, TreeEntry } from "./store.js";

/** Paths (full repository paths, sorted) that differ between two commits of one cluster. */
export interface ClusterDiff {
  added: string[];
  modified: string[];
  removed: string[];
}

const decoder = new TextDecoder();

async function collectBlobs(store: ObjectStore, treeOid: string, prefix: string, out: Map<string, string>): Promise<void> {
  for (const e of await store.readTree(treeOid)) {
    const path = `${prefix}/${e.path}`;
    if (e.type === "tree") await collectBlobs(store, e.oid, path, out);
    else if (e.type === "blob") out.set(path, decoder.decode(await store.readBlob(e.oid)));
  }
}

async function collectBlobOids(store: ObjectStore, treeOid: string, prefix: string, out: Map<string, string>): Promise<void> {
  for (const e of await store.readTree(treeOid)) {
    const path = `${prefix}/${e.path}`;
    if (e.type === "tree") await collectBlobOids(store, e.oid, path, out);
    else if (e.type === "blob") out.set(path, e.oid);
  }
}

/** Path → blob oid of every file under a folder of a root tree (trees only: no blob is read). */
export async function listFolder(store: ObjectStore, rootTree: string, path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const tree = await folderTree(store, rootTree, path);
  if (tree) await collectBlobOids(store, tree, path, out);
  return out;
}

/** The text of one blob. */
export async function readText(store: ObjectStore, oid: string): Promise<string> {
  return decoder.decode(await store.readBlob(oid));
}

/** The tree of `clusters/<cluster>` (or a folder below it) in a root tree, or null. */
export async function folderTree(store: ObjectStore, rootTree: string, path: string): Promise<string | null> {
  const entry = await store.entryAt(rootTree, path);
  return entry?.type === "tree" ? entry.oid : null;
}

/** All files under a folder of a root tree, by full repository path, in path order. */
export async function readFolder(store: ObjectStore, rootTree: string, path: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const tree = await folderTree(store, rootTree, path);
  if (tree) await collectBlobs(store, tree, path, out);
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

async function diffTrees(store: ObjectStore, from: string | null, to: string | null, prefix: string, out: ClusterDiff): Promise<void> {
  if (from === to) return;
  const a = new Map<string, TreeEntry>();
  const b = new Map<string, TreeEntry>();
  if (from) for (const e of await store.readTree(from)) a.set(e.path, e);
  if (to) for (const e of await store.readTree(to)) b.set(e.path, e);
  for (const name of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(name);
    const y = b.get(name);
    if (x && y && x.oid === y.oid && x.mode === y.mode) continue;
    const path = `${prefix}/${name}`;
    const xTree = x?.type === "tree" ? x.oid : null;
    const yTree = y?.type === "tree" ? y.oid : null;
    if (xTree || yTree) await diffTrees(store, xTree, yTree, path, out);
    const xBlob = x?.type === "blob";
    const yBlob = y?.type === "blob";
    if (xBlob && yBlob) out.modified.push(path);
    else if (xBlob) out.removed.push(path);
    else if (yBlob) out.added.push(path);
  }
}

/** What changed in one cluster's folder between two root trees (`from` null: everything is added). */
export async function diffFolder(store: ObjectStore, fromRoot: string | null, toRoot: string, cluster: string): Promise<ClusterDiff> {
  const path = clusterDir(cluster);
  const from = fromRoot ? await folderTree(store, fromRoot, path) : null;
  const to = await folderTree(store, toRoot, path);
  const out: ClusterDiff = { added: [], modified: [], removed: [] };
  await diffTrees(store, from, to, path, out);
  for (const list of [out.added, out.modified, out.removed]) list.sort();
  return out;
}
