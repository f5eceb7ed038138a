#!/usr/bin/env node
// The `flotilla` command: thin subcommands over the modules. Only the module of the command being
// run is imported (see command-index.ts). Exit codes, as documented in docs/cli.md: 0 success;
// 1 invalid input, a refused request or an unhealthy result; 2 bad usage (an unknown command or
// option, a missing value); 3 a cluster could not be reached. `flotilla health` keeps its own
// (see its --help).

import { Command, CommanderError } from "commander";
import { FlotillaError, KubeApiError } from "../api/errors.js";
import { COMMAND_GROUPS, commandName } from "./command-index.js";
import { packageVersion } from "./version.js";

export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

/** Network failures that mean the cluster's API server did not answer at all. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "ENETUNREACH", "ETIMEDOUT", "ECONNRESET", "EAI_AGAIN"]);

function unreachable(error: unknown): boolean {
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
  const invoked = argv.slice(2).find((a) => !a.startsWith("-"));
  for (const group of COMMAND_GROUPS) {
    if (options.all || group.commands.some((c) => commandName(c.usage) === invoked)) {
      (await group.load())(program);
      continue;
    }
    for (const c of group.commands) program.command(c.usage).description(c.summary);
  }
  return program;
}

async function main(): Promise<void> {
  try {
    const program = await buildProgram(process.argv);
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander printed the message (or the help) already.
      process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE);
    }
    if (error instanceof FlotillaError) process.stderr.write(`error: ${error.message}\n`);
    else process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(unreachable(error) ? EXIT_UNREACHABLE : EXIT_FAILED);
  }
}

await main();
