// Names shared by the three parties of pull mode: the controller (which reads reports and serves
// Git), the agent (which writes reports and fetches Git) and `flotilla cluster add --mode pull`
// (which creates the agent's hub identity, allowed exactly these objects).

/** The hub namespace holding a pull cluster's reports and its agent's ServiceAccount. */
export const PULL_NAMESPACE_PREFIX = "flotilla-cluster-";

/** Longest cluster name whose namespace is still a DNS label (63 characters). */
export const PULL_CLUSTER_NAME_MAX = 63 - PULL_NAMESPACE_PREFIX.length;

export function pullNamespace(cluster: string): string {
  return `${PULL_NAMESPACE_PREFIX}${cluster}`;
}

/** The agent's ServiceAccount on the hub (in pullNamespace) and its name on the member. */
export const AGENT_SERVICE_ACCOUNT = "flotilla-agent";

/** The SyncReport holding the agent's own state; deployment reports are named `<namespace>.<name>`. */
export const AGENT_REPORT_NAME = "agent";

/** Label on every SyncReport: the cluster it reports on. */
export const LABEL_REPORT_CLUSTER = "flotilla.dev/cluster";

/** The SyncReport name of a deployment (`<namespace>/<name>`): a namespace holds no dot, so it splits back. */
export function reportName(deployment: string): string {
  return deployment.replace("/", ".");
}

/** The path under which the controller serves its embedded environment repository (read-only). */
export const GIT_SERVE_PATH = "/env.git";

/**
 * The non-resource URL a caller's hub identity must be allowed to `get` (SubjectAccessReview) to
 * fetch from the controller's Git server; `flotilla cluster add --mode pull` grants it to agents.
 */
export const GIT_SERVE_RBAC_PATH = "/flotilla/env.git";
