// Placeholder until the local fleet lands: `flotilla fleet up|down`.
import type { Command } from "commander";

export function registerFleetCommand(program: Command): void {
  program.command("fleet").description("run a local fleet of real API servers (not built yet)");
}
