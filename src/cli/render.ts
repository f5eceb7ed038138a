// `flotilla render` and `flotilla validate`: the renderer on the command line, with no cluster
// and no Git involved. Render prints what the controller would commit for the fully rolled-out
// target revision (as YAML, or per cluster a List that `kubectl apply -f -` takes); validate lists
// every problem and exits 1.

import { type Command, Option } from "commander";
import { type FieldProblem, FlotillaError, ValidationError } from "../api/errors.js";
import { toYaml } from "../api/serialize.js";
import type { ApplicationDeployment, Cluster, Manifest, TenantPolicy } from "../api/types.js";
import { waveName } from "../api/validate.js";
import { FileDefinitionSource } from "../definitions/loader.js";
import { brokenDefinitions, buildRegistry, type DefinitionRegistry } from "../definitions/registry.js";
import { manifestPath, writeLayout } from "../gitops/layout.js";
import { type PlacementDecision, place } from "../placement/select.js";
import { checkedKubeVersion, kubeMinor, kubeVersions, renderedProblems } from "../render/kube-schema.js";
import { deploymentProblems, type KubeCheck } from "../render/deployment-problems.js";
import { type RenderedCluster, type RenderTarget, renderDeployment } from "../render/render.js";
import { fullRolloutTargets } from "../rollout/targets.js";
import { effectivePolicy, refusedClusters } from "../tenancy/policy.js";
import { tenancyProblems } from "../tenancy/problems.js";
import { builtinDefinitionsDir, type FileProblem, formatFileProblem, type Inputs, readInputs } from "./inputs.js";
import { summaryOf } from "./command-index.js";
import { EXIT_USAGE } from "./exit-codes.js";
import { examples } from "./help.js";
import { addOutputOption, type DataFormat, formatData, formatDocument, kubeList, type TextFormat } from "./output.js";
import { collect } from "./repeatable.js";
import { addTenancyOptions, namespaceLabels, type TenancyOptionValues } from "./tenancy-options.js";

const LOCAL_CLUSTER: Cluster = {
  apiVersion: "flotilla.dev/v1alpha1",
  kind: "Cluster",
  metadata: { name: "local" },
  spec: {},
};

/** `--kube-version MAJOR.MINOR`: checked against the versions the schemas cover (exit 2 outside them). */
function addKubeVersionOption(command: Command, what: string): Command {
  return command.option(`--kube-version <MAJOR.MINOR>`, what, (value: string) => {
    try {
      return checkedKubeVersion(value);
    } catch (e) {
      command.error(`error: ${(e as Error).message}`, { exitCode: EXIT_USAGE, code: "flotilla.invalidKubeVersion" });
    }
  });
}

/** A cluster as the templates see it with `--kube-version`: its own reported version, else that one. */
function withKubeVersion(cluster: Cluster, kubeVersion: string | undefined): Cluster {
  if (!kubeVersion || cluster.status?.version) return cluster;
  return { ...cluster, status: { ...cluster.status, version: `v${kubeVersion}.0` } };
}

export async function loadRegistry(extraDirs: string[], inlineDefinitions: unknown[]): Promise<DefinitionRegistry> {
  const docs = await new FileDefinitionSource([builtinDefinitionsDir(), ...extraDirs]).loadDocuments();
  return buildRegistry([...docs, ...inlineDefinitions]);
}

/** Targets for one deployment: placement over the given clusters, or the implicit `local`; with the decisions, for a cluster left out. */
function targetsFor(
  deployment: ApplicationDeployment,
  clusters: Cluster[] | undefined,
  kubeVersion: string | undefined,
  tenancy: { policies: readonly TenantPolicy[]; namespaceLabels: Readonly<Record<string, string>> },
): { targets: RenderTarget[]; decisions: PlacementDecision[] } {
  if (!clusters) {
    const first = deployment.spec.placementStrategies?.[0];
    const placement = { waves: [{ name: waveName(0, first?.name), index: 0, strategy: first ?? {}, clusters: ["local"] }], decisions: [] };
    return { targets: fullRolloutTargets(deployment, placement, [withKubeVersion(LOCAL_CLUSTER, kubeVersion)]), decisions: [] };
  }
  // The namespace's TenantPolicies leave out the clusters it may not use, as the controller does.
  const effective = effectivePolicy(tenancy.policies, { name: deployment.metadata.namespace ?? "default", labels: tenancy.namespaceLabels });
  const placement = place(deployment.spec.placementStrategies, clusters, {
    deployment: deployment.metadata.name,
    refused: refusedClusters(effective, clusters),
  });
  return { targets: fullRolloutTargets(deployment, placement, clusters), decisions: placement.decisions };
}

