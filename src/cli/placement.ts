// `flotilla placement explain`: which clusters each deployment's waves select, and why every other
// cluster is not selected — the same decisions the controller writes to status.placement.

import type { Command } from "commander";
import { FlotillaError } from "../api/errors.js";
import { place } from "../placement/select.js";
import { formatFileProblem, readInputs } from "./inputs.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerPlacementCommands(program: Command): void {
  program
    .command("placement")
    .description(summaryOf("placement"))
    .command("explain")
    .description("show, for every cluster, whether each deployment selects it and why")
    .addHelpText("after", examples("flotilla placement explain -f examples/quickstart/app.yaml --clusters examples/quickstart/clusters.yaml"))
    .requiredOption("-f, --filename <path>", "deployment file or folder (repeatable)", collect, [])
    .requiredOption("--clusters <file>", "Cluster objects")
    .action(async (opts: { filename: string[]; clusters: string }) => {
      const inputs = await readInputs([...opts.filename, opts.clusters]);
      if (inputs.problems.length) {
        throw new FlotillaError(`${inputs.problems.length} problem(s):\n${inputs.problems.map((p) => `  ${formatFileProblem(p)}`).join("\n")}`);
      }
      if (!inputs.deployments.length) throw new FlotillaError("no ApplicationDeployment found; point -f at one");
      const out: string[] = [];
      for (const { doc } of inputs.deployments) {
        const placement = place(doc.spec.placementStrategies, inputs.clusters, { deployment: doc.metadata.name });
        out.push(`${doc.metadata.namespace ?? "default"}/${doc.metadata.name}:`);
        for (const w of placement.waves) out.push(`  wave ${w.name}: ${w.clusters.length ? w.clusters.join(", ") : "(no cluster)"}`);
        for (const d of placement.decisions) out.push(`  ${d.selected ? "✓" : "✗"} ${d.cluster.padEnd(14)} ${d.reason}`);
      }
      process.stdout.write(`${out.join("\n")}\n`);
    });
}
