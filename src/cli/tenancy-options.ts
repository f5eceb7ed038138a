// The options that let the offline commands (`render`, `validate`, `placement explain`) apply
// TenantPolicies as the controller and the admission webhook do: the policies come from files
// (`--policies`, or any TenantPolicy among the other inputs), and the namespace's labels, which a
// policy's namespace selector matches, from `--namespace-label` (the hub is not asked).

import type { Command } from "commander";
import { FlotillaError } from "../api/errors.js";
import { collect } from "./repeatable.js";

export interface TenancyOptionValues {
  policies: string[];
  namespaceLabel: string[];
}

export function addTenancyOptions(command: Command): Command {
  return command
    .option("--policies <path>", "TenantPolicy objects, file or folder (repeatable); TenantPolicies among the other inputs count too", collect, [])
    .option("--namespace-label <key=value>", "a label of the deployments' namespaces, which TenantPolicy namespace selectors match (repeatable)", collect, []);
}

/** `key=value` pairs of --namespace-label. */
export function namespaceLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new FlotillaError(`--namespace-label ${JSON.stringify(pair)}: expected key=value, e.g. flotilla.dev/tenant=team-a`);
    labels[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return labels;
}
