// The desired states a sync worker still needs, loaded once per commit: the commit asked for and
// the one applied (the prune baseline after a restart). It only caches what its source returns;
// it never reads Git itself nor keeps a commit nobody can ask for again.

import type { DesiredState } from "./types.js";

/** Reads the desired objects of the cluster at a commit (the env-repo adapter in production). */
export type DesiredSource = (commit: string) => Promise<DesiredState>;

export interface DesiredCacheOptions {
  source: DesiredSource;
  /**
   * The commits that can still matter (undefined entries are ignored), read when a commit has just
   * been loaded: every other one is dropped then. The worker's desired and applied commits.
   */
  keep: () => Iterable<string | undefined>;
}

export class DesiredCache {
  private readonly entries = new Map<string, DesiredState>();

  constructor(private readonly o: DesiredCacheOptions) {}

  /** The desired state at a commit, from the cache or else from the source. */
  async load(commit: string): Promise<DesiredState> {
    const cached = this.entries.get(commit);
    if (cached) return cached;
    const desired = await this.o.source(commit);
    // Read after the load: a newer commit may have been asked for meanwhile.
    const keep = new Set(this.o.keep());
    for (const key of this.entries.keys()) if (!keep.has(key)) this.entries.delete(key);
    this.entries.set(commit, desired);
    return desired;
  }
}
