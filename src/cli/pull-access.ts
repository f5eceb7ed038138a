// What `flotilla cluster add NAME --mode pull` creates, as data: on the hub the agent's identity
// (a ServiceAccount in flotilla-cluster-NAME allowed its own Cluster, its own SyncReports and the
// controller's Git server, nothing else) and the Cluster; for the member the deploy/agent bundle
// with the agent's ConfigMap and hub kubeconfig. Pure: pull-cluster.ts applies or prints these.
// It must never grant the agent a Secret, another cluster's objects or any ApplicationDeployment.

import { API_VERSION, GROUP } from "../api/labels.js";
import { AGENT_SERVICE_ACCOUNT, GIT_SERVE_RBAC_PATH, LABEL_REPORT_CLUSTER, pullNamespace } from "../api/pull.js";
import { toYaml } from "../api/serialize.js";
import type { Cluster, Manifest } from "../api/types.js";
import { sortForApply } from "../sync/order.js";
import { AGENT_NAMESPACE, memberKubeconfig, RBAC } from "../sync/member-access.js";

/** The Secret in the agent's hub namespace holding its long-lived token (filled by the hub's token controller). */
export const AGENT_TOKEN_SECRET = "flotilla-agent-token";
/** The Role and RoleBinding, in the agent's hub namespace, for its SyncReports. */
export const AGENT_REPORTS_ROLE = "flotilla-agent";
/** On the member: the ConfigMap with CLUSTER and GIT_URL, and the Secret with the hub kubeconfig (key `kubeconfig`). */
export const AGENT_CONFIG = "flotilla-agent";
export const AGENT_HUB_SECRET = "flotilla-agent-hub";
export const AGENT_HUB_SECRET_KEY = "kubeconfig";
/** The hub's name inside the agent's hub kubeconfig (its cluster and context). */
export const HUB_KUBECONFIG_NAME = "flotilla-hub";

/** The ClusterRole (and ClusterRoleBinding) letting the agent of `cluster` read its own Cluster and fetch Git. */
export function agentClusterRoleName(cluster: string): string {
  return `${AGENT_SERVICE_ACCOUNT}:${cluster}`;
}

/** The verbs on SyncReports in the agent's own namespace (its reports: written whole, no status subresource). */
export const REPORT_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];

const labelsOf = (cluster: string) => ({ [LABEL_REPORT_CLUSTER]: cluster, "app.kubernetes.io/name": "flotilla", "app.kubernetes.io/component": "agent" });

/**
 * The agent's identity on the hub, in apply order: its namespace, ServiceAccount, the Role and
 * ClusterRole with their bindings, and last the token Secret (the ServiceAccount must exist first,
 * or the token controller deletes the Secret).
 */
export function agentHubIdentity(cluster: string): Manifest[] {
  const namespace = pullNamespace(cluster);
  const labels = labelsOf(cluster);
  const subjects = [{ kind: "ServiceAccount", name: AGENT_SERVICE_ACCOUNT, namespace }];
  const clusterRole = agentClusterRoleName(cluster);
  return [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels } },
    // No Pod on the hub runs as it: its token is used from the member only.
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: AGENT_SERVICE_ACCOUNT, namespace, labels }, automountServiceAccountToken: false },
    {
      apiVersion: RBAC,
      kind: "Role",
      metadata: { name: AGENT_REPORTS_ROLE, namespace, labels },
      rules: [{ apiGroups: [GROUP], resources: ["syncreports"], verbs: REPORT_VERBS }],
    },
    {
      apiVersion: RBAC,
      kind: "RoleBinding",
      metadata: { name: AGENT_REPORTS_ROLE, namespace, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: AGENT_REPORTS_ROLE },
      subjects,
    },
    {
      apiVersion: RBAC,
      kind: "ClusterRole",
      metadata: { name: clusterRole, labels },
      rules: [
        // list and watch too: RBAC lets them through for a request whose field selector is metadata.name=<cluster>.
        { apiGroups: [GROUP], resources: ["clusters"], resourceNames: [cluster], verbs: ["get", "list", "watch"] },
        { nonResourceURLs: [GIT_SERVE_RBAC_PATH], verbs: ["get"] },
      ],
    },
    {
      apiVersion: RBAC,
      kind: "ClusterRoleBinding",
      metadata: { name: clusterRole, labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects,
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: AGENT_TOKEN_SECRET, namespace, labels, annotations: { "kubernetes.io/service-account.name": AGENT_SERVICE_ACCOUNT } },
      type: "kubernetes.io/service-account-token",
    },
  ];
}

/** The Cluster of a pull member: no kubeconfigSecretRef, the controller never connects to it. */
export function pullCluster(name: string, labels: Record<string, string>): Cluster {
  return { apiVersion: API_VERSION, kind: "Cluster", metadata: { name, labels }, spec: { mode: "Pull" } };
}

export interface HubEndpoint {
  /** The hub's API server as the agent reaches it. */
  server: string;
  /** The hub's CA, base64 (as in a kubeconfig's certificate-authority-data). */
  caData?: string;
  insecureSkipTlsVerify?: boolean;
  /** The agent ServiceAccount's token. */
  token: string;
}

/** The agent's hub kubeconfig: the hub's server and CA, and the token of flotilla-agent in flotilla-cluster-<cluster>. */
export function agentHubKubeconfig(cluster: string, hub: HubEndpoint): string {
  return toYaml(
    memberKubeconfig({
      name: HUB_KUBECONFIG_NAME,
      user: `${AGENT_SERVICE_ACCOUNT}@${pullNamespace(cluster)}`,
      server: hub.server,
      ...(hub.caData ? { caData: hub.caData } : {}),
      ...(hub.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
      token: hub.token,
    }),
  );
}

export interface AgentInstallOptions {
  /** The objects of deploy/agent (the image already set). */
  bundle: readonly Manifest[];
  cluster: string;
  gitUrl: string;
  /** The text of the agent's hub kubeconfig (agentHubKubeconfig). */
  hubKubeconfig: string;
}

/** Everything to apply on the member, in apply order: the bundle, its ConfigMap and the hub kubeconfig Secret. */
export function agentInstall(o: AgentInstallOptions): Manifest[] {
  const labels = { "app.kubernetes.io/name": "flotilla", "app.kubernetes.io/component": "agent" };
  return sortForApply([
    ...o.bundle,
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: AGENT_CONFIG, namespace: AGENT_NAMESPACE, labels },
      data: { CLUSTER: o.cluster, GIT_URL: o.gitUrl },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: AGENT_HUB_SECRET, namespace: AGENT_NAMESPACE, labels },
      type: "Opaque",
      stringData: { [AGENT_HUB_SECRET_KEY]: o.hubKubeconfig },
    },
  ]);
}

/** A YAML stream of the objects, for `kubectl apply -f -`. */
export function yamlStream(objects: readonly Manifest[]): string {
  return objects.map(toYaml).join("---\n");
}
