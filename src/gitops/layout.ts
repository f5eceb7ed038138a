// The one layout of the environment repository, shared by the Git writer and
// `flotilla render --out-dir`: `clusters/<cluster>/<namespace>/<deployment>/<group>.<kind>.<name>.yaml`.
// Pure string functions: every part is validated so no name can escape its folder; never touches disk.
//
// File names are bounded: when `<group>.<kind>.<name>.yaml` would be longer than MAX_FILE_NAME_BYTES
// (200), the file is `<first 162 characters of <group>.<kind>.<name>>~<32 hex of its sha256>.yaml`,
// exactly 200 bytes. `~` never occurs in a full name, so a shortened name cannot meet a full one, and
// 128 bits of hash keep two long names apart even when chosen to collide. Every name that fits keeps
// its full form, so existing repositories keep their file names; a longer full name written by an
// older version still reads, and becomes the short form when its deployment is next rendered.
// A shortened name cannot be parsed back into its object: read the identity from the file's content.
// Folder names are not shortened: cluster and deployment names are Kubernetes names of at most 253
// bytes, within the 255-byte limit of one path segment (tools add suffixes to files they edit, not
// to folders), and folder names are read back as cluster names.

import { createHash } from "node:crypto";
import { type FieldProblem, ValidationError } from "../api/errors.js";
import { toYaml } from "../api/serialize.js";
import type { Manifest } from "../api/types.js";

export { type WriteLayoutOptions, type WriteLayoutResult, writeLayout } from "./out-dir.js";

/** Top-level folder of the repository that holds one folder per cluster. */
export const CLUSTERS_DIR = "clusters";
/** Extension of every manifest file. */
export const MANIFEST_EXTENSION = ".yaml";
/** The `<group>` part used for the core API group (`apiVersion: v1`). */
export const CORE_GROUP = "core";
/**
 * Longest file name the layout writes, in bytes. Filesystems allow 255 bytes in one path segment
 * (ext4, XFS, btrfs, APFS, NTFS); 200 leaves room for what tools add to a name while they work on
 * it (an editor's `.<name>.swp`, rsync's `.<name>.XXXXXX`, `<name>.orig`, `<name>~`).
 */
export const MAX_FILE_NAME_BYTES = 200;
/** Hex digits of sha256 in a shortened file name: 128 bits, beyond reach of a deliberate collision. */
const HASH_HEX = 32;
/** Separates the kept prefix from the hash; not allowed in any part of a full name. */
const SHORTENED_MARK = "~";
/** Characters of `<group>.<kind>.<name>` kept in a shortened name, so it is exactly MAX_FILE_NAME_BYTES. */
const KEPT_PREFIX = MAX_FILE_NAME_BYTES - SHORTENED_MARK.length - HASH_HEX - MANIFEST_EXTENSION.length;

/** A path or a part of one that does not fit the layout; names the offending part and value. */
export class LayoutError extends ValidationError {
  override name = "LayoutError";
  constructor(field: string, value: string, message: string, fix?: string) {
    const problem: FieldProblem = { path: field, message: `${message} (got ${JSON.stringify(value)})` };
    if (fix !== undefined) problem.fix = fix;
    super([problem]);
  }
}

// DNS-1123 subdomain: lowercase alphanumerics, '-' and '.', at most 253 characters.
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
// DNS-1123 label: lowercase alphanumerics and '-', at most 63 characters.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Kinds are CamelCase identifiers; the leading capital is what lets a file name be split again.
const KIND = /^[A-Z][A-Za-z0-9]*$/;
// Object names: DNS subdomains in practice, but some kinds (RBAC) allow ':' and capitals.
// No '/', no '..', no leading '.', so a name is always exactly one safe path segment.
const OBJECT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]*$/;

function check(field: string, value: string, ok: boolean, message: string, fix?: string): void {
  if (!ok) throw new LayoutError(field, value, message, fix);
}

