// `flotilla up` / `npm start`: the whole story on the local fleet. Builds the control plane if
// needed, starts the fleet, installs CRDs, definitions and Clusters, runs the controller with the
// embedded Git repository, applies the quickstart, shows live progress until it is Healthy, then
// keeps running as the controller. `flotilla down` stops a detached one.

import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import { parseDuration } from "../api/duration.js";
import { GROUP, VERSION } from "../api/labels.js";
import { parseYamlStream } from "../api/serialize.js";
import type { ApplicationDeployment, Manifest } from "../api/types.js";
import { Controller } from "../controller/controller.js";
import { type FleetCluster, startDetachedFleet, startFleet, stopFleet } from "../fleet/index.js";
import { loadKubeConfig, untilSignal } from "./kubeconfig.js";
import { builtinDefinitionsDir } from "./inputs.js";
import { applyManifests, bundleDir, installToHub, registerClusters } from "./install.js";
import { createLogger } from "./logger.js";
import { packageRoot } from "./package-root.js";
import { progressLines } from "./progress.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";

const PACKAGE_ROOT = packageRoot();
const QUICKSTART = join(PACKAGE_ROOT, "examples", "quickstart", "app.yaml");

interface UpOptions {
  dir: string;
  example: boolean;
  resync: string;
  detach: boolean;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function prepareHub(hub: FleetCluster, members: FleetCluster[]): Promise<KubeConfig> {
  const kc = loadKubeConfig(hub.kubeconfigPath);
  // Without the controller's Deployment: the local fleet has no container runtime, so the
  // controller runs as a process of this command (or a detached one) instead.
  await installToHub({ kubeConfig: kc, bundleDir: bundleDir("crds"), definitionDirs: [builtinDefinitionsDir()], log: (l) => say(`  ${l}`) });
  const registrations = await Promise.all(members.map(async (m) => ({ name: m.name, labels: m.labels, kubeconfig: await readFile(m.kubeconfigPath, "utf8") })));
  await registerClusters(kc, registrations);
  say(`  registered clusters ${members.map((m) => m.name).join(", ")} (kubeconfigs in Secrets of flotilla-system)`);
  return kc;
}

async function applyExample(kc: KubeConfig): Promise<ApplicationDeployment> {
  const docs = parseYamlStream(await readFile(QUICKSTART, "utf8")) as Manifest[];
  const deployment = docs.find((d) => d.kind === "ApplicationDeployment") as unknown as ApplicationDeployment;
  deployment.metadata.namespace ??= "default";
  await applyManifests(kc, [deployment as unknown as Manifest]);
  say(`  applied ${QUICKSTART.slice(PACKAGE_ROOT.length + 1)} (ApplicationDeployment default/${deployment.metadata.name})`);
  return deployment;
}

/** Redraw the progress view until the deployment is Healthy (or Failed); returns the last phase. */
async function watchProgress(kc: KubeConfig, namespace: string, name: string, timeoutMs: number): Promise<string | undefined> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const tty = process.stdout.isTTY;
  let drawn = 0;
  let last = "";
  const deadline = Date.now() + timeoutMs;
  let phase: string | undefined;
  while (Date.now() < deadline) {
    const ad = (await api
      .getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "applicationdeployments", name })
      .catch(() => undefined)) as ApplicationDeployment | undefined;
    const lines = progressLines(ad);
    const text = lines.join("\n");
    if (text !== last) {
      if (tty && drawn) process.stdout.write(`\x1b[${drawn}A\x1b[0J`);
      process.stdout.write(`${text}\n`);
      drawn = lines.length;
      last = text;
    }
    phase = ad?.status?.phase;
    if (phase === "Healthy" && ad?.status?.observedGeneration === ad?.metadata.generation) return phase;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return phase;
}

function nextSteps(dir: string, members: FleetCluster[]): string[] {
  const hub = join(dir, "hub.kubeconfig");
  const member = members.find((m) => m.name === "prod-eu") ?? members[0];
  return [
    "",
    "Try next:",
    `  export KUBECONFIG=${hub}`,
    "  kubectl get applicationdeployments -A          # PHASE, TARGET, STABLE, PROGRESS",
    "  kubectl get clusters                           # the registered member clusters",
    "  kubectl describe ad example-deploy             # conditions, placement and events",
    `  kubectl edit ad example-deploy                 # change settings.image: it moves wave by wave, gated by health`,
    ...(member ? [`  kubectl --kubeconfig ${member.kubeconfigPath} get deploy,hpa -n default`] : []),
    `  git --git-dir ${join(dir, "controller", "env.git")} log --stat   # the environment repository`,
  ];
}

function controllerPidFile(dir: string): string {
  return join(dir, "controller.pid");
}

