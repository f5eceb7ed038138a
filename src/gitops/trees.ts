// Incremental tree building: a commit reads only the trees along the edited paths
// (root → clusters → <cluster> → <namespace> → <deployment>) and writes new objects only where
// something changed, so its cost follows the size of the change, never the size of the repository.

import { CLUSTERS_DIR, deploymentDir, parseManifestFileName } from "./layout.js";
import { blobOid, type ObjectStore, type TreeEntry } from "./store.js";

/** The new state of one path given its current entry: an entry, or null for "absent". */
export type LeafEdit = (old: TreeEntry | undefined) => Promise<Omit<TreeEntry, "path"> | null>;

function sameEntry(a: TreeEntry | undefined, b: Omit<TreeEntry, "path"> | null): boolean {
  if (!a || !b) return !a && !b;
  return a.oid === b.oid && a.mode === b.mode;
}

/**
 * Apply edits keyed by slash-separated paths relative to `treeOid` (null: no tree yet).
 * Returns the new tree oid, the same oid when nothing changed, or null when the tree became
 * empty (Git has no empty folders, so empty parents disappear too).
 */
export async function editTree(store: ObjectStore, treeOid: string | null, edits: ReadonlyMap<string, LeafEdit>): Promise<string | null> {
  const byName = new Map<string, TreeEntry>();
  if (treeOid) for (const e of await store.readTree(treeOid)) byName.set(e.path, e);
  const leaves = new Map<string, LeafEdit>();
  const groups = new Map<string, Map<string, LeafEdit>>();
  for (const [path, edit] of edits) {
    const slash = path.indexOf("/");
    if (slash < 0) {
      leaves.set(path, edit);
      continue;
    }
    const head = path.slice(0, slash);
    const group = groups.get(head) ?? new Map<string, LeafEdit>();
    groups.set(head, group);
    group.set(path.slice(slash + 1), edit);
  }
  let changed = false;
  for (const [name, edit] of leaves) {
    const old = byName.get(name);
    const next = await edit(old);
    if (sameEntry(old, next)) continue;
    changed = true;
    if (next) byName.set(name, { ...next, path: name });
    else byName.delete(name);
  }
  for (const [name, group] of groups) {
    const old = byName.get(name);
    const oldOid = old?.type === "tree" ? old.oid : null;
    const next = await editTree(store, oldOid, group);
    if (next === oldOid) continue;
    changed = true;
    if (next) byName.set(name, { mode: "040000", path: name, oid: next, type: "tree" });
    else byName.delete(name);
  }
  if (!changed) return treeOid;
  if (byName.size === 0) return null;
  return store.writeTree([...byName.values()]);
}

/**
 * An edit that makes a deployment folder contain exactly `files` (file name → YAML). Blobs are
 * hashed first and written only when new to this folder; an identical folder keeps its tree oid.
 */
export function replaceFolder(store: ObjectStore, files: Readonly<Record<string, string>>): LeafEdit {
  const names = Object.keys(files).sort();
  for (const name of names) parseManifestFileName(name); // refuse unsafe names before any write
  return async (old) => {
    if (names.length === 0) return null;
    const oldEntries = old?.type === "tree" ? await store.readTree(old.oid) : [];
    const oldOids = new Map(oldEntries.map((e) => [e.path, e.oid]));
    let changed = oldEntries.length !== names.length;
    const writes: Promise<string>[] = [];
    const entries: TreeEntry[] = names.map((name) => {
      const bytes = Buffer.from(files[name] as string, "utf8");
      const oid = blobOid(bytes);
      if (oldOids.get(name) !== oid) {
        changed = true;
        writes.push(store.writeBlob(bytes)); // independent files: write them concurrently
      }
      return { mode: "100644", path: name, oid, type: "blob" };
    });
    await Promise.all(writes);
    if (!changed && old) return old;
    return { mode: "040000", oid: await store.writeTree(entries), type: "tree" };
  };
}

/** An edit that removes whatever is at the path. */
export const removeEntry: LeafEdit = async () => null;

/** The names of the cluster folders in a root tree. */
export async function clusterNames(store: ObjectStore, rootTree: string | null): Promise<string[]> {
  if (!rootTree) return [];
  const clusters = await store.entryAt(rootTree, CLUSTERS_DIR);
  if (clusters?.type !== "tree") return [];
  return (await store.readTree(clusters.oid)).filter((e) => e.type === "tree").map((e) => e.path);
}

/** The new state of one deployment in every cluster: folder contents by cluster; absent = removed. */
export interface DeploymentFolders {
  namespace: string;
  name: string;
  clusters: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * Edits that give each deployment exactly the listed cluster folders and remove its folder from
 * every other cluster present in `rootTree` (placement moved away, or deletion when none listed).
 */
export async function deploymentEdits(store: ObjectStore, rootTree: string | null, deployments: readonly DeploymentFolders[]): Promise<Map<string, LeafEdit>> {
  const existing = await clusterNames(store, rootTree);
  const edits = new Map<string, LeafEdit>();
  for (const d of deployments) {
    for (const cluster of Object.keys(d.clusters).sort()) {
      edits.set(deploymentDir(cluster, d.namespace, d.name), replaceFolder(store, d.clusters[cluster] ?? {}));
    }
    for (const cluster of existing) {
      if (!(cluster in d.clusters)) edits.set(deploymentDir(cluster, d.namespace, d.name), removeEntry);
    }
  }
  return edits;
}

/**
 * Edits that copy the named deployments' folders, in every cluster, from `sourceTree` onto
 * another tree. This is how a commit made on an old head is re-applied on a new one: a
 * deployment's folders have exactly one writer, so its state in our commit is the state we want.
 */
export async function transplantEdits(
  store: ObjectStore,
  sourceTree: string,
  targetTree: string | null,
  deployments: readonly { namespace: string; name: string }[],
): Promise<Map<string, LeafEdit>> {
  const clusters = new Set([...(await clusterNames(store, sourceTree)), ...(await clusterNames(store, targetTree))]);
  const edits = new Map<string, LeafEdit>();
  for (const d of deployments) {
    for (const cluster of [...clusters].sort()) {
      const path = deploymentDir(cluster, d.namespace, d.name);
      edits.set(path, async () => {
        const entry = await store.entryAt(sourceTree, path);
        return entry ? { mode: entry.mode, oid: entry.oid, type: entry.type } : null;
      });
    }
  }
  return edits;
}
