// The CLI as a user runs it: the compiled `flotilla` in a child process. The build runs once per
// test file and must succeed: tsc emits even when a file has a type error, so a failed build is
// reported with its diagnostics instead of testing whatever it left in dist.

import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export const ROOT = join(import.meta.dirname, "..", "..", "..");
export const MAIN = join(ROOT, "dist", "src", "cli", "main.js");

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Compile src/ and test/ into dist/, failing with tsc's diagnostics. */
export function buildCli(): void {
  const build = spawnSync("npx", ["tsc", "-p", "."], { cwd: ROOT, encoding: "utf8" });
  if (build.error || build.status !== 0) {
    throw new Error(`npx tsc -p . failed (exit ${build.status}${build.signal ? `, ${build.signal}` : ""}):\n${build.stdout ?? ""}${build.stderr ?? ""}`, {
      cause: build.error,
    });
  }
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing after npx tsc -p .`);
}

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
