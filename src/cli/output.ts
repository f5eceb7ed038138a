// `-o, --output` as kubectl has it, for every command that prints data: one option, one check of
// its value (a usage error, exit 2, naming --output and the formats the command knows, before the
// command does anything), and one way to print JSON and YAML. The human views (tables, text) stay
// with their commands: this module never decides what a command shows, only how data is written.

import type { Command } from "commander";
import { toJson, toYaml } from "../api/serialize.js";
import { EXIT_USAGE } from "./exit-codes.js";

/** The formats that print the data itself; every command with `-o` has both. */
export type DataFormat = "json" | "yaml";

/** A command that prints a table: the table (default), `wide` (more columns, as kubectl's), the data. */
export const TABLE_FORMATS = ["table", "wide", "json", "yaml"] as const;
export type TableFormat = (typeof TABLE_FORMATS)[number];

/** A command whose human output is text rather than a table: the text (default), `wide` (more detail), the data. */
export const TEXT_FORMATS = ["text", "wide", "json", "yaml"] as const;
export type TextFormat = (typeof TEXT_FORMATS)[number];

export function isDataFormat(format: string): format is DataFormat {
  return format === "json" || format === "yaml";
}

/** `a`, `a or b`, `a, b or c`. */
function oneOf(words: readonly string[]): string {
  return words.length <= 1 ? (words[0] ?? "") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
}

/**
 * Why `value` is not one of `formats` (`--output: "xml" is not a format. Use table, wide, json or
 * yaml.`), or undefined when it is one. For callers that take the format as a plain value.
 */
export function outputProblem(value: string, formats: readonly string[]): string | undefined {
  return formats.includes(value) ? undefined : `--output: "${value}" is not a format. Use ${oneOf(formats)}.`;
}

/**
 * Adds `-o, --output <format>` to `command`. `formats[0]` is the default; any other value than
 * `formats` is a usage error (exit 2) raised while the command line is parsed, so nothing runs.
 * `description` replaces the generated "table, wide, json or yaml" in `--help`.
 */
export function addOutputOption(command: Command, formats: readonly string[], description = oneOf(formats)): Command {
  return command.option(
    "-o, --output <format>",
    description,
    (value: string) => {
      const problem = outputProblem(value, formats);
      if (problem) command.error(`error: ${problem}`, { exitCode: EXIT_USAGE, code: "flotilla.invalidOutput" });
      return value;
    },
    formats[0],
  );
}

/** `value` as JSON (2-space indent, trailing newline) or YAML, keys in the canonical order (see serialize.ts). */
export function formatData(value: unknown, format: DataFormat): string {
  return format === "json" ? toJson(value) : toYaml(value);
}

/**
 * One document of a stream: JSON documents follow each other (kubectl and jq read such a stream),
 * YAML documents each start with `---`.
 */
export function formatDocument(value: unknown, format: DataFormat): string {
  return format === "json" ? toJson(value) : `---\n${toYaml(value)}`;
}

/** A Kubernetes `List`, as `kubectl get -o json` prints several objects and `kubectl apply -f` reads them. */
export interface KubeList<T = unknown> {
  apiVersion: "v1";
  kind: "List";
  items: T[];
}

export function kubeList<T>(items: readonly T[]): KubeList<T> {
  return { apiVersion: "v1", kind: "List", items: [...items] };
}

/**
 * What a command prints for `format`: `data()` as JSON or YAML, else its human view (`wide` true
 * for `-o wide`). `data` is a function so that a human view never builds it.
 */
export function formatOutput(format: string, data: () => unknown, human: (wide: boolean) => string): string {
  return isDataFormat(format) ? formatData(data(), format) : human(format === "wide");
}