/** The clusters `--cluster` names, sorted and once each; an error naming the clusters there are when a name is none of them. */
function chosenClusters(names: readonly string[], clusters: Cluster[] | undefined): string[] | undefined {
  if (!names.length) return undefined;
  const known = (clusters ?? [LOCAL_CLUSTER]).map((c) => c.metadata.name).sort();
  const unknown = [...new Set(names)].filter((n) => !known.includes(n));
  if (unknown.length) {
    const what = unknown.length === 1 ? "no cluster named" : "no clusters named";
    const there = clusters ? `the clusters are: ${known.join(", ")}` : "without --clusters there is one, named local";
    throw new FlotillaError(`--cluster: ${what} ${unknown.map((n) => `"${n}"`).join(", ")} (${there}).`);
  }
  return [...new Set(names)].sort();
}

interface RenderOptions extends TenancyOptionValues {
  filename: string[];
  definitions: string[];
  clusters?: string;
  cluster: string[];
  output: DataFormat;
  outDir?: string;
  kubeVersion?: string;
}

export function registerRenderCommands(program: Command): void {
  const render = program
    .command("render")
    .description(summaryOf("render"))
    .addHelpText(
      "after",
      examples(
        "flotilla render -f examples/quickstart/app.yaml --clusters examples/quickstart/clusters.yaml",
        "flotilla render -f app.yaml --clusters clusters.yaml --cluster prod-eu -o json | kubectl --context prod-eu apply -f -",
        "cat app.yaml | flotilla render -f - -o json",
        "flotilla render -f app.yaml --clusters clusters.yaml --out-dir env-repo/",
        "flotilla render -f app.yaml --kube-version 1.25",
      ),
    )
    .requiredOption("-f, --filename <path>", "deployment file or folder (repeatable; multi-document YAML allowed)", collect, [])
    .option("--definitions <dir>", "extra definitions folder (repeatable; the built-ins are always loaded)", collect, [])
    .option("--clusters <file>", "Cluster objects to place on (default: one implicit cluster named local)")
    .addOption(new Option("--cluster <name>", "only this cluster (repeatable)").argParser(collect).default([], "every cluster something is placed on"));
  addTenancyOptions(render);
  addKubeVersionOption(
    render,
    "check each cluster's objects against its Kubernetes version's API; clusters that report no version render for this one (without it: nothing is checked, and they render for v1.30.0)",
  );
  addOutputOption(render, ["yaml", "json"], "yaml (a # cluster: NAME comment, then its objects) or json (a List per cluster)")
    .option("--out-dir <dir>", "write the Git environment-repository layout into this folder instead of printing")
    .action(async (opts: RenderOptions) => {
      const labels = namespaceLabels(opts.namespaceLabel);
      const inputs = await readInputs([...opts.filename, ...opts.policies]);
      const clusterInputs = opts.clusters ? await readInputs([opts.clusters]) : undefined;
      inputs.policies.push(...(clusterInputs?.policies ?? []));
      const registry = await loadRegistry(opts.definitions, inputs.definitions);
      const notes: string[] = [];
      // Exactly `flotilla validate`'s checks first: render never prints what validate refuses.
      const problems = [...(await validationProblems(inputs, registry, { kubeVersion: opts.kubeVersion, notes }, labels)), ...(clusterInputs?.problems ?? [])];
      if (problems.length) failWith(problems);
      if (inputs.deployments.length === 0) {
        throw new FlotillaError(`no ApplicationDeployment found in ${opts.filename.join(", ")}. Point -f at a file with kind: ApplicationDeployment.`);
      }
      const given = clusterInputs ? [...clusterInputs.clusters, ...inputs.clusters] : inputs.clusters.length ? inputs.clusters : undefined;
      const clusters = given?.map((c) => withKubeVersion(c, opts.kubeVersion));
      const chosen = chosenClusters(opts.cluster, clusters);
      const results: Array<{ deployment: ApplicationDeployment; rendered: RenderedCluster[] }> = [];
      /** What each cluster's Kubernetes would refuse (`--kube-version`). */
      const refused: FileProblem[] = [];
      /** Why each deployment places nothing on a cluster `--cluster` names, by cluster. */
      const leftOut = new Map<string, string[]>();
      for (const { file, doc } of inputs.deployments) {
        const { targets, decisions } = targetsFor(doc, clusters, opts.kubeVersion, { policies: inputs.policies, namespaceLabels: labels });
        const kept = chosen ? targets.filter((t) => chosen.includes(t.cluster.name)) : targets;
        for (const d of decisions) {
          if (d.selected || !chosen?.includes(d.cluster)) continue;
          leftOut.set(d.cluster, [...(leftOut.get(d.cluster) ?? []), `${doc.metadata.namespace ?? "default"}/${doc.metadata.name}: ${d.reason}`]);
        }
        let rendered: RenderedCluster[];
        try {
          rendered = await renderDeployment({ deployment: doc, registry, targets: kept });
        } catch (e) {
          if (e instanceof ValidationError) failWith(e.problems.map((p) => ({ ...p, file })));
          throw e;
        }
        if (opts.kubeVersion) refused.push(...kubeProblems(doc, rendered, kept, notes).map((p) => ({ ...p, file })));
        results.push({ deployment: doc, rendered });
      }
      for (const n of new Set(notes)) process.stderr.write(`note: ${n}\n`);
      if (refused.length) failWith(refused);
      const byCluster = groupByCluster(results, chosen);
      // A cluster asked for by name that gets nothing is printed empty, as kubectl prints an empty
      // List for a namespace with nothing in it; stderr says why.
      for (const [cluster, manifests] of byCluster) {
        if (manifests.length) continue;
        const why = leftOut.get(cluster) ?? [];
        process.stderr.write(`note: nothing is placed on cluster ${cluster}${why.length ? ` (${why.join("; ")})` : ""}\n`);
      }
      if (opts.outDir) {
        const files = new Map<string, string>();
        for (const { deployment, rendered } of results) {
          for (const c of rendered) {
            for (const m of c.manifests) {
              files.set(manifestPath(c.cluster, deployment.metadata.namespace ?? "default", deployment.metadata.name, m), toYaml(m));
            }
          }
        }
        const written = await writeLayout(opts.outDir, files);
        process.stdout.write(
          `wrote ${written.written.length} file(s), ${written.unchanged.length} unchanged, ${written.removed.length} removed under ${opts.outDir}\n`,
        );
        return;
      }
      process.stdout.write(opts.output === "json" ? renderJson(byCluster) : renderYaml(byCluster));
    });

  const validate = program
    .command("validate")
    .description(summaryOf("validate"))
    .addHelpText(
      "after",
      examples(
        "flotilla validate -f examples/",
        "flotilla validate -f app.yaml --definitions platform/definitions/",
        "flotilla validate -f app.yaml -o json | jq -r '.items[] | .file + \": \" + .message'",
        "flotilla validate -f app.yaml --kube-version 1.31",
      ),
    )
    .requiredOption("-f, --filename <path>", "file or folder (repeatable)", collect, [])
    .option("--definitions <dir>", "extra definitions folder (repeatable; the built-ins are always loaded)", collect, []);
  addTenancyOptions(validate);
  addKubeVersionOption(
    validate,
    "also check every rendered object against this Kubernetes version's API (unknown fields, wrong types, apiVersions it does not serve); the templates see this version",
  );
  addOutputOption(validate, ["text", "json", "yaml"], "text, json or yaml (a List of the problems, empty when all is valid; the exit code is the same)").action(
    async (opts: { filename: string[]; definitions: string[]; output: Exclude<TextFormat, "wide">; kubeVersion?: string } & TenancyOptionValues) => {
      const labels = namespaceLabels(opts.namespaceLabel);
      const inputs = await readInputs([...opts.filename, ...opts.policies]);
      const registry = await loadRegistry(opts.definitions, inputs.definitions);
      const notes: string[] = [];
      const problems = await validationProblems(inputs, registry, { kubeVersion: opts.kubeVersion, notes }, labels);
      for (const n of new Set(notes)) process.stderr.write(`note: ${n}\n`);
      if (opts.output !== "text") {
        process.stdout.write(formatData(kubeList(problems.map(problemItem)), opts.output));
        if (problems.length) process.exitCode = 1;
        return;
      }
      if (problems.length) failWith(problems);
      const count = inputs.deployments.length + inputs.definitions.length + inputs.clusters.length + inputs.policies.length;
      process.stdout.write(`${count} document(s) valid${opts.kubeVersion ? `; rendered objects fit Kubernetes ${opts.kubeVersion}` : ""}\n`);
    },
  );
}

