import { describe, expect, it } from "vitest";
import { deployment } from "../../bench/fleet.js";
import { firstPageLastRow } from "../../bench/fleet-ui.js";

describe("the fleet bench's UI step", () => {
  it("waits for the last row of the list's first page: namespaces sorted, then names, 100 rows a page", () => {
    // deployment(i) lives in bench-<i % 10>: with 1,000, bench-0 holds the first hundred (app-0000, app-0010 … app-0990).
    expect(firstPageLastRow(Array.from({ length: 1000 }, (_, i) => deployment(i)))).toBe("deployment-row-bench-0-app-0990");
    // With 25, all on one page: bench-9 holds app-0009 and app-0019; app-0024 (bench-4) sorts before them.
    expect(firstPageLastRow(Array.from({ length: 25 }, (_, i) => deployment(i)))).toBe("deployment-row-bench-9-app-0019");
  });
});
