// From the YAML files of one commit of a GitSource to a plan: the objects to apply, the owned
// objects to prune, and every problem that stops the commit. Pure: text in, data out. A commit
// with a single problem applies nothing, and a source never applies outside its own namespace
// nor a kind it may not carry.

import { type FieldProblem, formatProblem } from "../api/errors.js";
import { ANNOTATION_SOURCE, ANNOTATION_SOURCE_COMMIT, ANNOTATION_SOURCE_FILE, LABEL_SOURCE, sourceLabelValue } from "../api/git-source.js";
import { ANNOTATION_ABORT, ANNOTATION_PROMOTE, ANNOTATION_RETRY, API_VERSION } from "../api/labels.js";
import { parseYamlStream, YamlLimitError } from "../api/serialize.js";
import type { GitSourceInventoryEntry, JsonObject } from "../api/types.js";
import { resourceProblems } from "../api/validate.js";
import type { ApplicationDeployment } from "../api/types.js";
import { validate } from "./reconcile-steps.js";

/** One file of the commit: its path from the repository's root and its text. */
export interface SourceFile {
  path: string;
  text: string;
}

/** One YAML document of a file; `index` counts the file's non-empty documents from 0. */
export interface SourceDocument {
  file: string;
  index: number;
  doc: unknown;
}

/** Why a document stops the commit: Refused (a source may not apply it) or InvalidDocument. */
export type SourceProblemReason = "Refused" | "InvalidDocument";

export interface SourceProblem extends FieldProblem {
  reason: SourceProblemReason;
  file: string;
  /** The document in the file, from 0; absent for a problem of the whole file (YAML syntax). */
  index?: number;
  /** The YAML line (from 1) of a syntax error. */
  line?: number;
}

/** Kinds a GitSource applies, and where. */
const TEAM_KINDS = new Set(["ApplicationDeployment"]);
/** Cluster-scoped kinds only a source in the controller's own namespace (the platform team's) may carry. */
const PLATFORM_KINDS = new Set(["ComponentDefinition", "TraitDefinition", "Cluster"]);

export interface SourceIdentity {
  namespace: string;
  name: string;
}

export interface PlanInput {
  source: SourceIdentity;
  /** The commit the documents were read at. */
  commit: string;
  documents: SourceDocument[];
  /** Problems found while reading the files (YAML syntax); they stop the commit too. */
  readProblems?: SourceProblem[];
  /** What the source applied before (status.inventory): the candidates for pruning. */
  inventory: GitSourceInventoryEntry[];
  /** The controller's namespace (default flotilla-system): its sources may carry platform kinds. */
  controllerNamespace: string;
}

/** One object to apply, with where it came from. */
export interface PlannedObject {
  object: JsonObject & {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string; labels: Record<string, string>; annotations: Record<string, string> };
  };
  entry: GitSourceInventoryEntry;
}

export interface SourcePlan {
  /** In file order; empty when there are problems. */
  apply: PlannedObject[];
  /** Entries of the previous inventory no longer in the commit; empty when there are problems. */
  prune: GitSourceInventoryEntry[];
  /** The inventory after the plan is carried out. */
  inventory: GitSourceInventoryEntry[];
  problems: SourceProblem[];
}

/** Parse every file; a file that is not YAML is a problem with its line, and its documents are left out. */
export function parseSourceFiles(files: readonly SourceFile[]): { documents: SourceDocument[]; problems: SourceProblem[] } {
  const documents: SourceDocument[] = [];
  const problems: SourceProblem[] = [];
  for (const f of [...files].sort((a, b) => compare(a.path, b.path))) {
    let parsed: unknown[];
    try {
      parsed = parseYamlStream(f.text, { filename: f.path });
    } catch (e) {
      const mark = (e as { mark?: { line?: unknown } }).mark;
      const line = typeof mark?.line === "number" ? mark.line + 1 : undefined;
      const reason = (e as { reason?: unknown }).reason;
      const message =
        typeof reason === "string" ? `is not valid YAML: ${reason}` : `cannot be read: ${e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e)}`;
      problems.push({
        reason: "InvalidDocument",
        file: f.path,
        path: "",
        message: line === undefined ? message : `${message} (line ${line})`,
        fix: e instanceof YamlLimitError ? e.fix : "Fix the YAML syntax.",
        ...(line === undefined ? {} : { line }),
      });
      continue;
    }
    parsed.forEach((doc, index) => {
      documents.push({ file: f.path, index, doc });
    });
  }
  return { documents, problems };
}

