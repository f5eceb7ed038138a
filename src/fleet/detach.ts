// `fleet up --detach`: run the fleet in a detached supervisor process (supervisor.ts) that owns it
// until `fleet down` signals it. The caller waits until fleet.json says `running`, or reports the
// supervisor's log when it fails.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, openSync, closeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { FleetError } from "./errors.js";
import { liveOwner, validateMembers } from "./fleet.js";
import { FleetAlreadyRunningError } from "./errors.js";
import { ensureControlPlane } from "./install.js";
import { fleetPaths } from "./paths.js";
import { isAlive, logTail, sleep } from "./processes.js";
import { type FleetInfo, readFleet } from "./state.js";

export interface DetachedFleetOptions {
  dir: string;
  members?: string[];
  log?: (line: string) => void;
  /** How long to wait for the fleet to be ready. Default 5 minutes. */
  timeoutMs?: number;
}

/** Path of the supervisor's compiled entry point (only the built package can run detached). */
export function supervisorEntry(): string {
  const file = fileURLToPath(new URL("./supervisor.js", import.meta.url));
  if (!existsSync(file)) {
    throw new FleetError(`${file} not found: --detach needs the built package (run \`npm run build\`).`);
  }
  return file;
}

export async function startDetachedFleet(options: DetachedFleetOptions): Promise<FleetInfo> {
  const log = options.log ?? (() => {});
  if (options.members) validateMembers(options.members);
  const paths = fleetPaths(options.dir);
  const owner = await liveOwner(paths.dir);
  if (owner !== undefined) throw new FleetAlreadyRunningError(paths.dir, owner);
  // Build or install first, here, so its progress shows in the user's terminal.
  await ensureControlPlane({ log });
  mkdirSync(paths.logs, { recursive: true });
  const logFile = paths.log("fleet");
  const fd = openSync(logFile, "a");
  const args = [supervisorEntry(), "--dir", paths.dir, ...(options.members ? ["--members", options.members.join(",")] : [])];
  const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  let exited = false;
  child.once("exit", () => {
    exited = true;
  });
  child.unref();
  const pid = child.pid ?? -1;
  log(`supervisor started (pid ${pid}); log ${logFile}`);
  const deadline = Date.now() + (options.timeoutMs ?? 300_000);
  while (Date.now() < deadline) {
    const info = await readFleet(paths.dir);
    if (info?.state === "running" && info.ownerPid === pid) return info;
    if (exited || !isAlive(pid)) {
      throw new FleetError(`the fleet supervisor exited before the fleet was ready; last lines of ${logFile}:\n${await logTail(logFile, 30)}`);
    }
    await sleep(250);
  }
  try {
    process.kill(pid, "SIGTERM");
  } catch {
    // gone
  }
  throw new FleetError(`the fleet was not ready after ${(options.timeoutMs ?? 300_000) / 1000} s; see ${logFile}`);
}
