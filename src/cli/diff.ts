// `flotilla diff -f FILE...`: what applying deployment files would change, before anything is
// applied: the spec against the hub's object, each cluster's files against the environment
// repository's head (the target revision fully rolled out, as `flotilla render` prints it), and
// with --live the members' objects against a server-side dry run. Exit 0 nothing would change,
// 1 something would, 2 an error (as `kubectl diff`). Reads only: never applies, never commits.

import type { KubeConfig } from "@kubernetes/client-node";
import { type Command, Option } from "commander";
import { FlotillaError, ValidationError } from "../api/errors.js";
import { API_VERSION } from "../api/labels.js";
import { parseYamlStream, toYaml } from "../api/serialize.js";
import type { ApplicationDeployment, Cluster, Manifest } from "../api/types.js";
import { FileDefinitionSource } from "../definitions/loader.js";
import { buildRegistry, type DefinitionRegistry } from "../definitions/registry.js";
import { folderChanges, unifiedPatch } from "../gitops/folder-diff.js";
import { deploymentDir, folderFiles, manifestFiles } from "../gitops/layout.js";
import { readFolder } from "../gitops/reads.js";
import type { ObjectStore } from "../gitops/store.js";
import { clusterNames } from "../gitops/trees.js";
import type { KubeClient } from "../kube/client.js";
import { place } from "../placement/select.js";
import { renderDeployment } from "../render/render.js";
import { fullRolloutTargets, targetRevision } from "../rollout/targets.js";
import { liveChanges } from "../sync/live-diff.js";
import { summaryOf } from "./command-index.js";
import { type ClusterDiffResult, type DeploymentDiff, type DiffReport, formatDiffReport, type HubDiff, somethingChanges } from "./diff-view.js";
import { defaultEnvRepo, type OpenedEnvRepo, openEnvRepoSource } from "./env-repo-source.js";
import { examples } from "./help.js";
import { type FileProblem, formatFileProblem, type Inputs, readInputs } from "./inputs.js";
import { addOutputOption, formatData } from "./output.js";
import { loadRegistry, validationProblems } from "./render.js";
import { collect } from "./repeatable.js";

/**
 * Exit codes of `flotilla diff`, as `kubectl diff` has them (not the other commands' codes of
 * exit-codes.ts): 0 nothing would change, 1 something would, 2 any error, bad usage included.
 */
export const DIFF_NO_CHANGE = 0;
export const DIFF_CHANGES = 1;
export const DIFF_ERROR = 2;

export interface DiffOptions {
  filename: string[];
  definitions: string[];
  clusters?: string;
  kubeconfig?: string;
  context?: string;
  live?: boolean;
  envRepo?: string;
  envBranch?: string;
  output: "text" | "json" | "yaml";
}

/** A failure of the inputs: printed as a list, exit 2. */
class InputProblems extends FlotillaError {
  constructor(readonly problems: FileProblem[]) {
    super(`${problems.length} problem(s):\n${problems.map((p) => `  ${formatFileProblem(p)}`).join("\n")}`);
  }
}

/** The hub, when the options name one (or no `--clusters` says to work offline). */
interface Hub {
  kc: KubeConfig;
  client: KubeClient;
}

async function connectHub(opts: DiffOptions): Promise<Hub | undefined> {
  if (opts.clusters !== undefined && opts.kubeconfig === undefined && opts.context === undefined) return undefined;
  const [{ loadKubeConfig }, { KubeClient }] = await Promise.all([import("./kubeconfig.js"), import("../kube/client.js")]);
  let kc: KubeConfig;
  try {
    kc = loadKubeConfig(opts.kubeconfig, opts.context);
  } catch (e) {
    throw new FlotillaError(`${(e as Error).message} Without a hub, pass --clusters FILE and --env-repo PATH to diff offline.`, { cause: e });
  }
  return { kc, client: new KubeClient({ kubeConfig: kc, timeoutMs: 15_000 }) };
}

