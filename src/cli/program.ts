// The `flotilla` program: the invoked command registered in full, the others as one-line entries
// (see command-index.ts), and the exit codes, as documented in docs/cli.md: 0 success; 1 invalid
// input, a refused request or an unhealthy result; 2 bad usage (an unknown command or option, a
// missing value); 3 a cluster could not be reached. `flotilla health` keeps its own (see its --help).

import { Command } from "commander";
import { KubeApiError } from "../api/errors.js";
import { COMMAND_GROUPS, commandName } from "./command-index.js";
import { packageVersion } from "./package-root.js";

export { EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE } from "./exit-codes.js";

/** Network failures that mean the cluster's API server did not answer at all. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN"]);

/** Whether an error means the cluster did not answer at all. */
export function unreachable(error: unknown): boolean {
  if (error instanceof KubeApiError) return error.status === undefined;
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && UNREACHABLE_CODES.has(code)) return true;
  }
  return false;
}

/**
 * The program with the command named by `argv` registered in full and every other command as a
 * one-line entry for `--help`; `all` registers everything (for completion scripts and tests).
 */
export async function buildProgram(argv: readonly string[], options: { all?: boolean } = {}): Promise<Command> {
  const program = new Command()
    .name("flotilla")
    .description("Declarative application delivery for Kubernetes fleets: definitions, a Git environment repository and progressive rollout.")
    .version(packageVersion())
    .exitOverride()
    .showSuggestionAfterError(true);
  const words = argv.slice(2).filter((a) => !a.startsWith("-"));
  // `flotilla help render` is `flotilla render --help`: the command it names is loaded.
  const invoked = words[0] === "help" ? words[1] : words[0];
  const runs = (group: (typeof COMMAND_GROUPS)[number]) => group.commands.some((c) => commandName(c.usage) === invoked);
  const all = options.all || COMMAND_GROUPS.some((g) => g.loadsAll && runs(g));
  for (const group of COMMAND_GROUPS) {
    if (all || runs(group)) {
      (await group.load())(program);
      continue;
    }
    for (const c of group.commands) program.command(c.usage).description(c.summary);
  }
  return program;
}
