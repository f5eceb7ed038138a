// `flotilla health`: the sync loop's health assessment (objectHealth, never a copy of its rules) of
// live objects read from files or from a cluster, as a table, JSON or YAML, with an exit code a
// script can wait on. It only reads: it never writes to a cluster or to the files.

import { ApisApi, CoreV1Api, CustomObjectsApi, type KubeConfig, type V1APIResource } from "@kubernetes/client-node";
import type { Command } from "commander";
import { ValidationError } from "../api/errors.js";
import type { Manifest } from "../api/types.js";
import { listManifestFiles, readDocuments } from "../definitions/loader.js";
import { type Health, objectHealth } from "../sync/health.js";
import { KubeClient } from "../kube/client.js";
import type { ObjectRef } from "../kube/refs.js";
import { loadKubeConfig } from "./kubeconfig.js";
import { type FileProblem, formatFileProblem } from "./inputs.js";
import { summaryOf } from "./command-index.js";
import { addOutputOption, formatOutput, outputProblem, TABLE_FORMATS, type TableFormat } from "./output.js";
import { textTable } from "./table.js";
import { collect } from "./repeatable.js";

/** Exit codes, as documented in the command's help. */
export const EXIT_HEALTHY = 0;
export const EXIT_NOT_HEALTHY = 1;
export const EXIT_CANNOT_ASSESS = 2;

/** One assessed object: the JSON/YAML output is an array with one per object. */
export interface HealthEntry {
  /** The file the object was read from, as given on the command line (absent for objects read from a cluster). */
  file?: string;
  apiVersion: string;
  kind: string;
  /** Empty for cluster-scoped objects and for objects written without one. */
  namespace: string;
  name: string;
  status: Health["status"];
  message: string;
}

/** A kind the cluster serves, as discovery describes it: what `KIND` in `KIND/NAME` is matched against. */
export interface ServedResource {
  /** API group, "" for the core group. */
  group: string;
  /** The group's preferred version, e.g. `apps/v1`. */
  apiVersion: string;
  kind: string;
  /** e.g. `deployments`. */
  plural: string;
  /** e.g. `deployment`; may be empty on old servers (the lower-case kind is matched too). */
  singular: string;
  /** e.g. `deploy`. */
  shortNames: string[];
  namespaced: boolean;
}

/** What `flotilla health` needs of a cluster; a fake in the unit tests. */
export interface HealthCluster {
  /** Every kind served: the core group first, then the groups in the server's order (kubectl's priority). */
  servedResources(): Promise<ServedResource[]>;
  /** The live object, or undefined when it does not exist. */
  get(ref: ObjectRef): Promise<Manifest | undefined>;
  /** The namespace of the kubeconfig's current context, if it sets one. */
  contextNamespace(): string | undefined;
  close(): void;
}

export interface HealthCommandOptions {
  /** Files or folders of live objects (`-f`, repeatable). Default none. */
  filename: string[];
  /** `KIND/NAME` of objects to read from a cluster instead of files. Default none. */
  refs: string[];
  /** `table`, `wide`, `json` or `yaml`. Default `table`. */
  output: string;
  /** Namespace of the `KIND/NAME` objects. Default: the kubeconfig context's, else `default`. */
  namespace?: string;
  /** Kubeconfig of the cluster to read `KIND/NAME` from. Default: KUBECONFIG or ~/.kube/config. */
  kubeconfig?: string;
  /** The kubeconfig context to use. Default: its current context. */
  context?: string;
  /** Count Suspended as done (exit 0), as `argocd app wait --health --suspended` does. Default false. */
  allowSuspended?: boolean;
}

export interface HealthIo {
  stdout(text: string): void;
  stderr(text: string): void;
  /** Connects to the cluster of a kubeconfig file (undefined: the default one). Default: a KubeClient. */
  connect?(kubeconfig: string | undefined, context: string | undefined): HealthCluster;
}

const NOT_AN_OBJECT_FIX = "Each document must be one live object with apiVersion and kind, as `kubectl get -o yaml` prints it";

