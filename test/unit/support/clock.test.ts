import { describe, expect, it } from "vitest";
import { timerDelay } from "../../../src/support/clock.js";

describe("timer delays", () => {
  it.each([
    [300_000, 300_000],
    [0, 0],
    [-5, 0],
    [30 * 24 * 3600_000, 2 ** 31 - 1],
    [Number.POSITIVE_INFINITY, 2 ** 31 - 1],
    [Number.NaN, 2 ** 31 - 1],
  ])("turns a requested delay of %d ms into %d ms, which setTimeout honours", (requested, delay) => {
    expect(timerDelay(requested)).toBe(delay);
  });
});
