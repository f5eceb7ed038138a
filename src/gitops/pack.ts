// Housekeeping: every commit adds a handful of loose objects (one file each). Past a threshold
// they are packed into one packfile with an index, then the loose copies are deleted, keeping
// the repository small and readable by stock git. Never deletes a loose object before the pack
// holding it is indexed, and never prunes unreachable objects (old commits stay readable).

import fs from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import * as git from "isomorphic-git";
import { GitError } from "../api/errors.js";
import type { ObjectStore } from "./store.js";

const FANOUT = /^[0-9a-f]{2}$/;
const REST = /^[0-9a-f]{38}$/;

/** Oids of all loose objects of a repository (reads the 256 fan-out folders). */
export async function listLooseObjects(gitdir: string): Promise<string[]> {
  const objects = join(gitdir, "objects");
  const oids: string[] = [];
  for (const dir of (await readdir(objects)).filter((d) => FANOUT.test(d)).sort()) {
    for (const rest of (await readdir(join(objects, dir)).catch(() => [] as string[])).sort()) {
      if (REST.test(rest)) oids.push(dir + rest);
    }
  }
  return oids;
}

export interface PackResult {
  /** Loose objects moved into the new pack (0 when nothing was done). */
  packed: number;
  /** File name of the new pack under `objects/pack/`, when one was written. */
  pack?: string;
}

/** Pack every loose object into a new packfile (+ index), then delete the loose copies. */
export async function packLooseObjects(store: ObjectStore): Promise<PackResult> {
  const gitdir = store.gitdir;
  try {
    const oids = await listLooseObjects(gitdir);
    if (oids.length === 0) return { packed: 0 };
    const { filename } = await git.packObjects({ fs, gitdir, oids, write: true, cache: store.cache });
    await git.indexPack({ fs, dir: gitdir, gitdir, filepath: `objects/pack/${filename}`, cache: store.cache });
    for (const oid of oids) await rm(join(gitdir, "objects", oid.slice(0, 2), oid.slice(2)), { force: true });
    store.looseWrites = 0;
    return { packed: oids.length, pack: filename };
  } catch (err) {
    throw new GitError(`packing loose objects in ${gitdir} failed: ${(err as Error).message}`, { cause: err });
  }
}
