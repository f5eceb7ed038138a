#!/usr/bin/env node
// The `flotilla` command: builds the program for the command being run (program.ts), runs it, and
// turns what failed into one clear message and an exit code.

import { CommanderError } from "commander";
import { FlotillaError } from "../api/errors.js";
import { buildProgram, EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE, unreachable } from "./program.js";

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
