#!/usr/bin/env node
// The `flotilla` command: thin subcommands over the modules. Errors Flotilla expects (bad input,
// unreachable clusters) print one clear message and exit 1; anything else shows its stack.

import { Command } from "commander";
import { FlotillaError } from "../api/errors.js";
import { registerControllerCommands } from "./controller.js";
import { registerFleetCommand } from "./fleet.js";
import { registerHealthCommand } from "./health.js";
import { registerPlacementCommands } from "./placement.js";
import { registerRenderCommands } from "./render.js";
import { registerRolloutCommands } from "./rollout.js";
import { registerUpCommands } from "./up.js";

export function buildProgram(): Command {
  const program = new Command()
    .name("flotilla")
    .description("Declarative application delivery for Kubernetes fleets: definitions, a Git environment repository and progressive rollout.")
    .version("0.1.0");
  registerRenderCommands(program);
  registerFleetCommand(program);
  registerControllerCommands(program);
  registerUpCommands(program);
  registerRolloutCommands(program);
  registerPlacementCommands(program);
  registerHealthCommand(program);
  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    if (error instanceof FlotillaError) {
      process.stderr.write(`error: ${error.message}\n`);
    } else {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    process.exit(1);
  });
