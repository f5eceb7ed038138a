// The fleet-scale case's delivery modes (`npm run bench -- --fleet --mode push,pull`): how the
// modes are read from the command line and how a mode tags figure names, so run.ts can set the
// figures of one N side by side (pull over push, each mode over the fleet floor).

import { parseUpMode, type UpMode } from "../../src/cli/local-agents.js";
import type { BenchFigure } from "./types.js";

export type FleetMode = UpMode;

/** The modes of `--mode push,pull` (or FLOTILLA_BENCH_MODE), in the order given; default push. */
export function fleetModes(argv: readonly string[]): FleetMode[] {
  const i = argv.indexOf("--mode");
  const raw = i >= 0 ? argv[i + 1] : process.env.FLOTILLA_BENCH_MODE;
  if (raw === undefined) return ["push"];
  return [...new Set(raw.split(",").map((part) => parseUpMode(part.trim())))];
}

/** The prefix of a mode's figure names: push keeps the names the fleet case always had. */
export function fleetTag(mode: FleetMode): string {
  return mode === "push" ? "fleet" : `fleet (${mode})`;
}

/** Per-deployment series the comparisons read (see `fleetComparisons`). */
export const SERIES = {
  floor: "fleet floor: apply → all Healthy",
  ramp: (mode: FleetMode) => `${fleetTag(mode)}: apply → all Healthy`,
  hubCpu: (mode: FleetMode) => `${fleetTag(mode)}: controller CPU of the ramp above the fleet baseline`,
};

/**
 * Figures that set two runs of one N side by side: each mode's ramp over the fleet floor's, and
 * the hub controller's CPU per deployment in pull (and mixed) mode over push mode's (the issue's
 * target for pull: at most half). Nothing when a run is missing.
 */
export function fleetComparisons(figures: readonly BenchFigure[]): BenchFigure[] {
  const at = (series: string, n: number) => figures.find((f) => f.perDeployment?.series === series && f.perDeployment.n === n)?.value;
  const ns = [...new Set(figures.flatMap((f) => (f.perDeployment ? [f.perDeployment.n] : [])))].sort((a, b) => a - b);
  const modes = [...new Set(figures.flatMap((f) => (f.mode ? [f.mode as FleetMode] : [])))];
  const out: BenchFigure[] = [];
  for (const n of ns) {
    const scaled = n.toLocaleString("en");
    const floor = at(SERIES.floor, n);
    for (const mode of modes) {
      const ramp = at(SERIES.ramp(mode), n);
      if (floor !== undefined && ramp !== undefined) {
        out.push({
          name: `${fleetTag(mode)}: apply → all Healthy over the fleet floor (N = ${scaled})`,
          value: ramp / floor,
          unit: "×",
          how: `"${SERIES.ramp(mode)}" over "${SERIES.floor}", same run, each on a fresh fleet`,
          mode,
        });
      }
    }
    const push = at(SERIES.hubCpu("push"), n);
    for (const mode of modes.filter((m) => m !== "push")) {
      const other = at(SERIES.hubCpu(mode), n);
      if (push === undefined || other === undefined) continue;
      const ratio = other / push;
      out.push({
        name: `${fleetTag(mode)}: hub controller CPU of the ramp over push mode's (N = ${scaled})`,
        value: ratio,
        unit: "×",
        how: `"${SERIES.hubCpu(mode)}" over "${SERIES.hubCpu("push")}", same run, each on a fresh fleet`,
        mode,
        // The target is for pull mode; mixed mode still pushes to the other members.
        ...(mode === "pull" ? { target: "<= 0.5", met: ratio <= 0.5 } : {}),
      });
    }
  }
  return out;
}
