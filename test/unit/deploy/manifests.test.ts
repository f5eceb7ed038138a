// What the install bundles promise, read with the bundle reader (which kustomize.test.ts holds to
// kubectl kustomize): the default keeps the environment repository on a claim with one replica,
// deploy/git-remote on an emptyDir with two; the root filesystem can be read-only; the metrics
// and Git ports are the only ways in; and the controller reads the environment variables the Pod sets.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, type Option } from "commander";
import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { webhookConfiguration } from "../../../src/admission/webhook-config.js";
import { controllerImage, readBundle } from "../../../src/cli/bundle.js";
import { LEADER_LABEL } from "../../../src/controller/leader-label.js";
import { registerControllerCommands } from "../../../src/cli/controller.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const NAMESPACE = "flotilla-system";

interface Container {
  name: string;
  args: string[];
  env: Array<{ name: string; valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean } } }>;
  ports: Array<{ name: string; containerPort: number }>;
  securityContext: Record<string, unknown>;
  volumeMounts: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  securityContext: Record<string, unknown>;
  containers: Container[];
  volumes: Array<{ name: string; emptyDir?: unknown; persistentVolumeClaim?: { claimName: string } }>;
}
interface DeploymentSpec {
  replicas: number;
  strategy: { type: string };
  selector: { matchLabels: Record<string, string> };
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}

function find(objects: Manifest[], kind: string): Manifest[] {
  return objects.filter((o) => o.kind === kind);
}

