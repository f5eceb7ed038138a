// `flotilla fleet up|down|status`: a thin command over src/fleet. `up` runs the fleet in the
// foreground until Ctrl-C (or SIGTERM), or with --detach in a background supervisor; `down` stops
// that; `status` prints what fleet.json says, as text or as data.
import type { Command } from "commander";
import { type FleetCluster, type FleetInfo, readFleet, startDetachedFleet, startFleet, stopFleet } from "../fleet/index.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { addOutputOption, formatOutput, isDataFormat, TEXT_FORMATS, type TextFormat } from "./output.js";

function parseMembers(value: string): string[] {
  return value
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
}

function summary(dir: string, clusters: readonly FleetCluster[]): string {
  const lines = [`Fleet in ${dir}:`];
  for (const c of clusters) {
    const labels = Object.entries(c.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    lines.push(`  ${c.name.padEnd(10)} ${c.role.padEnd(6)} ${c.server.padEnd(24)} ${c.kubeconfigPath}${labels ? `  [${labels}]` : ""}`);
  }
  const member = clusters.find((c) => c.role === "member");
  if (member) lines.push(`Try: kubectl --kubeconfig ${member.kubeconfigPath} get nodes`);
  return lines.join("\n");
}

/** What -o wide adds to `fleet status`: when it started, and the processes of etcd and of each cluster. */
function processLines(info: FleetInfo): string[] {
  const lines = [`Started ${info.startedAt}; etcd pid ${info.etcd.pid} at ${info.etcd.clientUrl}`];
  for (const c of info.clusters) {
    const parts = [`api-server pid ${c.pids.apiServer ?? "-"}`, `controller-manager pid ${c.pids.controllerManager ?? "-"}`];
    if (c.nodeName) parts.push(`node ${c.nodeName}`);
    lines.push(`  ${c.name.padEnd(10)} ${parts.join(", ")}; CA ${c.caPath}`);
  }
  return lines;
}

/**
 * fleet.json as -o json|yaml prints it: everything a script needs to reach the clusters (server,
 * kubeconfigPath, caPath) and the processes, without the tokens of the unprivileged test user:
 * credentials are not printed unless asked for, as `kubectl config view` redacts them. The
 * kubeconfig files themselves are where the credentials are, readable by their owner only.
 */
export function printedFleet(info: FleetInfo): unknown {
  return { ...info, clusters: info.clusters.map(({ unprivilegedToken: _, ...cluster }) => cluster) };
}

export function registerFleetCommand(program: Command): void {
  const fleet = program.command("fleet").description(summaryOf("fleet"));

  fleet
    .command("up")
    .description("start etcd, an API server per cluster, controller managers and node simulators")
    .addHelpText("after", examples("flotilla fleet up", "flotilla fleet up --detach --members staging,prod-eu --dir .flotilla"))
    .option("--dir <dir>", "where kubeconfigs, fleet.json and logs/ go", ".flotilla")
    .option("--members <names>", "member clusters, comma-separated", parseMembers, ["staging", "prod-eu", "prod-us"])
    .option("--detach", "run in the background; stop with `flotilla fleet down`", false)
    .action(async (opts: { dir: string; members: string[]; detach: boolean }) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      if (opts.detach) {
        const info = await startDetachedFleet({ dir: opts.dir, members: opts.members, log });
        process.stdout.write(
          `${summary(info.dir, info.clusters)}\nRunning in the background (pid ${info.ownerPid}). Stop it with: flotilla fleet down --dir ${opts.dir}\n`,
        );
        return;
      }
      const running = await startFleet({ dir: opts.dir, members: opts.members, log });
      process.stdout.write(`${summary(running.dir, running.clusters)}\nPress Ctrl-C to stop.\n`);
      await new Promise<void>((resolve) => {
        let stopping = false;
        const stop = (signal: NodeJS.Signals) => {
          if (stopping) {
            // A second Ctrl-C: leave now; the 'exit' hook kills what is left.
            process.exit(130);
          }
          stopping = true;
          log(`${signal}: stopping the fleet (Ctrl-C again to force)`);
          running.stop().then(resolve, (err: unknown) => {
            log(`stopping failed: ${(err as Error).message}`);
            resolve();
          });
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
        process.on("SIGHUP", stop);
      });
    });

  fleet
    .command("down")
    .description("stop the fleet in --dir (detached or not) and any process it left behind")
    .addHelpText("after", examples("flotilla fleet down --dir .flotilla"))
    .option("--dir <dir>", "the fleet directory", ".flotilla")
    .action(async (opts: { dir: string }) => {
      const had = await readFleet(opts.dir);
      const stopped = await stopFleet(opts.dir);
      process.stdout.write(stopped || had ? `Fleet in ${opts.dir} stopped.\n` : `No fleet running in ${opts.dir}.\n`);
    });

  const status = fleet
    .command("status")
    .description("print what fleet.json says about the fleet in --dir")
    .addHelpText(
      "after",
      examples(
        "flotilla fleet status --dir .flotilla",
        "flotilla fleet status -o wide                  # with the processes",
        "flotilla fleet status -o json | jq -r '.clusters[] | select(.role == \"member\") | .kubeconfigPath'",
      ),
    )
    .option("--dir <dir>", "the fleet directory", ".flotilla");
  addOutputOption(status, TEXT_FORMATS, "text, wide (with the processes), json or yaml (fleet.json without credentials)").action(
    async (opts: { dir: string; output: TextFormat }) => {
      const info = await readFleet(opts.dir);
      if (!info) {
        // Data goes to stdout only when there is some: a script reading it sees no half answer.
        if (isDataFormat(opts.output)) process.stderr.write(`error: no fleet running in ${opts.dir}\n`);
        else process.stdout.write(`No fleet running in ${opts.dir}.\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(
        formatOutput(
          opts.output,
          () => printedFleet(info),
          (wide) =>
            [
              summary(info.dir, info.clusters),
              `State: ${info.state}, owner pid ${info.ownerPid}${info.detached ? " (detached)" : ""}`,
              ...(wide ? processLines(info) : []),
              "",
            ].join("\n"),
        ),
      );
    },
  );
}
