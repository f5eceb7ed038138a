// The template worker's deadline is wall time, but it must stop templates, not a busy machine:
// a worker process that did not get the CPU (here: stopped with SIGSTOP, as a starved process
// is) and a controller whose own loop was blocked past the deadline both still get the answer;
// a template that really runs away is still stopped.

import { afterEach, describe, expect, it } from "vitest";
import { defaultWorkerModules, processCpuMs, TemplateWorker, type WorkerJob } from "../../../src/definitions/template-worker.js";

const workers: TemplateWorker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.close()));
});

function aWorker(): TemplateWorker {
  const w = new TemplateWorker({ memoryMb: 128, config: { ...defaultWorkerModules(), refused: {}, toMillisWithoutDate: "refused" } });
  workers.push(w);
  return w;
}

/** A job with a 100 ms budget: the hard deadline is 150 ms. */
function job(source: string, input: unknown = {}): WorkerJob {
  return {
    source,
    input,
    budget: { timeoutMs: 100, maxDepth: 100, maxSequence: 10_000, maxOutputBytes: 1_000_000 },
    origin: { definition: "test", field: "template" },
  };
}

function busyFor(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // the controller's loop is blocked
  }
}

describe("processCpuMs", () => {
  it("reads a process's CPU time from /proc, and nothing for a process that does not exist", () => {
    const before = processCpuMs(process.pid) ?? Number.NaN;
    busyFor(120);
    const after = processCpuMs(process.pid) ?? Number.NaN;
    expect(after - before).toBeGreaterThanOrEqual(50);
    expect(processCpuMs(2 ** 22 + 12_345)).toBeUndefined();
  });
});

describe("TemplateWorker deadlines", () => {
  it("answers a job whose worker process was not scheduled for longer than the deadline", async () => {
    const w = aWorker();
    expect(await w.run(job("1 + 1"))).toEqual({ outcome: "value", json: 2 });
    const pid = w.pid as number;
    process.kill(pid, "SIGSTOP");
    const pending = w.run(job("a * 2", { a: 21 }));
    await new Promise((r) => setTimeout(r, 450));
    process.kill(pid, "SIGCONT");
    expect(await pending).toEqual({ outcome: "value", json: 42 });
    expect(w.pid).toBe(pid);
  });

  it("answers a job whose answer waited while the controller's own loop was blocked past the deadline", async () => {
    const w = aWorker();
    await w.run(job("0"));
    const pending = w.run(job("'ok'"));
    busyFor(400);
    expect(await pending).toEqual({ outcome: "value", json: "ok" });
  });

  it("still stops a template that runs away (an endless tail call uses the CPU it is given)", async () => {
    const w = aWorker();
    await w.run(job("0"));
    const result = await w.run(job("($f := function($n) { $f($n + 1) }; $f(0))"));
    expect(result.outcome === "error" ? result.error.code : result.outcome).toBe("D1012");
  });
});
