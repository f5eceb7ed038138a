import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exitedProcess, listeningPorts } from "../../../src/cli/watched-process.js";
import { writePortsFile } from "../../../src/controller/ports-file.js";

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

describe("listeningPorts: how a detached `flotilla up` learns the ports its controller picked", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "ports-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("waits for the file and returns its ports", async () => {
    const { child, exited } = started("setInterval(() => {}, 1000)");
    try {
      const file = join(dir, "ports.json");
      setTimeout(() => void writePortsFile(file, { metrics: 40001, git: 40003, ui: 8081 }), 300);
      expect(await listeningPorts(file, { what: "controller", child, log: join(dir, "c.log") }, 10_000)).toEqual({ metrics: 40001, git: 40003, ui: 8081 });
    } finally {
      child.kill();
      await exited;
    }
  });

  it("fails with the end of the log when the controller exits before writing it", async () => {
    const log = join(dir, "controller.log");
    await writeFile(log, '{"level":50,"msg":"--ui-addr: cannot listen on \\"127.0.0.1:8081\\" (EADDRINUSE)"}\n');
    const { child, exited } = started("process.exit(1)");
    await exited;
    const waiting = listeningPorts(join(dir, "ports.json"), { what: "controller", child, log }, 10_000);
    await expect(waiting).rejects.toThrow("The controller stopped (exit code 1) before its servers listened");
    await expect(waiting).rejects.toThrow("EADDRINUSE");
  });

  it("gives up after its timeout while the controller runs without writing it", async () => {
    const { child, exited } = started("setInterval(() => {}, 1000)");
    try {
      const file = join(dir, "ports.json");
      await expect(listeningPorts(file, { what: "controller", child, log: join(dir, "c.log") }, 300)).rejects.toThrow(`did not write ${file} within 0.3 s`);
    } finally {
      child.kill();
      await exited;
    }
  });
});
