// How long the `flotilla` command takes to start: `--help` and `version` (no cluster, no file),
// and `validate` of the quickstart, each a fresh Node process, as a user types them.

import { spawnSync } from "node:child_process";
import { join } from "node:path";
import type { BenchCase, BenchFigure } from "./types.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const MAIN = join(ROOT, "dist", "src", "cli", "main.js");
const RUNS = 11;

function medianMs(args: string[]): number {
  const samples: number[] = [];
  spawnSync("node", [MAIN, ...args], { cwd: ROOT }); // warm the file cache
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    const run = spawnSync("node", [MAIN, ...args], { cwd: ROOT, encoding: "utf8" });
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (run.status !== 0) throw new Error(`flotilla ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  }
  return [...samples].sort((a, b) => a - b)[Math.floor(RUNS / 2)] ?? 0;
}

export const cliBench: BenchCase = {
  group: "cli",
  async run(): Promise<BenchFigure[]> {
    const how = `median of ${RUNS} runs of \`node dist/src/cli/main.js …\` as a child process (wall time from spawn to exit), after one warm-up run`;
    const help = medianMs(["--help"]);
    return [
      { name: "cli: flotilla --help", value: help, unit: "ms", how, target: "<= 300 ms", met: help <= 300 },
      { name: "cli: flotilla version", value: medianMs(["version"]), unit: "ms", how },
      { name: "cli: flotilla validate -f examples/quickstart", value: medianMs(["validate", "-f", "examples/quickstart"]), unit: "ms", how },
    ];
  },
};
