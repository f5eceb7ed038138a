// `flotilla version`: the package's version (from package.json, the one source), with the Node.js
// runtime and platform, as text or as JSON for scripts.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { FlotillaError } from "../api/errors.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { packageRoot } from "./package-root.js";

export interface VersionInfo {
  flotilla: string;
  node: string;
  platform: string;
}

/** The version in the package's package.json. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), "package.json"), "utf8")) as { version: string }).version;
}

export function versionInfo(): VersionInfo {
  return { flotilla: packageVersion(), node: process.version, platform: `${process.platform}/${process.arch}` };
}

export function formatVersion(info: VersionInfo, output: string): string {
  if (output === "json") return `${JSON.stringify(info, null, 2)}\n`;
  if (output === "short") return `${info.flotilla}\n`;
  return `flotilla ${info.flotilla} (node ${info.node}, ${info.platform})\n`;
}

export function registerVersionCommand(program: Command): void {
  program
    .command("version")
    .description(summaryOf("version"))
    .option("-o, --output <format>", "text, short (the version alone) or json", "text")
    .addHelpText("after", examples("flotilla version", "flotilla version -o json | jq -r .flotilla"))
    .action((opts: { output: string }) => {
      if (!["text", "short", "json"].includes(opts.output)) throw new FlotillaError(`--output: "${opts.output}" is not a format. Use text, short or json.`);
      process.stdout.write(formatVersion(versionInfo(), opts.output));
    });
}
