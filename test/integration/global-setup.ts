// Global setup of the `integration` project: starts ONE local fleet (hub + staging, prod-eu,
// prod-us) for the whole run and `provide`s its description to every test file (read it with
// the helpers in support/fleet.ts). The fleet lives in a fresh temp directory and is stopped at
// teardown; its processes die with this process even if vitest is killed.
//
// Environment:
//   FLOTILLA_TEST_FLEET_DIR=<dir>  reuse a fleet already running there (`flotilla fleet up --detach
//                                  --dir <dir>`): fast iteration, not stopped at teardown.
//   FLOTILLA_KEEP_FLEET_DIR=1      keep the temp directory (logs) after the run.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { ControlPlaneMissingError, ensureControlPlane, readFleet, startFleet } from "../../src/fleet/index.js";
import type { TestFleet } from "./support/fleet.js";
import { buildDist } from "../support/build-dist.js";

const log = (line: string) => process.stderr.write(`[fleet] ${line}\n`);

/** Several tests run the compiled CLI (dist/) as a real process: never code older than the sources. */
function buildForTests(): void {
  const started = Date.now();
  buildDist();
  log(`dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/** The local control plane (installed once, cached), or an error that says the tests need it. */
export async function ensureControlPlaneForTests(log: (line: string) => void): Promise<void> {
  try {
    await ensureControlPlane({ log });
  } catch (err) {
    if (err instanceof ControlPlaneMissingError) {
      throw new Error(
        `The integration tests need a local control plane (etcd, kube-apiserver, kube-controller-manager) and it could not be installed:\n${err.message}`,
        { cause: err },
      );
    }
    throw err;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  buildForTests();
  const reuse = process.env.FLOTILLA_TEST_FLEET_DIR;
  if (reuse) {
    const info = await readFleet(reuse);
    if (info?.state !== "running") {
      throw new Error(`FLOTILLA_TEST_FLEET_DIR=${reuse}: no running fleet there. Start one with \`flotilla fleet up --detach --dir ${reuse}\`.`);
    }
    const fleet: TestFleet = { dir: info.dir, clusters: info.clusters.map(({ pids: _pids, ...c }) => c) };
    project.provide("fleet", fleet);
    return async () => {};
  }

  await ensureControlPlaneForTests(log);
  const dir = await mkdtemp(path.join(tmpdir(), "flotilla-test-fleet-"));
  const started = Date.now();
  // A 5 s HPA period: the tests' rollouts create autoscalers, each Progressing until its first look.
  const running = await startFleet({ dir, log, hpaSyncPeriodSeconds: 5 });
  log(`fleet ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${dir})`);
  const fleet: TestFleet = { dir: running.dir, clusters: running.clusters };
  project.provide("fleet", fleet);

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await running.stop();
    if (!process.env.FLOTILLA_KEEP_FLEET_DIR) await rm(dir, { recursive: true, force: true });
  };
  // Ctrl-C during a run: vitest may not reach teardown.
  const onSignal = () => {
    void stop().finally(() => process.exit(130));
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return async () => {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    await stop();
  };
}