function deploymentOf(objects: Manifest[]): DeploymentSpec {
  const [deployment, ...more] = find(objects, "Deployment");
  expect(more).toEqual([]);
  return deployment?.spec as DeploymentSpec;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

const bundles = { deploy: readBundle(join(ROOT, "deploy")), "deploy/git-remote": readBundle(join(ROOT, "deploy", "git-remote")) };

describe("the default install (deploy/)", () => {
  const objects = bundles.deploy;
  const spec = deploymentOf(objects);

  it("keeps the environment repository on a ReadWriteOnce claim, so one replica, replaced with Recreate", () => {
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({ type: "Recreate" });
    const data = spec.template.spec.volumes.find((v) => v.name === "data");
    const claims = find(objects, "PersistentVolumeClaim");
    expect(claims.map((c) => c.metadata.name)).toEqual([data?.persistentVolumeClaim?.claimName]);
    expect((claims[0] as Manifest).spec).toMatchObject({ accessModes: ["ReadWriteOnce"] });
  });

  it("lets the Secret flotilla-git name a remote, but does not need it", () => {
    const env = spec.template.spec.containers[0]?.env ?? [];
    expect(env.filter((e) => e.valueFrom?.secretKeyRef).map((e) => [e.name, e.valueFrom?.secretKeyRef])).toEqual([
      ["FLOTILLA_GIT_URL", { name: "flotilla-git", key: "url", optional: true }],
      ["FLOTILLA_GIT_TOKEN", { name: "flotilla-git", key: "token", optional: true }],
    ]);
  });
});

describe("the Git remote install (deploy/git-remote/)", () => {
  const objects = bundles["deploy/git-remote"];
  const spec = deploymentOf(objects);

  it("runs two replicas on an emptyDir, with no claim", () => {
    expect(spec.replicas).toBe(2);
    expect(spec.strategy).toEqual({ type: "RollingUpdate" });
    expect(spec.template.spec.volumes).toEqual([{ name: "data", emptyDir: {} }]);
    expect(find(objects, "PersistentVolumeClaim")).toEqual([]);
  });

  it("requires the remote's URL from the Secret flotilla-git: without it a restart would lose the repository", () => {
    const url = spec.template.spec.containers[0]?.env.find((e) => e.name === "FLOTILLA_GIT_URL");
    expect(url?.valueFrom?.secretKeyRef).toEqual({ name: "flotilla-git", key: "url", optional: false });
  });

  it("differs from the default only in the Deployment and the claim", () => {
    const label = (o: Manifest) => `${o.kind}/${o.metadata.name}`;
    const shared = (list: Manifest[]) => list.filter((o) => o.kind !== "Deployment" && o.kind !== "PersistentVolumeClaim");
    expect(shared(objects)).toEqual(shared(bundles.deploy));
    expect(objects.map(label).sort()).toEqual(
      bundles.deploy
        .map(label)
        .filter((l) => !l.startsWith("PersistentVolumeClaim/"))
        .sort(),
    );
  });
});

describe.each(Object.entries(bundles))("%s", (_dir, objects) => {
  const spec = deploymentOf(objects);
  const pod = spec.template.spec;
  const container = pod.containers[0] as Container;
  const podLabels = spec.template.metadata.labels;

  it("puts every namespaced object in flotilla-system, which it creates", () => {
    expect(find(objects, "Namespace").map((n) => n.metadata.name)).toEqual([NAMESPACE]);
    const clusterScoped = new Set(["Namespace", "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "ValidatingWebhookConfiguration"]);
    for (const o of objects.filter((x) => !clusterScoped.has(x.kind))) expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(NAMESPACE);
    expect(container.args).toContain(`--namespace=${NAMESPACE}`);
  });

  it("carries the eight CRDs", () => {
    expect(
      find(objects, "CustomResourceDefinition")
        .map((c) => c.metadata.name)
        .sort(),
    ).toEqual([
      "applicationdeployments.flotilla.dev",
      "clusters.flotilla.dev",
      "componentdefinitions.flotilla.dev",
      "gitsources.flotilla.dev",
      "notifications.flotilla.dev",
      "syncreports.flotilla.dev",
      "tenantpolicies.flotilla.dev",
      "traitdefinitions.flotilla.dev",
    ]);
  });

  it("runs with a read-only root filesystem: --data-dir is a volume, writable by the Pod's group", () => {
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    const dataDir = container.args.find((a) => a.startsWith("--data-dir="))?.slice("--data-dir=".length);
    const mount = container.volumeMounts.find((m) => m.mountPath === dataDir);
    expect(mount, `a volume mounted at ${dataDir}`).toBeDefined();
    expect(pod.volumes.map((v) => v.name)).toContain(mount?.name);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532 });
  });

  it("publishes the metrics port, the Git port, the web UI's port and the admission webhook through a Service named for each", () => {
    const services = find(objects, "Service");
    expect(services.map((s) => s.metadata.name).sort()).toEqual(["flotilla-controller-metrics", "flotilla-git", "flotilla-ui", "flotilla-webhook"]);
    // The UI and the Git server answer from the leader's caches and repository: their Services
    // select the label the leader puts on its own Pod; metrics and admission reach every replica.
    const leaderOnly = ["flotilla-git", "flotilla-ui"];
    const portsOf = (name: string) => {
      const s = services.find((x) => x.metadata.name === name)?.spec as { selector: Record<string, string>; ports: unknown[] };
      expect(matches(s.selector, podLabels), name).toBe(!leaderOnly.includes(name));
      expect(matches(s.selector, { ...podLabels, [LEADER_LABEL]: "true" }), name).toBe(true);
      return s.ports;
    };
    expect(portsOf("flotilla-controller-metrics")).toEqual([{ name: "metrics", port: 8080, targetPort: "metrics", protocol: "TCP" }]);
    expect(portsOf("flotilla-git")).toEqual([{ name: "git", port: 8082, targetPort: "git", protocol: "TCP" }]);
    // The Service the controller names in its webhook configuration (--admission-service, port 443).
    expect(portsOf("flotilla-webhook")).toEqual([{ name: "webhook", port: 443, targetPort: "webhook", protocol: "TCP" }]);
    expect(portsOf("flotilla-ui")).toEqual([{ name: "ui", port: 8081, targetPort: "ui", protocol: "TCP" }]);
    expect(container.ports).toEqual([
      { name: "metrics", containerPort: 8080 },
      { name: "git", containerPort: 8082 },
      { name: "webhook", containerPort: 9443 },
      { name: "ui", containerPort: 8081 },
    ]);
    expect(container.args).toContain("--metrics-addr=:8080");
    expect(container.args).toContain("--git-serve-addr=:8082");
    expect(container.args).toContain("--admission-addr=:9443");
    expect(container.args).toContain("--ui-addr=:8081");
  });

  it("lets in only the metrics, Git, webhook and web UI ports, and lets everything out", () => {
    const [policy] = find(objects, "NetworkPolicy");
    const p = policy?.spec as {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: Array<{ from?: unknown; ports: unknown[] }>;
    };
    expect(matches(p.podSelector.matchLabels, podLabels)).toBe(true);
    expect(p.policyTypes).toEqual(["Ingress"]);
    expect(p.ingress).toEqual([
      {
        ports: [
          { port: 8080, protocol: "TCP" },
          { port: 8082, protocol: "TCP" },
          { port: 9443, protocol: "TCP" },
          { port: 8081, protocol: "TCP" },
        ],
      },
    ]);
  });

  it("may create TokenReviews and SubjectAccessReviews (to check agents' tokens), and nothing more of those groups", () => {
    const role = find(objects, "ClusterRole").find((r) => r.metadata.name === "flotilla-controller") as Manifest & {
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    };
    const reviews = role.rules.filter((r) => r.apiGroups.some((g) => g === "authentication.k8s.io" || g === "authorization.k8s.io"));
    expect(reviews).toEqual([
      { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
      { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
    ]);
  });

  it("reads Secrets outside flotilla-system only where a team binds flotilla-source-secrets (no cluster-wide Secret access)", () => {
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
    const roles = find(objects, "ClusterRole") as Array<Manifest & { rules: Rule[] }>;
    const bound = new Set(find(objects, "ClusterRoleBinding").map((b) => (b as Manifest & { roleRef: { name: string } }).roleRef.name));
    const secretRoles = roles.filter((r) => r.rules.some((rule) => rule.apiGroups.includes("") && rule.resources.includes("secrets")));
    expect(secretRoles.map((r) => r.metadata.name)).toEqual(["flotilla-source-secrets"]);
    expect(secretRoles[0]?.rules).toEqual([{ apiGroups: [""], resources: ["secrets"], verbs: ["get"] }]);
    expect(bound.has("flotilla-source-secrets")).toBe(false);
    const controller = roles.find((r) => r.metadata.name === "flotilla-controller");
    const may = (resource: string, verb: string) =>
      controller?.rules.some((r) => r.apiGroups.includes("flotilla.dev") && r.resources.includes(resource) && r.verbs.includes(verb));
    for (const verb of ["get", "list", "watch", "patch"]) expect(may("gitsources", verb), `gitsources ${verb}`).toBe(true);
    expect(may("gitsources/status", "patch")).toBe(true);
    for (const verb of ["get", "list", "watch"]) expect(may("notifications", verb), `notifications ${verb}`).toBe(true);
    expect(may("notifications", "patch"), "notifications patch: the controller writes only their status").toBe(false);
    expect(may("notifications/status", "patch")).toBe(true);
    for (const verb of ["create", "patch", "delete"]) expect(may("applicationdeployments", verb), `applicationdeployments ${verb}`).toBe(true);
  });

  it("may keep its own webhook configuration and TLS Secret current, and create no other webhook", () => {
    type Rule = { apiGroups: string[]; resources: string[]; resourceNames?: string[]; verbs: string[] };
    const role = find(objects, "ClusterRole").find((r) => r.metadata.name === "flotilla-controller") as Manifest & { rules: Rule[] };
    expect(role.rules.filter((r) => r.apiGroups.includes("admissionregistration.k8s.io"))).toEqual([
      {
        apiGroups: ["admissionregistration.k8s.io"],
        resources: ["validatingwebhookconfigurations"],
        resourceNames: ["flotilla"],
        verbs: ["get", "patch", "update"],
      },
    ]);
    const local = find(objects, "Role").find((r) => r.metadata.name === "flotilla-controller") as Manifest & { rules: Rule[] };
    const updates = local.rules.filter((r) => r.resources.includes("secrets") && r.verbs.includes("update"));
    expect(updates).toEqual([{ apiGroups: [""], resources: ["secrets"], resourceNames: ["flotilla-webhook-tls"], verbs: ["update"] }]);
  });

  it("registers the webhook as the controller does, through the Service, leaving caBundle to the controller", () => {
    const [config, ...more] = find(objects, "ValidatingWebhookConfiguration");
    expect(more).toEqual([]);
    const expected = webhookConfiguration({ clientConfig: { service: { namespace: NAMESPACE, name: "flotilla-webhook", port: 443 } } }, "") as unknown as {
      webhooks: Array<{ clientConfig: Record<string, unknown> }>;
    };
    for (const w of expected.webhooks) delete w.clientConfig.caBundle;
    expect(config).toEqual(expected);
  });

  it("has a policy/v1 disruption budget that never blocks a drain of the single replica", () => {
    const [budget] = find(objects, "PodDisruptionBudget");
    expect(budget?.apiVersion).toBe("policy/v1");
    const b = budget?.spec as { maxUnavailable: number; selector: { matchLabels: Record<string, string> } };
    expect(b.maxUnavailable).toBe(1);
    expect(matches(b.selector.matchLabels, podLabels)).toBe(true);
    expect(matches(spec.selector.matchLabels, podLabels)).toBe(true);
  });

  it("tells the controller its own Pod, and lets it label that Pod (the leader label) but change no other part of a Pod", () => {
    const env = new Map(container.env.map((e) => [e.name, e]));
    expect(env.get("POD_NAME")).toEqual({ name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
    expect(env.get("POD_NAMESPACE")).toEqual({ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } });
    expect(podLabels[LEADER_LABEL]).toBeUndefined();
    const role = find(objects, "Role").find((r) => r.metadata.name === "flotilla-controller") as unknown as {
      rules: Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>;
    };
    const podRules = role.rules.filter((r) => r.resources.includes("pods"));
    expect(podRules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["patch"] }]);
  });

  it("names the placeholder image tagged with the package's version", () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect(controllerImage(objects)).toBe(`registry.example.com/flotilla:${version}`);
  });

  it("sets only environment variables that flotilla controller reads", () => {
    const program = new Command();
    registerControllerCommands(program);
    const controller = program.commands.find((c) => c.name() === "controller");
    const fromOptions = ((controller as Command).options as readonly Option[]).map((o) => o.envVar).filter(Boolean);
    const source = readFileSync(join(ROOT, "src", "cli", "controller.ts"), "utf8");
    for (const { name } of container.env) expect(fromOptions.includes(name) || source.includes(`process.env.${name}`), name).toBe(true);
    expect(fromOptions).toContain("FLOTILLA_GIT_URL");
  });
});
