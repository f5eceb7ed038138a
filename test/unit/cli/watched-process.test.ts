import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exitedProcess } from "../../../src/cli/watched-process.js";

function started(script: string) {
  const child = spawn(process.execPath, ["-e", script], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { child, exited };
}

describe("exitedProcess: what `flotilla up` reports when a background process it waits on dies", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "watched-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names the process, its exit code and the end of its log", async () => {
    const log = join(dir, "controller.log");
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`);
    await writeFile(log, `${lines.join("\n")}\n`);
    const { child, exited } = started("process.exit(3)");
    await exited;
    const error = await exitedProcess([{ what: "controller", child, log }]);
    expect(error?.message).toContain("The controller stopped (exit code 3) before the example was Healthy");
    expect(error?.message).toContain(`The end of ${log}:\nline 21\n`);
    expect(error?.message.endsWith("line 50")).toBe(true);
    expect(error?.message).not.toContain("line 20\n");
  });

  it("names the signal of a killed process", async () => {
    const { child, exited } = started("setInterval(() => {}, 1000)");
    child.kill("SIGKILL");
    await exited;
    const error = await exitedProcess([{ what: "agent of prod-eu", child, log: join(dir, "missing.log") }]);
    expect(error?.message).toContain("The agent of prod-eu stopped (signal SIGKILL)");
  });

  it("is quiet while every process runs", async () => {
    const { child, exited } = started("setInterval(() => {}, 1000)");
    try {
      expect(await exitedProcess([{ what: "controller", child, log: join(dir, "c.log") }])).toBeUndefined();
    } finally {
      child.kill();
      await exited;
    }
  });
});
