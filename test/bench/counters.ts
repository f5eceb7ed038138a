// Readings of named counters (requests by verb, CPU seconds by process) taken at two moments.

/** How much each counter grew between two readings, the ones that grew, largest first. */
export function growthBetween(before: ReadonlyMap<string, number>, after: ReadonlyMap<string, number>): Array<[string, number]> {
  const grown = [...after].map(([k, v]): [string, number] => [k, v - (before.get(k) ?? 0)]).filter(([, v]) => v > 0);
  return grown.sort((a, b) => b[1] - a[1]);
}