async function hubRegistry(hub: Hub, extraDirs: string[], inline: unknown[]): Promise<DefinitionRegistry> {
  const docs: unknown[] = [];
  for (const kind of ["ComponentDefinition", "TraitDefinition"]) docs.push(...(await hub.client.list(API_VERSION, kind)));
  const extra = extraDirs.length ? await new FileDefinitionSource(extraDirs).loadDocuments() : [];
  return buildRegistry([...docs, ...extra, ...inline]);
}

async function clustersFor(opts: DiffOptions, hub: Hub | undefined, inputs: Inputs): Promise<Cluster[]> {
  if (hub) return [...((await hub.client.list(API_VERSION, "Cluster")) as unknown as Cluster[]), ...inputs.clusters];
  const file = await readInputs([opts.clusters as string]);
  if (file.problems.length) throw new InputProblems(file.problems);
  return [...file.clusters, ...inputs.clusters];
}

/** The spec on the hub against the file's. */
async function hubDiff(hub: Hub, ad: ApplicationDeployment, file: string): Promise<HubDiff> {
  const ns = ad.metadata.namespace as string;
  const live = (await hub.client.get({ apiVersion: API_VERSION, kind: "ApplicationDeployment", namespace: ns, name: ad.metadata.name })) as
    | ApplicationDeployment
    | undefined;
  const next = toYaml(ad.spec);
  if (!live) return { state: "new", patch: unifiedPatch("/dev/null", `${file} spec`, "", next) };
  const patch = unifiedPatch(`hub ${ns}/${ad.metadata.name} spec`, `${file} spec`, toYaml(live.spec ?? {}), next);
  return { state: patch ? "changed" : "unchanged", patch };
}

/** The deployment's folder in each cluster at the repository's head, by file name. */
async function headFolders(store: ObjectStore, head: string | null, ns: string, name: string): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  if (!head) return out;
  const tree = (await store.readCommit(head)).tree;
  for (const cluster of await clusterNames(store, tree)) {
    const files = await readFolder(store, tree, deploymentDir(cluster, ns, name));
    if (files.size) out.set(cluster, folderFiles(files));
  }
  return out;
}

/** The member's API for --live; or why it is not asked (`error`: something is wrong, not only out of reach). */
type Member = { client: KubeClient } | { note: string; error?: boolean };

async function connectMember(hub: Hub, cluster: Cluster | undefined): Promise<Member> {
  if (!cluster) return { note: "no Cluster of that name on the hub: nothing to ask" };
  if (cluster.spec.mode === "Pull") {
    return { note: "pull mode: only its agent reaches the member, so its live objects are not compared (the agent applies what the repository diff shows)" };
  }
  const [{ KubeConfig }, { KubeClient }] = await Promise.all([import("@kubernetes/client-node"), import("../kube/client.js")]);
  if (cluster.spec.local) return { client: new KubeClient({ kubeConfig: hub.kc, timeoutMs: 10_000 }) };
  const ref = cluster.spec.kubeconfigSecretRef;
  if (!ref) return { note: "spec.kubeconfigSecretRef is not set: no credentials to reach it", error: true };
  const where = `Secret ${ref.namespace}/${ref.name}`;
  try {
    const secret = await hub.client.get({ apiVersion: "v1", kind: "Secret", namespace: ref.namespace, name: ref.name });
    const value = (secret?.data as Record<string, string> | undefined)?.[ref.key];
    if (!value) return { note: `${where} ${secret ? `has no key "${ref.key}"` : "does not exist"}: no credentials to reach it`, error: true };
    const kc = new KubeConfig();
    kc.loadFromString(Buffer.from(value, "base64").toString("utf8"));
    return { client: new KubeClient({ kubeConfig: kc, timeoutMs: 10_000 }) };
  } catch (e) {
    return { note: `its credentials (${where}, key ${ref.key}) cannot be used: ${(e as Error).message.split("\n")[0]}`, error: true };
  }
}

async function memberClient(hub: Hub, cluster: Cluster | undefined, cache: Map<string, Member>): Promise<Member> {
  const name = cluster?.metadata.name ?? "";
  const cached = cache.get(name);
  if (cached) return cached;
  const member = await connectMember(hub, cluster);
  cache.set(name, member);
  return member;
}

