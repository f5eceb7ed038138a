// Entry point of a detached fleet (`flotilla fleet up --detach`): owns the fleet until SIGTERM or
// SIGINT (sent by `flotilla fleet down`), then stops it. Output goes to <dir>/logs/fleet.log.
// Usage: node supervisor.js --dir <dir> [--members a,b,c]
import { parseArgs } from "node:util";
import { startFleet } from "./fleet.js";

const { values } = parseArgs({ options: { dir: { type: "string" }, members: { type: "string" } } });
if (!values.dir) {
  process.stderr.write("usage: supervisor.js --dir <dir> [--members a,b]\n");
  process.exit(2);
}
const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
try {
  const fleet = await startFleet({
    dir: values.dir,
    ...(values.members ? { members: values.members.split(",").filter(Boolean) } : {}),
    log,
    detached: true,
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping the fleet`);
    fleet.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log(`stopping failed: ${(err as Error).stack ?? String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGHUP", () => stop("SIGHUP"));
} catch (err) {
  log(`the fleet did not start: ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
}
