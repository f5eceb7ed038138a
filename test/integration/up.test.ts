// `flotilla up --detach` / `flotilla down` end to end, as `npm start` runs it: a second fleet of
// its own, the controller in the background, the quickstart reaching Healthy, and nothing left
// running after `down`. Runs the compiled CLI (dist/, built by `npm ci`'s prepare step).

import { KUBECTL } from "./support/fleet.js";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
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

describe("flotilla up --detach", () => {
  it("brings the quickstart to Healthy in the background and `down` stops everything", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-up-"));
    try {
      const up = await run(process.execPath, [CLI, "up", "--detach", "--dir", dir, "--resync", "30s"], { timeout: 240_000, maxBuffer: 16 * 1024 * 1024 });
      expect(up.stdout).toMatch(/Healthy after \d+ s\./);
      expect(up.stdout).toContain("prod-eu      v1     [####################]  10/10  Healthy");
      expect(up.stdout).toContain("staging      not selected: label usage=staging does not match usage=production");
      expect(up.stdout).toContain(`flotilla down --dir ${dir}`);
      const ad = await run(KUBECTL, ["--kubeconfig", join(dir, "hub.kubeconfig"), "get", "ad", "example-deploy", "-o", "jsonpath={.status.phase}"]);
      expect(ad.stdout).toBe("Healthy");
      expect((await processesUsing(dir)).length).toBeGreaterThan(0);

      const down = await run(process.execPath, [CLI, "down", "--dir", dir], { timeout: 60_000 });
      expect(down.stdout).toContain("Stopped the controller and the fleet");
      expect(await processesUsing(dir)).toEqual([]);
    } finally {
      await run(process.execPath, [CLI, "down", "--dir", dir]).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }, 300_000);
});
