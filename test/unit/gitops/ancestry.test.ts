// The quick ancestry walk: it must answer exactly where it answers (including through merges),
// read only what lies between the two commits when one reaches the other, and give up (leaving
// the answer to the library's full walk) past its limit instead of reading all history.

import { describe, expect, it } from "vitest";
import { reaches } from "../../../src/gitops/ancestry.js";

/** A commit graph by parent lists; counts the commits read. */
function graph(parents: Record<string, string[]>) {
  const reads: string[] = [];
  return {
    reads,
    readCommit: async (oid: string) => {
      const parent = parents[oid];
      if (!parent) throw new Error(`no commit ${oid}`);
      reads.push(oid);
      return { parent };
    },
  };
}

/** c0 ← c1 ← … ← c(n-1), a straight history. */
function line(n: number): Record<string, string[]> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`c${i}`, i === 0 ? [] : [`c${i - 1}`]]));
}

describe("reaches", () => {
  it("finds a recent ancestor after reading only the commits between", async () => {
    const g = graph(line(500));
    expect(await reaches(g, "c499", "c497")).toBe(true);
    expect(g.reads).toEqual(["c499", "c498"]);
  });

  it("says a commit reaches itself without reading anything", async () => {
    const g = graph(line(3));
    expect(await reaches(g, "c2", "c2")).toBe(true);
    expect(g.reads).toEqual([]);
  });

  it("answers false once the whole history is read without finding the commit", async () => {
    const g = graph(line(20));
    // c19 is newer than c5: walking back from c5 never meets it.
    expect(await reaches(g, "c5", "c19")).toBe(false);
    expect(g.reads).toHaveLength(6);
  });

  it("follows every parent of a merge", async () => {
    // m has parents a (main line) and b (a side branch from base).
    const g = graph({ base: [], a: ["base"], side: ["base"], b: ["side"], m: ["a", "b"] });
    expect(await reaches(g, "m", "side")).toBe(true);
    expect(await reaches(g, "a", "side")).toBe(false);
  });

  it("gives up after the limit rather than reading the whole history", async () => {
    const g = graph(line(5_000));
    expect(await reaches(g, "c4999", "c0", 100)).toBeUndefined();
    expect(g.reads).toHaveLength(100);
    expect(await reaches(g, "c4999", "c4950", 100)).toBe(true);
  });
});
