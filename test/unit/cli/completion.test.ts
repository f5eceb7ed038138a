// `flotilla completion bash`, generated from the full command tree and run in a real bash: TAB after
// each typed path offers exactly that command's subcommands and options.

import { spawnSync } from "node:child_process";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { bashCompletion, completionTable, zshCompletion } from "../../../src/cli/completion.js";
import { buildProgram } from "../../../src/cli/program.js";

/** What bash offers for `flotilla <typed...> <cur>` with the generated script sourced. */
function complete(script: string, typed: string[], cur: string): string[] {
  const words = ["flotilla", ...typed, cur].map((w) => `'${w}'`).join(" ");
  const run = spawnSync("bash", ["-c", `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${typed.length + 1}; _flotilla; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    encoding: "utf8",
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout.split("\n").filter(Boolean).sort();
}

describe("flotilla completion", async () => {
  const program = await buildProgram(["node", "flotilla"], { all: true });
  const script = bashCompletion(program);

  it("offers the top-level commands, then a command's subcommands, then its options", () => {
    expect(complete(script, [], "ro")).toEqual(["rollout"]);
    expect(complete(script, ["rollout"], "p")).toEqual(["pause", "promote"]);
    expect(complete(script, ["rollout", "promote"], "--k")).toEqual(["--kubeconfig"]);
    expect(complete(script, ["status"], "-")).toEqual([
      "--all-namespaces",
      "--context",
      "--help",
      "--kubeconfig",
      "--namespace",
      "--output",
      "--watch",
      "-A",
      "-n",
      "-o",
      "-w",
    ]);
  });

  it("skips options and their values typed before the command path", () => {
    expect(complete(script, ["rollout", "--kubeconfig", "hub.yaml", "promote"], "--con")).toEqual(["--context"]);
  });

  it("lists every command of the program, so none is forgotten when one is added", () => {
    const table = completionTable(program);
    for (const command of program.commands) expect(table.get("")).toContain(command.name());
    expect(table.get("fleet")).toEqual(["--help", "down", "status", "up"]);
    expect(table.get("definitions")).toEqual(["--help", "list", "show"]);
    expect(table.get("definitions show")).toEqual(expect.arrayContaining(["--definitions", "--hub", "--kind", "--kubeconfig", "--context", "-o"]));
  });

  it("wraps the same function for zsh through bashcompinit", () => {
    const zsh = zshCompletion(program);
    expect(zsh.split("\n")[1]).toBe("autoload -U +X bashcompinit && bashcompinit");
    expect(zsh).toContain(script.split("\n").slice(1).join("\n"));
  });
});

describe("every command's --help", async () => {
  const program = await buildProgram(["node", "flotilla"], { all: true });

  /** Every command that runs something (those with subcommands only group them). */
  function leaves(command: Command, path: string[] = []): Array<[string, Command]> {
    if (command.commands.length === 0) return [[path.join(" "), command]];
    return command.commands.flatMap((c) => leaves(c, [...path, c.name()]));
  }

  it.each(leaves(program))("flotilla %s --help ends with examples of flotilla commands", (_path, command) => {
    let help = "";
    command.configureOutput({ writeOut: (text) => (help += text) });
    command.outputHelp();
    expect(help).toMatch(/\nExamples:\n {2}.*\bflotilla /);
  });
});
