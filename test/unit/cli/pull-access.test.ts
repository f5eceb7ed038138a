// What `cluster add --mode pull` creates, without a hub: the agent's hub identity (its namespace,
// ServiceAccount, token Secret and RBAC, checked against the credential matrix of the pull-mode
// contract by a small RBAC evaluator), the Cluster, the agent's hub kubeconfig, and the member's
// install that deploy/agent's Deployment reads (the ConfigMap keys and Secret it mounts).

import { KubeConfig } from "@kubernetes/client-node";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { AGENT_SERVICE_ACCOUNT, GIT_SERVE_RBAC_PATH, pullNamespace } from "../../../src/api/pull.js";
import { parseYamlStream } from "../../../src/api/serialize.js";
import type { Manifest } from "../../../src/api/types.js";
import { AGENT, controllerImage } from "../../../src/cli/bundle.js";
import { registerClusterCommands } from "../../../src/cli/cluster.js";
import {
  AGENT_CONFIG,
  AGENT_HUB_SECRET,
  AGENT_HUB_SECRET_KEY,
  AGENT_TOKEN_SECRET,
  agentClusterRoleName,
  agentHubIdentity,
  agentHubKubeconfig,
  agentInstall,
  pullCluster,
  yamlStream,
} from "../../../src/cli/pull-access.js";
import { agentBundle } from "../../../src/cli/pull-cluster.js";
import { AGENT_NAMESPACE } from "../../../src/sync/member-access.js";

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}
interface Binding {
  roleRef: { kind: string; name: string };
  subjects: Array<{ kind: string; name: string; namespace?: string }>;
}

/** A request as the API server's authorizer sees it: a resource (with its namespace and name, if any) or a non-resource path. */
type Request = { verb: string; group: string; resource: string; namespace?: string; name?: string } | { verb: string; path: string };

const has = (list: string[] | undefined, value: string) => (list ?? []).includes("*") || (list ?? []).includes(value);

function ruleAllows(rule: Rule, r: Request): boolean {
  if (!has(rule.verbs, r.verb)) return false;
  if ("path" in r) return (rule.nonResourceURLs ?? []).includes(r.path);
  if (!rule.resources || !has(rule.apiGroups, r.group) || !has(rule.resources, r.resource)) return false;
  // resourceNames restrict to requests that name an object (get, or list/watch with a metadata.name field selector).
  return rule.resourceNames === undefined || (r.name !== undefined && rule.resourceNames.includes(r.name));
}

/** RBAC over the given objects for the ServiceAccount `sa` in `saNamespace`. */
function authorizer(objects: readonly Manifest[], sa: string, saNamespace: string): (r: Request) => boolean {
  const isSubject = (b: Binding) => b.subjects.some((s) => s.kind === "ServiceAccount" && s.name === sa && s.namespace === saNamespace);
  const rulesOf = (kind: string, name: string, namespace?: string) =>
    (objects.find((o) => o.kind === kind && o.metadata.name === name && o.metadata.namespace === namespace)?.rules as Rule[] | undefined) ?? [];
  return (r) => {
    for (const o of objects) {
      const b = o as unknown as Binding & Manifest;
      if (o.kind === "ClusterRoleBinding" && isSubject(b) && rulesOf("ClusterRole", b.roleRef.name).some((rule) => ruleAllows(rule, r))) return true;
      if (o.kind !== "RoleBinding" || !isSubject(b) || "path" in r || r.namespace !== o.metadata.namespace) continue;
      const rules = b.roleRef.kind === "Role" ? rulesOf("Role", b.roleRef.name, o.metadata.namespace) : rulesOf("ClusterRole", b.roleRef.name);
      if (rules.some((rule) => ruleAllows(rule, r))) return true;
    }
    return false;
  };
}

const NAME = "edge-1";
const OTHER = "edge-2";
const NS = pullNamespace(NAME);
const identity = agentHubIdentity(NAME);
// The hub as it is with two pull members: each identity must stay within its own.
const can = authorizer([...identity, ...agentHubIdentity(OTHER)], AGENT_SERVICE_ACCOUNT, NS);
const flotilla = (verb: string, resource: string, extra: { namespace?: string; name?: string } = {}) => ({ verb, group: "flotilla.dev", resource, ...extra });
const core = (verb: string, resource: string, extra: { namespace?: string; name?: string } = {}) => ({ verb, group: "", resource, ...extra });