/** The objects of a folder's YAML files (the ones the sync loop would prune when they go). */
function objectsOf(files: Readonly<Record<string, string>>): Manifest[] {
  return Object.values(files).flatMap((text) => parseYamlStream(text) as Manifest[]);
}

/** Everything `flotilla diff` compares, as a report; throws only for what stops it as a whole. */
export async function diffReport(opts: DiffOptions): Promise<DiffReport> {
  const inputs = await readInputs(opts.filename);
  if (inputs.problems.length) throw new InputProblems(inputs.problems);
  if (inputs.deployments.length === 0) {
    throw new FlotillaError(`no ApplicationDeployment found in ${opts.filename.join(", ")}. Point -f at a file with kind: ApplicationDeployment.`);
  }
  const hub = await connectHub(opts);
  const notes: string[] = [];
  const errors: string[] = [];
  const registry = hub ? await hubRegistry(hub, opts.definitions, inputs.definitions) : await loadRegistry(opts.definitions, inputs.definitions);
  const problems = await validationProblems(inputs, registry);
  if (problems.length) throw new InputProblems(problems);
  const clusters = await clustersFor(opts, hub, inputs);
  const defaultNamespace = hub ? (await import("./kubeconfig.js")).namespaceOf(hub.kc, undefined) : "default";

  const spec = opts.envRepo ?? defaultEnvRepo();
  let repo: OpenedEnvRepo | undefined;
  if (spec) {
    repo = await openEnvRepoSource(spec, {
      ...(opts.envBranch ? { branch: opts.envBranch } : {}),
      ...(process.env.FLOTILLA_GIT_TOKEN ? { token: process.env.FLOTILLA_GIT_TOKEN } : {}),
    });
    if (repo.head === null)
      notes.push(`${repo.label} has no commits on ${opts.envBranch ?? "the branch HEAD names"}: every file shows as added (name the branch with --env-branch)`);
  } else if (!hub) {
    throw new FlotillaError("nothing to diff against: pass --env-repo PATH|URL (the environment repository) or a hub (--kubeconfig).");
  } else {
    notes.push("the clusters' files are not compared: pass --env-repo PATH|URL (the environment repository; there is no .flotilla/controller/env.git here)");
  }
  if (opts.live && !hub) notes.push("--live needs the hub (--kubeconfig) to reach the members: the live objects are not compared");
  const members = new Map<string, Member>();
  try {
    const deployments: DeploymentDiff[] = [];
    const sorted = [...inputs.deployments].sort((a, b) => key(a.doc, defaultNamespace).localeCompare(key(b.doc, defaultNamespace)));
    for (const { file, doc } of sorted) {
      const ns = doc.metadata.namespace ?? defaultNamespace;
      const ad: ApplicationDeployment = { ...doc, metadata: { ...doc.metadata, namespace: ns } };
      const placement = place(ad.spec.placementStrategies, clusters);
      let rendered: Awaited<ReturnType<typeof renderDeployment>>;
      try {
        rendered = await renderDeployment({ deployment: ad, registry, targets: fullRolloutTargets(ad, placement, clusters) });
      } catch (e) {
        if (e instanceof ValidationError) throw new InputProblems(e.problems.map((p) => ({ ...p, file })));
        throw e;
      }
      const next = new Map(rendered.map((r) => [r.cluster, manifestFiles(r.manifests)]));
      const head = repo ? await headFolders(repo.store, repo.head, ns, ad.metadata.name) : new Map<string, Record<string, string>>();
      const results: ClusterDiffResult[] = [];
      for (const cluster of [...new Set([...next.keys(), ...head.keys()])].sort()) {
        const result: ClusterDiffResult = { cluster };
        const before = head.get(cluster) ?? {};
        const after = next.get(cluster) ?? {};
        if (repo) result.repo = folderChanges(deploymentDir(cluster, ns, ad.metadata.name), before, after);
        if (opts.live && hub) {
          const member = await memberClient(
            hub,
            clusters.find((c) => c.metadata.name === cluster),
            members,
          );
          if ("note" in member) {
            result.note = member.note;
            if (member.error) errors.push(`cluster ${cluster}: ${member.note}`);
          } else {
            // What the sync loop reads: the files' YAML, not the renderer's objects.
            const gone = Object.fromEntries(Object.entries(before).filter(([f]) => !(f in after)));
            result.live = await liveChanges(member.client, objectsOf(after), objectsOf(gone));
            for (const l of result.live) if (l.action === "failed") errors.push(`cluster ${cluster}: ${l.object}: ${l.message ?? "failed"}`);
          }
        }
        results.push(result);
      }
      deployments.push({
        namespace: ns,
        name: ad.metadata.name,
        file,
        revision: targetRevision(ad).name,
        ...(hub ? { hub: await hubDiff(hub, ad, file) } : {}),
        clusters: results,
      });
    }
    return {
      ...(repo ? { envRepo: { repository: repo.label, head: repo.head } } : {}),
      deployments,
      notes,
      errors,
      changed: somethingChanges(deployments),
    };
  } finally {
    for (const m of members.values()) if ("client" in m) m.client.close();
    hub?.client.close();
    await repo?.close();
  }
}

