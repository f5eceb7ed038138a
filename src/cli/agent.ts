// `flotilla agent`: the pull-mode agent, run inside a member cluster (deploy/agent/) or, on the
// local fleet, as a process per member (`flotilla up --mode pull`). See src/agent/agent.ts.

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { KubeConfig } from "@kubernetes/client-node";
import { type Command, Option } from "commander";
import { parseDuration } from "../api/duration.js";
import { FlotillaError } from "../api/errors.js";
import { GIT_SERVE_PATH, PULL_CLUSTER_NAME_MAX } from "../api/pull.js";
import { Agent } from "../agent/agent.js";
import { startOpsServer } from "../controller/metrics.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { loadKubeConfig, untilSignal } from "./kubeconfig.js";
import { createLogger } from "./logger.js";

interface AgentFlags {
  cluster: string;
  hubKubeconfig: string;
  gitUrl: string;
  gitTokenFile?: string;
  kubeconfig?: string;
  context?: string;
  dataDir: string;
  namespace: string;
  metricsAddr: string;
  leaderElect: boolean;
  leaseDuration: string;
  poll: string;
  resync: string;
}

/** The member: `--kubeconfig`, else the Pod's own credentials, else KUBECONFIG as kubectl. */
function memberConfig(flags: AgentFlags): KubeConfig {
  if (flags.kubeconfig || !process.env.KUBERNETES_SERVICE_HOST) return loadKubeConfig(flags.kubeconfig, flags.context);
  const kc = new KubeConfig();
  kc.loadFromCluster();
  return kc;
}

/**
 * The token for Git: the file, else FLOTILLA_GIT_TOKEN, else the hub identity's own token — but
 * only for the controller's Git server (a URL whose path is /env.git): a hub token is never shown to a
 * team's remote, which gets no token then (a public repository) unless one is given.
 */
export function gitToken(flags: Pick<AgentFlags, "gitTokenFile" | "gitUrl">, hub: KubeConfig, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flags.gitTokenFile) {
    try {
      return readFileSync(flags.gitTokenFile, "utf8").trim();
    } catch {
      throw new FlotillaError(`--git-token-file: ${flags.gitTokenFile} cannot be read; mount the Secret flotilla-agent-git there or drop the flag.`);
    }
  }
  if (env.FLOTILLA_GIT_TOKEN) return env.FLOTILLA_GIT_TOKEN;
  let path = "";
  try {
    path = new URL(flags.gitUrl).pathname.replace(/\/+$/, "");
  } catch {
    throw new FlotillaError(
      `--git-url: "${flags.gitUrl}" is not a URL; pass the controller's Git server (https://HOST:8082${GIT_SERVE_PATH}) or your remote's HTTPS URL.`,
    );
  }
  return path === GIT_SERVE_PATH ? hub.getCurrentUser()?.token || undefined : undefined;
}

export function registerAgentCommand(program: Command): void {
  program
    .command("agent")
    .description(summaryOf("agent"))
    .addHelpText(
      "after",
      examples(
        "flotilla agent --cluster prod-eu --hub-kubeconfig /etc/flotilla/hub/kubeconfig --git-url https://flotilla.hub.example.com:8082/env.git",
        "flotilla agent --cluster prod-eu --hub-kubeconfig hub-agent.kubeconfig --kubeconfig prod-eu.kubeconfig --git-url http://127.0.0.1:8082/env.git --no-leader-elect",
      ),
    )
    .requiredOption("--cluster <name>", "the Cluster this agent syncs (its folder clusters/<name>/ of the environment repository)")
    .requiredOption("--hub-kubeconfig <file>", "the agent's identity on the hub (`flotilla cluster add NAME --mode pull` makes it)")
    .addOption(
      new Option("--git-url <url>", "the environment repository: the controller's Git server (…:8082/env.git) or the team's remote")
        .env("FLOTILLA_GIT_URL")
        .makeOptionMandatory(),
    )
    .option(
      "--git-token-file <file>",
      "token for Git (default: FLOTILLA_GIT_TOKEN, else the hub kubeconfig's token for the controller's Git server, a URL whose path is /env.git)",
    )
    .option("--kubeconfig <file>", "the member's kubeconfig (default: the Pod's service account, else KUBECONFIG)")
    .option("--context <name>", "the context of the member's kubeconfig")
    .option("--data-dir <dir>", "where the fetched environment repository is kept", "/data")
    .option("--namespace <ns>", "namespace of the agent's Lease on the member", "flotilla-agent")
    .option("--metrics-addr <addr>", "address of /metrics, /healthz and /readyz", ":8080")
    .option("--no-leader-elect", "work without taking the Lease (a single replica)")
    .option("--lease-duration <duration>", "how long the Lease holds without renewal", "15s")
    .option("--poll <duration>", "how often Git is polled besides the hub's notice of each commit", "30s")
    .option("--resync <duration>", "drift-check period (the Cluster's spec.resyncInterval overrides it)", "5m")
    .action(async (flags: AgentFlags) => {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(flags.cluster) || flags.cluster.length > PULL_CLUSTER_NAME_MAX)
        throw new FlotillaError(
          `--cluster: "${flags.cluster}" is not a Cluster name of pull mode (a DNS label of at most ${PULL_CLUSTER_NAME_MAX} characters).`,
        );
      const leaseMs = parseDuration(flags.leaseDuration, "--lease-duration");
      if (leaseMs < 1000 || leaseMs % 1000 !== 0)
        throw new FlotillaError(`--lease-duration: "${flags.leaseDuration}" must be a whole number of seconds, at least 1s.`);
      const hub = loadKubeConfig(flags.hubKubeconfig);
      const token = gitToken(flags, hub);
      const logger = createLogger();
      const identity = process.env.POD_NAME || `${hostname()}-${process.pid}`;
      const agent = new Agent({
        cluster: flags.cluster,
        hub,
        member: memberConfig(flags),
        gitUrl: flags.gitUrl,
        ...(token ? { gitToken: token } : {}),
        dataDir: flags.dataDir,
        namespace: flags.namespace,
        identity,
        leaderElection: flags.leaderElect,
        leaseDurationSeconds: leaseMs / 1000,
        pollIntervalMs: parseDuration(flags.poll, "--poll"),
        resyncIntervalMs: parseDuration(flags.resync, "--resync"),
        logger,
        onLostLease: () => {
          logger.flush();
          process.exit(1);
        },
      });
      const { server, port } = await startOpsServer({ address: flags.metricsAddr, metrics: agent.metrics, ready: () => agent.ready() });
      logger.info({ cluster: flags.cluster, identity, metricsPort: port }, "agent starting");
      await agent.start();
      const signal = await untilSignal();
      logger.info({ signal }, "stopping");
      await agent.stop();
      server.close();
      logger.flush();
    });
}
