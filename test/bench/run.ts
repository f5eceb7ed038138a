// `npm run bench`: runs every benchmark case, prints one table and writes test/bench/results.json
// with the figures, their units, how each was measured, and the machine. Cases that need the
// local fleet run only with `--fleet`; `--only <group>` picks groups.

import { writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { BenchCase, BenchFigure } from "./types.js";

async function loadCases(): Promise<BenchCase[]> {
  const modules = ["render.js", "cel.js", "git.js", "sync.js", "placement.js", "fleet-floor.js", "fleet.js"];
  const cases: BenchCase[] = [];
  for (const m of modules) {
    try {
      const mod = (await import(`./${m}`)) as Record<string, unknown>;
      for (const value of Object.values(mod)) {
        if (value && typeof value === "object" && "run" in value && "group" in value) cases.push(value as BenchCase);
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ERR_MODULE_NOT_FOUND") throw e;
    }
  }
  return cases;
}

function formatValue(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

const args = process.argv.slice(2);
const withFleet = args.includes("--fleet");
const onlyIndex = args.indexOf("--only");
const only = onlyIndex >= 0 ? args[onlyIndex + 1]?.split(",") : undefined;

const figures: Array<BenchFigure & { group: string }> = [];
for (const c of await loadCases()) {
  if (only && !only.includes(c.group)) continue;
  if (c.needsFleet && !withFleet) {
    process.stdout.write(`skipping ${c.group} (needs the local fleet: run with --fleet)\n`);
    continue;
  }
  process.stdout.write(`running ${c.group}...\n`);
  for (const f of await c.run()) figures.push({ ...f, group: c.group });
}

const rows = figures.map((f) => [f.name, `${formatValue(f.value)} ${f.unit}`, f.target ? `${f.target} ${f.met ? "✓" : "✗"}` : ""]);
const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length), 6));
const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
process.stdout.write(`\n${line(["case", "result", "target"])}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
for (const r of rows) process.stdout.write(`${line(r)}\n`);

const cpu = cpus();
const results = {
  date: new Date().toISOString(),
  machine: { cpus: cpu.length, model: cpu[0]?.model ?? "unknown", memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, platform: process.platform },
  figures,
};
const out = join(import.meta.dirname, "..", "..", "..", "test", "bench", "results.json");
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nwrote ${out}\n`);
