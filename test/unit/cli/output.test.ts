// `-o, --output` (cli/output.ts), the one helper every command that prints data uses: the check of
// the value (bad usage, exit 2, naming --output and the formats), JSON and YAML as printed, the
// List; then every command of the tree that has -o, walked, and the compiled CLI's exit codes.

import { Command, CommanderError } from "commander";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { addOutputOption, formatData, formatDocument, formatOutput, kubeList, outputProblem, TABLE_FORMATS } from "../../../src/cli/output.js";
import { buildProgram } from "../../../src/cli/program.js";
import { buildCli, flotilla } from "./compiled-cli.js";

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the output helper", () => {
  it("names --output and every format a command prints when the value is none of them", () => {
    expect(outputProblem("json", TABLE_FORMATS)).toBeUndefined();
    expect(outputProblem("xml", TABLE_FORMATS)).toBe('--output: "xml" is not a format. Use table, wide, json or yaml.');
    expect(outputProblem("xml", ["yaml", "json"])).toBe('--output: "xml" is not a format. Use yaml or json.');
  });

  it("adds -o with the first format as default and refuses another value while parsing, exit 2", async () => {
    const run = async (...args: string[]) => {
      let format: string | undefined;
      let stderr = "";
      const program = new Command().exitOverride().configureOutput({
        writeErr: (t) => {
          stderr += t;
        },
      });
      addOutputOption(program.command("get"), TABLE_FORMATS).action((opts: { output: string }) => {
        format = opts.output;
      });
      const error = await program.parseAsync(["node", "flotilla", "get", ...args]).then(
        () => undefined,
        (e: unknown) => e,
      );
      return { format, error, stderr };
    };
    expect((await run()).format).toBe("table");
    expect((await run("-o", "wide")).format).toBe("wide");
    expect((await run("--output=yaml")).format).toBe("yaml");
    const bad = await run("-ojsonl");
    expect(bad.format).toBeUndefined(); // the action never ran
    expect(bad.error).toBeInstanceOf(CommanderError);
    expect((bad.error as CommanderError).exitCode).toBe(2);
    expect(bad.stderr).toBe('error: --output: "jsonl" is not a format. Use table, wide, json or yaml.\n');
  });

  it("prints JSON with a 2-space indent and a trailing newline, keys in the canonical order", () => {
    expect(formatData({ spec: { b: 1, a: [1] }, kind: "X", apiVersion: "v1" }, "json")).toBe(
      '{\n  "apiVersion": "v1",\n  "kind": "X",\n  "spec": {\n    "a": [\n      1\n    ],\n    "b": 1\n  }\n}\n',
    );
  });

  it("prints YAML with the project's serializer, and a List as kubectl does", () => {
    expect(formatData(kubeList([{ kind: "X", apiVersion: "v1" }]), "yaml")).toBe("apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: X\n");
    expect(formatData(kubeList([]), "json")).toBe('{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": []\n}\n');
  });

  it("writes one document of a stream: JSON as it is, YAML after ---", () => {
    expect(formatDocument({ a: 1 }, "json") + formatDocument({ a: 2 }, "json")).toBe('{\n  "a": 1\n}\n{\n  "a": 2\n}\n');
    expect(formatDocument({ a: 1 }, "yaml")).toBe("---\na: 1\n");
  });

  it("builds the data only for json and yaml, and tells the human view whether it is wide", () => {
    const data = vi.fn(() => ({ a: 1 }));
    expect(formatOutput("table", data, (wide) => `table ${wide}\n`)).toBe("table false\n");
    expect(formatOutput("wide", data, (wide) => `table ${wide}\n`)).toBe("table true\n");
    expect(data).not.toHaveBeenCalled();
    expect(formatOutput("yaml", data, () => "")).toBe("a: 1\n");
  });
});

/** Every command that runs something, with its path (`placement explain`). */
function leaves(command: Command, path: string[] = []): Array<[string, Command]> {
  if (command.commands.length === 0) return [[path.join(" "), command]];
  return command.commands.flatMap((c) => leaves(c, [...path, c.name()]));
}

describe("every command with -o", async () => {
  const program = await buildProgram(["node", "flotilla"], { all: true });
  const withOutput = leaves(program).filter(([, c]) => c.options.some((o) => o.long === "--output"));

  it("is one of the commands that print data", () => {
    // A new command with -o joins this list (and docs/cli.md's table of formats).
    expect(withOutput.map(([path]) => path)).toEqual(
      expect.arrayContaining([
        "render",
        "validate",
        "definitions list",
        "definitions show",
        "fleet status",
        "status",
        "placement explain",
        "health",
        "version",
        "diff",
        "history",
        "secret seal",
      ]),
    );
  });

  it.each(withOutput)("flotilla %s -o xml is bad usage, exit 2, naming --output and the formats, before anything runs", async (path) => {
    const fresh = await buildProgram(["node", "flotilla", ...path.split(" ")], { all: true });
    let stderr = "";
    const capture = (c: Command): void => {
      c.configureOutput({
        writeErr: (t) => {
          stderr += t;
        },
        writeOut: () => undefined,
      });
      c.commands.forEach(capture);
    };
    capture(fresh);
    // `health` exits by itself (its own exit codes); the others throw for main.ts to exit.
    vi.spyOn(process, "exit").mockImplementation((code?: string | number | null) => {
      throw new CommanderError(Number(code ?? 0), "exit", "process.exit");
    });
    const error = await fresh.parseAsync(["node", "flotilla", ...path.split(" "), "-o", "xml"]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CommanderError);
    expect((error as CommanderError).exitCode).toBe(2);
    expect(stderr).toMatch(/^error: --output: "xml" is not a format\. Use [a-z]+(, [a-z]+)* or [a-z]+\.\n$/);
  });
});

describe("the compiled CLI", { timeout: 60_000 }, () => {
  beforeAll(() => buildCli(), 180_000);

  // Files and kubeconfigs that do not exist: a bad -o is refused before any is read.
  it.each([
    [["render", "-f", "nowhere.yaml"], "yaml or json"],
    [["validate", "-f", "nowhere.yaml"], "text, json or yaml"],
    [["status", "--kubeconfig", "nowhere"], "table, wide, json or yaml"],
    [["status", "web", "--kubeconfig", "nowhere"], "table, wide, json or yaml"],
    [["placement", "explain", "-f", "nowhere.yaml", "--clusters", "nowhere.yaml"], "text, wide, json or yaml"],
    [["fleet", "status", "--dir", "nowhere"], "text, wide, json or yaml"],
    [["health", "-f", "nowhere.yaml"], "table, wide, json or yaml"],
    [["version"], "text, short, json or yaml"],
    [["definitions", "show", "webservice", "--kubeconfig", "nowhere"], "text, wide, json or yaml"],
  ])("flotilla %j -o xml exits 2: Use %s", async (args, formats) => {
    expect(await flotilla([...args, "--output", "xml"])).toEqual({ code: 2, stdout: "", stderr: `error: --output: "xml" is not a format. Use ${formats}.\n` });
  });
});
