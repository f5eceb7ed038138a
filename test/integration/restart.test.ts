// A controller killed with SIGKILL in the middle of a rollout and started again resumes where it
// was: the rollout finishes with exactly the Git history an uninterrupted run writes — no step
// lost, none repeated. The controller runs as a real process (the compiled CLI) so it can be killed.

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusters } from "../../src/cli/install.js";
import { CANARY_V2_STEPS } from "./support/canary.js";
import { hub, kubeConfig, kubectl, members, waitFor, withNamespace } from "./support/fleet.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "src", "cli", "main.js");
let dataDir: string;
let controller: ChildProcess | undefined;

function startController(): ChildProcess {
  const child = spawn(
    process.execPath,
    [CLI, "controller", "--kubeconfig", hub().kubeconfigPath, "--data-dir", dataDir, "--metrics-addr", "127.0.0.1:0", "--no-leader-elect", "--resync", "1m"],
    { stdio: "ignore" },
  );
  return child;
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGKILL");
  await exited;
}

function steps(ns: string): string[] {
  const log = execFileSync("git", ["--git-dir", join(dataDir, "env.git"), "log", "--format=%s", "main"], { encoding: "utf8" });
  return log
    .split("\n")
    .filter((l) => l.startsWith(`${ns}/frontend: v2`))
    .map((l) => l.slice(`${ns}/frontend: `.length))
    .reverse();
}

describe("a controller killed mid-rollout", () => {
  beforeAll(async () => {
    const kc = kubeConfig("hub");
    await installToHub({ kubeConfig: kc, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusters(kc, await Promise.all(members().map(async (m) => ({ name: m.name, labels: m.labels, kubeconfig: await readFile(m.kubeconfigPath, "utf8") }))));
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-restart-"));
  }, 120_000);

  afterAll(async () => {
    await kill(controller);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("resumes with the same sequence of Git commits as an uninterrupted run", async () => {
    await withNamespace("hub", async (ns) => {
      const example = parseYamlStream(await readFile(join(ROOT, "examples", "webservice-canary", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
      const full: ApplicationDeployment = { ...example, metadata: { name: "frontend", namespace: ns } };
      const v2 = full.spec.appRevisions[1]!;
      // No pause (nobody promotes here) and a short soak, so the rollout runs by itself.
      v2.rollout!.batches = [{ replicas: 1 }, { replicas: "50%", wait: "2s" }, { replicas: "100%" }];
      v2.rollout!.analysis!.interval = "1s";
      const get = async () =>
        (await kubeConfig("hub")
          .makeApiClient(CustomObjectsApi)
          .getNamespacedCustomObject({ group: "flotilla.dev", version: "v1alpha1", namespace: ns, plural: "applicationdeployments", name: "frontend" })
          .catch(() => undefined)) as ApplicationDeployment | undefined;
      const apply = (doc: unknown) => kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-"], { input: toYaml(doc) });

      controller = startController();
      await apply({ ...full, spec: { ...full.spec, appRevisions: [full.spec.appRevisions[0]!] } });
      await waitFor(async () => (await get())?.status?.phase === "Healthy", { timeoutMs: 120_000, intervalMs: 1_000, message: "v1 Healthy" });

      await apply(full);
      // Kill it three times at different points of the rollout, restarting it each time.
      for (const after of ["v2 batch 2/3 in wave staging (staging)", "v2 batch 1/3 in wave production (prod-eu)", "v2 batch 3/3 in wave production (prod-eu)"]) {
        await waitFor(() => steps(ns).some((s) => s.endsWith(after)), { timeoutMs: 120_000, intervalMs: 200, message: `the step "${after}"` });
        await kill(controller);
        controller = startController();
      }
      await waitFor(async () => {
        const a = await get();
        return a?.status?.phase === "Healthy" && a.status.stableRevision === "v2";
      }, { timeoutMs: 180_000, intervalMs: 1_000, message: "v2 Healthy after the restarts" });

      expect(steps(ns)).toEqual(CANARY_V2_STEPS);
      execFileSync("git", ["--git-dir", join(dataDir, "env.git"), "fsck", "--strict"]);
    });
  }, 600_000);
});
