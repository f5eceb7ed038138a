// What a rendered object may be: namespaced objects live in the deployment's namespace,
// cluster-scoped kinds need a definition the platform team marked, and Secrets never reach Git.

import type { FieldProblem } from "../api/errors.js";
import type { Manifest } from "../api/types.js";
import { isClusterScoped } from "./scope.js";

export interface PolicyInput {
  object: unknown;
  namespace: string;
  /** The definition that produced the object, for messages. */
  definition: string;
  /** The definition carries `flotilla.dev/cluster-scoped: "true"`. */
  clusterScopedAllowed: boolean;
  path: string;
}

function describeObject(o: { kind?: unknown; metadata?: { name?: unknown } }): string {
  return `${String(o.kind ?? "<no kind>")} "${String(o.metadata?.name ?? "<no name>")}"`;
}

/** Check one rendered object; returns it normalised (namespace set or removed) or a problem. */
export function enforcePolicy(input: PolicyInput): { manifest: Manifest } | { problem: FieldProblem } {
  const { object, namespace, definition, path } = input;
  if (object === null || typeof object !== "object" || Array.isArray(object)) {
    return { problem: { path, message: `definition "${definition}" rendered ${JSON.stringify(object)?.slice(0, 60)} instead of an object`, fix: "Make the template return objects with apiVersion, kind and metadata.name." } };
  }
  const o = object as Manifest;
  if (typeof o.apiVersion !== "string" || typeof o.kind !== "string" || typeof o.metadata?.name !== "string" || !o.metadata.name) {
    return { problem: { path, message: `definition "${definition}" rendered an object without apiVersion, kind or metadata.name`, fix: "Set apiVersion, kind and metadata.name in the template." } };
  }
  if (o.kind === "Secret" && (o.apiVersion === "v1")) {
    return {
      problem: {
        path,
        message: `definition "${definition}" renders Secret "${o.metadata.name}"; Secrets are never written to Git`,
        fix: "Create the Secret out of band (or with a secret manager) and reference it by name instead.",
      },
    };
  }
  const manifest: Manifest = { ...o, metadata: { ...o.metadata } };
  if (isClusterScoped(o.apiVersion, o.kind)) {
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
    return { manifest };
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
  return { manifest };
}
