// What deploy/agent (the pull-mode agent, installed on a member) promises, read with the bundle
// reader (which kustomize.test.ts holds to kubectl kustomize): on the member exactly the sync
// loop's rights of push mode's flotilla-sync (member-rbac.yaml is generated from member-access.ts)
// plus its Lease; two replicas, a read-only root filesystem, the hub kubeconfig as a read-only Secret
// volume, a Git token from an optional Secret (an environment variable, not a file: the agent
// refuses a token file it cannot read), and the arguments of the agent contract.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AGENT_SERVICE_ACCOUNT } from "../../../src/api/pull.js";
import type { Manifest } from "../../../src/api/types.js";
import { AGENT, controllerImage, readBundle } from "../../../src/cli/bundle.js";
import { AGENT_RBAC_FILE, agentRbacYaml } from "../../../src/cli/gen-agent-rbac.js";
import { AGENT_NAMESPACE, memberAccessManifests, SYNC_ROLE } from "../../../src/sync/member-access.js";
import { AGENT_KEY_SECRET } from "../../../src/secrets/keys.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const objects = readBundle(join(ROOT, "deploy", "agent"));

/** The options of `flotilla agent`, as the pull-mode contract gives them. */
const AGENT_OPTIONS = [
  "--cluster",
  "--hub-kubeconfig",
  "--git-url",
  "--git-token-file",
  "--kubeconfig",
  "--data-dir",
  "--namespace",
  "--metrics-addr",
  "--no-leader-elect",
];

interface Container {
  name: string;
  image: string;
  command?: string[];
  args: string[];
  env: Array<{ name: string; value?: string; valueFrom?: { configMapKeyRef?: { name: string; key: string }; secretKeyRef?: unknown } }>;
  ports: Array<{ name: string; containerPort: number }>;
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: Record<string, unknown>;
  volumeMounts: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
}
interface Volume {
  name: string;
  emptyDir?: unknown;
  secret?: { secretName: string; optional?: boolean; items?: Array<{ key: string; path: string }> };
}
interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string> };
    spec: { serviceAccountName: string; securityContext: Record<string, unknown>; containers: Container[]; volumes: Volume[] };
  };
}

const find = (kind: string) => objects.filter((o) => o.kind === kind);
const one = (kind: string, name: string) => {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  expect(found, `${kind}/${name}`).toHaveLength(1);
  return found[0] as Manifest;
};
const deployment = one(AGENT.kind, AGENT.name);
const spec = deployment.spec as DeploymentSpec;
const pod = spec.template.spec;
const container = pod.containers.find((c) => c.name === AGENT.container) as Container;
/** `--flag=value` of the container's args, by flag. */
const arg = (flag: string) => container.args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe("the agent's rights on its member (deploy/agent)", () => {
  it("holds member-rbac.yaml exactly as npm run gen:agent-rbac writes it", () => {
    expect(readFileSync(join(ROOT, AGENT_RBAC_FILE), "utf8"), `${AGENT_RBAC_FILE} is stale: run npm run gen:agent-rbac`).toBe(agentRbacYaml());
  });

  it("grants the rules of push mode's flotilla-sync, no more and no fewer, bound cluster-wide to the agent's ServiceAccount", () => {
    const sync = memberAccessManifests().find((m) => m.kind === "ClusterRole" && m.metadata.name === SYNC_ROLE) as Manifest;
    const role = one("ClusterRole", "flotilla-agent");
    expect(role.rules).toEqual(sync.rules);
    expect(role.rules).not.toEqual([]);
    const binding = one("ClusterRoleBinding", "flotilla-agent");
    expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "flotilla-agent" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: AGENT_SERVICE_ACCOUNT, namespace: AGENT_NAMESPACE }]);
    expect(find("ClusterRole")).toHaveLength(1);
    expect(find("ClusterRoleBinding")).toHaveLength(1);
  });

  it("adds only its leader Lease (get, create, update) and its sealing key Secret (get by name, create) in its own namespace", () => {
    const roles = find("Role");
    expect(roles.map((r) => r.metadata.name).sort()).toEqual(["flotilla-agent-leader", "flotilla-agent-sealing"]);
    for (const role of roles) expect(role.metadata.namespace).toBe(AGENT_NAMESPACE);
    expect(one("Role", "flotilla-agent-leader").rules).toEqual([
      { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: ["get", "create", "update"] },
    ]);
    expect(one("Role", "flotilla-agent-sealing").rules).toEqual([
      { apiGroups: [""], resources: ["secrets"], resourceNames: [AGENT_KEY_SECRET], verbs: ["get"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
    ]);
    const bindings = find("RoleBinding");
    expect(bindings).toHaveLength(2);
    for (const binding of bindings) {
      expect(binding.metadata.namespace).toBe(AGENT_NAMESPACE);
      expect(binding.roleRef).toEqual({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: binding.metadata.name });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: AGENT_SERVICE_ACCOUNT, namespace: AGENT_NAMESPACE }]);
    }
    // The Lease the agent takes is in the namespace its Role covers.
    expect(arg("--namespace")).toBe(AGENT_NAMESPACE);
  });

  it("puts every namespaced object in flotilla-agent, which it creates, and carries no Secret or ConfigMap (per-cluster values)", () => {
    expect(find("Namespace").map((n) => n.metadata.name)).toEqual([AGENT_NAMESPACE]);
    const clusterScoped = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding"]);
    for (const o of objects.filter((x) => !clusterScoped.has(x.kind))) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(AGENT_NAMESPACE);
    expect(find("Secret")).toEqual([]);
    expect(find("ConfigMap")).toEqual([]);
    expect(find("CustomResourceDefinition")).toEqual([]);
    expect(one("ServiceAccount", AGENT_SERVICE_ACCOUNT).metadata.namespace).toBe(AGENT_NAMESPACE);
  });
});

