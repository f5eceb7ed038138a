// One `flotilla` command line through a command module's register function, in this process, with
// process.exit and the output streams trapped; an error thrown out of the command is reported as
// main.ts reports it (its message on stderr, exit 1).

import { Command } from "commander";
import { vi } from "vitest";
import { FlotillaError } from "../../../src/api/errors.js";

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

export async function runRegistered(register: (program: Command) => void, args: string[]): Promise<Run> {
  const program = new Command().exitOverride();
  register(program);
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
    run.code = Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof Exit) run.code = e.code;
    else if (e instanceof FlotillaError) {
      run.stderr += `error: ${e.message}\n`;
      run.code = 1;
    } else if (e instanceof Error && "exitCode" in e) run.code = Number(e.exitCode);
    else throw e;
  } finally {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  }
  return run;
}
