// `flotilla cluster add|remove` for a pull member: on the hub, the agent's identity and the Cluster
// (server-side apply, safe to repeat); for the member, the agent's install, applied with the
// member's kubeconfig or handed back to be printed. The hub never keeps a credential of the member,
// and the admin credentials the command runs with never go into what it creates.

import type { KubeConfig } from "@kubernetes/client-node";
import { FlotillaError } from "../api/errors.js";
import { API_VERSION } from "../api/labels.js";
import { AGENT_SERVICE_ACCOUNT, LABEL_REPORT_CLUSTER, pullNamespace } from "../api/pull.js";
import type { Cluster, Manifest } from "../api/types.js";
import { KubeClient } from "../kube/client.js";
import { AGENT_NAMESPACE } from "../sync/member-access.js";
import { sortForPrune } from "../sync/order.js";
import { AGENT, controllerImage, objectLabel, PLACEHOLDER_REGISTRY, readBundle, withControllerImage } from "./bundle.js";
import { checkPullClusterName } from "./cluster-args.js";
import { bundleDir } from "./install.js";
import { AGENT_TOKEN_SECRET, agentClusterRoleName, agentHubIdentity, agentHubKubeconfig, agentInstall, pullCluster } from "./pull-access.js";
import { endpointOf, waitForToken } from "./service-account-token.js";

const FIELD_MANAGER = "flotilla-cluster-add";

export interface RegisterPullClusterOptions {
  /** The hub, with rights to create namespaces, RBAC and Clusters (an admin's kubeconfig). */
  hub: KubeConfig;
  name: string;
  /** The Cluster's labels, for placement. */
  labels?: Record<string, string>;
  /** The hub's API server as the agent reaches it; default the hub kubeconfig's server. */
  hubServer?: string;
  /** How long to wait for the hub's token controller to fill the agent's token. Default 30 s. */
  tokenTimeoutMs?: number;
  log?: (line: string) => void;
}

/**
 * The hub side of a pull member: the agent's namespace, ServiceAccount, token and RBAC, and the
 * Cluster with mode Pull. Returns the agent's hub kubeconfig (its token: handle it as a password).
 * Applies nothing to the member (`flotilla up --mode pull` runs the agent as a local process).
 */
