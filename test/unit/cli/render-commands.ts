// The render and validate commands run in this process, with process.exit and the output streams
// trapped, so a test reads the exit code, stdout and stderr of one command line.

import { Command } from "commander";
import { vi } from "vitest";
import { registerRenderCommands } from "../../../src/cli/render.js";

class Exit extends Error {
  constructor(readonly code: number) {
    super(`process.exit(${code})`);
  }
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** One `flotilla` command line through the registered commands, with process.exit trapped. */
export async function flotilla(...args: string[]): Promise<Run> {
  const program = new Command().exitOverride();
  registerRenderCommands(program);
  const run: Run = { code: 0, stdout: "", stderr: "" };
  vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    run.stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
    run.stderr += String(chunk);
    return true;
  });
  vi.spyOn(process, "exit").mockImplementation((code?: string | number | null) => {
    throw new Exit(Number(code ?? 0));
  });
  try {
    await program.parseAsync(["node", "flotilla", ...args]);
    // `-o json|yaml` sets the exit code instead of exiting, so that stdout is written whole.
    run.code = Number(process.exitCode ?? 0);
    process.exitCode = undefined;
  } catch (e) {
    if (e instanceof Exit) run.code = e.code;
    else if (e instanceof Error && "exitCode" in e) run.code = Number(e.exitCode);
    else throw e;
  } finally {
    vi.restoreAllMocks();
  }
  return run;
}
