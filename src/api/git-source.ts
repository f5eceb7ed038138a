// The contract of GitSource beyond its schema: the label and annotations it stamps on what it
// applies, its field manager and finalizer, and its spec's defaults. One place, so the source
// loop, the controller's commit path and the CLI never disagree.

import { parseDuration } from "./duration.js";
import type { GitSource, GitSourceRef } from "./types.js";

/** Label on every object a GitSource applied: `<namespace>.<name>` of the source (what pruning goes by). */
export const LABEL_SOURCE = "flotilla.dev/source";
/** Annotations on every object a GitSource applied: the source (`<namespace>/<name>`), commit and file it came from. */
export { ANNOTATION_SOURCE, ANNOTATION_SOURCE_COMMIT, ANNOTATION_SOURCE_FILE } from "./labels.js";
/** Field manager of the hub objects a GitSource applies (server-side apply, forced). */
export const SOURCE_FIELD_MANAGER = "flotilla-source";
/** Held by a GitSource with prune: its objects are deleted before it goes. */
export const SOURCE_FINALIZER = "flotilla.dev/source-prune";

export const DEFAULT_SOURCE_INTERVAL = "1m";
export const DEFAULT_WEBHOOK_KEY = "token";

export function sourceLabelValue(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}

/** What a source follows, with the default (`branch: main`) filled in. */
export type ResolvedRef = { branch: string } | { tag: string } | { commit: string };

export function sourceRef(ref: GitSourceRef | undefined): ResolvedRef {
  if (ref?.commit) return { commit: ref.commit };
  if (ref?.tag) return { tag: ref.tag };
  return { branch: ref?.branch || "main" };
}

export function describeRef(ref: ResolvedRef): string {
  if ("commit" in ref) return `commit ${ref.commit.slice(0, 12)}`;
  if ("tag" in ref) return `tag ${ref.tag}`;
  return `branch ${ref.branch}`;
}

/** The folder read, without leading `./` or slashes; "" for the whole repository. */
export function sourcePath(path: string | undefined): string {
  const parts = (path ?? ".").split("/").filter((p) => p !== "" && p !== ".");
  return parts.join("/");
}

export function sourceIntervalMs(source: GitSource): number {
  return parseDuration(source.spec.interval ?? DEFAULT_SOURCE_INTERVAL, "spec.interval");
}

export function sourcePrunes(source: GitSource): boolean {
  return source.spec.prune !== false;
}
