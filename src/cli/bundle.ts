// The install bundle: the objects a kustomization folder (deploy/, deploy/git-remote/, crds/)
// yields, read as `kubectl kustomize` reads it, for the part of kustomize those folders use.
// Any other kustomization field, or a patch it could not apply exactly, is an error naming it:
// `flotilla install` must never apply something other than `kubectl apply -k` would.

import { readFileSync, statSync } from "node:fs";
import { isAbsolute, join, normalize, relative, sep } from "node:path";
import { FlotillaError } from "../api/errors.js";
import { getOwn, setOwn } from "../api/keys.js";
import { parseYamlStream } from "../api/serialize.js";
import type { Manifest } from "../api/types.js";

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A bundle that cannot be read, or that uses kustomize beyond what this reader does exactly. */
export class BundleError extends FlotillaError {}

/** The file system, as the reader sees it (an in-memory one in tests). */
export interface BundleFiles {
  /** The text of a file; undefined when there is no such file. */
  readFile(path: string): string | undefined;
  /** Whether `path` is an existing folder. */
  isDirectory(path: string): boolean;
}

export const diskFiles: BundleFiles = {
  readFile(path) {
    try {
      return readFileSync(path, "utf8");
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "EISDIR") return undefined;
      throw e;
    }
  },
  isDirectory(path) {
    try {
      return statSync(path).isDirectory();
    } catch {
      return false;
    }
  },
};

/** The only kustomization file name read (kustomize also takes `kustomization.yml` and `Kustomization`). */
export const KUSTOMIZATION = "kustomization.yaml";

/**
 * The kustomization fields read. Folders go under `bases` and files under `resources`, as
 * kustomize v2.0.3 (kubectl 1.20) requires; later versions take folders in both.
 */
const FIELDS = ["apiVersion", "kind", "bases", "resources", "images", "patchesStrategicMerge"] as const;
const IMAGE_FIELDS = ["name", "newName", "newTag", "digest"];

/** Lists a patch may merge, by the `name` of their items (as Kubernetes' strategic merge does for these fields). */
const MERGED_BY_NAME = new Set(["containers", "initContainers", "ephemeralContainers", "volumes", "env", "imagePullSecrets"]);

/** Pod specs whose containers `images` rewrites: a Pod's, a workload's template, a CronJob's job template. */
const POD_SPEC_PATHS = [["spec"], ["spec", "template", "spec"], ["spec", "jobTemplate", "spec", "template", "spec"]];