/** Plan one commit: what to apply, what to prune and why nothing can be applied, if so. */
export function planSource(input: PlanInput): SourcePlan {
  const { source } = input;
  const problems: SourceProblem[] = [...(input.readProblems ?? [])];
  const apply: PlannedObject[] = [];
  const seen = new Map<string, SourceDocument>();
  for (const d of input.documents) {
    const where = { file: d.file, index: d.index };
    const refused = (path: string, message: string, fix: string) => problems.push({ reason: "Refused", ...where, path, message, fix });
    const invalid = (p: FieldProblem) => problems.push({ reason: "InvalidDocument", ...where, ...p });
    if (d.doc === null || typeof d.doc !== "object" || Array.isArray(d.doc)) {
      invalid({ path: "", message: "must be a mapping", fix: "Write the document as a YAML mapping with apiVersion, kind, metadata and spec." });
      continue;
    }
    const doc = d.doc as JsonObject;
    const kind = doc.kind;
    const platformSource = source.namespace === input.controllerNamespace;
    const allowed = TEAM_KINDS.has(String(kind)) || (platformSource && PLATFORM_KINDS.has(String(kind)));
    if (typeof kind !== "string" || kind === "") {
      invalid({ path: "kind", message: "is required", fix: "Set kind: ApplicationDeployment (and apiVersion: flotilla.dev/v1alpha1)." });
      continue;
    }
    if (!allowed || doc.apiVersion !== API_VERSION) {
      const what = allowed ? `${String(doc.apiVersion)} ${kind}` : kind;
      refused(
        allowed ? "apiVersion" : "kind",
        `${what} may not be applied by a GitSource in namespace ${source.namespace}: ${
          platformSource
            ? "a source in the controller's namespace applies ApplicationDeployments, ComponentDefinitions, TraitDefinitions and Clusters of flotilla.dev/v1alpha1 only"
            : `a team's source applies flotilla.dev/v1alpha1 ApplicationDeployments only (ComponentDefinitions, TraitDefinitions and Clusters come from a GitSource in ${input.controllerNamespace})`
        }`,
        "Remove the document from the source's path, or apply it another way (the platform team's repository, or kubectl by someone allowed to).",
      );
      continue;
    }
    const meta = doc.metadata;
    if (meta === null || typeof meta !== "object" || Array.isArray(meta)) {
      invalid({ path: "metadata", message: "is required", fix: "Add metadata with a name." });
      continue;
    }
    const namespace = (meta as JsonObject).namespace;
    const clusterScoped = PLATFORM_KINDS.has(kind);
    if (clusterScoped && namespace !== undefined) {
      refused("metadata.namespace", `${kind} is cluster-scoped: it has no namespace (got ${JSON.stringify(namespace)})`, "Remove metadata.namespace.");
      continue;
    }
    if (!clusterScoped && namespace !== undefined && namespace !== source.namespace) {
      refused(
        "metadata.namespace",
        `is ${JSON.stringify(namespace)}: a GitSource applies into its own namespace only (${source.namespace})`,
        `Remove metadata.namespace (it defaults to ${source.namespace}), or move the file to a GitSource in that namespace.`,
      );
      continue;
    }
    const badMap = (["labels", "annotations"] as const).find((k) => (meta as JsonObject)[k] !== undefined && !isStringMap((meta as JsonObject)[k]));
    if (badMap) {
      invalid({ path: `metadata.${badMap}`, message: "must map keys to strings", fix: 'Quote values that YAML reads as numbers or booleans, e.g. "true".' });
      continue;
    }
    const oneShot = [ANNOTATION_PROMOTE, ANNOTATION_ABORT, ANNOTATION_RETRY].find((k) => Object.hasOwn(((meta as JsonObject).annotations ?? {}) as object, k));
    if (oneShot) {
      // The controller removes it once acted on; the source would put it back at every interval.
      refused(
        `metadata.annotations[${JSON.stringify(oneShot)}]`,
        "is a one-shot action, not state: the controller removes it once done, and a source would put it back at every fetch",
        `Remove it from the file; run \`kubectl annotate applicationdeployment ${String((meta as JsonObject).name)} ${oneShot}=...\` instead`,
      );
      continue;
    }
    const object = applied(doc, clusterScoped ? undefined : source.namespace, input.commit, d.file, source);
    const errors = kind === "ApplicationDeployment" ? (validate(object as unknown as ApplicationDeployment)?.problems ?? []) : resourceProblems(object);
    if (errors.length) {
      for (const p of errors) invalid(p);
      continue;
    }
    const key = `${kind}/${object.metadata.name}`;
    const first = seen.get(key);
    if (first) {
      invalid({
        path: "metadata.name",
        message: `${key} is also defined in ${documentLabel(first.file, first.index)}`,
        fix: "Give each object its own name, or remove one of the two documents.",
      });
      continue;
    }
    seen.set(key, d);
    const entry: GitSourceInventoryEntry = {
      apiVersion: object.apiVersion,
      kind,
      name: object.metadata.name,
      ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      file: d.file,
    };
    apply.push({ object, entry });
  }
  if (problems.length) return { apply: [], prune: [], inventory: input.inventory, problems };
  const kept = new Set(apply.map((a) => inventoryKey(a.entry)));
  const prune = input.inventory.filter((e) => !kept.has(inventoryKey(e)));
  const inventory = apply.map((a) => a.entry).sort((a, b) => compare(inventoryKey(a), inventoryKey(b)));
  return { apply, prune, inventory, problems };
}