/** A cluster name: a DNS-1123 subdomain, as for any Kubernetes object name. */
export function validateClusterName(cluster: string): void {
  check("cluster", cluster, cluster.length <= 253 && DNS_SUBDOMAIN.test(cluster), "must be a DNS-1123 subdomain");
}

export function validateNamespace(namespace: string): void {
  check("namespace", namespace, namespace.length <= 63 && DNS_LABEL.test(namespace), "must be a DNS-1123 label");
}

export function validateDeploymentName(name: string): void {
  check("deployment", name, name.length <= 253 && DNS_SUBDOMAIN.test(name), "must be a DNS-1123 subdomain");
}

/** The `<group>` part of a manifest file name for an `apiVersion` (`v1` → `core`, `apps/v1` → `apps`). */
export function apiGroupOf(apiVersion: string): string {
  const parts = apiVersion.split("/");
  if (parts.length === 1 && parts[0] !== "") return CORE_GROUP;
  const [group, version] = parts;
  const ok = parts.length === 2 && group !== undefined && version !== undefined && version !== "";
  check("apiVersion", apiVersion, ok && group.length <= 253 && DNS_SUBDOMAIN.test(group), "must be `<version>` or `<group>/<version>` with a DNS-1123 group");
  return group as string;
}

/** `clusters/<cluster>` */
export function clusterDir(cluster: string): string {
  validateClusterName(cluster);
  return `${CLUSTERS_DIR}/${cluster}`;
}

/** `clusters/<cluster>/<namespace>/<name>`: the folder one deployment owns in one cluster. */
export function deploymentDir(cluster: string, namespace: string, name: string): string {
  validateNamespace(namespace);
  validateDeploymentName(name);
  return `${clusterDir(cluster)}/${namespace}/${name}`;
}

/** `<group>.<kind>.<name>` for one object, validated; ASCII only, so characters are bytes. */
function fileStem(manifest: Pick<Manifest, "apiVersion" | "kind" | "metadata">): string {
  const group = apiGroupOf(manifest.apiVersion);
  check("kind", manifest.kind, KIND.test(manifest.kind), "must be a CamelCase kind starting with a capital letter");
  const name = manifest.metadata.name;
  check(
    "metadata.name",
    name,
    name.length <= 253 && OBJECT_NAME.test(name) && !name.includes(".."),
    "must be one path segment: letters, digits, '-', '.', '_' or ':', no '/' and no '..'",
  );
  return `${group}.${manifest.kind}.${name}`;
}

/**
 * `<group>.<kind>.<name>.yaml` for one object, or its shortened form when that is longer than
 * {@link MAX_FILE_NAME_BYTES} (see the module comment). The same object always gets the same name.
 */
export function manifestFileName(manifest: Pick<Manifest, "apiVersion" | "kind" | "metadata">): string {
  const stem = fileStem(manifest);
  const full = `${stem}${MANIFEST_EXTENSION}`;
  if (full.length <= MAX_FILE_NAME_BYTES) return full;
  const hash = createHash("sha256").update(stem).digest("hex").slice(0, HASH_HEX);
  return `${stem.slice(0, KEPT_PREFIX)}${SHORTENED_MARK}${hash}${MANIFEST_EXTENSION}`;
}

/** One deployment's folder in one cluster: each manifest's file name and its YAML. */
export function manifestFiles(manifests: readonly Manifest[]): Record<string, string> {
  const files: Record<string, string> = {};
  for (const m of manifests) files[manifestFileName(m)] = toYaml(m);
  return files;
}

/** One deployment's folder in every cluster it renders for: cluster → file name → YAML. */
export function clusterFolders(rendered: ReadonlyArray<{ cluster: string; manifests: readonly Manifest[] }>): Record<string, Record<string, string>> {
  return Object.fromEntries(rendered.map((r) => [r.cluster, manifestFiles(r.manifests)]));
}

/**
 * A deployment's folder as read back from Git (full paths) keyed by file name, as
 * {@link manifestFiles} keys it, so a folder kept from an older commit and a fresh render compare
 * and commit alike.
 */