async function stopDetachedController(dir: string): Promise<boolean> {
  const file = controllerPidFile(dir);
  if (!existsSync(file)) return false;
  const pid = Number((await readFile(file, "utf8")).trim());
  let stopped = false;
  if (pid > 0) {
    try {
      process.kill(pid, "SIGTERM");
      stopped = true;
      for (let i = 0; i < 50; i++) {
        process.kill(pid, 0);
        await new Promise((r) => setTimeout(r, 100));
      }
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await rm(file, { force: true });
  return stopped;
}

async function up(opts: UpOptions): Promise<void> {
  const started = Date.now();
  const resyncMs = parseDuration(opts.resync, "--resync");
  say("Starting the local fleet (the control plane is built once and cached)...");
  const log = (line: string) => say(`  ${line}`);
  let stopFleetNow: () => Promise<void>;
  let hub: FleetCluster;
  let members: FleetCluster[];
  if (opts.detach) {
    const info = await startDetachedFleet({ dir: opts.dir, log });
    hub = info.clusters.find((c) => c.role === "hub") as FleetCluster;
    members = info.clusters.filter((c) => c.role === "member");
    stopFleetNow = async () => void (await stopFleet(opts.dir));
  } else {
    const fleet = await startFleet({ dir: opts.dir, log });
    hub = fleet.hub;
    members = fleet.members;
    stopFleetNow = () => fleet.stop();
  }
  try {
    say("Installing Flotilla on the hub...");
    const kc = await prepareHub(hub, members);
    let controller: Controller | undefined;
    const dataDir = join(opts.dir, "controller");
    if (opts.detach) {
      mkdirSync(join(opts.dir, "logs"), { recursive: true });
      const fd = openSync(join(opts.dir, "logs", "controller.log"), "a");
      const main = fileURLToPath(new URL("./main.js", import.meta.url));
      const args = [
        main,
        "controller",
        "--kubeconfig",
        hub.kubeconfigPath,
        "--data-dir",
        dataDir,
        "--resync",
        opts.resync,
        "--metrics-addr",
        "127.0.0.1:0",
        "--no-leader-elect",
      ];
      const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", fd, fd] });
      closeSync(fd);
      child.unref();
      await writeFile(controllerPidFile(opts.dir), `${child.pid}\n`);
      say(`Controller running in the background (pid ${child.pid}); logs in ${join(opts.dir, "logs", "controller.log")}`);
    } else {
      controller = new Controller({
        kubeConfig: kc,
        dataDir,
        resyncIntervalMs: resyncMs,
        metricsAddr: "127.0.0.1:0",
        leaderElection: false,
        logger: createLogger({ file: join(opts.dir, "logs", "controller.log") }),
      });
      await controller.start();
      say(`Controller running; metrics on http://127.0.0.1:${controller.opsPort}/metrics; logs in ${join(opts.dir, "logs", "controller.log")}`);
    }
    if (opts.example) {
      const ad = await applyExample(kc);
      say("");
      const phase = await watchProgress(kc, ad.metadata.namespace ?? "default", ad.metadata.name, 10 * 60_000);
      say(
        phase === "Healthy"
          ? `\nHealthy after ${((Date.now() - started) / 1000).toFixed(0)} s.`
          : `\nNot Healthy yet (phase ${phase ?? "unknown"}); see kubectl describe ad ${ad.metadata.name}.`,
      );
    }
    for (const l of nextSteps(opts.dir, members)) say(l);
    if (opts.detach) {
      say(`\nEverything keeps running in the background. Stop it with: flotilla down --dir ${opts.dir}`);
      return;
    }
    say("\nPress Ctrl-C to stop the controller and the fleet.");
    await untilSignal();
    say("Stopping the controller and the fleet...");
    await controller?.stop();
    await stopFleetNow();
  } catch (e) {
    if (!opts.detach) await stopFleetNow();
    throw e;
  }
}

export function registerUpCommands(program: Command): void {
  program
    .command("up")
    .description(summaryOf("up"))
    .addHelpText("after", examples("flotilla up", "flotilla up --detach --no-example"))
    .option("--dir <dir>", "fleet and controller directory", ".flotilla")
    .option("--no-example", "do not apply examples/quickstart")
    .option("--resync <duration>", "drift-check period per cluster", "5m")
    .option("--detach", "leave the fleet and the controller running in the background", false)
    .action(async (opts: UpOptions) => up(opts));

  program
    .command("down")
    .description(summaryOf("down"))
    .addHelpText("after", examples("flotilla down", "flotilla down --dir .flotilla"))
    .option("--dir <dir>", "fleet and controller directory", ".flotilla")
    .action(async (opts: { dir: string }) => {
      const controller = await stopDetachedController(opts.dir);
      const fleet = await stopFleet(opts.dir);
      say(
        controller || fleet
          ? `Stopped ${[controller ? "the controller" : "", fleet ? "the fleet" : ""].filter(Boolean).join(" and ")} in ${opts.dir}.`
          : `Nothing running in ${opts.dir}.`,
      );
    });
}
