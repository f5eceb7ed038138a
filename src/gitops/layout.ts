// The one layout of the environment repository, shared by the Git writer and
// `flotilla render --out-dir`: `clusters/<cluster>/<namespace>/<deployment>/<group>.<kind>.<name>.yaml`.
// Pure string functions: every part is validated so no name can escape its folder; never touches disk.

import { type FieldProblem, ValidationError } from "../api/errors.js";
import type { Manifest } from "../api/types.js";

export { type WriteLayoutOptions, type WriteLayoutResult, writeLayout } from "./out-dir.js";

/** Top-level folder of the repository that holds one folder per cluster. */
export const CLUSTERS_DIR = "clusters";
/** Extension of every manifest file. */
export const MANIFEST_EXTENSION = ".yaml";
/** The `<group>` part used for the core API group (`apiVersion: v1`). */
export const CORE_GROUP = "core";

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
  check(
    "apiVersion",
    apiVersion,
    ok && group.length <= 253 && DNS_SUBDOMAIN.test(group),
    "must be `<version>` or `<group>/<version>` with a DNS-1123 group",
  );
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

/** `<group>.<kind>.<name>.yaml` for one object. */
export function manifestFileName(manifest: Pick<Manifest, "apiVersion" | "kind" | "metadata">): string {
  const group = apiGroupOf(manifest.apiVersion);
  check("kind", manifest.kind, KIND.test(manifest.kind), "must be a CamelCase kind starting with a capital letter");
  const name = manifest.metadata.name;
  check(
    "metadata.name",
    name,
    name.length <= 253 && OBJECT_NAME.test(name) && !name.includes(".."),
    "must be one path segment: letters, digits, '-', '.', '_' or ':', no '/' and no '..'",
  );
  return `${group}.${manifest.kind}.${name}${MANIFEST_EXTENSION}`;
}

/** Full repository path of one object of one deployment in one cluster. */
export function manifestPath(cluster: string, namespace: string, deployment: string, manifest: Manifest): string {
  return `${deploymentDir(cluster, namespace, deployment)}/${manifestFileName(manifest)}`;
}

/** The parts of a manifest file name. */
export interface ManifestFileParts {
  /** API group, `core` for the core group. */
  group: string;
  kind: string;
  name: string;
}

/**
 * Split `<group>.<kind>.<name>.yaml`. Groups are lowercase and names may contain dots, so the kind
 * is the first dot-separated part that starts with a capital letter.
 */
export function parseManifestFileName(fileName: string): ManifestFileParts {
  const fail = (message: string): never => {
    throw new LayoutError("file", fileName, message, "Expected `<group>.<kind>.<name>.yaml`");
  };
  if (!fileName.endsWith(MANIFEST_EXTENSION)) fail(`must end with ${MANIFEST_EXTENSION}`);
  const parts = fileName.slice(0, -MANIFEST_EXTENSION.length).split(".");
  const k = parts.findIndex((p) => KIND.test(p));
  if (k < 1 || k === parts.length - 1) fail("has no `<group>.<Kind>.<name>` parts");
  const group = parts.slice(0, k).join(".");
  const kind = parts[k] as string;
  const name = parts.slice(k + 1).join(".");
  const apiVersion = group === CORE_GROUP ? "v1" : `${group}/v1`;
  // Re-derive the file name through the validating builder: accepts exactly what we would write.
  if (manifestFileName({ apiVersion, kind, metadata: { name } }) !== fileName) fail("is not in canonical form");
  return { group, kind, name };
}

/** The parts of a full manifest path. */
export interface ManifestPathParts extends ManifestFileParts {
  cluster: string;
  namespace: string;
  deployment: string;
  fileName: string;
}

/** Inverse of {@link manifestPath}; throws {@link LayoutError} for anything else. */
export function parseManifestPath(path: string): ManifestPathParts {
  const segments = path.split("/");
  const [top, cluster, namespace, deployment, fileName] = segments;
  if (
    segments.length !== 5 ||
    top !== CLUSTERS_DIR ||
    cluster === undefined ||
    namespace === undefined ||
    deployment === undefined ||
    fileName === undefined
  ) {
    throw new LayoutError(
      "path",
      path,
      "is not a manifest path",
      "Expected `clusters/<cluster>/<namespace>/<deployment>/<group>.<kind>.<name>.yaml`",
    );
  }
  deploymentDir(cluster, namespace, deployment);
  return { cluster, namespace, deployment, fileName, ...parseManifestFileName(fileName) };
}
