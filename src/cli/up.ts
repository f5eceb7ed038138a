// `flotilla up` / `npm start`: the whole story on the local fleet. Builds the control plane if
// needed, starts the fleet, installs CRDs, definitions and Clusters, runs the controller with the
// embedded Git repository, applies the quickstart, shows live progress until it is Healthy, then
// keeps running as the controller. `flotilla down` stops a detached one. With `--hub-kubeconfig`
// (or `--hub-context`) and `--member`, the same story runs on clusters the user already has (kind,
// k3d, a cloud): no fleet is started, each member is registered as `cluster add` does.

import { type ChildProcess, spawn } from "node:child_process";
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
import { FlotillaError } from "../api/errors.js";
import type { ListeningPorts } from "../controller/ports-file.js";
import { createUiIdentities, type UiIdentity, uiInfoFile, writeUiInfo } from "../ui/server/identities.js";
import { addCluster } from "./cluster.js";
import { localAgentLog, parseUpMode, pulledMembers, startLocalAgent, stopLocalAgents } from "./local-agents.js";
import { registerPullCluster } from "./pull-cluster.js";
import { type MemberSpec, type OwnClusters, ownClustersOf } from "./cluster-args.js";
import { loadKubeConfig, untilSignal } from "./kubeconfig.js";
import { builtinDefinitionsDir } from "./inputs.js";
import { applyManifests, bundleDir, ensureControllerNamespace, installToHub, registerClusterFiles } from "./install.js";
import { createLogger } from "./logger.js";
import { packageRoot } from "./package-root.js";
import { progressLines } from "./progress.js";
import { summaryOf } from "./command-index.js";
import { exitedProcess, listeningPorts, type WatchedProcess } from "./watched-process.js";
import { examples } from "./help.js";

const PACKAGE_ROOT = packageRoot();
const QUICKSTART = join(PACKAGE_ROOT, "examples", "quickstart", "app.yaml");

interface UpOptions {
  dir: string;
  mode: string;
  example: boolean;
  resync: string;
  detach: boolean;
  hubKubeconfig?: string;
  hubContext?: string;
  member: string[];
}

const say = (line: string) => process.stdout.write(`${line}\n`);

async function prepareHub(
  hub: FleetCluster,
  members: FleetCluster[],
  pulled: readonly string[],
): Promise<{ kc: KubeConfig; agentKubeconfigs: Map<string, string> }> {
  const kc = loadKubeConfig(hub.kubeconfigPath);
  // Without the controller's Deployment: the local fleet has no container runtime, so the
  // controller runs as a process of this command (or a detached one) instead.
  await installToHub({ kubeConfig: kc, bundleDir: bundleDir("crds"), definitionDirs: [builtinDefinitionsDir()], log: (l) => say(`  ${l}`) });
  // Pushed members' registration makes it too; with every member pulled nothing else would.
  await ensureControllerNamespace(kc);
  const pushed = members.filter((m) => !pulled.includes(m.name));
  if (pushed.length) {
    await registerClusterFiles(kc, pushed);
    say(`  registered clusters ${pushed.map((m) => m.name).join(", ")} (push mode: kubeconfigs in Secrets of flotilla-system)`);
  }
  const agentKubeconfigs = new Map<string, string>();
  for (const m of members.filter((x) => pulled.includes(x.name))) {
    const { hubKubeconfig } = await registerPullCluster({ hub: kc, name: m.name, labels: m.labels });
    agentKubeconfigs.set(m.name, hubKubeconfig);
  }
  if (agentKubeconfigs.size)
    say(`  registered clusters ${[...agentKubeconfigs.keys()].join(", ")} (pull mode: an agent per member, no member credential on the hub)`);
  return { kc, agentKubeconfigs };
}

/**
 * The quick start's image on clusters with real nodes. `myimage-v1` exists only for the local
 * fleet, whose simulated nodes run no containers; a real kubelet must pull something, and the
 * example's `sleep 3600` needs a shell's tools.
 */
const REAL_NODES_EXAMPLE_IMAGE = "busybox:1.36";

async function applyExample(kc: KubeConfig, image?: string): Promise<ApplicationDeployment> {
  const docs = parseYamlStream(await readFile(QUICKSTART, "utf8")) as Manifest[];
  const deployment = docs.find((d) => d.kind === "ApplicationDeployment") as unknown as ApplicationDeployment;
  deployment.metadata.namespace ??= "default";
  if (image) {
    for (const revision of deployment.spec.appRevisions) {
      for (const component of revision.template.spec.components) component.settings = { ...component.settings, image };
    }
    say(`  image ${image} instead of the example's (your nodes pull it; the local fleet's never run one)`);
  }
  await applyManifests(kc, [deployment as unknown as Manifest]);
  say(`  applied ${QUICKSTART.slice(PACKAGE_ROOT.length + 1)} (ApplicationDeployment default/${deployment.metadata.name})`);
  return deployment;
}

