// What a rendered object may be: namespaced objects live in the deployment's namespace,
// cluster-scoped kinds need a definition the platform team marked, a Secret reaches Git only
// sealed (marked flotilla.dev/sealed: age, every data value an age ciphertext, no stringData), and
// Flotilla's own labels and annotations are Flotilla's. Every rule sees the object after its
// spelling is normalised (`core/v1` is `v1`; a kind misspelt by case is refused) and after Lists
// are opened, so no second spelling or wrapper carries an object past a rule.

import type { FieldProblem } from "../api/errors.js";
import { ANNOTATION_CLUSTER_SCOPED, LABEL_APP, LABEL_COMPONENT, LABEL_REVISION } from "../api/labels.js";
import type { Manifest } from "../api/types.js";
import { isMarkedSecret, SEALED_ANNOTATIONS, sealedSecretProblem } from "../secrets/sealed-secret.js";
import { caseVariantOf, groupOf, isClusterScoped, isKnownNamespaced, normalizeApiVersion } from "./scope.js";

export interface PolicyInput {
  object: unknown;
  namespace: string;
  /** The definition that produced the object, for messages. */
  definition: string;
  /** The definition carries `flotilla.dev/cluster-scoped: "true"`. */
  clusterScopedAllowed: boolean;
  path: string;
}

export type Checked = { manifest: Manifest } | { problem: FieldProblem };

/** Labels a template may set because the renderer stamps the same keys itself (and overwrites them). */
const STAMPED_LABELS = new Set([LABEL_APP, LABEL_COMPONENT, LABEL_REVISION]);
/** How deep Lists may nest inside each other before the output is refused. */
const MAX_LIST_DEPTH = 4;

function describeObject(o: { kind?: unknown; metadata?: { name?: unknown } }): string {
  return `${String(o.kind ?? "<no kind>")} "${String(o.metadata?.name ?? "<no name>")}"`;
}

function isReservedKey(key: string): boolean {
  const prefix = key.split("/")[0] ?? "";
  return key.includes("/") && (prefix === "flotilla.dev" || prefix.endsWith(".flotilla.dev"));
}

function isListKind(o: unknown): o is { apiVersion?: unknown; kind: string; items: unknown[] } {
  if (o === null || typeof o !== "object" || Array.isArray(o)) return false;
  const { kind, items } = o as { kind?: unknown; items?: unknown };
  return typeof kind === "string" && kind.endsWith("List") && Array.isArray(items);
}

function isPlainList(o: unknown): boolean {
  return o !== null && typeof o === "object" && (o as { kind?: unknown }).kind === "List";
}

/**
 * Template output as single objects: `List` and `<Kind>List` wrappers (what `kubectl get -o yaml`
 * writes) are replaced by their items, so every rule sees every item. Items without apiVersion or
 * kind take them from a typed list (`SecretList` → `Secret`), as the API server's lists omit them.
 */
export function expandLists(objects: readonly unknown[], path: string, depth = 0): { objects: unknown[] } | { problem: FieldProblem } {
  const out: unknown[] = [];
  for (const o of objects) {
    if (isPlainList(o) && !isListKind(o)) {
      return { problem: { path, message: "rendered a List without an items list", fix: "Give the List its items, or return the objects themselves." } };
    }
    if (!isListKind(o)) {
      out.push(o);
      continue;
    }
    if (depth >= MAX_LIST_DEPTH) {
      return {
        problem: { path, message: `rendered Lists nested more than ${MAX_LIST_DEPTH} deep`, fix: "Return the objects themselves, not Lists of Lists." },
      };
    }
    const itemKind = o.kind === "List" ? undefined : o.kind.slice(0, -"List".length);
    const items = o.items.map((item) => {
      if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
      const typed = item as Record<string, unknown>;
      return {
        ...(itemKind !== undefined && typed.apiVersion === undefined && typeof o.apiVersion === "string" ? { apiVersion: o.apiVersion } : {}),
        ...(itemKind !== undefined && typed.kind === undefined ? { kind: itemKind } : {}),
        ...typed,
      };
    });
    const inner = expandLists(items, path, depth + 1);
    if ("problem" in inner) return inner;
    out.push(...inner.objects);
  }
  return { objects: out };
}

