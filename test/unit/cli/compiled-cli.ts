// The CLI as a user runs it: the compiled `flotilla` in a child process, built from the current
// sources once per test file (test/support/build-dist.ts).

import { spawn } from "node:child_process";
import { buildDist, MAIN, ROOT } from "../../support/build-dist.js";

export { MAIN, ROOT };

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Compile src/ and test/ into dist/ (incremental: cheap when another file built it already). */
export const buildCli = buildDist;

/** Run `flotilla ...args` from the package root; `input` is written to its standard input. */
export function flotilla(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("node", [MAIN, ...args], { cwd: ROOT, env: options.env ?? process.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (t: string) => {
      stdout += t;
    });
    child.stderr.setEncoding("utf8").on("data", (t: string) => {
      stderr += t;
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? -1 : 0), stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}