function key(ad: ApplicationDeployment, defaultNamespace: string): string {
  return `${ad.metadata.namespace ?? defaultNamespace}/${ad.metadata.name}`;
}

/** Colors on a terminal, unless NO_COLOR is set (https://no-color.org). */
function useColor(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.NO_COLOR;
}

export function registerDiffCommand(program: Command): void {
  const diff = program
    .command("diff")
    .description(summaryOf("diff"))
    .addHelpText(
      "after",
      `
Per cluster, the target revision is rendered fully rolled out (as \`flotilla render\` prints it):
what the environment repository holds once the rollout completes.

Exit codes (as kubectl diff):
  0  nothing would change
  1  something would change
  2  an error: bad usage, a file that does not validate, an unreadable repository, an
     unreachable hub, a member that refused or did not answer a --live read or dry run
${examples(
  "flotilla diff -f app.yaml                                        # the hub of KUBECONFIG; the local fleet's repository",
  "flotilla diff -f app.yaml --kubeconfig hub.kubeconfig --env-repo https://git.example.com/platform/env.git --live",
  "flotilla diff -f apps/ --clusters clusters.yaml --env-repo ../env-repo   # offline, in CI: no cluster at all",
)}`,
    )
    .requiredOption("-f, --filename <path>", "deployment file or folder (repeatable; multi-document YAML allowed)", collect, [])
    .option("--definitions <dir>", "extra definitions folder (repeatable; offline added to the built-ins, with a hub to the hub's)", collect, [])
    .option("--clusters <file>", "Cluster objects to place on; without --kubeconfig or --context it means offline: no hub")
    .option("--kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config, unless --clusters)")
    .option("--context <name>", "the kubeconfig context to use")
    .option(
      "--env-repo <path|url>",
      "the environment repository: a clone, a bare repository, or an HTTPS URL (token from FLOTILLA_GIT_TOKEN) (default: .flotilla/controller/env.git, the local fleet's)",
    )
    .option("--env-branch <name>", "the branch to compare with (default: the repository's HEAD; main for a URL)")
    .addOption(new Option("--live", "also compare each push-mode member's live objects with a server-side dry run of what the sync loop would apply"));
  addOutputOption(diff, ["text", "json", "yaml"], "text (unified diffs), json or yaml (the report)").action(async (opts: DiffOptions) => {
    let report: DiffReport;
    try {
      report = await diffReport(opts);
    } catch (e) {
      process.stderr.write(`error: ${e instanceof FlotillaError ? e.message : e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(DIFF_ERROR);
    }
    process.stdout.write(opts.output === "text" ? formatDiffReport(report, { color: useColor() }) : formatData(report, opts.output));
    for (const n of report.notes) process.stderr.write(`note: ${n}\n`);
    for (const e of report.errors) process.stderr.write(`error: ${e}\n`);
    process.exitCode = report.errors.length ? DIFF_ERROR : report.changed ? DIFF_CHANGES : DIFF_NO_CHANGE;
  });
}
