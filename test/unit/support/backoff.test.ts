import { describe, expect, it } from "vitest";
import { backoffDelay } from "../../../src/support/backoff.js";

describe("retry backoff", () => {
  it.each<[number, Parameters<typeof backoffDelay>[1], number]>([
    [1, {}, 1_000],
    [2, {}, 2_000],
    [5, {}, 16_000],
    [20, {}, 300_000],
    [3, { initialMs: 100, factor: 3 }, 900],
    [10, { initialMs: 100, maxMs: 5_000 }, 5_000],
    // The install retries: 250 ms doubled per attempt, uncapped.
    [6, { initialMs: 500, maxMs: Number.POSITIVE_INFINITY }, 16_000],
    [0, {}, 1_000],
  ])("waits before retry %i with %j: %i ms", (failures, options, expected) => {
    expect(backoffDelay(failures, options)).toBe(expected);
  });
});
