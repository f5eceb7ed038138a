// Quick ancestry checks on the commit graph, read through the ObjectStore's commit cache. The
// library's own checks walk the whole history whenever the answer is near: its merge base of a
// commit and its parent walks every ancestor of the parent, so an agent's fetch of one new commit
// read every commit the repository has (hundreds of reads per fetch, each a few file-system calls).
// Commits are read with the caller's reader: the ObjectStore, whose commit cache makes a walk
// over recent history a few map lookups.

/**
 * Commits a quick walk reads before it gives up. A fetch brings the commits of a few seconds; a
 * commit further back than this is answered by the library's full walk instead.
 */
export const QUICK_WALK_COMMITS = 1_000;

/**
 * Whether `ancestor` is `descendant` or one of its ancestors, by a walk back from `descendant`:
 * true when found, false when the walk read all of `descendant`'s history without finding it,
 * undefined when it gave up after `limit` commits (the caller asks the library).
 */
export async function reaches(
  read: { readCommit(oid: string): Promise<{ parent: readonly string[] }> },
  descendant: string,
  ancestor: string,
  limit = QUICK_WALK_COMMITS,
): Promise<boolean | undefined> {
  if (descendant === ancestor) return true;
  const seen = new Set([descendant]);
  const queue = [descendant];
  for (let at = 0; at < queue.length; at++) {
    if (at >= limit) return undefined;
    for (const parent of (await read.readCommit(queue[at] as string)).parent) {
      if (parent === ancestor) return true;
      if (!seen.has(parent)) {
        seen.add(parent);
        queue.push(parent);
      }
    }
  }
  return false;
}
