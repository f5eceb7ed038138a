// `flotilla history NAME`: a deployment's steps, newest first, as the environment repository
// records them (time, commit, revision, wave, batch, the clusters whose folder changed, the source
// commit, what happened). Reads Git only; the hub is asked for nothing but the namespace default.

import type { Command } from "commander";
import { FlotillaError } from "../api/errors.js";
import { readDeploymentLog } from "../gitops/deployment-log.js";
import { type DeploymentStep, deploymentSteps } from "../gitops/deployment-steps.js";
import { summaryOf } from "./command-index.js";
import { defaultEnvRepo, openEnvRepoSource } from "./env-repo-source.js";
import { EXIT_USAGE } from "./exit-codes.js";
import { examples } from "./help.js";
import { addOutputOption, formatData, TABLE_FORMATS, type TableFormat } from "./output.js";
import { textTable } from "./table.js";

interface HistoryOptions {
  namespace?: string;
  envRepo?: string;
  envBranch?: string;
  kubeconfig?: string;
  context?: string;
  output: TableFormat;
  limit: number;
}

const SHORT = 12;

/** The steps as a table, newest first; `wide` adds the generation and full commit and source ids. */
export function historyTable(steps: readonly DeploymentStep[], wide: boolean): string {
  const short = (oid: string | undefined) => (oid === undefined ? "-" : wide ? oid : oid.slice(0, SHORT));
  const head = ["TIME", "COMMIT", "REVISION", ...(wide ? ["GENERATION"] : []), "WAVE", "BATCH", "CLUSTERS", "SOURCE", "SUMMARY"];
  const rows = steps.map((s) => [
    s.time,
    short(s.commit),
    s.revision ?? "-",
    ...(wide ? [s.generation === undefined ? "-" : String(s.generation)] : []),
    s.wave ?? "-",
    s.batch ?? "-",
    s.clusters.join(",") || "-",
    short(s.sourceCommit),
    s.summary,
  ]);
  return textTable(head, rows);
}

function positiveInteger(command: Command) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) {
      command.error(`error: --limit: "${value}" is not a positive whole number. Use e.g. --limit 50.`, { exitCode: EXIT_USAGE, code: "flotilla.invalidLimit" });
    }
    return n;
  };
}

/** -n, else the kubeconfig context's namespace when a hub is named, else `default`. */
async function namespaceFor(opts: HistoryOptions): Promise<string> {
  if (opts.namespace) return opts.namespace;
  if (opts.kubeconfig === undefined && opts.context === undefined) return "default";
  const { loadKubeConfig, namespaceOf } = await import("./kubeconfig.js");
  return namespaceOf(loadKubeConfig(opts.kubeconfig, opts.context), undefined);
}

export function registerHistoryCommand(program: Command): void {
  const history = program
    .command("history")
    .description(summaryOf("history"))
    .argument("<name>", "the ApplicationDeployment")
    .addHelpText(
      "after",
      examples(
        "flotilla history example-deploy                                  # the local fleet's repository (.flotilla/controller/env.git)",
        "flotilla history shop -n team-a --env-repo ~/src/env-repo",
        "FLOTILLA_GIT_TOKEN=… flotilla history shop -n team-a --env-repo https://git.example.com/platform/env.git -o json",
      ),
    )
    .option("-n, --namespace <ns>", "namespace of the deployment (default: with --kubeconfig or --context, the context's; else default)")
    .option(
      "--env-repo <path|url>",
      "the environment repository: a clone, a bare repository, or an HTTPS URL (token from FLOTILLA_GIT_TOKEN) (default: .flotilla/controller/env.git, the local fleet's)",
    )
    .option("--env-branch <name>", "the branch to read (default: the repository's HEAD; main for a URL)")
    .option("--kubeconfig <file>", "the hub's kubeconfig, for the namespace of its context")
    .option("--context <name>", "the kubeconfig context to use");
  history.option("--limit <n>", "at most this many steps (the walk stops there)", positiveInteger(history), 20);
  addOutputOption(history, TABLE_FORMATS, "table, wide (GENERATION, full commit ids), json or yaml (an array of the steps)").action(
    async (name: string, opts: HistoryOptions) => {
      const namespace = await namespaceFor(opts);
      const spec = opts.envRepo ?? defaultEnvRepo();
      if (!spec) throw new FlotillaError("no environment repository: pass --env-repo PATH|URL (there is no .flotilla/controller/env.git here).");
      const repo = await openEnvRepoSource(spec, {
        ...(opts.envBranch ? { branch: opts.envBranch } : {}),
        ...(process.env.FLOTILLA_GIT_TOKEN ? { token: process.env.FLOTILLA_GIT_TOKEN } : {}),
      });
      try {
        const log = await readDeploymentLog(repo.store, { head: repo.head, namespace, name, limit: opts.limit });
        const steps = deploymentSteps(log.commits, namespace, name);
        if (opts.output === "json" || opts.output === "yaml") {
          process.stdout.write(formatData(steps, opts.output));
          return;
        }
        if (steps.length === 0) {
          const why =
            repo.head === null
              ? `${opts.envBranch ? `branch ${opts.envBranch}` : "the branch HEAD names"} has no commits; name the branch with --env-branch`
              : `${log.scanned} commit(s) read. Is the name and namespace (-n) right?`;
          process.stderr.write(`No steps of ${namespace}/${name} in ${repo.label} (${why})\n`);
          return;
        }
        process.stdout.write(historyTable(steps, opts.output === "wide"));
      } finally {
        await repo.close();
      }
    },
  );
}