/** The object as applied: name, namespace, labels and annotations of the document plus the source's; no status. */
function applied(doc: JsonObject, namespace: string | undefined, commit: string, file: string, source: SourceIdentity): PlannedObject["object"] {
  const meta = doc.metadata as JsonObject;
  const labels = isStringMap(meta.labels) ? meta.labels : {};
  const annotations = isStringMap(meta.annotations) ? meta.annotations : {};
  const { status: _status, metadata: _metadata, ...rest } = doc;
  return {
    ...rest,
    apiVersion: String(doc.apiVersion),
    kind: String(doc.kind),
    metadata: {
      name: meta.name as string,
      ...(namespace ? { namespace } : {}),
      labels: { ...labels, [LABEL_SOURCE]: sourceLabelValue(source.namespace, source.name) },
      annotations: {
        ...annotations,
        [ANNOTATION_SOURCE]: `${source.namespace}/${source.name}`,
        [ANNOTATION_SOURCE_COMMIT]: commit,
        [ANNOTATION_SOURCE_FILE]: file,
      },
    },
  };
}

function isStringMap(v: unknown): v is Record<string, string> {
  return v !== null && typeof v === "object" && !Array.isArray(v) && Object.values(v).every((x) => typeof x === "string");
}

/** `apiVersion/kind/namespace/name`: what identifies an inventory entry (not its file). */
export function inventoryKey(e: { apiVersion: string; kind: string; namespace?: string | undefined; name: string }): string {
  return `${e.apiVersion}/${e.kind}/${e.namespace ?? ""}/${e.name}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `file` or `file (document N)` past the first document, as the CLI names documents. */
export function documentLabel(file: string, index: number | undefined): string {
  return index === undefined || index === 0 ? file : `${file} (document ${index + 1})`;
}

/** One line per problem: `file (document N): field: message. fix` — what status and events say. */
export function formatSourceProblem(p: SourceProblem): string {
  return `${documentLabel(p.file, p.index)}: ${formatProblem(p)}`;
}

/** The condition reason of a plan's problems: Refused wins over InvalidDocument (it is about who may, not how). */
export function problemsReason(problems: readonly SourceProblem[]): SourceProblemReason {
  return problems.some((p) => p.reason === "Refused") ? "Refused" : "InvalidDocument";
}
