// `flotilla up --detach` / `flotilla down` end to end, as `npm start` runs it: a second fleet of
// its own, the controller in the background, the quickstart reaching Healthy, and nothing left
// running after `down`. Then the same on clusters the user already runs (`--hub-kubeconfig` and
// `--member`), played by a fleet started alone. Runs the compiled CLI (dist/, built by `npm ci`'s
// prepare step).

import { KUBECTL } from "./support/fleet.js";
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "src", "cli", "main.js");

async function processesUsing(dir: string): Promise<string[]> {
  const { stdout } = await run("ps", ["-eo", "pid,args"], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.split("\n").filter((l) => l.includes(dir) && !l.includes("ps -eo"));
}

/** Run `flotilla up`; when it fails, the error carries its output and the end of every log it wrote. */
async function up(dir: string, args: string[]): Promise<{ stdout: string }> {
  try {
    return await run(process.execPath, [CLI, "up", "--detach", "--dir", dir, ...args], { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (e) {
    const failed = e as Error & { stdout?: string; stderr?: string };
    const logs = await readdir(join(dir, "logs")).catch(() => [] as string[]);
    const tails = await Promise.all(
      logs.map(async (f) => `--- ${f} (end)\n${(await readFile(join(dir, "logs", f), "utf8")).split("\n").slice(-40).join("\n")}`),
    );
    failed.message = [failed.message, "--- stdout", failed.stdout ?? "", "--- stderr", failed.stderr ?? "", ...tails].join("\n");
    throw failed;
  }
}

describe("flotilla up --detach", () => {
  it("brings the quickstart to Healthy in the background in pull mode (an agent per member) and `down` stops everything", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-up-"));
    try {
      const started = await up(dir, ["--mode", "pull", "--resync", "30s"]);
      expect(started.stdout).toContain("registered clusters staging, prod-eu, prod-us (pull mode: an agent per member, no member credential on the hub)");
      expect(started.stdout).toContain("Agents running for staging, prod-eu, prod-us (pull mode)");
      expect(started.stdout).toMatch(/Healthy after \d+ s\./);
      expect(started.stdout).toContain("prod-eu      v1     [####################]  10/10  Healthy");
      expect(started.stdout).toContain("staging      not selected: label usage=staging does not match usage=production");
      expect(started.stdout).toContain(`flotilla down --dir ${dir}`);
      const ad = await run(KUBECTL, ["--kubeconfig", join(dir, "hub.kubeconfig"), "get", "ad", "example-deploy", "-o", "jsonpath={.status.phase}"]);
      expect(ad.stdout).toBe("Healthy");
      expect((await processesUsing(dir)).filter((l) => l.includes(" agent --cluster "))).toHaveLength(3);
      const modes = await run(KUBECTL, ["--kubeconfig", join(dir, "hub.kubeconfig"), "get", "clusters.flotilla.dev", "-o", "jsonpath={.items[*].spec.mode}"]);
      expect(modes.stdout).toBe("Pull Pull Pull");
      // With no member pushed, the controller's namespace is still there for its webhook and keys:
      // kubectl apply of a misspelt component type is refused, and the hub's rekey key exists.
      const hubCtl = (args: string[], input?: string) =>
        new Promise<{ code: number; stderr: string }>((resolve) => {
          const child = execFile(KUBECTL, ["--kubeconfig", join(dir, "hub.kubeconfig"), ...args], (err, _stdout, stderr) =>
            resolve({ code: err ? 1 : 0, stderr }),
          );
          child.stdin?.end(input ?? "");
        });
      const live = JSON.parse((await run(KUBECTL, ["--kubeconfig", join(dir, "hub.kubeconfig"), "get", "ad", "example-deploy", "-o", "json"])).stdout);
      const misspelt = {
        apiVersion: live.apiVersion,
        kind: live.kind,
        metadata: { name: "misspelt", namespace: live.metadata.namespace },
        spec: structuredClone(live.spec),
      };
      misspelt.spec.appRevisions[0].template.spec.components[0].type = "wrker";
      const refused = await hubCtl(["apply", "-f", "-"], JSON.stringify(misspelt));
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('admission webhook "validate.flotilla.dev" denied the request');
      expect(refused.stderr).toContain('unknown component type "wrker"');
      expect((await hubCtl(["get", "secret", "flotilla-sealing-rekey", "-n", "flotilla-system", "-o", "name"])).code).toBe(0);

      const down = await run(process.execPath, [CLI, "down", "--dir", dir], { timeout: 60_000 });
      expect(down.stdout).toContain("Stopped the controller and the fleet");
      expect(await processesUsing(dir)).toEqual([]);
    } finally {
      await run(process.execPath, [CLI, "down", "--dir", dir]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);

  it("runs the quick start on clusters it is handed: members registered with their own least-privilege token, the fleet left running", async () => {
    const clusters = await mkdtemp(join(tmpdir(), "flotilla-own-"));
    const dir = await mkdtemp(join(tmpdir(), "flotilla-up-own-"));
    const hubKubeconfig = join(clusters, "hub.kubeconfig");
    const onHub = (args: string[]) => run(KUBECTL, ["--kubeconfig", hubKubeconfig, ...args], { encoding: "utf8" });
    try {
      await run(process.execPath, [CLI, "fleet", "up", "--detach", "--dir", clusters, "--members", "eu,us"], { timeout: 180_000 });
      const started = await up(dir, [
        "--resync",
        "30s",
        "--hub-kubeconfig",
        hubKubeconfig,
        "--member",
        `eu=${join(clusters, "eu.kubeconfig")},usage=production,region=eu`,
        "--member",
        `us=${join(clusters, "us.kubeconfig")}`,
      ]);
      expect(started.stdout).not.toContain("Starting the local fleet");
      expect(started.stdout).toContain("Registering member eu (usage=production,region=eu)");
      expect(started.stdout).toContain("Registering member us (usage=production)");
      expect(started.stdout).toContain("image busybox:1.36 instead of the example's");
      expect(started.stdout).toMatch(/Healthy after \d+ s\./);
      expect((await onHub(["get", "ad", "example-deploy", "-o", "jsonpath={.status.phase}"])).stdout).toBe("Healthy");
      expect((await onHub(["get", "clusters", "us", "-o", "jsonpath={.metadata.labels}"])).stdout).toBe('{"usage":"production"}');
      // The hub holds the member's own ServiceAccount token, never the admin credentials it was handed.
      const secret = (await onHub(["get", "secret", "-n", "flotilla-system", "cluster-eu", "-o", "jsonpath={.data.kubeconfig}"])).stdout;
      const kubeconfig = Buffer.from(secret, "base64").toString("utf8");
      expect(kubeconfig).toContain("token: ");
      expect(kubeconfig).not.toContain("client-key-data");
      const onEu = (args: string[]) => run(KUBECTL, ["--kubeconfig", join(clusters, "eu.kubeconfig"), ...args], { encoding: "utf8" });
      expect((await onEu(["get", "serviceaccount", "-n", "flotilla-system", "flotilla-sync", "-o", "name"])).stdout.trim()).toBe(
        "serviceaccount/flotilla-sync",
      );
      expect(
        (
          await onEu([
            "get",
            "deploy",
            "-n",
            "default",
            "-l",
            "app.kubernetes.io/name=backend",
            "-o",
            "jsonpath={.items[*].spec.template.spec.containers[0].image}",
          ])
        ).stdout,
      ).toBe("busybox:1.36");

      const down = await run(process.execPath, [CLI, "down", "--dir", dir], { timeout: 60_000 });
      expect(down.stdout).toContain("Stopped the controller in");
      expect(await processesUsing(dir)).toEqual([]);
      // The user's clusters are theirs: still serving after `down`.
      expect((await onHub(["get", "ad", "example-deploy", "-o", "jsonpath={.status.phase}"])).stdout).toBe("Healthy");
    } finally {
      await run(process.execPath, [CLI, "down", "--dir", dir]).catch(() => undefined);
      await run(process.execPath, [CLI, "fleet", "down", "--dir", clusters]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      await rm(clusters, { recursive: true, force: true });
    }
  }, 420_000);
});