function isMapping(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Why a document is not one Kubernetes object, or undefined when it is one. */
function notAnObject(doc: unknown): string | undefined {
  if (!isMapping(doc)) return `is not a Kubernetes object (got ${Array.isArray(doc) ? "a list" : `a ${typeof doc}`})`;
  const missing = [
    typeof doc.apiVersion === "string" && doc.apiVersion ? undefined : "apiVersion",
    typeof doc.kind === "string" && doc.kind ? undefined : "kind",
  ].filter((f) => f !== undefined);
  return missing.length ? `is not a Kubernetes object: it has no ${missing.join(", no ")}` : undefined;
}

/**
 * The objects a document stands for: a typed list as the API server returns it (`DeploymentList`,
 * whose items carry no apiVersion or kind) is opened into its items; `kind: List` the loader opens.
 */
function openTypedList(doc: unknown): unknown[] {
  if (!isMapping(doc) || typeof doc.kind !== "string" || !doc.kind.endsWith("List") || !Array.isArray(doc.items)) return [doc];
  const kind = doc.kind.slice(0, -"List".length);
  return doc.items.map((item) => (isMapping(item) ? { apiVersion: doc.apiVersion, kind, ...item } : item));
}

function label(file: string, index: number): string {
  return index > 0 ? `${file} (document ${index + 1})` : file;
}

function problemsOf(e: unknown, file: string): FileProblem[] {
  if (e instanceof ValidationError) return e.problems.map((p) => ({ file: p.path || file, path: "", message: p.message, ...(p.fix ? { fix: p.fix } : {}) }));
  throw e;
}

function entryOf(object: Manifest, file: string | undefined): HealthEntry {
  // A test object or a dump may carry no metadata (or no name): health does not need them.
  const metadata = isMapping(object.metadata) ? object.metadata : { name: "" };
  const live: Manifest = { ...object, metadata: { ...metadata, name: typeof metadata.name === "string" ? metadata.name : "" } };
  const { status, message } = objectHealth(live);
  return {
    ...(file === undefined ? {} : { file }),
    apiVersion: live.apiVersion,
    kind: live.kind,
    namespace: live.metadata.namespace ?? "",
    name: live.metadata.name,
    status,
    message,
  };
}

/** Assess every object of every file under `paths`; a file that cannot be read or holds a non-object is a problem naming it. */
export async function assessFiles(paths: string[]): Promise<{ entries: HealthEntry[]; problems: FileProblem[] }> {
  const entries: HealthEntry[] = [];
  const problems: FileProblem[] = [];
  for (const path of paths) {
    let files: string[];
    try {
      files = await listManifestFiles([path]);
    } catch (e) {
      problems.push(...problemsOf(e, path));
      continue;
    }
    for (const file of files) {
      let docs: Awaited<ReturnType<typeof readDocuments>>;
      try {
        // Live objects come from other tools too, whose Go YAML keeps the last of a repeated key.
        docs = await readDocuments([file], { duplicateKeys: "last-wins" });
      } catch (e) {
        problems.push(...problemsOf(e, file));
        continue;
      }
      for (const loaded of docs) {
        for (const doc of openTypedList(loaded.doc)) {
          const why = notAnObject(doc);
          if (why) problems.push({ file: label(file, loaded.index), path: "", message: why, fix: NOT_AN_OBJECT_FIX });
          else entries.push(entryOf(doc as Manifest, file));
        }
      }
    }
  }
  return { entries, problems };
}

function matches(r: ServedResource, name: string): boolean {
  return r.plural === name || r.singular === name || r.kind.toLowerCase() === name || r.shortNames.includes(name);
}

/**
 * The kind a kubectl-style resource name stands for: `deployment`, `deployments`, `deploy`,
 * `Deployment`, or qualified by group (`deployments.apps`, `jobs.batch`, `widgets.example.com`).
 * The first match in discovery order wins, as with kubectl; undefined when nothing matches.
 */
export function resolveResource(type: string, served: readonly ServedResource[]): ServedResource | undefined {
  const name = type.toLowerCase();
  const dot = name.indexOf(".");
  if (dot > 0) {
    const resource = name.slice(0, dot);
    const group = name.slice(dot + 1);
    const qualified = served.find((r) => r.group === group && matches(r, resource));
    if (qualified) return qualified;
  }
  return served.find((r) => matches(r, name));
}

/** Assess `KIND/NAME` objects read from a cluster; one that does not exist is Missing. */
export async function assessCluster(
  cluster: HealthCluster,
  refs: string[],
  namespace: string | undefined,
): Promise<{ entries: HealthEntry[]; problems: FileProblem[] }> {
  const entries: HealthEntry[] = [];
  const problems: FileProblem[] = [];
  const parsed = refs.map((ref) => ({ ref, slash: ref.indexOf("/") }));
  for (const { ref, slash } of parsed) {
    if (slash <= 0 || slash === ref.length - 1 || ref.indexOf("/", slash + 1) >= 0) {
      problems.push({ file: ref, path: "", message: "is not KIND/NAME", fix: "Name each object as kubectl does, e.g. deployment/web or jobs.batch/migrate" });
    }
  }
  const valid = parsed.filter((p) => !problems.some((q) => q.file === p.ref));
  if (!valid.length) return { entries, problems };
  const served = await cluster.servedResources();
  const ns = namespace ?? cluster.contextNamespace() ?? "default";
  for (const { ref, slash } of valid) {
    const type = ref.slice(0, slash);
    const name = ref.slice(slash + 1);
    const resource = resolveResource(type, served);
    if (!resource) {
      problems.push({
        file: ref,
        path: "",
        message: `the cluster serves no resource type "${type}"`,
        fix: "Use a kind, plural or short name the cluster serves (kubectl api-resources lists them)",
      });
      continue;
    }
    const objectRef: ObjectRef = { apiVersion: resource.apiVersion, kind: resource.kind, name, ...(resource.namespaced ? { namespace: ns } : {}) };
    let live: Manifest | undefined;
    try {
      live = await cluster.get(objectRef);
    } catch (e) {
      // Forbidden, a timeout: this object cannot be assessed; the others still can.
      problems.push({ file: ref, path: "", message: `cannot be read from the cluster: ${e instanceof Error ? e.message : String(e)}` });
      continue;
    }
    if (live) {
      entries.push(entryOf(live, undefined));
    } else {
      const { status, message } = objectHealth(undefined);
      entries.push({ apiVersion: resource.apiVersion, kind: resource.kind, namespace: resource.namespaced ? ns : "", name, status, message });
    }
  }
  return { entries, problems };
}

/** A table with one row per object; the FILE column only when objects came from files; `wide` adds the APIVERSION. */
export function formatTable(entries: readonly HealthEntry[], wide = false): string {
  const withFile = entries.some((e) => e.file !== undefined);
  const head = [...(withFile ? ["FILE"] : []), ...(wide ? ["APIVERSION"] : []), "KIND", "NAMESPACE", "NAME", "STATUS", "MESSAGE"];
  const rows = entries.map((e) => [...(withFile ? [e.file ?? ""] : []), ...(wide ? [e.apiVersion] : []), e.kind, e.namespace, e.name, e.status, e.message]);
  return textTable(head, rows, 2);
}

/**
 * The table, or the entries as a plain array. Not a `List` like the other commands: the entries
 * are assessments, not Kubernetes objects, and the array is the contract scripts and the peers'
 * conformance runner read (`[{file, kind, name, status, message}, ...]`).
 */
export function formatHealth(entries: readonly HealthEntry[], format: TableFormat): string {
  return formatOutput(
    format,
    () => entries,
    (wide) => formatTable(entries, wide),
  );
}

function kubeHealthCluster(kubeconfig: string | undefined, context: string | undefined): HealthCluster {
  const kc: KubeConfig = loadKubeConfig(kubeconfig, context);
  const client = new KubeClient({ kubeConfig: kc });
  const toServed = (group: string, apiVersion: string, list: V1APIResource[]): ServedResource[] =>
    list
      .filter((r) => !r.name.includes("/"))
      .map((r) => ({
        group,
        apiVersion,
        kind: r.kind,
        plural: r.name,
        singular: r.singularName ?? "",
        shortNames: r.shortNames ?? [],
        namespaced: r.namespaced,
      }));
  return {
    async servedResources() {
      const core = toServed("", "v1", (await kc.makeApiClient(CoreV1Api).getAPIResources()).resources);
      const groups = (await kc.makeApiClient(ApisApi).getAPIVersions()).groups;
      const custom = kc.makeApiClient(CustomObjectsApi);
      const lists = await Promise.all(
        groups.map(async (g) => {
          const version = g.preferredVersion ?? g.versions[0];
          if (!version) return [];
          // A group whose server is down (an unavailable APIService) only hides its own kinds, as with kubectl.
          const list = await custom.getAPIResources({ group: g.name, version: version.version }).catch(() => undefined);
          return list ? toServed(g.name, version.groupVersion, list.resources) : [];
        }),
      );
      return [...core, ...lists.flat()];
    },
    get: (ref) => client.get(ref),
    contextNamespace: () => kc.getContextObject(kc.getCurrentContext())?.namespace,
    close: () => client.close(),
  };
}

/** `flotilla health` with its options; returns the exit code (see the command's help). */
export async function runHealth(options: HealthCommandOptions, io: HealthIo): Promise<number> {
  const usage = (message: string): number => {
    io.stderr(`error: ${message}\n`);
    return EXIT_CANNOT_ASSESS;
  };
  const format = TABLE_FORMATS.find((f) => f === options.output);
  if (!format) return usage(outputProblem(options.output, TABLE_FORMATS) ?? "");
  if (options.filename.length && options.refs.length) {
    return usage("give either -f files (objects as written in them) or KIND/NAME (objects read from the cluster), not both.");
  }
  if (!options.filename.length && !options.refs.length) {
    return usage("nothing to assess. Point -f at files or folders of live objects, or name objects as KIND/NAME with --kubeconfig.");
  }
  if (options.filename.length && (options.kubeconfig !== undefined || options.namespace !== undefined)) {
    return usage("--kubeconfig and -n apply to KIND/NAME objects read from a cluster; -f assesses the objects as written in the files.");
  }
  let result: { entries: HealthEntry[]; problems: FileProblem[] };
  if (options.filename.length) {
    result = await assessFiles(options.filename);
  } else {
    const cluster = (io.connect ?? kubeHealthCluster)(options.kubeconfig, options.context);
    try {
      result = await assessCluster(cluster, options.refs, options.namespace);
    } catch (e) {
      return usage(`cannot read from the cluster: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      cluster.close();
    }
  }
  const { entries, problems } = result;
  // An empty table prints nothing (the problems say why); an empty list of data is still data.
  if (entries.length || (format !== "table" && format !== "wide")) io.stdout(formatHealth(entries, format));
  for (const p of problems) io.stderr(`error: ${formatFileProblem(p)}\n`);
  if (problems.length) return EXIT_CANNOT_ASSESS;
  if (!entries.length) return usage(`no objects found in ${options.filename.join(", ")}. Point -f at .yaml, .yml or .json files of live objects.`);
  // A string: Suspended is a status objectHealth may return before HealthState lists it.
  const done = ({ status }: { status: string }) => status === "Healthy" || (options.allowSuspended === true && status === "Suspended");
  return entries.every(done) ? EXIT_HEALTHY : EXIT_NOT_HEALTHY;
}

const HELP_AFTER = `
Each document of a file is one live object (as \`kubectl get -o yaml\` prints it); a List is
opened into its items. Folders are read recursively (.yaml, .yml, .json). The status is the
one the sync loop computes: Healthy, Progressing, Degraded, Suspended, Missing or Unknown.

Exit codes:
  0  every object is Healthy (or Suspended, with --allow-suspended)
  1  at least one object is Progressing, Degraded, Suspended, Missing or Unknown
  2  something could not be assessed: bad usage, an unreadable file or one that is not a
     Kubernetes object, an unknown resource type, an unreachable cluster (the objects that
     could be assessed are still printed)

Examples:
  flotilla health -f live/ -o json
  flotilla health -f live/ -o wide
  flotilla health --kubeconfig member.kubeconfig -n shop deployment/web jobs.batch/migrate
`;

export function registerHealthCommand(program: Command): void {
  const health = program
    .command("health")
    .description(summaryOf("health"))
    .argument("[objects...]", "KIND/NAME of objects to read from the cluster (e.g. deployment/web, jobs.batch/migrate)")
    .option("-f, --filename <path>", "file or folder of live objects (repeatable; multi-document YAML and Lists allowed)", collect, [])
    .option("--kubeconfig <file>", "cluster to read KIND/NAME objects from (default: KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "the kubeconfig context to use (default: its current context)")
    .option("-n, --namespace <ns>", "namespace of KIND/NAME objects (default: the kubeconfig context's, else default)")
    .option("--allow-suspended", "count Suspended objects as done (exit 0)")
    .addHelpText("after", HELP_AFTER)
    .exitOverride((err) => {
      // Commander's own usage errors (unknown option, missing value, a bad -o) exit 2 like ours; help exits 0.
      process.exit(err.exitCode === 0 ? 0 : EXIT_CANNOT_ASSESS);
    });
  addOutputOption(health, TABLE_FORMATS, "table, wide (with the apiVersion), json or yaml").action(
    async (
      objects: string[],
      opts: { filename: string[]; output: string; kubeconfig?: string; context?: string; namespace?: string; allowSuspended?: boolean },
    ) => {
      process.exitCode = await runHealth(
        {
          filename: opts.filename,
          refs: objects,
          output: opts.output,
          allowSuspended: opts.allowSuspended === true,
          ...(opts.kubeconfig === undefined ? {} : { kubeconfig: opts.kubeconfig }),
          ...(opts.context === undefined ? {} : { context: opts.context }),
          ...(opts.namespace === undefined ? {} : { namespace: opts.namespace }),
        },
        { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) },
      );
    },
  );
}
