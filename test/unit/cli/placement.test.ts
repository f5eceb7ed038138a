// `flotilla placement explain` through its registered command: the text, -o wide with the
// clusters' labels, -o json|yaml as a List with an item per deployment, and a bad -o.

import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { parseYamlStream } from "../../../src/api/serialize.js";
import { type ExplainedPlacement, registerPlacementCommands } from "../../../src/cli/placement.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const QUICKSTART = [join(ROOT, "examples/quickstart/app.yaml"), join(ROOT, "examples/quickstart/clusters.yaml")] as const;

async function explain(app: string, clusters: string, ...more: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerPlacementCommands(program);
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  await program.parseAsync(["node", "flotilla", "placement", "explain", "-f", app, "--clusters", clusters, ...more]);
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

  it("adds each cluster's labels with -o wide", async () => {
    const out = await explain(...QUICKSTART, "-o", "wide");
    expect(out.split("\n").slice(2)).toEqual([
      "  ✓ prod-eu        selected by wave wave-1  [usage=production,region=eu]",
      "  ✓ prod-us        selected by wave wave-1  [usage=production,region=us]",
      "  ✗ staging        label usage=staging does not match usage=production  [usage=staging,region=eu]",
      "",
    ]);
  });

  it("prints with -o json a List, an item per deployment with its waves and status.placement's decisions", async () => {
    const out = await explain(...QUICKSTART, "-o", "json");
    expect(out.endsWith("}\n")).toBe(true);
    const list = JSON.parse(out) as { apiVersion: string; kind: string; items: ExplainedPlacement[] };
    expect(list).toEqual({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          namespace: "default",
          name: "example-deploy",
          waves: [{ name: "wave-1", clusters: ["prod-eu", "prod-us"] }],
          placement: [
            { cluster: "prod-eu", wave: "wave-1", selected: true, reason: "selected by wave wave-1" },
            { cluster: "prod-us", wave: "wave-1", selected: true, reason: "selected by wave wave-1" },
            { cluster: "staging", selected: false, reason: "label usage=staging does not match usage=production" },
          ],
        },
      ],
    });
    expect(parseYamlStream(await explain(...QUICKSTART, "-o", "yaml"))).toEqual([list]);
  });

  it("refuses a format it does not print as bad usage, naming --output and the formats", async () => {
    let err = "";
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      err += String(chunk);
      return true;
    });
    const failed = await explain(...QUICKSTART, "-o", "table").catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(CommanderError);
    expect((failed as CommanderError).exitCode).toBe(2);
    expect(err).toBe('error: --output: "table" is not a format. Use text, wide, json or yaml.\n');
  });
});