describe("the agent's hub identity", () => {
  it("is a namespace flotilla-cluster-<name> with the ServiceAccount flotilla-agent and its token Secret, applied after it", () => {
    expect(identity.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`)).toEqual([
      `Namespace//${NS}`,
      `ServiceAccount/${NS}/${AGENT_SERVICE_ACCOUNT}`,
      `Role/${NS}/flotilla-agent`,
      `RoleBinding/${NS}/flotilla-agent`,
      `ClusterRole//flotilla-agent:${NAME}`,
      `ClusterRoleBinding//flotilla-agent:${NAME}`,
      `Secret/${NS}/${AGENT_TOKEN_SECRET}`,
    ]);
    const secret = identity.at(-1) as Manifest;
    expect(secret.type).toBe("kubernetes.io/service-account-token");
    expect(secret.metadata.annotations).toEqual({ "kubernetes.io/service-account.name": AGENT_SERVICE_ACCOUNT });
    expect(identity[1]?.automountServiceAccountToken).toBe(false);
  });

  it("labels every object with its cluster, so remove finds them", () => {
    for (const o of identity) expect(o.metadata.labels?.["flotilla.dev/cluster"], `${o.kind}/${o.metadata.name}`).toBe(NAME);
  });

  it("shares no name with another pull cluster's identity, except the per-namespace ones", () => {
    const clusterScoped = (list: Manifest[]) => list.filter((o) => !o.metadata.namespace).map((o) => `${o.kind}/${o.metadata.name}`);
    const mine = new Set(clusterScoped(identity));
    expect(clusterScoped(agentHubIdentity(OTHER)).filter((l) => mine.has(l))).toEqual([]);
    expect(agentClusterRoleName(NAME)).toBe(`flotilla-agent:${NAME}`);
  });

  it("reads its own Cluster by name, and lists or watches it only with a metadata.name field selector", () => {
    expect(can(flotilla("get", "clusters", { name: NAME }))).toBe(true);
    expect(can(flotilla("watch", "clusters", { name: NAME }))).toBe(true);
    expect(can(flotilla("list", "clusters", { name: NAME }))).toBe(true);
    expect(can(flotilla("watch", "clusters"))).toBe(false);
    expect(can(flotilla("list", "clusters"))).toBe(false);
  });

  it.each(["get", "list", "watch", "create", "update", "patch", "delete"])("may %s SyncReports in its own namespace", (verb) => {
    expect(can(flotilla(verb, "syncreports", { namespace: NS }))).toBe(true);
  });

  it("may get the controller's Git server path, and no other non-resource URL", () => {
    expect(can({ verb: "get", path: GIT_SERVE_RBAC_PATH })).toBe(true);
    for (const path of ["/metrics", "/flotilla", "/flotilla/*", "/api"]) expect(can({ verb: "get", path }), path).toBe(false);
    expect(can({ verb: "post", path: GIT_SERVE_RBAC_PATH })).toBe(false);
  });

  it.each<[string, Request]>([
    ["get another cluster", flotilla("get", "clusters", { name: OTHER })],
    ["watch another cluster", flotilla("watch", "clusters", { name: OTHER })],
    ["create a cluster", flotilla("create", "clusters", { name: NAME })],
    ["update its own cluster", flotilla("update", "clusters", { name: NAME })],
    ["patch its own cluster's status", flotilla("patch", "clusters/status", { name: NAME })],
    ["delete its own cluster", flotilla("delete", "clusters", { name: NAME })],
    ["create reports in another cluster's namespace", flotilla("create", "syncreports", { namespace: pullNamespace(OTHER) })],
    ["list reports across namespaces", flotilla("list", "syncreports")],
    ["list application deployments", flotilla("list", "applicationdeployments", { namespace: NS })],
    ["get a component definition", flotilla("get", "componentdefinitions", { name: "webservice" })],
    ["list secrets in its own namespace", core("list", "secrets", { namespace: NS })],
    ["get its own token Secret", core("get", "secrets", { namespace: NS, name: AGENT_TOKEN_SECRET })],
    ["list secrets in flotilla-system", core("list", "secrets", { namespace: "flotilla-system" })],
    ["list secrets anywhere", core("list", "secrets")],
    ["create a token for itself", core("create", "serviceaccounts/token", { namespace: NS, name: AGENT_SERVICE_ACCOUNT })],
    ["create pods in its namespace", core("create", "pods", { namespace: NS })],
    ["bind roles in its namespace", { verb: "create", group: "rbac.authorization.k8s.io", resource: "rolebindings", namespace: NS }],
  ])("may not %s", (_what, request) => {
    expect(can(request)).toBe(false);
  });

  it("holds no rule naming Secrets or a wildcard", () => {
    const rules = identity.flatMap((o) => (o.rules as Rule[] | undefined) ?? []);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      expect([...(rule.resources ?? []), ...(rule.apiGroups ?? []), ...rule.verbs, ...(rule.nonResourceURLs ?? [])]).not.toContain("*");
      expect(rule.resources ?? []).not.toContain("secrets");
    }
  });
});

describe("the pull Cluster", () => {
  it("has mode Pull, the labels, and no kubeconfig Secret or local flag", () => {
    expect(pullCluster(NAME, { usage: "production" })).toEqual({
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "Cluster",
      metadata: { name: NAME, labels: { usage: "production" } },
      spec: { mode: "Pull" },
    });
  });
});

describe("the agent's hub kubeconfig", () => {
  it("reaches the hub's server with its CA and the agent's token, and nothing else", () => {
    const text = agentHubKubeconfig(NAME, { server: "https://hub.example.com:6443", caData: "Q0EK", token: "t0ken" });
    const kc = new KubeConfig();
    kc.loadFromString(text);
    expect(kc.getCurrentCluster()).toMatchObject({ server: "https://hub.example.com:6443", caData: "Q0EK" });
    expect(kc.getCurrentUser()).toMatchObject({ name: `flotilla-agent@${NS}`, token: "t0ken" });
    expect(kc.getUsers()).toHaveLength(1);
    expect(text).not.toMatch(/client-key|client-certificate|password/);
  });
});

