// Durations as users write them (`30s`, `5m`, `1h30m`, `500ms`), in milliseconds.

import { FlotillaError } from "./errors.js";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDuration(text: string, field = "duration"): number {
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * (UNITS[m[2] as string] as number);
    matched = re.lastIndex;
  }
  if (!text || matched !== text.length) {
    throw new FlotillaError(`${field}: "${text}" is not a duration. Use a value such as "30s", "5m" or "1h30m".`);
  }
  return total;
}
