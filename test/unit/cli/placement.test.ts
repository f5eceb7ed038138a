import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerPlacementCommands } from "../../../src/cli/placement.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");

async function explain(app: string, clusters: string): Promise<string> {
  const program = new Command().exitOverride();
  registerPlacementCommands(program);
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  await program.parseAsync(["node", "flotilla", "placement", "explain", "-f", app, "--clusters", clusters]);
  return out;
}

describe("flotilla placement explain", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("lists each wave's clusters and the reason for every cluster, selected or not", async () => {
    const out = await explain(join(ROOT, "examples/quickstart/app.yaml"), join(ROOT, "examples/quickstart/clusters.yaml"));
    expect(out.split("\n")).toEqual([
      "default/example-deploy:",
      "  wave wave-1: prod-eu, prod-us",
      "  ✓ prod-eu        selected by wave wave-1",
      "  ✓ prod-us        selected by wave wave-1",
      "  ✗ staging        label usage=staging does not match usage=production",
      "",
    ]);
  });

  it("puts each cluster in the first wave that selects it", async () => {
    const out = await explain(join(ROOT, "examples/webservice-canary/app.yaml"), join(ROOT, "examples/webservice-canary/clusters.yaml"));
    expect(out).toContain("  wave staging: staging\n  wave production: prod-eu, prod-us\n");
  });
});