/** Redraw the progress view until the deployment is Healthy (or Failed); returns the last phase. */
async function watchProgress(
  kc: KubeConfig,
  namespace: string,
  name: string,
  timeoutMs: number,
  watched: readonly WatchedProcess[],
): Promise<string | undefined> {
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
    const exited = await exitedProcess(watched);
    if (exited) throw exited;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return phase;
}

/** What `up` runs on, wherever it came from: the hub, how the next steps reach it, how to stop it. */
interface UpTarget {
  kc: KubeConfig;
  /** Pull members of the local fleet: the agent's hub kubeconfig and the member's kubeconfig file. */
  agents?: Array<{ name: string; hubKubeconfig: string; memberKubeconfigPath: string }>;
  /** `--kubeconfig F [--context C]` for a detached controller and for the user's kubectl. */
  hubArgs: string[];
  /** The line that points the user's kubectl at the hub. */
  hubHint: string;
  /** A member's kubectl, to look at what landed there. */
  memberKubectl?: string;
  stop: () => Promise<void>;
}

function nextSteps(dir: string, target: UpTarget): string[] {
  return [
    "",
    "Try next:",
    `  ${target.hubHint}`,
    "  kubectl get applicationdeployments -A          # PHASE, TARGET, STABLE, PROGRESS",
    "  kubectl get clusters                           # the registered member clusters",
    "  kubectl describe ad example-deploy             # conditions, placement and events",
    `  kubectl edit ad example-deploy                 # change settings.image: it moves wave by wave, gated by health`,
    ...(target.memberKubectl ? [`  ${target.memberKubectl} get deploy,hpa -n default`] : []),
    `  git --git-dir ${join(dir, "controller", "env.git")} log --stat   # the environment repository`,
  ];
}

/** The embedded local fleet, started (or found running when detached), with Flotilla installed. */
async function localFleet(opts: UpOptions): Promise<UpTarget> {
  say("Starting the local fleet (the control plane is built once and cached)...");
  const log = (line: string) => say(`  ${line}`);
  let hub: FleetCluster;
  let members: FleetCluster[];
  let stop: () => Promise<void>;
  if (opts.detach) {
    const info = await startDetachedFleet({ dir: opts.dir, log });
    hub = info.clusters.find((c) => c.role === "hub") as FleetCluster;
    members = info.clusters.filter((c) => c.role === "member");
    stop = async () => void (await stopFleet(opts.dir));
  } else {
    const fleet = await startFleet({ dir: opts.dir, log });
    hub = fleet.hub;
    members = fleet.members;
    stop = () => fleet.stop();
  }
  try {
    say("Installing Flotilla on the hub...");
    const pulled = pulledMembers(
      parseUpMode(opts.mode),
      members.map((m) => m.name),
    );
    const { kc, agentKubeconfigs } = await prepareHub(hub, members, pulled);
    const member = members.find((m) => m.name === "prod-eu") ?? members[0];
    return {
      kc,
      agents: members
        .filter((m) => agentKubeconfigs.has(m.name))
        .map((m) => ({ name: m.name, hubKubeconfig: agentKubeconfigs.get(m.name) as string, memberKubeconfigPath: m.kubeconfigPath })),
      hubArgs: ["--kubeconfig", hub.kubeconfigPath],
      hubHint: `export KUBECONFIG=${hub.kubeconfigPath}`,
      ...(member ? { memberKubectl: `kubectl --kubeconfig ${member.kubeconfigPath}` } : {}),
      stop: opts.detach ? async () => {} : stop,
    };
  } catch (e) {
    if (!opts.detach) await stop();
    throw e;
  }
}

