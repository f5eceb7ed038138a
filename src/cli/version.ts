// `flotilla version`: the package's version (from package.json, the one source), with the Node.js
// runtime and platform, as text or as JSON or YAML for scripts.

import type { Command } from "commander";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { addOutputOption, formatData, isDataFormat } from "./output.js";
import { packageVersion } from "./package-root.js";

export interface VersionInfo {
  flotilla: string;
  node: string;
  platform: string;
}

export function versionInfo(): VersionInfo {
  return { flotilla: packageVersion(), node: process.version, platform: `${process.platform}/${process.arch}` };
}

/** The formats of `flotilla version -o`; the first is the default. */
export const VERSION_FORMATS = ["text", "short", "json", "yaml"] as const;

export function formatVersion(info: VersionInfo, output: (typeof VERSION_FORMATS)[number]): string {
  if (isDataFormat(output)) return formatData(info, output);
  if (output === "short") return `${info.flotilla}\n`;
  return `flotilla ${info.flotilla} (node ${info.node}, ${info.platform})\n`;
}

export function registerVersionCommand(program: Command): void {
  const version = program
    .command("version")
    .description(summaryOf("version"))
    .addHelpText("after", examples("flotilla version", "flotilla version -o json | jq -r .flotilla", "flotilla version -o short"));
  addOutputOption(version, VERSION_FORMATS, "text, short (the version alone), json or yaml").action((opts: { output: (typeof VERSION_FORMATS)[number] }) => {
    process.stdout.write(formatVersion(versionInfo(), opts.output));
  });
}