/** A problem as an item of `validate -o json|yaml`: where (file, then JSON path), what, and what to do. */
function problemItem(p: FileProblem): FileProblem {
  return {
    file: p.file,
    path: p.path,
    message: p.message,
    ...(p.fix === undefined ? {} : { fix: p.fix }),
    ...(p.transient ? { transient: true } : {}),
  };
}

/**
 * Every problem `flotilla validate` reports: documents that fail their schema, broken definitions,
 * and each deployment's expressions and renders. `flotilla render` runs the same checks first.
 */
export async function validationProblems(
  inputs: Inputs,
  registry: DefinitionRegistry,
  kube: KubeCheck = {},
  namespaceLabels?: Readonly<Record<string, string>>,
): Promise<FileProblem[]> {
  const problems: FileProblem[] = [...inputs.problems];
  for (const broken of brokenDefinitions(registry)) {
    const list: FieldProblem[] = broken.error instanceof ValidationError ? broken.error.problems : [{ path: "", message: broken.error.message }];
    for (const p of list) problems.push({ ...p, file: `${broken.kind}/${broken.name}` });
  }
  for (const { file, doc } of inputs.deployments) {
    // The TenantPolicies among the inputs refuse what the namespace may not create, as at `kubectl apply`.
    const objectProblems = inputs.policies.length
      ? (manifests: readonly Manifest[]) => tenancyProblems({ deployment: doc, policies: inputs.policies, namespaceLabels, manifests })
      : undefined;
    problems.push(...(await deploymentProblems(doc, registry, { ...kube, objectProblems })).map((p) => ({ ...p, file })));
  }
  return problems;
}