describe("the agent's install for the member", () => {
  const hubKubeconfig = agentHubKubeconfig(NAME, { server: "https://hub.example.com:6443", token: "t0ken" });
  const bundle = agentBundle({ image: "reg.example.org/flotilla:1.0.0", refusePlaceholder: true });
  const install = agentInstall({ bundle, cluster: NAME, gitUrl: "http://flotilla.example.com:8082/env.git", hubKubeconfig });
  const deployment = install.find((o) => o.kind === AGENT.kind && o.metadata.name === AGENT.name) as Manifest;
  const pod = (deployment.spec as { template: { spec: Record<string, unknown> } }).template.spec as {
    containers: Array<{ env: Array<{ name: string; valueFrom: { configMapKeyRef?: { name: string; key: string } } }> }>;
    volumes: Array<{ secret?: { secretName: string; items?: Array<{ key: string }> } }>;
  };

  it("is deploy/agent plus the ConfigMap and the hub Secret, in apply order: the namespace first, what the Pods read before them", () => {
    expect(install.length).toBe(bundle.length + 2);
    expect(install[0]?.kind).toBe("Namespace");
    const at = (kind: string) => install.findIndex((o) => o.kind === kind);
    expect(at("ConfigMap")).toBeLessThan(at("Deployment"));
    expect(at("Secret")).toBeLessThan(at("Deployment"));
    expect(at("ServiceAccount")).toBeLessThan(at("Deployment"));
    expect(controllerImage(install, AGENT)).toBe("reg.example.org/flotilla:1.0.0");
  });

  it("gives every ConfigMap key the Deployment reads: the cluster's name and the Git URL", () => {
    const config = install.find((o) => o.kind === "ConfigMap") as Manifest;
    expect(config.metadata).toMatchObject({ name: AGENT_CONFIG, namespace: AGENT_NAMESPACE });
    expect(config.data).toEqual({ CLUSTER: NAME, GIT_URL: "http://flotilla.example.com:8082/env.git" });
    const refs = (pod.containers[0]?.env ?? []).flatMap((e) => (e.valueFrom.configMapKeyRef ? [e.valueFrom.configMapKeyRef] : []));
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) {
      expect(ref.name).toBe(AGENT_CONFIG);
      expect(Object.keys(config.data as object)).toContain(ref.key);
    }
  });

  it("puts the hub kubeconfig in the Secret and key the Deployment mounts", () => {
    const secret = install.find((o) => o.kind === "Secret") as Manifest;
    expect(secret.metadata).toMatchObject({ name: AGENT_HUB_SECRET, namespace: AGENT_NAMESPACE });
    expect(secret.stringData).toEqual({ [AGENT_HUB_SECRET_KEY]: hubKubeconfig });
    const mounted = pod.volumes.find((v) => v.secret?.secretName === AGENT_HUB_SECRET);
    expect(mounted?.secret?.items?.map((i) => i.key)).toEqual([AGENT_HUB_SECRET_KEY]);
  });

  it("prints as a YAML stream kubectl reads back object by object", () => {
    expect(parseYamlStream(yamlStream(install))).toEqual(JSON.parse(JSON.stringify(install)));
  });

  it("refuses the placeholder image when it would be applied, and keeps it when only printed", () => {
    expect(() => agentBundle({ refusePlaceholder: true })).toThrow(
      /--image: the agent image is registry\.example\.com\/flotilla:[\d.]+, a placeholder.*pass --image REF/,
    );
    expect(controllerImage(agentBundle({ refusePlaceholder: false }), AGENT)).toMatch(/^registry\.example\.com\/flotilla:/);
  });
});

describe("flotilla cluster add on the command line", () => {
  async function run(...args: string[]): Promise<unknown> {
    const program = new Command().exitOverride();
    registerClusterCommands(program);
    try {
      await program.parseAsync(["cluster", "add", ...args], { from: "user" });
    } catch (e) {
      return e;
    }
    return undefined;
  }

  it("checks the mode's options before it reads a kubeconfig or reaches a cluster", async () => {
    const missing = "/nonexistent/hub.kubeconfig";
    expect(String(await run("edge-1", "--mode", "pull", "--hub-kubeconfig", missing))).toMatch(/--git-url: required with --mode pull/);
    expect(String(await run("edge-1", "--mode", "pull", "--git-url", "http://c:8082/env.git", "--namespaces", "a", "--hub-kubeconfig", missing))).toMatch(
      /--namespaces: only in push mode/,
    );
    expect(String(await run("prod-eu", "--hub-kubeconfig", missing))).toMatch(/--kubeconfig: required in push mode/);
    // Valid options: the next failure is the hub's kubeconfig, named.
    expect(String(await run("edge-1", "--mode", "pull", "--git-url", "http://c:8082/env.git", "--hub-kubeconfig", missing))).toMatch(
      `--kubeconfig: ${missing} does not exist`,
    );
  });
});