function reservedKeyProblem(o: Manifest, input: PolicyInput): FieldProblem | undefined {
  const labels = Object.keys(o.metadata.labels ?? {}).filter((k) => isReservedKey(k) && !STAMPED_LABELS.has(k));
  // A marked definition's objects may carry the mark: the renderer stamps it on them itself.
  // A sealed Secret carries its marker (checked by enforcePolicy before this runs).
  const own = (k: string) => (input.clusterScopedAllowed && k === ANNOTATION_CLUSTER_SCOPED) || (isMarkedSecret(o) && SEALED_ANNOTATIONS.includes(k));
  const annotations = Object.keys(o.metadata.annotations ?? {}).filter((k) => isReservedKey(k) && !own(k));
  const [first] = [...labels.map((k) => `label "${k}"`), ...annotations.map((k) => `annotation "${k}"`)];
  if (first === undefined) return undefined;
  return {
    path: input.path,
    message: `definition "${input.definition}" renders ${describeObject(o)} with the ${first}; flotilla.dev/ keys are Flotilla's own`,
    fix: "Remove the key: Flotilla sets its labels and annotations itself (a definition's health rule goes in its spec.health).",
  };
}

/** Check one rendered object; returns it normalised (apiVersion, namespace set or removed) or a problem. */
export function enforcePolicy(input: PolicyInput): Checked {
  const { object, namespace, definition, path } = input;
  if (object === null || typeof object !== "object" || Array.isArray(object)) {
    return {
      problem: {
        path,
        message: `definition "${definition}" rendered ${JSON.stringify(object)?.slice(0, 60)} instead of an object`,
        fix: "Make the template return objects with apiVersion, kind and metadata.name.",
      },
    };
  }
  const o = object as Manifest;
  if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string" || !o.metadata.name) {
    return {
      problem: {
        path,
        message: `definition "${definition}" rendered an object without apiVersion, kind or metadata.name`,
        fix: "Set apiVersion, kind and metadata.name in the template.",
      },
    };
  }
  const apiVersion = normalizeApiVersion(o.apiVersion);
  const spelt = caseVariantOf(apiVersion, o.kind);
  if (spelt !== undefined) {
    return {
      problem: {
        path,
        message: `definition "${definition}" renders kind "${o.kind}" in ${apiVersion}, which is not a kind: kinds are case-sensitive`,
        fix: `Write kind: ${spelt}.`,
      },
    };
  }
  const manifest: Manifest = { ...o, apiVersion, metadata: { ...o.metadata } };
  if (o.kind === "Secret" && groupOf(apiVersion) === "") {
    // Only ciphertext may reach Git: a Secret passes sealed, or not at all. The messages name the
    // key at fault and never its value.
    if (!isMarkedSecret(manifest)) {
      return {
        problem: {
          path,
          message: `definition "${definition}" renders Secret "${o.metadata.name}"; Secrets are never written to Git`,
          fix: "Seal the values with `flotilla secret seal` (a sealed-secret component), or create the Secret out of band and reference it by name.",
        },
      };
    }
    const sealed = sealedSecretProblem(manifest);
    if (sealed)
      return { problem: { path, message: `definition "${definition}" renders Secret "${o.metadata.name}", which ${sealed.message}`, fix: sealed.fix } };
  }
  const reserved = reservedKeyProblem(manifest, input);
  if (reserved) return { problem: reserved };
  if (isClusterScoped(apiVersion, o.kind)) {
    if (!input.clusterScopedAllowed) {
      return {
        problem: {
          path,
          message: `definition "${definition}" renders cluster-scoped ${describeObject(o)}, which a deployment may not create`,
          fix: 'Ask the platform team for a definition marked with the annotation flotilla.dev/cluster-scoped: "true".',
        },
      };
    }
    delete manifest.metadata.namespace;
    return { manifest: markClusterScopedAllowed(manifest) };
  }
  if (o.metadata.namespace !== undefined && o.metadata.namespace !== namespace) {
    return {
      problem: {
        path,
        message: `definition "${definition}" renders ${describeObject(o)} in namespace "${o.metadata.namespace}", outside the deployment's namespace "${namespace}"`,
        fix: `Remove metadata.namespace from the template or set it to "${namespace}"; a deployment only creates objects in its own namespace.`,
      },
    };
  }
  manifest.metadata.namespace = namespace;
  // A kind the renderer does not know may be cluster-wide on the cluster: only a marked definition's
  // objects carry the mark the sync loop asks for when discovery says so.
  const unknownKind = !isKnownNamespaced(apiVersion, o.kind);
  return { manifest: input.clusterScopedAllowed && unknownKind ? markClusterScopedAllowed(manifest) : manifest };
}

/** The mark the sync loop reads to let a cluster-scoped object through (see sync/scope-check.ts). */
function markClusterScopedAllowed(m: Manifest): Manifest {
  m.metadata.annotations = { ...(m.metadata.annotations ?? {}), [ANNOTATION_CLUSTER_SCOPED]: "true" };
  return m;
}
