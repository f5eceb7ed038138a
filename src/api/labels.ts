// Label and annotation keys that Flotilla stamps on what it renders and reads back when it
// syncs. One place, so the renderer, the sync loop and the controller never disagree.

export const GROUP = "flotilla.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const LABEL_MANAGED_BY = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "flotilla";
/** `<namespace>.<name>` of the ApplicationDeployment that produced the object. */
export const LABEL_APP = "flotilla.dev/app";
export const LABEL_COMPONENT = "flotilla.dev/component";
export const LABEL_REVISION = "flotilla.dev/revision";
/**
 * Kubernetes' recommended labels, stamped as defaults (a value the definition, a trait or the user
 * set is kept; see render/recommended-labels.ts). Flotilla never reads them back: ownership,
 * pruning, health and revisions go by the keys above.
 */
export const LABEL_NAME = "app.kubernetes.io/name";
export const LABEL_INSTANCE = "app.kubernetes.io/instance";
export const LABEL_VERSION = "app.kubernetes.io/version";

/** Marks a definition whose outputs may be cluster-scoped (set by the platform team). */
export const ANNOTATION_CLUSTER_SCOPED = "flotilla.dev/cluster-scoped";
export const ANNOTATION_DESCRIPTION = "flotilla.dev/description";
/** CEL health expression carried on a rendered object, so Git stays the sync loop's only input. */
export const ANNOTATION_HEALTH = "flotilla.dev/health";
/**
 * Set on a rendered workload whose replica count an autoscaler owns once its rollout is complete;
 * the value is the definition's `replicasPath`. The sync loop does not count that field as drift.
 * It instructs the sync loop only: it stays in Git and is not sent to the cluster, so completing
 * a rollout changes nothing on the live workload (no write, nothing for its controllers to redo).
 */
export const ANNOTATION_AUTOSCALED_PATH = "flotilla.dev/autoscaled-path";

export const ANNOTATION_PROMOTE = "flotilla.dev/promote";
export const ANNOTATION_ABORT = "flotilla.dev/abort";
export const ANNOTATION_RETRY = "flotilla.dev/retry";
/** Set by a GitSource on what it applies: the source (`<namespace>/<name>`), its commit and the file. */
export const ANNOTATION_SOURCE = "flotilla.dev/source";
export const ANNOTATION_SOURCE_COMMIT = "flotilla.dev/source-commit";
export const ANNOTATION_SOURCE_FILE = "flotilla.dev/source-file";

export const FIELD_MANAGER = "flotilla";
export const FINALIZER = "flotilla.dev/cleanup";

export function appLabelValue(namespace: string, name: string): string {
  return `${namespace}.${name}`;
}
