// What the sync loop may do on a member cluster, as the RBAC objects `flotilla cluster add` creates
// there, and the kubeconfig the hub keeps for it. Pure: the command applies these manifests.
//
// Flotilla applies whatever kinds the platform's definitions render, so its rights cannot be a
// fixed list of kinds; they are bounded by verb instead, each one for a reason:
//   get, list   the compare before an apply, health (the object, its Pods and ReplicaSets), prune
//               candidates; `list` per namespace, never across the cluster in restricted mode;
//   watch       the change watch that tells which objects changed between resyncs;
//   create      server-side apply creates what is missing (it is a PATCH that needs `create` too);
//   patch       server-side apply itself;
//   delete      prune of objects Flotilla created and no longer renders.
// Secrets are among those kinds: a sealed Secret (sealed.ts) is opened by the sync loop and applied
// with these same verbs; its private key is read on the hub (push) or by the agent (pull), not here.
// Not granted: update (Flotilla never writes a whole object), deletecollection, escalate and bind
// (so a rendered Role or RoleBinding can only grant what flotilla-sync itself holds),
// impersonate, and any non-resource URL beyond the discovery every authenticated user may read.
//
// With `namespaces`, the same rules are bound with a RoleBinding in each of those namespaces only,
// plus `get` on exactly those Namespace objects (the sync loop checks that a deployment's namespace
// exists before it applies into it). A deployment in any other namespace, or a cluster-scoped
// object, is refused by the member with Forbidden, which the deployment's status reports.

import { AGENT_SERVICE_ACCOUNT } from "../api/pull.js";
import type { Manifest } from "../api/types.js";

/** Namespace, ServiceAccount and token Secret of Flotilla's identity on a member. */
export const MEMBER_NAMESPACE = "flotilla-system";
export const SYNC_ACCOUNT = "flotilla-sync";
export const SYNC_TOKEN_SECRET = "flotilla-sync-token";
/** The ClusterRole holding the sync rules, and the one for the namespaces of a restricted member. */
export const SYNC_ROLE = "flotilla-sync";
export const SYNC_NAMESPACES_ROLE = "flotilla-sync-namespaces";
/** Label on every object `cluster add` creates on a member, so `cluster remove` finds them all. */
export const ACCESS_LABEL = "flotilla.dev/access";

export const RBAC = "rbac.authorization.k8s.io/v1";
const SYNC_VERBS = ["get", "list", "watch", "create", "patch", "delete"];

/** The rules of the sync loop on a member: flotilla-sync's in push mode, flotilla-agent's in pull mode. */
export function syncRules(): Array<Record<string, string[]>> {
  return [{ apiGroups: ["*"], resources: ["*"], verbs: [...SYNC_VERBS] }];
}

/** The pull-mode agent's namespace on a member: its ServiceAccount, its Lease, its config. */
export const AGENT_NAMESPACE = "flotilla-agent";
/** The ClusterRole (and ClusterRoleBinding) of the agent on a member, holding syncRules(). */
export const AGENT_ROLE = AGENT_SERVICE_ACCOUNT;

export interface MemberAccessOptions {
  /** Restrict Flotilla to these namespaces; default: the whole cluster. */
  namespaces?: readonly string[];
}

function meta(name: string, namespace?: string): Manifest["metadata"] {
  return { name, ...(namespace ? { namespace } : {}), labels: { [ACCESS_LABEL]: SYNC_ACCOUNT } };
}

const subject = { kind: "ServiceAccount", name: SYNC_ACCOUNT, namespace: MEMBER_NAMESPACE };

