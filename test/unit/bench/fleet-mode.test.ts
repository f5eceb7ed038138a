// The fleet bench's modes (`npm run bench -- --fleet --mode push,pull`): how they are read, how
// they tag figure names, and the ratios run.ts adds when two runs of one N sit in one result
// (each mode over the fleet floor; pull mode's hub CPU over push mode's, target at most half).
// The /proc readings the fleet case takes of its agents and of this process's exited children.

import { spawn, spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { fleetComparisons, fleetModes, fleetTag, SERIES } from "../../../test/bench/fleet-mode.js";
import { nodeChildren, peakRssBytes, processCpuS, reapedChildrenCpuS } from "../../../test/bench/process-cpu.js";
import type { BenchFigure } from "../../../test/bench/types.js";

describe("fleetModes", () => {
  it("is push without --mode, else the listed modes in order, each once", () => {
    const saved = process.env.FLOTILLA_BENCH_MODE;
    delete process.env.FLOTILLA_BENCH_MODE;
    try {
      expect(fleetModes(["--fleet"])).toEqual(["push"]);
      expect(fleetModes(["--fleet", "--mode", "pull"])).toEqual(["pull"]);
      expect(fleetModes(["--mode", "pull, push,pull,mixed"])).toEqual(["pull", "push", "mixed"]);
    } finally {
      if (saved !== undefined) process.env.FLOTILLA_BENCH_MODE = saved;
    }
  });

  it("refuses a mode it does not know, naming --mode and the choices", () => {
    expect(() => fleetModes(["--mode", "pul"])).toThrow(/--mode: "pul" is not push, pull or mixed/);
  });
});

describe("fleetTag", () => {
  it("keeps push mode's names and tags the others", () => {
    expect(fleetTag("push")).toBe("fleet");
    expect(fleetTag("pull")).toBe("fleet (pull)");
    expect(SERIES.ramp("mixed")).toBe("fleet (mixed): apply → all Healthy");
  });
});

const per = (series: string, n: number, value: number, mode?: string): BenchFigure => ({
  name: `${series}, per deployment (N = ${n})`,
  value,
  unit: "ms/deployment",
  how: "",
  perDeployment: { series, n },
  ...(mode ? { mode } : {}),
});

describe("fleetComparisons", () => {
  it("sets each mode's ramp over the floor and pull mode's hub CPU over push mode's, per N", () => {
    const figures = [
      per(SERIES.floor, 100, 250),
      per(SERIES.ramp("push"), 100, 500, "push"),
      per(SERIES.hubCpu("push"), 100, 120, "push"),
      per(SERIES.ramp("pull"), 100, 375, "pull"),
      per(SERIES.hubCpu("pull"), 100, 48, "pull"),
      // N = 1,000 has pull mode only: no ratio to push, one to the floor.
      per(SERIES.floor, 1000, 240),
      per(SERIES.ramp("pull"), 1000, 480, "pull"),
      per(SERIES.hubCpu("pull"), 1000, 40, "pull"),
    ];
    const out = fleetComparisons(figures);
    expect(out.map((f) => [f.name, f.value, f.target, f.met])).toEqual([
      ["fleet: apply → all Healthy over the fleet floor (N = 100)", 2, undefined, undefined],
      ["fleet (pull): apply → all Healthy over the fleet floor (N = 100)", 1.5, undefined, undefined],
      ["fleet (pull): hub controller CPU of the ramp over push mode's (N = 100)", 0.4, "<= 0.5", true],
      ["fleet (pull): apply → all Healthy over the fleet floor (N = 1,000)", 2, undefined, undefined],
    ]);
    expect(out.every((f) => f.mode !== undefined)).toBe(true);
  });

  it("marks pull mode's hub CPU above half of push mode's as missed, and gives mixed mode no target", () => {
    const out = fleetComparisons([
      per(SERIES.hubCpu("push"), 300, 100, "push"),
      per(SERIES.hubCpu("pull"), 300, 60, "pull"),
      per(SERIES.hubCpu("mixed"), 300, 80, "mixed"),
    ]);
    expect(out.map((f) => [f.name, f.value, f.met])).toEqual([
      ["fleet (pull): hub controller CPU of the ramp over push mode's (N = 300)", 0.6, false],
      ["fleet (mixed): hub controller CPU of the ramp over push mode's (N = 300)", 0.8, undefined],
    ]);
    expect(out[1]?.target).toBeUndefined();
  });

  it("adds nothing without a fleet run", () => {
    expect(fleetComparisons([per(SERIES.floor, 100, 250), { name: "cli: --help", value: 1, unit: "ms", how: "" }])).toEqual([]);
  });
});

describe("process CPU readings", () => {
  it("counts an exited child's CPU among this process's reaped children", () => {
    const before = reapedChildrenCpuS();
    const child = spawnSync(process.execPath, ["-e", "let x = 0; for (let i = 0; i < 3e8; i++) x += i % 7; console.log(x > 0)"], { encoding: "utf8" });
    expect(child.stdout.trim()).toBe("true");
    expect(reapedChildrenCpuS() - before).toBeGreaterThanOrEqual(0.05);
  });

  it("reads a running process's CPU and peak RSS, and nothing of a gone one", () => {
    expect(processCpuS(process.pid)).toBeGreaterThan(0);
    expect(peakRssBytes(process.pid)).toBeGreaterThanOrEqual(process.memoryUsage().rss / 2);
    const gone = spawnSync(process.execPath, ["-e", "console.log(process.pid)"], { encoding: "utf8" });
    const pid = Number(gone.stdout.trim());
    expect(pid).toBeGreaterThan(0);
    expect(processCpuS(pid)).toBeUndefined();
    expect(peakRssBytes(pid)).toBeUndefined();
  });

  it("finds this process's children that run Node (the controller's template worker), not other programs nor the excepted", async () => {
    const node = spawn(process.execPath, ["-e", "setTimeout(() => {}, 30000)"], { stdio: "ignore" });
    const other = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 300)); // until both have exec'd
      const found = nodeChildren();
      expect(found).toContain(node.pid);
      expect(found).not.toContain(other.pid);
      expect(nodeChildren(new Set([node.pid as number]))).not.toContain(node.pid);
    } finally {
      node.kill("SIGKILL");
      other.kill("SIGKILL");
    }
  });
});