describe("the agent's Deployment (deploy/agent)", () => {
  it("runs two replicas as the agent's ServiceAccount, one active through the Lease", () => {
    expect(spec.replicas).toBe(2);
    expect(pod.serviceAccountName).toBe(AGENT_SERVICE_ACCOUNT);
    expect(container.args).not.toContain("--no-leader-elect");
    expect(matches(spec.selector.matchLabels, spec.template.metadata.labels)).toBe(true);
  });

  it("runs the image's CLI with the agent command and only options the agent contract defines", () => {
    expect(container.command).toBeUndefined();
    expect(container.args[0]).toBe("agent");
    for (const a of container.args.slice(1)) expect(AGENT_OPTIONS, a).toContain(a.split("=")[0]);
    for (const flag of ["--cluster", "--hub-kubeconfig", "--git-url", "--data-dir", "--namespace", "--metrics-addr"]) expect(arg(flag), flag).toBeDefined();
  });

  it("takes the cluster's name and the Git URL from the ConfigMap flotilla-agent, and defines every variable its arguments use", () => {
    expect(arg("--cluster")).toBe("$(CLUSTER)");
    expect(arg("--git-url")).toBe("$(GIT_URL)");
    const refs = container.args.flatMap((a) => [...a.matchAll(/\$\((\w+)\)/g)].map((m) => m[1]));
    const fromConfig = container.env.filter((e) => e.valueFrom?.configMapKeyRef);
    expect(fromConfig.map((e) => e.name).sort()).toEqual([...new Set(refs)].sort());
    for (const e of fromConfig) expect(e.valueFrom?.configMapKeyRef, e.name).toEqual({ name: "flotilla-agent", key: e.name });
  });

  it("takes a Git token from the Secret flotilla-agent-git only when it exists (the agent reads FLOTILLA_GIT_TOKEN), and passes no token file", () => {
    const others = container.env.filter((e) => !e.valueFrom?.configMapKeyRef);
    expect(others).toEqual([{ name: "FLOTILLA_GIT_TOKEN", valueFrom: { secretKeyRef: { name: "flotilla-agent-git", key: "token", optional: true } } }]);
    // `flotilla agent` refuses a --git-token-file it cannot read: an optional Secret must not become one.
    expect(arg("--git-token-file")).toBeUndefined();
  });

  it("mounts the hub kubeconfig from the Secret flotilla-agent-hub read-only, where --hub-kubeconfig reads it", () => {
    const file = arg("--hub-kubeconfig") as string;
    const mount = container.volumeMounts.find((m) => file.startsWith(`${m.mountPath}/`));
    expect(mount?.readOnly).toBe(true);
    const volume = pod.volumes.find((v) => v.name === mount?.name);
    expect(volume?.secret?.secretName).toBe("flotilla-agent-hub");
    expect(volume?.secret?.optional).toBeUndefined();
    expect(volume?.secret?.items).toEqual([{ key: "kubeconfig", path: file.slice((mount?.mountPath.length ?? 0) + 1) }]);
  });

  it("runs restricted, non-root as 65532 with a read-only root filesystem: --data-dir is an emptyDir", () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      runAsUser: 65532,
      runAsGroup: 65532,
      fsGroup: 65532,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container.securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(arg("--data-dir")).toBe("/data");
    const mount = container.volumeMounts.find((m) => m.mountPath === "/data");
    expect(pod.volumes.find((v) => v.name === mount?.name)).toEqual({ name: mount?.name, emptyDir: {} });
    expect(container.volumeMounts.filter((m) => !m.readOnly).map((m) => m.mountPath)).toEqual(["/data"]);
  });

  it("probes /healthz and /readyz on the port of --metrics-addr, and asks for resources with a memory limit", () => {
    expect(arg("--metrics-addr")).toBe(":8080");
    expect(container.ports).toEqual([{ name: "metrics", containerPort: 8080 }]);
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(container.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container.resources.limits?.memory).toEqual(expect.any(String));
  });

  it("has a policy/v1 disruption budget over its Pods that lets a drain take one at a time", () => {
    const [budget, ...more] = find("PodDisruptionBudget");
    expect(more).toEqual([]);
    expect(budget?.apiVersion).toBe("policy/v1");
    const b = budget?.spec as { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
    expect(b.maxUnavailable).toBe(1);
    expect(b.maxUnavailable).toBeLessThan(spec.replicas);
    expect(matches(b.selector.matchLabels, spec.template.metadata.labels)).toBe(true);
  });

  it("names the placeholder image tagged with the package's version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(controllerImage(objects, AGENT)).toBe(`registry.example.com/flotilla:${version}`);
  });
});
