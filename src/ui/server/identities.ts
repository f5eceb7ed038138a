// The local fleet's two web-UI identities, as `flotilla up` creates them on the hub: the
// ServiceAccounts `viewer` (get/list/watch Flotilla's resources and Events) and `operator` (the
// same, and patch ApplicationDeployments: the rollout actions) in namespace flotilla-ui, each with
// a long-lived token Secret, so the user can sign in as either and see RBAC decide. Server-side
// apply: safe to repeat. For a demo fleet; on a real hub, bind your users' own identities.

import { join } from "node:path";
import { writeFile } from "node:fs/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import { GROUP } from "../../api/labels.js";
import type { Manifest } from "../../api/types.js";
import { waitForToken } from "../../cli/service-account-token.js";
import { KubeClient } from "../../kube/client.js";

export const UI_NAMESPACE = "flotilla-ui";
export const UI_ROLES = ["viewer", "operator"] as const;
export type UiRole = (typeof UI_ROLES)[number];

const RBAC = "rbac.authorization.k8s.io/v1";
const LABELS = { "app.kubernetes.io/name": "flotilla", "app.kubernetes.io/component": "ui-identity" };
const READ = ["get", "list", "watch"];

export function clusterRoleName(role: UiRole): string {
  return `flotilla-ui-${role}`;
}

export function tokenSecretName(role: UiRole): string {
  return `${role}-token`;
}

/** The user name the hub gives a role's token. */
export function uiUsername(role: UiRole): string {
  return `system:serviceaccount:${UI_NAMESPACE}:${role}`;
}

/** The namespace, and per role its ServiceAccount, ClusterRole, binding and token Secret. */
export function uiIdentityManifests(): Manifest[] {
  const out: Manifest[] = [{ apiVersion: "v1", kind: "Namespace", metadata: { name: UI_NAMESPACE, labels: LABELS } }];
  for (const role of UI_ROLES) {
    const rules: Array<Record<string, unknown>> = [
      { apiGroups: [GROUP], resources: ["applicationdeployments", "clusters", "componentdefinitions", "traitdefinitions"], verbs: READ },
      { apiGroups: [""], resources: ["events"], verbs: READ },
    ];
    if (role === "operator") rules.push({ apiGroups: [GROUP], resources: ["applicationdeployments"], verbs: ["patch"] });
    out.push(
      { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: role, namespace: UI_NAMESPACE, labels: LABELS }, automountServiceAccountToken: false },
      { apiVersion: RBAC, kind: "ClusterRole", metadata: { name: clusterRoleName(role), labels: LABELS }, rules },
      {
        apiVersion: RBAC,
        kind: "ClusterRoleBinding",
        metadata: { name: clusterRoleName(role), labels: LABELS },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRoleName(role) },
        subjects: [{ kind: "ServiceAccount", name: role, namespace: UI_NAMESPACE }],
      },
      {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: tokenSecretName(role), namespace: UI_NAMESPACE, labels: LABELS, annotations: { "kubernetes.io/service-account.name": role } },
        type: "kubernetes.io/service-account-token",
      },
    );
  }
  return out as unknown as Manifest[];
}

export interface UiIdentity {
  role: UiRole;
  username: string;
  token: string;
}

/** Create (or keep) the identities on the hub and wait for their tokens. */
export async function createUiIdentities(hub: KubeConfig, options: { tokenTimeoutMs?: number } = {}): Promise<UiIdentity[]> {
  const client = new KubeClient({ kubeConfig: hub, fieldManager: "flotilla-up" });
  try {
    for (const m of uiIdentityManifests()) await client.apply(m);
    const out: UiIdentity[] = [];
    for (const role of UI_ROLES) {
      const { token } = await waitForToken(
        client,
        { namespace: UI_NAMESPACE, name: tokenSecretName(role) },
        { timeoutMs: options.tokenTimeoutMs ?? 30_000, cluster: "hub" },
      );
      out.push({ role, username: uiUsername(role), token });
    }
    return out;
  } finally {
    client.close();
  }
}

/** `<url>/#/signin?token=<token>`: opening it signs the browser in as that identity. */
export function signInLink(url: string, token: string): string {
  return `${url}/#/signin?token=${encodeURIComponent(token)}`;
}

/** Where `flotilla up` writes the UI's URL and sign-in links: `<dir>/ui.json` (mode 0600: it holds tokens). */
export function uiInfoFile(dir: string): string {
  return join(dir, "ui.json");
}

export interface UiInfo {
  url: string;
  identities: Array<UiIdentity & { signIn: string }>;
}

export async function writeUiInfo(dir: string, url: string, identities: readonly UiIdentity[]): Promise<UiInfo> {
  const info: UiInfo = { url, identities: identities.map((i) => ({ ...i, signIn: signInLink(url, i.token) })) };
  await writeFile(uiInfoFile(dir), `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  return info;
}