interface ImageRule {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

interface Kustomization {
  file: string;
  bases: string[];
  resources: string[];
  images: ImageRule[];
  patches: string[];
}

/** `Kind/namespace/name` (`Kind/name` when cluster-scoped), as kubectl names objects in messages. */
export function objectLabel(o: { kind: string; metadata: { name: string; namespace?: string | undefined } }): string {
  return o.metadata.namespace ? `${o.kind}/${o.metadata.namespace}/${o.metadata.name}` : `${o.kind}/${o.metadata.name}`;
}

/** What identifies an object in a bundle: API group, kind, namespace and name (not the version, as kustomize). */
function idOf(o: Manifest): string {
  const group = o.apiVersion.includes("/") ? o.apiVersion.slice(0, o.apiVersion.indexOf("/")) : "";
  return `${group}|${o.kind}|${o.metadata.namespace ?? ""}|${o.metadata.name}`;
}

function stringList(value: unknown, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string" && v !== "")) throw new BundleError(`${where}: must be a list of paths`);
  return value as string[];
}

function parseKustomization(text: string, file: string): Kustomization {
  const docs = parseYamlStream(text, { filename: file });
  const doc = docs[0] ?? {};
  if (docs.length > 1 || !isPlainObject(doc)) throw new BundleError(`${file}: must be one YAML mapping`);
  for (const field of Object.keys(doc)) {
    if (!(FIELDS as readonly string[]).includes(field)) {
      throw new BundleError(
        `${file}: ${field}: flotilla install does not read this kustomization field (it reads ${FIELDS.join(", ")}). ` +
          "Apply this folder with kubectl apply -k instead, or keep to those fields.",
      );
    }
  }
  if (doc.apiVersion !== undefined && doc.apiVersion !== "kustomize.config.k8s.io/v1beta1") {
    throw new BundleError(`${file}: apiVersion: "${String(doc.apiVersion)}" is not kustomize.config.k8s.io/v1beta1`);
  }
  if (doc.kind !== undefined && doc.kind !== "Kustomization") throw new BundleError(`${file}: kind: "${String(doc.kind)}" is not Kustomization`);
  const images = doc.images === undefined || doc.images === null ? [] : doc.images;
  if (!Array.isArray(images)) throw new BundleError(`${file}: images: must be a list`);
  return {
    file,
    bases: stringList(doc.bases, `${file}: bases`),
    resources: stringList(doc.resources, `${file}: resources`),
    patches: stringList(doc.patchesStrategicMerge, `${file}: patchesStrategicMerge`),
    images: images.map((rule, i) => imageRule(rule, `${file}: images[${i}]`)),
  };
}

function imageRule(rule: unknown, where: string): ImageRule {
  if (!isPlainObject(rule)) throw new BundleError(`${where}: must be a mapping`);
  for (const [key, value] of Object.entries(rule)) {
    if (!IMAGE_FIELDS.includes(key)) throw new BundleError(`${where}.${key}: flotilla install reads only ${IMAGE_FIELDS.join(", ")} of an image`);
    if (typeof value !== "string" || value === "") throw new BundleError(`${where}.${key}: must be a non-empty string`);
  }
  if (rule.name === undefined) throw new BundleError(`${where}.name: is required`);
  if (rule.newTag !== undefined && rule.digest !== undefined) throw new BundleError(`${where}: set newTag or digest, not both`);
  return rule as unknown as ImageRule;
}

/** A path of the kustomization, which must stay inside its folder (kustomize's default load restriction). */
function inside(dir: string, entry: string, where: string): string {
  if (isAbsolute(entry) || entry.includes("://"))
    throw new BundleError(`${where}: "${entry}" must be a relative path (remote and absolute paths are not read)`);
  const path = normalize(join(dir, entry));
  const rel = relative(dir, path);
  if (rel === ".." || rel.startsWith(`..${sep}`))
    throw new BundleError(`${where}: "${entry}" is outside ${dir}; kustomize reads files only inside the kustomization's folder`);
  return path;
}

function readObjects(text: string, file: string): Manifest[] {
  return parseYamlStream(text, { filename: file }).map((doc, i) => {
    const where = `${file} (document ${i + 1})`;
    if (!isPlainObject(doc) || typeof doc.apiVersion !== "string" || typeof doc.kind !== "string") {
      throw new BundleError(`${where}: not a Kubernetes object (apiVersion and kind are required)`);
    }
    const meta = doc.metadata;
    if (!isPlainObject(meta) || typeof meta.name !== "string" || meta.name === "") throw new BundleError(`${where}: metadata.name is required`);
    if (doc.kind === "List" || (doc.kind.endsWith("List") && Array.isArray(doc.items)))
      throw new BundleError(`${where}: ${doc.kind} is not read; list the objects one by one`);
    return doc as Manifest;
  });
}

/** `name`, `tag` and `digest` of an image reference; the tag's colon comes after the registry's port. */
export function splitImage(image: string): { name: string; suffix: string } {
  const at = image.indexOf("@");
  const head = at === -1 ? image : image.slice(0, at);
  const slash = head.indexOf("/");
  const colon = head.indexOf(":", slash === -1 ? 0 : slash);
  const end = colon === -1 ? head.length : colon;
  return { name: image.slice(0, end), suffix: image.slice(end) };
}

function rewriteImage(image: string, rules: readonly ImageRule[]): string {
  const { name, suffix } = splitImage(image);
  const rule = rules.find((r) => r.name === name);
  if (!rule) return image;
  const tail = rule.digest !== undefined ? `@${rule.digest}` : rule.newTag !== undefined ? `:${rule.newTag}` : suffix;
  return `${rule.newName ?? name}${tail}`;
}

/** Every container list of an object's pod spec(s). */
function containerLists(obj: Manifest): Array<Record<string, unknown>[]> {
  const lists: Array<Record<string, unknown>[]> = [];
  for (const path of POD_SPEC_PATHS) {
    let node: unknown = obj;
    for (const key of path) node = isPlainObject(node) ? node[key] : undefined;
    if (!isPlainObject(node)) continue;
    for (const field of ["containers", "initContainers"]) {
      const list = node[field];
      if (Array.isArray(list)) lists.push(list.filter(isPlainObject));
    }
  }
  return lists;
}

function applyImages(objects: Manifest[], rules: readonly ImageRule[]): void {
  if (rules.length === 0) return;
  for (const obj of objects) {
    for (const list of containerLists(obj)) {
      for (const c of list) if (typeof c.image === "string") c.image = rewriteImage(c.image, rules);
    }
  }
}

/**
 * A strategic merge patch, for the part of it this reader applies exactly: maps merge, `null`
 * removes a key, lists of the fields in MERGED_BY_NAME merge item by item on `name` (new items
 * go last). Any other list, and any `$` directive, is refused rather than guessed at — among them
 * `$patch: delete`, for which kustomize v2.0.3 leaves an empty document that kubectl refuses.
 */
export function strategicMerge(base: unknown, patch: unknown, path: string, file: string): unknown {
  if (Array.isArray(patch)) {
    const field = path.slice(path.lastIndexOf(".") + 1);
    const named = (l: unknown[]) => l.every((i) => isPlainObject(i) && typeof i.name === "string");
    if (!MERGED_BY_NAME.has(field) || !named(patch) || (base !== undefined && !(Array.isArray(base) && named(base)))) {
      throw new BundleError(
        `${file}: ${path}: flotilla install merges only lists keyed by name (${[...MERGED_BY_NAME].join(", ")}); apply this patch with kubectl apply -k`,
      );
    }
    const out = [...((base as Record<string, unknown>[] | undefined) ?? [])];
    for (const item of patch as Record<string, unknown>[]) {
      const i = out.findIndex((o) => o.name === item.name);
      const where = `${path}[name=${String(item.name)}]`;
      if (i === -1) out.push(strategicMerge(undefined, item, where, file) as Record<string, unknown>);
      else out[i] = strategicMerge(out[i], item, where, file) as Record<string, unknown>;
    }
    return out;
  }
  if (isPlainObject(patch)) {
    const out: Record<string, unknown> = {};
    if (isPlainObject(base)) for (const [key, value] of Object.entries(base)) setOwn(out, key, value);
    for (const [key, value] of Object.entries(patch)) {
      const where = path ? `${path}.${key}` : key;
      if (key.startsWith("$"))
        throw new BundleError(`${file}: ${where}: the directive ${key} is not applied by flotilla install; apply this patch with kubectl apply -k`);
      if (value === null) delete out[key];
      else setOwn(out, key, strategicMerge(getOwn(out, key), value, where, file));
    }
    return out;
  }
  return patch;
}

function applyPatches(objects: Manifest[], patchFiles: readonly string[], files: BundleFiles): Manifest[] {
  let out = objects;
  for (const file of patchFiles) {
    const text = files.readFile(file);
    if (text === undefined) throw new BundleError(`${file}: no such patch file`);
    for (const patch of readObjects(text, file)) {
      const target = out.findIndex((o) => idOf(o) === idOf(patch));
      if (target === -1) throw new BundleError(`${file}: no object ${objectLabel(patch)} to patch in the bundle`);
      out = out.map((o, i) => (i === target ? (strategicMerge(o, patch, "", file) as Manifest) : o));
    }
  }
  return out;
}

function build(dir: string, files: BundleFiles, chain: readonly string[]): Manifest[] {
  const file = join(dir, KUSTOMIZATION);
  const text = files.readFile(file);
  if (text === undefined) {
    const other = ["kustomization.yml", "Kustomization"].find((n) => files.readFile(join(dir, n)) !== undefined);
    throw new BundleError(other ? `${join(dir, other)}: name it ${KUSTOMIZATION} (the only name flotilla install reads)` : `${dir}: no ${KUSTOMIZATION}`);
  }
  const k = parseKustomization(text, file);
  const objects: Manifest[] = [];
  const seen = new Map<string, string>();
  const add = (obj: Manifest, from: string) => {
    const id = idOf(obj);
    const before = seen.get(id);
    if (before) throw new BundleError(`${from}: ${objectLabel(obj)} is already in the bundle (from ${before})`);
    seen.set(id, from);
    objects.push(obj);
  };
  for (const entry of k.bases) {
    if (entry.includes("://") || isAbsolute(entry)) throw new BundleError(`${file}: bases: "${entry}" must be a relative folder (remote bases are not read)`);
    const base = normalize(join(dir, entry));
    // As kustomize: a base may not contain a folder already being built (an overlay inside its base).
    const loop = [...chain, dir].find((d) => d === base || d.startsWith(`${base}${sep}`));
    if (loop) throw new BundleError(`${file}: bases: "${entry}" contains ${loop}, which is being built: a cycle (move the overlay out of its base's folder)`);
    if (!files.isDirectory(base)) throw new BundleError(`${file}: bases: "${entry}" is not a folder`);
    for (const obj of build(base, files, [...chain, dir])) add(obj, join(base, KUSTOMIZATION));
  }
  for (const entry of k.resources) {
    const path = inside(dir, entry, `${file}: resources`);
    if (files.isDirectory(path))
      throw new BundleError(`${file}: resources: "${entry}" is a folder; list it under bases (kustomize v2.0.3, in kubectl 1.20, reads folders only there)`);
    const content = files.readFile(path);
    if (content === undefined) throw new BundleError(`${file}: resources: "${entry}": no such file`);
    for (const obj of readObjects(content, path)) add(obj, path);
  }
  const patched = applyPatches(
    objects,
    k.patches.map((p) => inside(dir, p, `${file}: patchesStrategicMerge`)),
    files,
  );
  applyImages(patched, k.images);
  return patched;
}

/**
 * The objects `kubectl kustomize DIR` yields for a folder that keeps to the fields above, in the
 * order they were listed (bases first). Throws BundleError naming the file and field otherwise.
 */
export function readBundle(dir: string, files: BundleFiles = diskFiles): Manifest[] {
  return build(normalize(dir), files, []);
}

/** The workload of a bundle whose image `--image` sets: a Deployment and its container. */
export interface BundleWorkload {
  kind: string;
  name: string;
  container: string;
}

/** The controller of a bundle: the Deployment flotilla-controller and its container `controller`. */
export const CONTROLLER = { kind: "Deployment", name: "flotilla-controller", container: "controller" } as const;

/** The pull-mode agent of deploy/agent: the Deployment flotilla-agent and its container `agent`. */
export const AGENT = { kind: "Deployment", name: "flotilla-agent", container: "agent" } as const;

/**
 * Images of the bundle on this registry are placeholders: no image is published, and
 * `flotilla install` refuses to apply a controller that could never be pulled.
 */
export const PLACEHOLDER_REGISTRY = "registry.example.com";

function workloadContainer(objects: readonly Manifest[], target: BundleWorkload): Record<string, unknown> | undefined {
  const deployment = objects.find((o) => o.kind === target.kind && o.metadata.name === target.name);
  if (!deployment) return undefined;
  return containerLists(deployment)
    .flat()
    .find((c) => c.name === target.container);
}

/** The controller's (or `target`'s) image, or undefined for a bundle without it (crds/). */
export function controllerImage(objects: readonly Manifest[], target: BundleWorkload = CONTROLLER): string | undefined {
  const image = workloadContainer(objects, target)?.image;
  return typeof image === "string" ? image : undefined;
}

/** The bundle with the controller's (or `target`'s) image replaced (a copy; the input is left as it was). */
export function withControllerImage(objects: readonly Manifest[], image: string, target: BundleWorkload = CONTROLLER): Manifest[] {
  const copy = structuredClone(objects) as Manifest[];
  const container = workloadContainer(copy, target);
  if (!container) throw new BundleError(`--image: the bundle has no ${target.kind} ${target.name} with a container ${target.container} to set it on`);
  container.image = image;
  return copy;
}

/**
 * The Secret keys the controller cannot start without: `secretKeyRef`s of its container's env
 * that are not `optional` (deploy/git-remote requires the Git remote's `url`).
 */
export function requiredSecretKeys(objects: readonly Manifest[]): Array<{ secret: { namespace: string; name: string }; key: string }> {
  const deployment = objects.find((o) => o.kind === CONTROLLER.kind && o.metadata.name === CONTROLLER.name);
  const env = workloadContainer(objects, CONTROLLER)?.env;
  if (!deployment || !Array.isArray(env)) return [];
  const out: Array<{ secret: { namespace: string; name: string }; key: string }> = [];
  for (const e of env) {
    const ref = isPlainObject(e) && isPlainObject(e.valueFrom) ? e.valueFrom.secretKeyRef : undefined;
    if (!isPlainObject(ref) || ref.optional === true || typeof ref.name !== "string" || typeof ref.key !== "string") continue;
    out.push({ secret: { namespace: deployment.metadata.namespace ?? "default", name: ref.name }, key: ref.key });
  }
  return out;
}
