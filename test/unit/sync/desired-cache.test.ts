import { describe, expect, it } from "vitest";
import { DesiredCache } from "../../../src/sync/desired-cache.js";
import type { DesiredState } from "../../../src/sync/types.js";

/** A cache over a source that counts its loads, keeping the commits `kept` names at each load. */
function cacheKeeping(kept: { applied?: string | undefined; desired?: string | undefined }) {
  const loads: string[] = [];
  const cache = new DesiredCache({
    source: async (commit): Promise<DesiredState> => {
      loads.push(commit);
      return { commit, objects: [] };
    },
    keep: () => [kept.applied, kept.desired],
  });
  return { cache, loads };
}

describe("DesiredCache", () => {
  it("loads a commit from the source once and serves the same state again", async () => {
    const { cache, loads } = cacheKeeping({ desired: "c1" });
    const first = await cache.load("c1");
    const second = await cache.load("c1");
    expect(loads).toEqual(["c1"]);
    expect(second).toBe(first);
  });

  it("keys states by the commit asked for, even when the source labels them otherwise", async () => {
    const states: Record<string, DesiredState> = { c1: { commit: "x", objects: [] }, c2: { commit: "x", objects: [] } };
    const cache = new DesiredCache({ source: async (commit) => states[commit]!, keep: () => ["c1", "c2"] });
    expect(await cache.load("c1")).toBe(states.c1);
    expect(await cache.load("c2")).toBe(states.c2);
  });

  it("keeps the applied and the desired commit, and drops the others when a commit is loaded", async () => {
    const kept: { applied?: string | undefined; desired?: string | undefined } = { applied: "c1", desired: "c2" };
    const { cache, loads } = cacheKeeping(kept);
    await cache.load("c1");
    await cache.load("c2");
    // c3 is asked for and c2 applied: c1 can no longer matter and goes when c3 is loaded.
    kept.applied = "c2";
    kept.desired = "c3";
    await cache.load("c3");
    await cache.load("c2");
    await cache.load("c3");
    expect(loads).toEqual(["c1", "c2", "c3"]);
    await cache.load("c1");
    expect(loads).toEqual(["c1", "c2", "c3", "c1"]);
  });

  it("drops nothing on a cache hit: eviction happens only after a load from the source", async () => {
    const kept: { applied?: string | undefined; desired?: string | undefined } = { applied: "c1", desired: "c2" };
    const { cache, loads } = cacheKeeping(kept);
    await cache.load("c1");
    await cache.load("c2");
    kept.applied = undefined;
    kept.desired = undefined;
    await cache.load("c1");
    await cache.load("c2");
    expect(loads).toEqual(["c1", "c2"]);
  });

  it("keeps the commit just loaded even when it is neither applied nor desired", async () => {
    const { cache, loads } = cacheKeeping({});
    await cache.load("c1");
    await cache.load("c1");
    expect(loads).toEqual(["c1"]);
    // Loading c2 drops c1 (not kept), so c1 is read again.
    await cache.load("c2");
    await cache.load("c1");
    expect(loads).toEqual(["c1", "c2", "c1"]);
  });

  it("decides what to keep after the load, when a newer commit may have been asked for meanwhile", async () => {
    const kept: { applied?: string | undefined; desired?: string | undefined } = { desired: "c1" };
    let release: () => void = () => undefined;
    const loads: string[] = [];
    const cache = new DesiredCache({
      source: async (commit) => {
        loads.push(commit);
        if (commit === "c2") await new Promise<void>((r) => (release = r));
        return { commit, objects: [] };
      },
      keep: () => [kept.applied, kept.desired],
    });
    await cache.load("c1");
    // c2 is asked for: c1 would go if what to keep were decided now.
    kept.desired = "c2";
    const pending = cache.load("c2");
    // While c2 loads, c1 becomes applied: it is kept when c2 arrives.
    kept.applied = "c1";
    release();
    await pending;
    await cache.load("c1");
    expect(loads).toEqual(["c1", "c2"]);
  });
});
