// Global setup of the `integration-own-fleet` project: its files start (and stop) fleets of their
// own, so they need the compiled CLI and the control plane, not the shared fleet.
import { buildDist } from "../support/build-dist.js";
import { ensureControlPlaneForTests } from "./global-setup.js";

export default async function setup(): Promise<void> {
  buildDist();
  await ensureControlPlaneForTests((line) => process.stderr.write(`[own-fleet] ${line}\n`));
}
