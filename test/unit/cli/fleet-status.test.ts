// `flotilla fleet status -o text|wide|json|yaml` over a fleet.json written here: no fleet is started.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { parseYamlStream } from "../../../src/api/serialize.js";
import { registerFleetCommand } from "../../../src/cli/fleet.js";
import { type FleetInfo, writeFleetInfo } from "../../../src/fleet/state.js";

let dir: string;
let info: FleetInfo;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flotilla-fleet-status-"));
  const cluster = (name: string, role: "hub" | "member", port: number, pids: { apiServer: number; controllerManager: number }) => ({
    name,
    role,
    server: `https://127.0.0.1:${port}`,
    kubeconfigPath: join(dir, `${name}.kubeconfig`),
    labels: role === "member" ? { usage: "production" } : {},
    caPath: join(dir, `${name}-ca.pem`),
    unprivilegedToken: `token-of-${name}`,
    ...(role === "member" ? { nodeName: `${name}-node` } : {}),
    pids,
  });
  info = {
    version: 1,
    dir,
    ownerPid: 4242,
    detached: true,
    state: "running",
    startedAt: "2025-01-02T03:04:05.000Z",
    etcd: { pid: 11, clientUrl: "http://127.0.0.1:2379" },
    clusters: [
      cluster("hub", "hub", 6443, { apiServer: 12, controllerManager: 13 }),
      cluster("prod-eu", "member", 6444, { apiServer: 14, controllerManager: 15 }),
    ],
  };
  await writeFleetInfo(info);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

async function fleetStatus(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const program = new Command().exitOverride();
  registerFleetCommand(program);
  const run = { stdout: "", stderr: "", code: 0 };
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    run.stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    run.stderr += String(chunk);
    return true;
  });
  await program.parseAsync(["node", "flotilla", "fleet", "status", ...args]);
  run.code = Number(process.exitCode ?? 0);
  return run;
}

describe("flotilla fleet status", () => {
  it("prints the clusters and the state as text by default", async () => {
    const run = await fleetStatus("--dir", dir);
    expect(run.stdout).toContain(`Fleet in ${dir}:\n  hub        hub    https://127.0.0.1:6443`);
    expect(run.stdout.endsWith("State: running, owner pid 4242 (detached)\n")).toBe(true);
    expect(await fleetStatus("--dir", dir, "-o", "text")).toEqual(run);
  });

  it("adds etcd and each cluster's processes with -o wide", async () => {
    const run = await fleetStatus("--dir", dir, "-o", "wide");
    expect(run.stdout.startsWith((await fleetStatus("--dir", dir)).stdout)).toBe(true);
    expect(run.stdout).toContain("Started 2025-01-02T03:04:05.000Z; etcd pid 11 at http://127.0.0.1:2379\n");
    expect(run.stdout).toContain(`  prod-eu    api-server pid 14, controller-manager pid 15, node prod-eu-node; CA ${join(dir, "prod-eu-ca.pem")}\n`);
  });

  it("prints fleet.json with -o json and -o yaml, without the unprivileged user's tokens", async () => {
    const json = await fleetStatus("--dir", dir, "-o", "json");
    const printed = JSON.parse(json.stdout) as FleetInfo;
    const { unprivilegedToken: _, ...hub } = info.clusters[0]!;
    expect(printed.clusters[0]).toEqual(hub);
    expect(printed).toMatchObject({ dir, ownerPid: 4242, state: "running", etcd: info.etcd });
    expect(json.stdout).not.toContain("token-of-");
    expect(parseYamlStream((await fleetStatus("--dir", dir, "-o", "yaml")).stdout)).toEqual([printed]);
  });

  it("exits 1 without a fleet, printing no data on stdout for -o json", async () => {
    const empty = join(dir, "no-fleet-here");
    expect(await fleetStatus("--dir", empty)).toEqual({ stdout: `No fleet running in ${empty}.\n`, stderr: "", code: 1 });
    expect(await fleetStatus("--dir", empty, "-o", "json")).toEqual({ stdout: "", stderr: `error: no fleet running in ${empty}\n`, code: 1 });
  });
});
