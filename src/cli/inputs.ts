// Reading what the user points the CLI at: `-f` files, folders and multi-document YAML (as
// `kubectl apply -f` does), sorted into deployments, definitions and clusters.

import { join } from "node:path";
import type { FieldProblem } from "../api/errors.js";
import type { ApplicationDeployment, Cluster, TenantPolicy } from "../api/types.js";
import { isFlotillaKind, resourceProblems } from "../api/validate.js";
import { type LoadedDocument, readDocuments } from "../definitions/loader.js";
import { packageRoot } from "./package-root.js";

/** The package's own `definitions/` folder. */
export function builtinDefinitionsDir(): string {
  return join(packageRoot(), "definitions");
}

export interface FileProblem extends FieldProblem {
  file: string;
}

export interface Inputs {
  deployments: Array<{ file: string; doc: ApplicationDeployment }>;
  definitions: unknown[];
  clusters: Cluster[];
  /** TenantPolicies (for `placement explain`). */
  policies: TenantPolicy[];
  /** Documents that failed schema validation, with every problem. */
  problems: FileProblem[];
}

function docLabel(d: LoadedDocument): string {
  return d.index > 0 ? `${d.file} (document ${d.index + 1})` : d.file;
}

/** Read and validate documents; invalid ones are reported in `problems`, valid ones sorted by kind. */
export async function readInputs(paths: string[]): Promise<Inputs> {
  const inputs: Inputs = { deployments: [], definitions: [], clusters: [], policies: [], problems: [] };
  for (const loaded of await readDocuments(paths)) {
    const doc = loaded.doc as { kind?: unknown };
    const problems = resourceProblems(loaded.doc);
    if (problems.length) {
      for (const p of problems) inputs.problems.push({ ...p, file: docLabel(loaded) });
      continue;
    }
    if (!isFlotillaKind(doc.kind)) continue;
    switch (doc.kind) {
      case "ApplicationDeployment":
        inputs.deployments.push({ file: docLabel(loaded), doc: loaded.doc as ApplicationDeployment });
        break;
      case "Cluster":
        inputs.clusters.push(loaded.doc as Cluster);
        break;
      case "TenantPolicy":
        inputs.policies.push(loaded.doc as TenantPolicy);
        break;
      case "ComponentDefinition":
      case "TraitDefinition":
        inputs.definitions.push(loaded.doc);
        break;
      default:
      // A GitSource or a SyncReport beside the deployments: nothing to render.
    }
  }
  return inputs;
}

export function formatFileProblem(p: FileProblem): string {
  const where = p.path ? `${p.file}: ${p.path}: ` : `${p.file}: `;
  return `${where}${p.message}${p.fix ? `. ${p.fix}` : ""}`;
}
