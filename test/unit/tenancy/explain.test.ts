// `flotilla placement explain` with TenantPolicies: a cluster the deployment's namespace may not
// use is shown as not selected, with the policy named, exactly as the controller's status says.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerPlacementCommands } from "../../../src/cli/placement.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const APP = join(ROOT, "examples/quickstart/app.yaml");
const CLUSTERS = join(ROOT, "examples/quickstart/clusters.yaml");

function policiesFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "flotilla-tenancy-")), "policies.yaml");
  writeFileSync(file, text);
  return file;
}

async function explain(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerPlacementCommands(program);
  let out = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  await program.parseAsync(["node", "flotilla", "placement", "explain", "-f", APP, "--clusters", CLUSTERS, ...args]);
  return out;
}

const stagingOnly = policiesFile(`apiVersion: flotilla.dev/v1alpha1
kind: TenantPolicy
metadata: {name: restricted-clusters}
spec:
  namespaces:
    selector: {matchLabels: {flotilla.dev/tenant: "true"}}
  clusters:
    matchLabels: {usage: staging}
`);

describe("flotilla placement explain with TenantPolicies", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("shows the clusters the namespace may not use as not selected, naming the policy", async () => {
    const out = await explain("--policies", stagingOnly, "--namespace-label", "flotilla.dev/tenant=true");
    expect(out.split("\n")).toEqual([
      "default/example-deploy:",
      "  wave wave-1: (no cluster)",
      "  ✗ prod-eu        namespace default may not deploy to cluster prod-eu (policy restricted-clusters)",
      "  ✗ prod-us        namespace default may not deploy to cluster prod-us (policy restricted-clusters)",
      "  ✗ staging        label usage=staging does not match usage=production",
      "",
    ]);
  });

  it("leaves a namespace the policy does not match open", async () => {
    const out = await explain("--policies", stagingOnly);
    expect(out).toContain("  wave wave-1: prod-eu, prod-us\n");
  });

  it("refuses a --namespace-label that is not key=value", async () => {
    await expect(explain("--policies", stagingOnly, "--namespace-label", "tenant")).rejects.toThrow(/expected key=value/);
  });
});