/** The user's own hub and members: CRDs and definitions on the hub, each member registered as `cluster add` does. */
async function ownClusters(own: OwnClusters): Promise<UpTarget> {
  const kc = loadKubeConfig(own.hubKubeconfig, own.hubContext);
  // Every member's kubeconfig is read before anything is written, so a typo changes nothing.
  const members = own.members.map((m) => {
    try {
      return { ...m, kc: loadKubeConfig(m.kubeconfig, m.context) };
    } catch (e) {
      throw e instanceof FlotillaError ? new FlotillaError(`--member ${m.name}: ${e.message.replace(/^--(kubeconfig|context): /, "")}`) : e;
    }
  });
  say(`Installing Flotilla on the hub (${kc.getCurrentCluster()?.server ?? kc.getCurrentContext()})...`);
  await installToHub({ kubeConfig: kc, bundleDir: bundleDir("crds"), definitionDirs: [builtinDefinitionsDir()], log: (l) => say(`  ${l}`) });
  for (const m of members) {
    say(
      `Registering member ${m.name} (${Object.entries(m.labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(",")})...`,
    );
    await addCluster({ name: m.name, member: m.kc, hub: kc, labels: m.labels, log: (l) => say(`  ${l}`) });
  }
  const hubArgs = [...(own.hubKubeconfig ? ["--kubeconfig", own.hubKubeconfig] : []), ...(own.hubContext ? ["--context", own.hubContext] : [])];
  const first = own.members[0] as MemberSpec;
  return {
    kc,
    hubArgs,
    hubHint: `alias k='kubectl ${hubArgs.join(" ")}'   # then use k instead of kubectl below`,
    memberKubectl: `kubectl --kubeconfig ${first.kubeconfig}${first.context ? ` --context ${first.context}` : ""}`,
    stop: async () => {},
  };
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

/** The web UI's port: 8081 when it is free on the loopback interface, else 0 (the controller picks one). */
async function uiPortFor(): Promise<number> {
  const { createServer } = await import("node:net");
  const free = await new Promise<boolean>((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(UI_DEFAULT_PORT, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
  return free ? UI_DEFAULT_PORT : 0;
}

const UI_DEFAULT_PORT = 8081;

/** The UI's URL and a sign-in link per identity of the local fleet (also written to <dir>/ui.json). */
async function announceUi(dir: string, url: string, identities: readonly UiIdentity[] | undefined): Promise<void> {
  if (!identities) {
    say(`Web UI on ${url} (sign in with a token of the hub, e.g. kubectl create token <serviceaccount>; its RBAC decides what it sees and does)`);
    return;
  }
  const info = await writeUiInfo(dir, url, identities);
  say(`Web UI on ${url}; sign in with a link (also in ${uiInfoFile(dir)}):`);
  for (const i of info.identities) say(`  as ${i.role.padEnd(8)} ${(i.role === "viewer" ? "(read only)" : "(promote, abort, ...)").padEnd(21)}  ${i.signIn}`);
}

async function up(opts: UpOptions): Promise<void> {
  const started = Date.now();
  const resyncMs = parseDuration(opts.resync, "--resync");
  const own = ownClustersOf(opts);
  if (own && parseUpMode(opts.mode) !== "push")
    throw new FlotillaError(
      `--mode ${opts.mode} runs agents as local processes beside the local fleet; on your own clusters install the agent in each member: flotilla cluster add NAME --mode pull (see docs/pull-mode.md).`,
    );
  const target = own ? await ownClusters(own) : await localFleet(opts);
  const agents: ChildProcess[] = [];
  const watched: WatchedProcess[] = [];
  try {
    const kc = target.kc;
    let controller: Controller | undefined;
    const dataDir = join(opts.dir, "controller");
    // Agents fetch from the controller's Git server. The controller picks its ports (port 0) and
    // says which: a port picked here could be taken by another process before the controller binds it.
    const gitServeAddr = target.agents?.length ? "127.0.0.1:0" : "off";
    // The local fleet's API server dials loopback: the webhook registers https://127.0.0.1:<port>/validate.
    // Your own hub could not reach this machine's loopback, so it gets no webhook from `up`.
    const admissionAddr = own ? "off" : "127.0.0.1:0";
    const uiAddr = `127.0.0.1:${await uiPortFor()}`;
    // The local fleet's sign-in identities; on the user's own hub, their own identities sign in.
    const identities = own ? undefined : await createUiIdentities(kc);
    let ports: ListeningPorts;
    if (opts.detach) {
      mkdirSync(join(opts.dir, "logs"), { recursive: true });
      const portsFile = join(dataDir, "ports.json");
      await rm(portsFile, { force: true });
      const fd = openSync(join(opts.dir, "logs", "controller.log"), "a");
      const main = fileURLToPath(new URL("./main.js", import.meta.url));
      const args = [
        main,
        "controller",
        ...target.hubArgs,
        "--data-dir",
        dataDir,
        "--resync",
        opts.resync,
        "--metrics-addr",
        "127.0.0.1:0",
        "--git-serve-addr",
        gitServeAddr,
        "--admission-addr",
        admissionAddr,
        "--ui-addr",
        uiAddr,
        "--ports-file",
        portsFile,
        "--no-leader-elect",
      ];
      const child = spawn(process.execPath, args, { detached: true, stdio: ["ignore", fd, fd] });
      closeSync(fd);
      child.unref();
      const watchedController = { what: "controller", child, log: join(opts.dir, "logs", "controller.log") };
      watched.push(watchedController);
      await writeFile(controllerPidFile(opts.dir), `${child.pid}\n`);
      say(`Controller running in the background (pid ${child.pid}); logs in ${join(opts.dir, "logs", "controller.log")}`);
      ports = await listeningPorts(portsFile, watchedController, 120_000);
    } else {
      controller = new Controller({
        kubeConfig: kc,
        dataDir,
        resyncIntervalMs: resyncMs,
        metricsAddr: "127.0.0.1:0",
        // "off" is the CLI's word; the option's "no server" is its absence.
        ...(gitServeAddr === "off" ? {} : { gitServeAddr }),
        ...(admissionAddr === "off" ? {} : { admissionAddr }),
        uiAddr,
        leaderElection: false,
        logger: createLogger({ file: join(opts.dir, "logs", "controller.log") }),
      });
      await controller.start();
      ports = controller.listeningPorts;
      say(`Controller running; metrics on http://127.0.0.1:${controller.opsPort}/metrics; logs in ${join(opts.dir, "logs", "controller.log")}`);
    }
    await announceUi(opts.dir, `http://127.0.0.1:${ports.ui}`, identities);
    for (const a of target.agents ?? []) {
      const agent = await startLocalAgent({
        dir: opts.dir,
        cluster: a.name,
        hubKubeconfig: a.hubKubeconfig,
        memberKubeconfigPath: a.memberKubeconfigPath,
        gitUrl: `http://127.0.0.1:${ports.git}/env.git`,
        detach: opts.detach,
      });
      agents.push(agent);
      watched.push({ what: `agent of ${a.name}`, child: agent, log: localAgentLog(opts.dir, a.name) });
    }
    if (agents.length)
      say(`Agents running for ${(target.agents ?? []).map((a) => a.name).join(", ")} (pull mode); logs in ${join(opts.dir, "logs", "agent-<cluster>.log")}`);
    if (opts.example) {
      const ad = await applyExample(kc, own ? REAL_NODES_EXAMPLE_IMAGE : undefined);
      say("");
      const phase = await watchProgress(kc, ad.metadata.namespace ?? "default", ad.metadata.name, 10 * 60_000, watched);
      say(
        phase === "Healthy"
          ? `\nHealthy after ${((Date.now() - started) / 1000).toFixed(0)} s.`
          : `\nNot Healthy yet (phase ${phase ?? "unknown"}); see kubectl describe ad ${ad.metadata.name}.`,
      );
    }
    for (const l of nextSteps(opts.dir, target)) say(l);
    if (opts.detach) {
      say(`\nEverything keeps running in the background. Stop it with: flotilla down --dir ${opts.dir}`);
      return;
    }
    say(own ? "\nPress Ctrl-C to stop the controller (your clusters keep what was delivered)." : "\nPress Ctrl-C to stop the controller and the fleet.");
    await untilSignal();
    say(own ? "Stopping the controller..." : "Stopping the controller and the fleet...");
    await stopAgents(agents);
    await controller?.stop();
    await target.stop();
  } catch (e) {
    if (!opts.detach) await stopAgents(agents);
    else say(`Stop what still runs with: flotilla down --dir ${opts.dir}`);
    await target.stop();
    throw e;
  }
}

async function stopAgents(agents: ChildProcess[]): Promise<void> {
  await Promise.all(
    agents.map(
      (a) =>
        new Promise<void>((resolve) => {
          if (a.exitCode !== null || a.signalCode !== null) return resolve();
          a.once("exit", () => resolve());
          a.kill("SIGTERM");
        }),
    ),
  );
}

export function registerUpCommands(program: Command): void {
  program
    .command("up")
    .description(summaryOf("up"))
    .addHelpText(
      "after",
      examples(
        "flotilla up",
        "flotilla up --detach --no-example",
        "flotilla up --mode pull",
        "flotilla up --hub-context kind-hub --member eu=$HOME/.kube/config,context=kind-eu,region=eu --member us=$HOME/.kube/config,context=kind-us",
      ),
    )
    .option("--dir <dir>", "fleet and controller directory", ".flotilla")
    .option("--hub-kubeconfig <file>", "run on your own hub instead of the local fleet: its kubeconfig (needs --member)")
    .option("--hub-context <name>", "the context of the hub's kubeconfig")
    .option(
      "--member <NAME=KUBECONFIG[,context=CTX][,k=v...]>",
      "a member of your own to register (as `cluster add`) and deliver to; labels after the kubeconfig, usage=production when none (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [],
    )
    .option("--mode <mode>", "push (the controller applies), pull (an agent per member applies) or mixed (prod-eu pulls, the others are pushed)", "push")
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
      await stopLocalAgents(opts.dir);
      const fleet = await stopFleet(opts.dir);
      say(
        controller || fleet
          ? `Stopped ${[controller ? "the controller" : "", fleet ? "the fleet" : ""].filter(Boolean).join(" and ")} in ${opts.dir}.`
          : `Nothing running in ${opts.dir}.`,
      );
    });
}
