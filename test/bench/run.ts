// `npm run bench`: runs every benchmark case, prints one table and writes test/bench/results.json
// with the figures, their units, how each was measured, and the machine. Cases that need the
// local fleet run only with `--fleet`; `--only <group>` picks groups. `--scale 100,300,1000` runs
// the fleet cases once per count and adds a table of their costs per deployment side by side.
// `--mode push|pull|mixed` (or a list, `--mode push,pull`; default push) is how the fleet-scale
// case delivers to its members: push, the controller applies to every member; pull, one
// `flotilla agent` process per member fetches from the controller's Git server and applies;
// mixed, prod-eu pulls and the others are pushed. With push and pull (or a mode and the fleet
// floor) at the same N in one run, the table adds their ratios.
//
//   npm run bench                                              # the cases without a fleet
//   npm run bench -- --fleet --only fleet --mode pull --scale 100,1000
//   npm run bench -- --fleet --only fleet-floor,fleet --mode push,pull --scale 100

import { writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { fleetComparisons, fleetModes } from "./fleet-mode.js";
import type { BenchCase, BenchFigure } from "./types.js";

async function loadCases(): Promise<BenchCase[]> {
  const modules = ["cli.js", "render.js", "cel.js", "git.js", "sync.js", "placement.js", "ui.js", "ui-api.js", "admission.js", "fleet-floor.js", "fleet.js"];
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

/** The deployment counts of `--scale 100,300,1000` (or FLOTILLA_BENCH_SCALE), in the order given; default 100. */
function scales(): number[] {
  const i = process.argv.indexOf("--scale");
  const raw = i >= 0 ? process.argv[i + 1] : process.env.FLOTILLA_BENCH_SCALE;
  if (raw === undefined) return [100];
  const counts = raw.split(",").map((part) => Number(part.trim()));
  if (counts.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new Error(`bench: --scale takes positive integers separated by commas (e.g. --scale 100,300), got "${raw}"`);
  }
  return counts;
}

const args = process.argv.slice(2);
const withFleet = args.includes("--fleet");
const onlyIndex = args.indexOf("--only");
const only = onlyIndex >= 0 ? args[onlyIndex + 1]?.split(",") : undefined;
const counts = scales();
const modes = fleetModes(args);

const figures: Array<BenchFigure & { group: string }> = [];
for (const c of await loadCases()) {
  if (only && !only.includes(c.group)) continue;
  if (c.needsFleet && !withFleet) {
    process.stdout.write(`skipping ${c.group} (needs the local fleet: run with --fleet)\n`);
    continue;
  }
  for (const n of c.scaled ? counts : [0]) {
    for (const mode of c.moded ? modes : (["push"] as const)) {
      process.stdout.write(`running ${c.group}${c.scaled ? ` (N = ${n}${c.moded ? `, ${mode} mode` : ""})` : ""}...\n`);
      for (const f of await c.run(n, { mode })) figures.push({ ...f, group: c.group });
    }
  }
}
for (const f of fleetComparisons(figures)) figures.push({ ...f, group: "fleet" });

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ");
  process.stdout.write(`\n${line(header)}\n${line(widths.map((w) => "-".repeat(w)))}\n`);
  for (const r of rows) process.stdout.write(`${line(r)}\n`);
}

printTable(
  ["case", "result", "target"],
  figures.map((f) => [f.name, `${formatValue(f.value)} ${f.unit}`, f.target ? `${f.target} ${f.met ? "✓" : "✗"}` : ""]),
);

/** Per-deployment costs of the scaled cases, one row per series, one column per N, and the growth from the smallest N to the largest. */
function growthOf(all: readonly BenchFigure[]): Array<{ series: string; unit: string; perN: Record<string, number>; growth: number }> {
  const series = new Map<string, { unit: string; perN: Map<number, number> }>();
  for (const f of all) {
    if (!f.perDeployment) continue;
    const entry = series.get(f.perDeployment.series) ?? { unit: f.unit, perN: new Map() };
    entry.perN.set(f.perDeployment.n, f.value);
    series.set(f.perDeployment.series, entry);
  }
  return [...series].map(([name, { unit, perN }]) => {
    const ns = [...perN.keys()].sort((a, b) => a - b);
    const first = perN.get(ns[0] as number) as number;
    const last = perN.get(ns[ns.length - 1] as number) as number;
    return { series: name, unit, perN: Object.fromEntries(ns.map((n) => [String(n), perN.get(n) as number])), growth: last / first };
  });
}

const growth = growthOf(figures);
if (counts.length > 1 && growth.length > 0) {
  const ns = [...counts].sort((a, b) => a - b);
  process.stdout.write(`\nHow the cost per deployment grows with N (×: N = ${ns[ns.length - 1]} over N = ${ns[0]}; 1.0 is linear growth of the total):`);
  printTable(
    ["per deployment", ...ns.map((n) => `N = ${n}`), "×"],
    growth.map((g) => [
      `${g.series} (${g.unit})`,
      ...ns.map((n) => (g.perN[String(n)] === undefined ? "" : formatValue(g.perN[String(n)] as number))),
      g.growth.toFixed(2),
    ]),
  );
}

const cpu = cpus();
const results = {
  date: new Date().toISOString(),
  machine: {
    cpus: cpu.length,
    model: cpu[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: process.platform,
  },
  ...(withFleet ? { fleetModes: modes } : {}),
  figures,
  ...(counts.length > 1 ? { growth } : {}),
};
const out = join(import.meta.dirname, "..", "..", "..", "test", "bench", "results.json");
await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
process.stdout.write(`\nwrote ${out}\n`);