/** The objects to apply on the member, in order (the namespace first, the token Secret last). */
export function memberAccessManifests(options: MemberAccessOptions = {}): Manifest[] {
  const namespaces = options.namespaces?.length ? [...new Set(options.namespaces)].sort() : undefined;
  const out: Manifest[] = [
    { apiVersion: "v1", kind: "Namespace", metadata: meta(MEMBER_NAMESPACE) },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta(SYNC_ACCOUNT, MEMBER_NAMESPACE) },
    {
      apiVersion: RBAC,
      kind: "ClusterRole",
      metadata: meta(SYNC_ROLE),
      rules: syncRules(),
    },
  ];
  if (!namespaces) {
    out.push({ apiVersion: RBAC, kind: "ClusterRoleBinding", metadata: meta(SYNC_ROLE), roleRef: roleRef(SYNC_ROLE), subjects: [subject] });
  } else {
    for (const ns of namespaces) {
      out.push({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
      out.push({ apiVersion: RBAC, kind: "RoleBinding", metadata: meta(SYNC_ROLE, ns), roleRef: roleRef(SYNC_ROLE), subjects: [subject] });
    }
    out.push({
      apiVersion: RBAC,
      kind: "ClusterRole",
      metadata: meta(SYNC_NAMESPACES_ROLE),
      rules: [{ apiGroups: [""], resources: ["namespaces"], resourceNames: namespaces, verbs: ["get"] }],
    });
    out.push({
      apiVersion: RBAC,
      kind: "ClusterRoleBinding",
      metadata: meta(SYNC_NAMESPACES_ROLE),
      roleRef: roleRef(SYNC_NAMESPACES_ROLE),
      subjects: [subject],
    });
  }
  // A long-lived token, filled in by the member's token controller; revoked by deleting it.
  out.push({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { ...meta(SYNC_TOKEN_SECRET, MEMBER_NAMESPACE), annotations: { "kubernetes.io/service-account.name": SYNC_ACCOUNT } },
    type: "kubernetes.io/service-account-token",
  });
  return out;
}

/**
 * The pull-mode agent's rights on its member, the sync loop's exactly, bound cluster-wide to its
 * ServiceAccount. deploy/agent/member-rbac.yaml is generated from this (`npm run gen:agent-rbac`).
 */
export function agentMemberRbac(): Manifest[] {
  const labels = { "app.kubernetes.io/name": "flotilla", "app.kubernetes.io/component": "agent" };
  return [
    { apiVersion: RBAC, kind: "ClusterRole", metadata: { name: AGENT_ROLE, labels }, rules: syncRules() },
    {
      apiVersion: RBAC,
      kind: "ClusterRoleBinding",
      metadata: { name: AGENT_ROLE, labels },
      roleRef: roleRef(AGENT_ROLE),
      subjects: [{ kind: "ServiceAccount", name: AGENT_SERVICE_ACCOUNT, namespace: AGENT_NAMESPACE }],
    },
  ];
}

function roleRef(name: string): Record<string, string> {
  return { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name };
}

export interface MemberEndpoint {
  /** The Cluster's name, used as the kubeconfig's cluster, user and context name. */
  name: string;
  server: string;
  /** PEM CA bundle, base64 (as in a kubeconfig's certificate-authority-data). */
  caData?: string;
  insecureSkipTlsVerify?: boolean;
  token: string;
  /** The kubeconfig's user name; default `<name>-flotilla-sync`. */
  user?: string;
}

/**
 * The kubeconfig the hub keeps for a member: its API server, its CA and flotilla-sync's token. Also
 * the shape of a pull-mode agent's hub kubeconfig (the hub's server and CA, the agent's token).
 */
export function memberKubeconfig(e: MemberEndpoint): Record<string, unknown> {
  const user = e.user ?? `${e.name}-${SYNC_ACCOUNT}`;
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: e.name,
        cluster: {
          server: e.server,
          ...(e.caData ? { "certificate-authority-data": e.caData } : {}),
          ...(e.insecureSkipTlsVerify ? { "insecure-skip-tls-verify": true } : {}),
        },
      },
    ],
    users: [{ name: user, user: { token: e.token } }],
    contexts: [{ name: e.name, context: { cluster: e.name, user } }],
    "current-context": e.name,
  };
}
