// The render and validate commands run in this process, with process.exit and the output streams
// trapped, so a test reads the exit code, stdout and stderr of one command line.

import { registerRenderCommands } from "../../../src/cli/render.js";
import { type Run, runRegistered } from "./run-registered.js";

export type { Run };

/** One `flotilla` command line through the registered commands, with process.exit trapped. */
export function flotilla(...args: string[]): Promise<Run> {
  return runRegistered(registerRenderCommands, args);
}