/**
 * `render --kube-version`: what each cluster's Kubernetes would refuse of its objects, checked
 * against the version its templates saw (its own, else `--kube-version`). A cluster reporting a
 * version the schemas do not cover is not checked, with a note.
 */
function kubeProblems(deployment: ApplicationDeployment, rendered: RenderedCluster[], targets: RenderTarget[], notes: string[]): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const { all, oldest, newest } = kubeVersions();
  for (const c of rendered) {
    const reported = targets.find((t) => t.cluster.name === c.cluster)?.cluster.version ?? "";
    const minor = kubeMinor(reported);
    if (!minor || !all.includes(minor)) {
      notes.push(`cluster ${c.cluster} reports Kubernetes "${reported}": its objects are not checked (the schemas cover ${oldest} to ${newest})`);
      continue;
    }
    const found = renderedProblems(deployment, c.manifests, minor, { cluster: c.cluster });
    problems.push(...found.problems);
    notes.push(...found.notes);
  }
  return problems;
}

function failWith(problems: FileProblem[]): never {
  process.stderr.write(`${problems.length} problem(s):\n${problems.map((p) => `  ${formatFileProblem(p)}`).join("\n")}\n`);
  process.exit(1);
}

/** A YAML stream: per cluster a `# cluster: NAME` comment, then its objects, one document each. */
function renderYaml(byCluster: Map<string, unknown[]>): string {
  const out: string[] = [];
  for (const [cluster, manifests] of byCluster) {
    out.push(`# cluster: ${cluster}\n`);
    for (const m of manifests) out.push(`---\n${toYaml(m)}`);
  }
  return out.join("");
}

/**
 * A stream of JSON documents, per cluster a `List` of its objects in cluster-name order (kubectl
 * and jq read such a stream): one cluster (`--cluster NAME`) is one List for `kubectl apply -f -`.
 * JSON has no comments, so the cluster names are not in it; with several clusters, the Lists come
 * in the order of the YAML's `# cluster:` comments.
 */
function renderJson(byCluster: Map<string, unknown[]>): string {
  return [...byCluster.values()].map((manifests) => formatDocument(kubeList(manifests), "json")).join("");
}

/** Manifests by cluster, in cluster-name order; `chosen`: exactly those clusters, empty or not. */
function groupByCluster(results: Array<{ rendered: RenderedCluster[] }>, chosen: string[] | undefined): Map<string, unknown[]> {
  const byCluster = new Map<string, unknown[]>((chosen ?? []).map((c) => [c, []]));
  for (const { rendered } of results) {
    for (const c of rendered) byCluster.set(c.cluster, [...(byCluster.get(c.cluster) ?? []), ...c.manifests]);
  }
  return new Map([...byCluster].sort(([a], [b]) => (a < b ? -1 : 1)));
}