export function folderFiles(paths: ReadonlyMap<string, string>): Record<string, string> {
  return Object.fromEntries([...paths].map(([path, text]) => [path.slice(path.lastIndexOf("/") + 1), text]));
}

/** Full repository path of one object of one deployment in one cluster. */
export function manifestPath(cluster: string, namespace: string, deployment: string, manifest: Manifest): string {
  return `${deploymentDir(cluster, namespace, deployment)}/${manifestFileName(manifest)}`;
}

/** The parts of a manifest file name: the object's identity, or only a prefix of it when shortened. */
export type ManifestFileParts =
  | {
      shortened: false;
      /** API group, `core` for the core group. */
      group: string;
      kind: string;
      name: string;
    }
  | {
      /** A name too long for one file: read the object's identity from the file's content. */
      shortened: true;
      /** The first characters of `<group>.<kind>.<name>`. */
      prefix: string;
      /** Hex digits of the sha256 of the full `<group>.<kind>.<name>`. */
      hash: string;
    };

const SHORTENED = new RegExp(`^([a-z0-9][A-Za-z0-9._:-]{${KEPT_PREFIX - 1}})${SHORTENED_MARK}([0-9a-f]{${HASH_HEX}})\\${MANIFEST_EXTENSION}$`);

/**
 * Split `<group>.<kind>.<name>.yaml`, or recognise its shortened form. Groups are lowercase and
 * names may contain dots, so the kind is the first dot-separated part that starts with a capital
 * letter. Full names longer than the bound are still accepted: repositories written before names
 * were bounded hold them, and refusing them would make the sync loop drop (and prune) their objects.
 */
export function parseManifestFileName(fileName: string): ManifestFileParts {
  const fail = (message: string): never => {
    throw new LayoutError("file", fileName, message, "Expected `<group>.<kind>.<name>.yaml`");
  };
  const short = SHORTENED.exec(fileName);
  if (short) {
    const prefix = short[1] as string;
    if (prefix.includes("..")) fail("is not in canonical form");
    return { shortened: true, prefix, hash: short[2] as string };
  }
  if (!fileName.endsWith(MANIFEST_EXTENSION)) fail(`must end with ${MANIFEST_EXTENSION}`);
  const parts = fileName.slice(0, -MANIFEST_EXTENSION.length).split(".");
  const k = parts.findIndex((p) => KIND.test(p));
  if (k < 1 || k === parts.length - 1) fail("has no `<group>.<Kind>.<name>` parts");
  const group = parts.slice(0, k).join(".");
  const kind = parts[k] as string;
  const name = parts.slice(k + 1).join(".");
  const apiVersion = group === CORE_GROUP ? "v1" : `${group}/v1`;
  // Re-derive the name through the validating builder: accepts exactly what we write (or wrote).
  if (`${fileStem({ apiVersion, kind, metadata: { name } })}${MANIFEST_EXTENSION}` !== fileName) fail("is not in canonical form");
  return { shortened: false, group, kind, name };
}

/** The parts of a full manifest path. */
export type ManifestPathParts = ManifestFileParts & {
  cluster: string;
  namespace: string;
  deployment: string;
  fileName: string;
};

/** Inverse of {@link manifestPath}; throws {@link LayoutError} for anything else. */
export function parseManifestPath(path: string): ManifestPathParts {
  const segments = path.split("/");
  const [top, cluster, namespace, deployment, fileName] = segments;
  if (segments.length !== 5 || top !== CLUSTERS_DIR || cluster === undefined || namespace === undefined || deployment === undefined || fileName === undefined) {
    throw new LayoutError("path", path, "is not a manifest path", "Expected `clusters/<cluster>/<namespace>/<deployment>/<group>.<kind>.<name>.yaml`");
  }
  deploymentDir(cluster, namespace, deployment);
  return { cluster, namespace, deployment, fileName, ...parseManifestFileName(fileName) };
}
