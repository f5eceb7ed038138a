// The controller's Git server flags: the default address, and the TLS files read at start so a
// wrong path stops it with the flag's name.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readServeTls, registerControllerCommands } from "../../../src/cli/controller.js";

describe("flotilla controller's Git server flags", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-tls-flags-"));
    await writeFile(join(dir, "tls.crt"), "CERT");
    await writeFile(join(dir, "tls.key"), "KEY");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("serves Git on :8082 unless told otherwise", () => {
    const program = new Command();
    registerControllerCommands(program);
    const controller = program.commands.find((c) => c.name() === "controller") as Command;
    const option = controller.options.find((o) => o.long === "--git-serve-addr");
    expect(option?.defaultValue).toBe(":8082");
    expect(option?.description).toContain('"off" disables');
  });

  it("serves plain HTTP without TLS files, and reads both files when both are given", () => {
    expect(readServeTls(undefined, undefined)).toBeUndefined();
    const tls = readServeTls(join(dir, "tls.crt"), join(dir, "tls.key"));
    expect(tls?.cert.toString()).toBe("CERT");
    expect(tls?.key.toString()).toBe("KEY");
  });

  it.each([
    [undefined, "tls.key", /--git-serve-tls-cert is missing/],
    ["tls.crt", undefined, /--git-serve-tls-key is missing/],
    ["nope.crt", "tls.key", /--git-serve-tls-cert: cannot read .*nope\.crt \(ENOENT\)/],
    ["tls.crt", "nope.key", /--git-serve-tls-key: cannot read .*nope\.key \(ENOENT\)/],
  ])("refuses cert %s with key %s", (cert, key, message) => {
    expect(() => readServeTls(cert && join(dir, cert), key && join(dir, key))).toThrow(message);
  });
});
