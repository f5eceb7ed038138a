// The Pod Security Standards checks: a pod built to the restricted level passes every control,
// and each control fails on exactly the field the standard names, with a message that says which
// container and what to change.

import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { POD_SECURITY_CONTROLS, type PodTemplate, podSecurityControls, podTemplatesOf } from "../../../src/render/pod-security.js";

const RESTRICTED_CONTAINER = {
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
};

/** A pod that complies with every control; each case below breaks one thing in a copy. */
function compliant(): PodTemplate {
  return {
    path: "spec.template.spec",
    metadata: { annotations: { "container.apparmor.security.beta.kubernetes.io/app": "runtime/default" } },
    spec: {
      securityContext: {
        runAsNonRoot: true,
        seccompProfile: { type: "RuntimeDefault" },
        sysctls: [{ name: "net.ipv4.ip_local_port_range", value: "1024 65535" }],
      },
      containers: [{ name: "app", image: "app:1", ports: [{ containerPort: 8080 }], ...structuredClone(RESTRICTED_CONTAINER) }],
      initContainers: [{ name: "init", image: "init:1", ...structuredClone(RESTRICTED_CONTAINER) }],
      volumes: [
        { name: "data", persistentVolumeClaim: { claimName: "data" } },
        { name: "tmp", emptyDir: {} },
      ],
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the cases edit fixture pods by path, as a person edits YAML
type Loose = Record<string, any>;
type Pod = PodTemplate["spec"] & { containers: [Loose]; initContainers: [Loose]; securityContext: Loose };

// A baseline violation can break its restricted counterpart too (an added SYS_ADMIN, a hostPath
// volume, an Unconfined profile): the fourth column names those, as the standard's table does.
const violations: [control: string, change: (pod: Pod, t: PodTemplate) => void, message: RegExp, also?: string[]][] = [
  [
    "HostProcess",
    (p) => (p.containers[0].securityContext.windowsOptions = { hostProcess: true }),
    /containers\[app\]\.securityContext\.windowsOptions\.hostProcess/,
  ],
  ["Host Namespaces", (p) => (p.hostPID = true), /hostPID is true/],
  ["Privileged Containers", (p) => (p.initContainers[0].securityContext.privileged = true), /initContainers\[init\]\.securityContext\.privileged/],
  [
    "Capabilities (baseline)",
    (p) => (p.containers[0].securityContext.capabilities.add = ["SYS_ADMIN"]),
    /capabilities\.add has SYS_ADMIN/,
    ["Capabilities (restricted)"],
  ],
  [
    "HostPath Volumes",
    (p) => (p.volumes as unknown[]).push({ name: "host", hostPath: { path: "/var" } }),
    /volumes\[host\] is a hostPath volume/,
    ["Volume Types"],
  ],
  ["Host Ports", (p) => (p.containers[0].ports[0].hostPort = 80), /hostPort is 80/],
  [
    "AppArmor",
    (_p, t) => ((t.metadata.annotations as Record<string, string>)["container.apparmor.security.beta.kubernetes.io/app"] = "unconfined"),
    /is unconfined/,
  ],
  ["SELinux", (p) => (p.securityContext.seLinuxOptions = { user: "system_u" }), /seLinuxOptions\.user is set/],
  ["/proc Mount Type", (p) => (p.containers[0].securityContext.procMount = "Unmasked"), /procMount is Unmasked/],
  [
    "Seccomp (baseline)",
    (p) => (p.containers[0].securityContext.seccompProfile = { type: "Unconfined" }),
    /seccompProfile\.type is Unconfined/,
    ["Seccomp (restricted)"],
  ],
  ["Sysctls", (p) => (p.securityContext.sysctls = [{ name: "kernel.msgmax", value: "1" }]), /kernel\.msgmax/],
  ["Volume Types", (p) => (p.volumes as unknown[]).push({ name: "nfs", nfs: { server: "nfs", path: "/" } }), /volumes\[nfs\] is a nfs volume/],
  [
    "Privilege Escalation",
    (p) => delete p.initContainers[0].securityContext.allowPrivilegeEscalation,
    /initContainers\[init\]\.securityContext\.allowPrivilegeEscalation must be false/,
  ],
  ["Running as Non-root", (p) => delete p.securityContext.runAsNonRoot, /containers\[app\] may run as root/],
  ["Running as Non-root user", (p) => (p.containers[0].securityContext.runAsUser = 0), /containers\[app\]\.securityContext\.runAsUser is 0/],
  ["Seccomp (restricted)", (p) => delete p.securityContext.seccompProfile, /has no seccomp profile/],
  [
    "Capabilities (restricted)",
    (p) => (p.initContainers[0].securityContext.capabilities = {}),
    /initContainers\[init\]\.securityContext\.capabilities\.drop must include ALL/,
  ],
];

function failures(t: PodTemplate): Map<string, string[]> {
  return new Map(POD_SECURITY_CONTROLS.map((c) => [c.name, c.check(t)] as const).filter(([, problems]) => problems.length > 0));
}

describe("Pod Security Standards controls", () => {
  it("has a case below for every control, baseline and restricted", () => {
    expect(violations.map(([name]) => name).sort()).toEqual(POD_SECURITY_CONTROLS.map((c) => c.name).sort());
    expect(podSecurityControls("baseline").every((c) => c.level === "baseline")).toBe(true);
    expect(podSecurityControls("restricted")).toHaveLength(POD_SECURITY_CONTROLS.length);
  });

  it("passes a pod written to the restricted level", () => {
    expect(failures(compliant())).toEqual(new Map());
  });

  it.each(violations)("fails %s on the field the standard names", (control, change, message, also = []) => {
    const t = compliant();
    change(t.spec as Pod, t);
    const failed = failures(t);
    expect([...failed.keys()].sort()).toEqual([control, ...also].sort());
    expect(failed.get(control)?.join("\n")).toMatch(message);
  });

  it("accepts non-root and seccomp set on every container instead of the pod", () => {
    const t = compliant();
    const pod = t.spec as Pod;
    delete pod.securityContext.runAsNonRoot;
    delete pod.securityContext.seccompProfile;
    for (const c of [...pod.containers, ...pod.initContainers])
      Object.assign(c.securityContext, { runAsNonRoot: true, seccompProfile: { type: "Localhost", localhostProfile: "p.json" } });
    expect(failures(t)).toEqual(new Map());
  });

  it("allows NET_BIND_SERVICE as the one added capability", () => {
    const t = compliant();
    (t.spec as Pod).containers[0].securityContext.capabilities.add = ["NET_BIND_SERVICE"];
    expect(failures(t)).toEqual(new Map());
  });
});

describe("pod templates of a manifest", () => {
  const withTemplate = (kind: string, spec: Record<string, unknown>): Manifest => ({ apiVersion: "v1", kind, metadata: { name: "x" }, spec });
  const template = { metadata: { labels: { a: "b" } }, spec: { containers: [{ name: "c" }] } };

  it("finds the template of every workload kind and a CronJob's job template", () => {
    for (const kind of ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"]) {
      expect(
        podTemplatesOf(withTemplate(kind, { template })).map((t) => t.path),
        kind,
      ).toEqual(["spec.template.spec"]);
    }
    const cron = podTemplatesOf(withTemplate("CronJob", { jobTemplate: { spec: { template } } }));
    expect(cron.map((t) => [t.path, t.metadata])).toEqual([["spec.jobTemplate.spec.template.spec", { labels: { a: "b" } }]]);
    expect(podTemplatesOf(withTemplate("Pod", { containers: [] }))).toHaveLength(1);
  });

  it("finds none in objects without pods", () => {
    expect(podTemplatesOf(withTemplate("Service", { ports: [] }))).toEqual([]);
    expect(podTemplatesOf(withTemplate("Deployment", {}))).toEqual([]);
  });
});
