// `flotilla placement explain`: which clusters each deployment's waves select, and why every other
// cluster is not selected — the same decisions the controller writes to status.placement.

import type { Command } from "commander";
import { FlotillaError } from "../api/errors.js";
import type { Cluster, PlacementDecisionStatus } from "../api/types.js";
import { type Placement, place } from "../placement/select.js";
import { effectivePolicy, refusedClusters } from "../tenancy/policy.js";
import { formatFileProblem, readInputs } from "./inputs.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { addOutputOption, formatOutput, kubeList, TEXT_FORMATS, type TextFormat } from "./output.js";
import { collect } from "./repeatable.js";
import { addTenancyOptions, namespaceLabels } from "./tenancy-options.js";

/** One deployment's placement, as -o json|yaml prints it (an item of the List). */
export interface ExplainedPlacement {
  namespace: string;
  name: string;
  /** Each wave in rollout order with the clusters it selects, sorted by name. */
  waves: Array<{ name: string; clusters: string[] }>;
  /** One decision per cluster, sorted by name: the shape of the deployment's status.placement. */
  placement: PlacementDecisionStatus[];
}

function explained(namespace: string, name: string, placement: Placement): ExplainedPlacement {
  return {
    namespace,
    name,
    waves: placement.waves.map((w) => ({ name: w.name, clusters: w.clusters })),
    placement: placement.decisions.map((d) => ({
      cluster: d.cluster,
      ...(d.wave === undefined ? {} : { wave: d.wave }),
      selected: d.selected,
      reason: d.reason,
    })),
  };
}

/** The text view; `wide` adds each cluster's labels, which the selectors were matched against. */
export function explainText(results: readonly ExplainedPlacement[], clusters: readonly Cluster[], wide: boolean): string {
  const labels = new Map(clusters.map((c) => [c.metadata.name, c.metadata.labels ?? {}]));
  const out: string[] = [];
  for (const r of results) {
    out.push(`${r.namespace}/${r.name}:`);
    for (const w of r.waves) out.push(`  wave ${w.name}: ${w.clusters.length ? w.clusters.join(", ") : "(no cluster)"}`);
    for (const d of r.placement) {
      const line = `  ${d.selected ? "✓" : "✗"} ${d.cluster.padEnd(14)} ${d.reason ?? ""}`;
      const shown = Object.entries(labels.get(d.cluster) ?? {}).map(([k, v]) => `${k}=${v}`);
      out.push(wide ? `${line}  [${shown.join(",")}]` : line);
    }
  }
  return `${out.join("\n")}\n`;
}

export function registerPlacementCommands(program: Command): void {
  const explain = program
    .command("placement")
    .description(summaryOf("placement"))
    .command("explain")
    .description("show, for every cluster, whether each deployment selects it and why")
    .addHelpText(
      "after",
      examples(
        "flotilla placement explain -f examples/quickstart/app.yaml --clusters examples/quickstart/clusters.yaml",
        "flotilla placement explain -f app.yaml --clusters clusters.yaml -o wide     # with each cluster's labels",
        "flotilla placement explain -f app.yaml --clusters clusters.yaml -o json | jq '.items[].placement[] | select(.selected | not)'",
        "flotilla placement explain -f app.yaml --clusters clusters.yaml --policies policies.yaml --namespace-label flotilla.dev/tenant=team-a",
      ),
    )
    .requiredOption("-f, --filename <path>", "deployment file or folder (repeatable)", collect, [])
    .requiredOption("--clusters <file>", "Cluster objects");
  addTenancyOptions(explain);
  addOutputOption(explain, TEXT_FORMATS, "text, wide (with the clusters' labels), json or yaml (a List, an item per deployment)").action(
    async (opts: { filename: string[]; clusters: string; policies: string[]; namespaceLabel: string[]; output: TextFormat }) => {
      const labels = namespaceLabels(opts.namespaceLabel);
      const inputs = await readInputs([...opts.filename, opts.clusters, ...opts.policies]);
      if (inputs.problems.length) {
        throw new FlotillaError(`${inputs.problems.length} problem(s):\n${inputs.problems.map((p) => `  ${formatFileProblem(p)}`).join("\n")}`);
      }
      if (!inputs.deployments.length) throw new FlotillaError("no ApplicationDeployment found; point -f at one");
      const results = inputs.deployments.map(({ doc }) => {
        const namespace = doc.metadata.namespace ?? "default";
        // The namespace's TenantPolicies leave out the clusters it may not use, as the controller does.
        const refused = refusedClusters(effectivePolicy(inputs.policies, { name: namespace, labels }), inputs.clusters);
        return explained(namespace, doc.metadata.name, place(doc.spec.placementStrategies, inputs.clusters, { deployment: doc.metadata.name, refused }));
      });
      process.stdout.write(
        formatOutput(
          opts.output,
          () => kubeList(results),
          (wide) => explainText(results, inputs.clusters, wide),
        ),
      );
    },
  );
}