export async function registerPullCluster(o: RegisterPullClusterOptions): Promise<{ hubKubeconfig: string }> {
  checkPullClusterName(o.name);
  const log = o.log ?? (() => {});
  const endpoint = endpointOf(o.hub, "--hub-kubeconfig: the hub's kubeconfig has no current cluster. Pass --hub-context NAME.");
  const hub = new KubeClient({ kubeConfig: o.hub, fieldManager: FIELD_MANAGER });
  try {
    const existing = (await hub.get({ apiVersion: API_VERSION, kind: "Cluster", name: o.name })) as unknown as Cluster | undefined;
    if (existing && existing.spec?.mode !== "Pull") {
      throw new FlotillaError(
        `cluster ${o.name} is already registered in push mode (the hub holds its kubeconfig). Run flotilla cluster remove ${o.name} first, then add it with --mode pull.`,
      );
    }
    const identity = agentHubIdentity(o.name);
    for (const m of identity) await hub.apply(m);
    const namespace = pullNamespace(o.name);
    log(
      `hub: ServiceAccount ${namespace}/${AGENT_SERVICE_ACCOUNT} with its token; it may write SyncReports in ${namespace}, ` +
        `read Cluster ${o.name} and fetch Git (ClusterRole ${agentClusterRoleName(o.name)}), nothing else`,
    );
    const { token, caData: tokenCa } = await waitForToken(
      hub,
      { namespace, name: AGENT_TOKEN_SECRET },
      { timeoutMs: o.tokenTimeoutMs ?? 30_000, cluster: "hub" },
    );
    await hub.apply(pullCluster(o.name, o.labels ?? {}) as unknown as Manifest);
    log(`hub: Cluster ${o.name} (mode Pull: the hub holds no credential of it)`);
    const caData = endpoint.caData ?? tokenCa;
    return {
      hubKubeconfig: agentHubKubeconfig(o.name, {
        server: o.hubServer ?? endpoint.server,
        ...(caData ? { caData } : {}),
        ...(endpoint.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
        token,
      }),
    };
  } finally {
    hub.close();
  }
}

/** deploy/agent's objects with the image set; a placeholder image is refused when `refusePlaceholder`. */
export function agentBundle(options: { image?: string; dir?: string; refusePlaceholder: boolean }): Manifest[] {
  const read = readBundle(options.dir ?? bundleDir("agent"));
  const objects = options.image === undefined ? read : withControllerImage(read, options.image, AGENT);
  const image = controllerImage(objects, AGENT);
  if (options.refusePlaceholder && image?.startsWith(`${PLACEHOLDER_REGISTRY}/`)) {
    throw new FlotillaError(
      `--image: the agent image is ${image}, a placeholder: no Flotilla image is published. Build and push one from the Dockerfile and pass --image REF.`,
    );
  }
  return objects;
}

export interface AddPullClusterOptions extends RegisterPullClusterOptions {
  /** What the agent fetches: the controller's Git server (http(s)://<controller>:8082/env.git) or a remote. */
  gitUrl: string;
  /** The agent's image; required (no image is published) when `member` is given. */
  image?: string;
  /** The member: apply the agent's install there. Without it, the install is only returned. */
  member?: KubeConfig;
  /** The agent bundle's folder; default the package's deploy/agent. */
  bundleDir?: string;
}

/** Everything `cluster add --mode pull` does; returns the member's install (applied when `member` was given). */
export async function addPullCluster(o: AddPullClusterOptions): Promise<{ install: Manifest[]; applied: boolean; image: string | undefined }> {
  checkPullClusterName(o.name);
  const log = o.log ?? (() => {});
  // Read (and check) the bundle before anything is created on the hub.
  const bundle = agentBundle({
    ...(o.image ? { image: o.image } : {}),
    ...(o.bundleDir ? { dir: o.bundleDir } : {}),
    refusePlaceholder: o.member !== undefined,
  });
  const { hubKubeconfig } = await registerPullCluster(o);
  const install = agentInstall({ bundle, cluster: o.name, gitUrl: o.gitUrl, hubKubeconfig });
  const image = controllerImage(install, AGENT);
  if (!o.member) return { install, applied: false, image };
  const member = new KubeClient({ kubeConfig: o.member, fieldManager: FIELD_MANAGER });
  try {
    for (const m of install) await member.apply(m);
  } finally {
    member.close();
  }
  log(`member: ${install.length} objects applied (${install.map(objectLabel).join(", ")}); image ${image}`);
  return { install, applied: true, image };
}

/** Whether the hub holds a pull member's identity (its namespace, labelled for it). */
async function hasPullIdentity(hub: KubeClient, name: string): Promise<boolean> {
  const ns = await hub.get({ apiVersion: "v1", kind: "Namespace", name: pullNamespace(name) });
  return (ns?.metadata.labels as Record<string, string> | undefined)?.[LABEL_REPORT_CLUSTER] === name;
}

/** The mode of the Cluster `name` on the hub: Pull also for what a failed `add --mode pull` left; undefined when there is nothing. */
export async function registeredMode(hubConfig: KubeConfig, name: string): Promise<"Push" | "Pull" | undefined> {
  const hub = new KubeClient({ kubeConfig: hubConfig });
  try {
    const cluster = (await hub.get({ apiVersion: API_VERSION, kind: "Cluster", name })) as unknown as Cluster | undefined;
    if (cluster) return cluster.spec?.mode === "Pull" ? "Pull" : "Push";
    return (await hasPullIdentity(hub, name)) ? "Pull" : undefined;
  } finally {
    hub.close();
  }
}

/**
 * Unregister a pull member: the Cluster first (the controller stops asking it), then the agent's
 * ClusterRole and binding, then its hub namespace (reports, ServiceAccount, token: the agent's hub
 * credential is revoked). With the member's kubeconfig, also the agent's objects there (its
 * namespace with the Lease and Secrets, and its ClusterRole and binding); deployed workloads stay.
 */
export async function removePullCluster(o: { hub: KubeConfig; name: string; member?: KubeConfig; log?: (line: string) => void }): Promise<void> {
  const log = o.log ?? (() => {});
  const hub = new KubeClient({ kubeConfig: o.hub });
  try {
    const existed = await hub.delete({ apiVersion: API_VERSION, kind: "Cluster", name: o.name });
    // The namespace only when it is the one add created (labelled for this cluster); the RBAC's names are the agent's own.
    const owned = await hasPullIdentity(hub, o.name);
    const clusterScoped = agentHubIdentity(o.name).filter(
      (x) => x.kind === "ClusterRoleBinding" || x.kind === "ClusterRole" || (owned && x.kind === "Namespace"),
    );
    for (const m of sortForPrune(clusterScoped)) await hub.delete({ apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name });
    log(
      `hub: ${existed ? `Cluster ${o.name}` : `no Cluster ${o.name}`}; the agent's namespace ${pullNamespace(o.name)} (reports, ServiceAccount, token) and ClusterRole ${agentClusterRoleName(o.name)} removed`,
    );
  } finally {
    hub.close();
  }
  if (!o.member) return;
  const member = new KubeClient({ kubeConfig: o.member });
  try {
    const bundle = agentBundle({ refusePlaceholder: false });
    for (const m of sortForPrune(bundle.filter((x) => !x.metadata.namespace))) {
      await member.delete({ apiVersion: m.apiVersion, kind: m.kind, name: m.metadata.name });
    }
    log(`member: the agent's namespace ${AGENT_NAMESPACE} and its cluster-wide RBAC removed (deployed workloads stay)`);
  } finally {
    member.close();
  }
}
