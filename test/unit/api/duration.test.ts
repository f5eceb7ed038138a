// Durations as users write them in specs and flags (`wait: 30s`, `--resync 5m`): what is read,
// in milliseconds, and what is refused with a message that says what to write instead.

import { describe, expect, it } from "vitest";
import { parseDuration } from "../../../src/api/duration.js";
import { FlotillaError } from "../../../src/api/errors.js";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

describe("parseDuration", () => {
  it.each([
    { text: "30s", ms: 30 * SECOND, why: "seconds" },
    { text: "5m", ms: 5 * MINUTE, why: "minutes" },
    { text: "1h", ms: HOUR, why: "hours" },
    { text: "500ms", ms: 500, why: "milliseconds (ms is not read as m followed by s)" },
    { text: "1m30s", ms: 90 * SECOND, why: "minutes and seconds summed" },
    { text: "1h30m", ms: 90 * MINUTE, why: "hours and minutes summed" },
    { text: "2h45m30s500ms", ms: 2 * HOUR + 45 * MINUTE + 30 * SECOND + 500, why: "every unit at once" },
    { text: "1.5h", ms: 90 * MINUTE, why: "a decimal fraction of an hour" },
    { text: "0.5s", ms: 500, why: "a fraction below one" },
    { text: "1.5ms", ms: 1.5, why: "a fraction of a millisecond, kept as is" },
    { text: "007s", ms: 7 * SECOND, why: "leading zeros" },
    { text: "30s5m", ms: 5 * MINUTE + 30 * SECOND, why: "units in any order, as Go's time.ParseDuration" },
    { text: "1s1s", ms: 2 * SECOND, why: "a unit repeated, summed as Go does" },
    { text: "8760h", ms: 8760 * HOUR, why: "a year in hours" },
  ])("reads $text as $ms ms: $why", ({ text, ms }) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(["0s", "0ms", "0h0m0s", "0.0m"])("reads the zero duration %s as 0 ms", (text) => {
    expect(parseDuration(text)).toBe(0);
  });

  it("keeps a duration beyond Go's int64 nanoseconds (2562047h47m16s) exact in milliseconds", () => {
    // Go refuses 2562048h as an overflow; milliseconds in a double hold it exactly.
    expect(parseDuration("2562048h")).toBe(9_223_372_800_000);
  });

  it("returns Infinity for a number too large for a double instead of refusing it", () => {
    // 400 digits: Number() gives Infinity. Documented here because a timer given Infinity fires at once.
    expect(parseDuration(`1${"0".repeat(400)}s`)).toBe(Number.POSITIVE_INFINITY);
  });

  it.each([
    { text: "", why: "empty" },
    { text: "30", why: "a number without a unit" },
    { text: "0", why: "a bare zero (Go accepts it, Flotilla asks for a unit)" },
    { text: "s", why: "a unit without a number" },
    { text: "1d", why: "days are not a unit" },
    { text: "1w", why: "weeks are not a unit" },
    { text: "1us", why: "microseconds are not read" },
    { text: "1ns", why: "nanoseconds are not read" },
    { text: "1S", why: "units are lower case" },
    { text: "1H", why: "units are lower case" },
    { text: "-5s", why: "a negative duration" },
    { text: "+5s", why: "an explicit sign" },
    { text: ".5s", why: "a fraction without its leading digit" },
    { text: "5.s", why: "a decimal point without digits after it" },
    { text: "1e3s", why: "exponent notation" },
    { text: " 30s", why: "a leading space" },
    { text: "30s ", why: "a trailing space" },
    { text: "30 s", why: "a space between number and unit" },
    { text: "1m30", why: "a trailing number without its unit" },
    { text: "5mm", why: "a unit without its number after a valid part" },
    { text: "1h 30m", why: "a space between parts" },
  ])('refuses "$text": $why', ({ text }) => {
    expect(() => parseDuration(text)).toThrow(FlotillaError);
    expect(() => parseDuration(text)).toThrow(`duration: "${text}" is not a duration. Use a value such as "30s", "5m" or "1h30m".`);
  });

  it("names the field it was given in the message", () => {
    expect(() => parseDuration("30", "--resync")).toThrow('--resync: "30" is not a duration. Use a value such as "30s", "5m" or "1h30m".');
  });
});
