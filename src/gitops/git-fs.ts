// The file system handed to isomorphic-git. The library wraps what it is given on every call: it
// probes whether the object is promise-based by calling readFile() with no path (twice), which
// Node answers with a freshly built argument error, and it stats the git directory again to find
// out that it is one. In an agent merging packs that read thousands of objects one call each, the
// probes and stats were a fifth of its CPU. This object answers the probe with a rejection made
// without a system call or a new error, and the stat of a repository directory from memory
// (a directory stays one). Everything else is node:fs as is.

import fs, { type Stats } from "node:fs";

const PROBE_ANSWER = new Error("isomorphic-git probes readFile() without a path");

/** Directories stat'ed as directories: the git directories the library checks before every call. */
const directories = new Map<string, Stats>();

function readFile(...args: Parameters<typeof fs.promises.readFile>): ReturnType<typeof fs.promises.readFile> {
  if (args[0] === undefined) return Promise.reject(PROBE_ANSWER);
  return fs.promises.readFile(...args);
}

async function stat(path: fs.PathLike, options?: fs.StatOptions): Promise<Stats> {
  const key = typeof path === "string" && !options ? path : undefined;
  const known = key === undefined ? undefined : directories.get(key);
  if (known) return known;
  const stats = (await fs.promises.stat(path, options)) as Stats;
  if (key !== undefined && stats.isDirectory() && key.endsWith(".git")) directories.set(key, stats);
  return stats;
}

/** node:fs for isomorphic-git calls (`{ fs: gitFs, gitdir, … }`). */
export const gitFs = { promises: { ...fs.promises, readFile, stat } };
