// `flotilla validate` and `flotilla render` with TenantPolicies, so a team's CI refuses what the
// admission webhook would refuse at `kubectl apply`: a kind the namespace may not create fails
// validation naming the object and the policy, and render leaves out the clusters the namespace
// may not use, with the reason on stderr.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, describe, expect, it, vi } from "vitest";
import { registerRenderCommands } from "../../../src/cli/render.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const APP = join(ROOT, "examples/quickstart/app.yaml");
const CLUSTERS = join(ROOT, "examples/quickstart/clusters.yaml");

const dir = mkdtempSync(join(tmpdir(), "flotilla-tenancy-cli-"));
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const policies = file(
  "policies.yaml",
  `apiVersion: flotilla.dev/v1alpha1
kind: TenantPolicy
metadata: {name: team-a-staging}
spec:
  namespaces:
    selector: {matchLabels: {team: a}}
  clusters:
    matchLabels: {usage: staging}
`,
);

// A team's deployment that also hands out cluster-admin through k8s-objects.
const escalating = file(
  "escalating.yaml",
  `apiVersion: flotilla.dev/v1alpha1
kind: ApplicationDeployment
metadata: {name: escalate, namespace: team-a}
spec:
  appRevisions:
    - name: v1
      template:
        spec:
          components:
            - name: access
              type: k8s-objects
              settings:
                objects:
                  - apiVersion: rbac.authorization.k8s.io/v1
                    kind: RoleBinding
                    metadata: {name: everything}
                    roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
                    subjects: [{kind: ServiceAccount, name: default, namespace: team-a}]
`,
);

/** Runs a command in this process: what it printed, and the exit code it asked for (process.exit or exitCode). */
async function run(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const program = new Command().exitOverride();
  registerRenderCommands(program);
  let stdout = "";
  let stderr = "";
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  class Exit extends Error {}
  vi.spyOn(process, "exit").mockImplementation((code?: string | number | null) => {
    throw Object.assign(new Exit(), { code });
  });
  let code = 0;
  try {
    await program.parseAsync(["node", "flotilla", ...args]);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    if (!(e instanceof Exit)) throw e;
    code = Number((e as { code?: number }).code ?? 0);
  } finally {
    process.exitCode = undefined;
  }
  return { stdout, stderr, code };
}

// The first render starts the template worker, which takes seconds on a busy machine.
describe("flotilla validate and render with TenantPolicies", { timeout: 60_000 }, () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("validate refuses a RoleBinding to cluster-admin in a governed namespace, naming the object, the component and the policy", async () => {
    const r = await run("validate", "-f", escalating, "--policies", policies, "--namespace-label", "team=a");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("spec.appRevisions[0].template.spec.components[0]");
    expect(r.stderr).toMatch(/renders RoleBinding\/team-a\/everything, which TenantPolicy team-a-staging refuses: .*cluster-admin/);
  });

  it("validate passes the same file for a namespace no policy governs (the open default), and counts the policy among the documents", async () => {
    const r = await run("validate", "-f", escalating, "--policies", policies);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("2 document(s) valid\n");
  });

  it("validate -o json lists the refusal as an item with its file", async () => {
    const r = await run("validate", "-f", escalating, "--policies", policies, "--namespace-label", "team=a", "-o", "json");
    expect(r.code).toBe(1);
    const items = (JSON.parse(r.stdout) as { items: Array<{ file: string; message: string }> }).items;
    expect(items.map((i) => i.file)).toEqual([escalating]);
    expect(items[0]?.message).toContain("TenantPolicy team-a-staging");
  });

  it("render places nothing on the clusters the namespace may not use, and says why on stderr", async () => {
    // The quick start's deployment, moved into a governed namespace: it selects production only.
    const app = file("app.yaml", readFileSync(APP, "utf8").replace("metadata: {name: example-deploy}", "metadata: {name: example-deploy, namespace: team-a}"));
    const r = await run("render", "-f", app, "--clusters", CLUSTERS, "--policies", policies, "--namespace-label", "team=a", "--cluster", "prod-eu");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("# cluster: prod-eu\n");
    expect(r.stderr).toContain(
      "note: nothing is placed on cluster prod-eu (team-a/example-deploy: namespace team-a may not deploy to cluster prod-eu (policy team-a-staging))",
    );
  });

  it("render without the namespace's labels leaves it open, as a hub with no matching policy does", async () => {
    const r = await run("render", "-f", APP, "--clusters", CLUSTERS, "--policies", policies, "--cluster", "prod-eu", "-o", "json");
    expect(r.code).toBe(0);
    const lists = JSON.parse(r.stdout) as { items: Array<{ kind: string }> } | Array<unknown>;
    expect(JSON.stringify(lists)).toContain('"kind":"Deployment"');
  });
});
