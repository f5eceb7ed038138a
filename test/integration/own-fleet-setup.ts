// Global setup of the `integration-own-fleet` project: its files start (and stop) fleets of their
// own, so they need the compiled CLI and the control plane, not the shared fleet.
import { ControlPlaneMissingError, ensureControlPlane } from "../../src/fleet/index.js";
import { buildDist } from "../support/build-dist.js";

export default async function setup(): Promise<void> {
  buildDist();
  try {
    await ensureControlPlane({ log: (line) => process.stderr.write(`[own-fleet] ${line}\n`) });
  } catch (err) {
    if (err instanceof ControlPlaneMissingError)
      throw new Error(`The integration tests need a local control plane and it could not be installed:\n${err.message}`, { cause: err });
    throw err;
  }
}
