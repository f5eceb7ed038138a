import { describe, expect, it } from "vitest";
import type { Distribution } from "../../../src/api/types.js";
import { distributeReplicas } from "../../../src/placement/distribution.js";

describe("distributeReplicas", () => {
  it.each<{ name: string; total: number; clusters: string[]; distribution?: Distribution; want: Record<string, number> }>([
    { name: "duplicates by default", total: 10, clusters: ["b", "a"], want: { a: 10, b: 10 } },
    { name: "duplicates when asked", total: 3, clusters: ["a"], distribution: { mode: "Duplicated", weights: { a: 5 } }, want: { a: 3 } },
    { name: "divides evenly without weights", total: 10, clusters: ["a", "b"], distribution: { mode: "Divided" }, want: { a: 5, b: 5 } },
    {
      name: "gives the remainder to the first names on a tie",
      total: 10,
      clusters: ["c", "b", "a"],
      distribution: { mode: "Divided" },
      want: { a: 4, b: 3, c: 3 },
    },
    {
      name: "divides by weight with the largest remainder first",
      total: 10,
      clusters: ["eu", "us", "ap"],
      distribution: { mode: "Divided", weights: { eu: 3, us: 2, ap: 1 } },
      // exact shares 5, 3.33, 1.67: floors 5+3+1=9, the one left goes to ap (remainder .67)
      want: { ap: 2, eu: 5, us: 3 },
    },
    { name: "counts a missing weight as 1", total: 6, clusters: ["a", "b"], distribution: { mode: "Divided", weights: { a: 2 } }, want: { a: 4, b: 2 } },
    {
      name: "gives nothing to a zero weight",
      total: 5,
      clusters: ["a", "b"],
      distribution: { mode: "Divided", weights: { a: 0, b: 1 } },
      want: { a: 0, b: 5 },
    },
    {
      name: "splits evenly when every weight is zero",
      total: 4,
      clusters: ["a", "b"],
      distribution: { mode: "Divided", weights: { a: 0, b: 0 } },
      want: { a: 2, b: 2 },
    },
    {
      name: "gives zero to some clusters when there are fewer replicas",
      total: 1,
      clusters: ["b", "a"],
      distribution: { mode: "Divided" },
      want: { a: 1, b: 0 },
    },
    { name: "handles no clusters", total: 5, clusters: [], distribution: { mode: "Divided" }, want: {} },
  ])("$name", ({ total, clusters, distribution, want }) => {
    const got = distributeReplicas({ total, clusters, distribution });
    expect(Object.fromEntries(got)).toEqual(want);
  });

  it("does not depend on the order of the clusters", () => {
    const distribution: Distribution = { mode: "Divided", weights: { a: 1, b: 1, c: 1, d: 2 } };
    const one = distributeReplicas({ total: 7, clusters: ["a", "b", "c", "d"], distribution });
    const two = distributeReplicas({ total: 7, clusters: ["d", "c", "b", "a"], distribution });
    expect(Object.fromEntries(two)).toEqual(Object.fromEntries(one));
  });

  it("always sums to the total and stays within one replica of the exact share", () => {
    const weights = { a: 7, b: 3, c: 11, d: 1, e: 5 };
    const sum = 27;
    for (let total = 0; total <= 60; total++) {
      const got = distributeReplicas({ total, clusters: Object.keys(weights), distribution: { mode: "Divided", weights } });
      expect([...got.values()].reduce((a, b) => a + b, 0)).toBe(total);
      for (const [name, w] of Object.entries(weights)) {
        expect(Math.abs((got.get(name) ?? -99) - (total * w) / sum)).toBeLessThan(1);
      }
    }
  });
});
