// The Pod Security Standards as checks on rendered pod templates. Kubernetes enforces them with
// its PodSecurity admission (1.23+); Flotilla checks them itself so a rendering can be held
// against the `restricted` level before it reaches a cluster, including the 1.20 local fleet,
// whose API server has no such admission. Each control is written from the standard's own table
// (kubernetes.io/docs/concepts/security/pod-security-standards): its name, the fields it reads
// and the values it allows. A control answers with one problem per offending field, naming the
// container and the path, so a failure says what to change.

import type { Manifest } from "../api/types.js";

type Json = Record<string, unknown>;

export interface PodTemplate {
  /** Where the pod spec lives in the manifest, e.g. `spec.template.spec`. */
  path: string;
  spec: Json;
  /** The template's metadata (AppArmor was an annotation before 1.30). */
  metadata: Json;
}

export interface PodSecurityControl {
  /** The control's name as the standard's table spells it. */
  name: string;
  level: "baseline" | "restricted";
  /** One message per field that breaks the control; empty when the template complies. */
  check(template: PodTemplate): string[];
}

function asObject(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
}

function asList(v: unknown): Json[] {
  return Array.isArray(v) ? v.map(asObject) : [];
}

/** Pod templates of a manifest: workloads' templates, a CronJob's job template, a bare Pod. */
export function podTemplatesOf(manifest: Manifest): PodTemplate[] {
  const spec = asObject(manifest.spec);
  const template = (path: string, t: unknown): PodTemplate[] => {
    const o = asObject(t);
    return Object.keys(o).length ? [{ path, spec: asObject(o.spec), metadata: asObject(o.metadata) }] : [];
  };
  switch (manifest.kind) {
    case "Pod":
      return [{ path: "spec", spec, metadata: asObject(manifest.metadata) }];
    case "CronJob":
      return template("spec.jobTemplate.spec.template.spec", asObject(asObject(spec.jobTemplate).spec).template);
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "ReplicationController":
    case "Job":
      return template("spec.template.spec", spec.template);
    default:
      return [];
  }
}

interface ContainerRef {
  /** `containers[name]`, `initContainers[name]` or `ephemeralContainers[name]`. */
  where: string;
  container: Json;
}

function containersOf(spec: Json): ContainerRef[] {
  return (["containers", "initContainers", "ephemeralContainers"] as const).flatMap((list) =>
    asList(spec[list]).map((c) => ({ where: `${list}[${String(c.name ?? "?")}]`, container: c })),
  );
}

function securityContextOf(o: Json): Json {
  return asObject(o.securityContext);
}

/** Every security context a control reads: the pod's and each container's, with where it is. */
function contexts(t: PodTemplate): { where: string; sc: Json }[] {
  return [
    { where: "securityContext", sc: securityContextOf(t.spec) },
    ...containersOf(t.spec).map((c) => ({ where: `${c.where}.securityContext`, sc: securityContextOf(c.container) })),
  ];
}

const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE",
  "CHOWN",
  "DAC_OVERRIDE",
  "FOWNER",
  "FSETID",
  "KILL",
  "MKNOD",
  "NET_BIND_SERVICE",
  "SETFCAP",
  "SETGID",
  "SETPCAP",
  "SETUID",
  "SYS_CHROOT",
]);
const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced",
  "net.ipv4.ip_local_port_range",
  "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies",
  "net.ipv4.ping_group_range",
  "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time",
  "net.ipv4.tcp_fin_timeout",
  "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);
const SELINUX_TYPES = new Set(["container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);
const RESTRICTED_VOLUME_SOURCES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);
const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";

function appArmorAllowed(profile: string): boolean {
  return profile === "runtime/default" || profile.startsWith("localhost/");
}

/** Every control of the baseline and restricted levels, in the standard's order. */
export const POD_SECURITY_CONTROLS: readonly PodSecurityControl[] = [
  {
    name: "HostProcess",
    level: "baseline",
    check: (t) =>
      contexts(t)
        .filter(({ sc }) => asObject(sc.windowsOptions).hostProcess === true)
        .map(({ where }) => `${where}.windowsOptions.hostProcess is true; it must be unset or false`),
  },
  {
    name: "Host Namespaces",
    level: "baseline",
    check: (t) => (["hostNetwork", "hostPID", "hostIPC"] as const).filter((f) => t.spec[f] === true).map((f) => `${f} is true; it must be unset or false`),
  },
  {
    name: "Privileged Containers",
    level: "baseline",
    check: (t) =>
      containersOf(t.spec)
        .filter((c) => securityContextOf(c.container).privileged === true)
        .map((c) => `${c.where}.securityContext.privileged is true; it must be unset or false`),
  },
  {
    name: "Capabilities (baseline)",
    level: "baseline",
    check: (t) =>
      containersOf(t.spec).flatMap((c) => {
        const add = asObject(securityContextOf(c.container).capabilities).add;
        return (Array.isArray(add) ? add.map(String) : [])
          .filter((cap) => !BASELINE_CAPABILITIES.has(cap))
          .map((cap) => `${c.where}.securityContext.capabilities.add has ${cap}, which the baseline level does not allow`);
      }),
  },
  {
    name: "HostPath Volumes",
    level: "baseline",
    check: (t) =>
      asList(t.spec.volumes)
        .filter((v) => v.hostPath !== undefined)
        .map((v) => `volumes[${String(v.name)}] is a hostPath volume`),
  },
  {
    name: "Host Ports",
    level: "baseline",
    check: (t) =>
      containersOf(t.spec).flatMap((c) =>
        asList(c.container.ports)
          .filter((p) => p.hostPort !== undefined && p.hostPort !== 0)
          .map((p) => `${c.where}.ports[${String(p.containerPort)}].hostPort is ${String(p.hostPort)}; it must be unset or 0`),
      ),
  },
  {
    name: "AppArmor",
    level: "baseline",
    check: (t) => [
      ...Object.entries(asObject(t.metadata.annotations))
        .filter(([k, v]) => k.startsWith(APPARMOR_ANNOTATION) && !appArmorAllowed(String(v)))
        .map(([k, v]) => `metadata.annotations["${k}"] is ${String(v)}; use runtime/default or localhost/<profile>`),
      ...contexts(t)
        .filter(({ sc }) => sc.appArmorProfile !== undefined && !["RuntimeDefault", "Localhost"].includes(String(asObject(sc.appArmorProfile).type)))
        .map(({ where, sc }) => `${where}.appArmorProfile.type is ${String(asObject(sc.appArmorProfile).type)}; use RuntimeDefault or Localhost`),
    ],
  },
  {
    name: "SELinux",
    level: "baseline",
    check: (t) =>
      contexts(t).flatMap(({ where, sc }) => {
        const options = asObject(sc.seLinuxOptions);
        const problems: string[] = [];
        if (options.type !== undefined && !SELINUX_TYPES.has(String(options.type)))
          problems.push(`${where}.seLinuxOptions.type is ${String(options.type)}; use one of ${[...SELINUX_TYPES].join(", ")}`);
        for (const f of ["user", "role"] as const) if (options[f] !== undefined) problems.push(`${where}.seLinuxOptions.${f} is set; it must be unset`);
        return problems;
      }),
  },
  {
    name: "/proc Mount Type",
    level: "baseline",
    check: (t) =>
      containersOf(t.spec)
        .filter((c) => {
          const procMount = securityContextOf(c.container).procMount;
          return procMount !== undefined && procMount !== "Default";
        })
        .map((c) => `${c.where}.securityContext.procMount is ${String(securityContextOf(c.container).procMount)}; it must be unset or Default`),
  },
  {
    name: "Seccomp (baseline)",
    level: "baseline",
    check: (t) =>
      contexts(t)
        .filter(({ sc }) => asObject(sc.seccompProfile).type === "Unconfined")
        .map(({ where }) => `${where}.seccompProfile.type is Unconfined`),
  },
  {
    name: "Sysctls",
    level: "baseline",
    check: (t) =>
      asList(securityContextOf(t.spec).sysctls)
        .filter((s) => !SAFE_SYSCTLS.has(String(s.name)))
        .map((s) => `securityContext.sysctls has ${String(s.name)}, which is not in the safe set`),
  },
  {
    name: "Volume Types",
    level: "restricted",
    check: (t) =>
      asList(t.spec.volumes).flatMap((v) => {
        const sources = Object.keys(v).filter((k) => k !== "name");
        return sources
          .filter((s) => !RESTRICTED_VOLUME_SOURCES.has(s))
          .map((s) => `volumes[${String(v.name)}] is a ${s} volume, which the restricted level does not allow`);
      }),
  },
  {
    name: "Privilege Escalation",
    level: "restricted",
    check: (t) =>
      containersOf(t.spec)
        .filter((c) => securityContextOf(c.container).allowPrivilegeEscalation !== false)
        .map((c) => `${c.where}.securityContext.allowPrivilegeEscalation must be false`),
  },
  {
    name: "Running as Non-root",
    level: "restricted",
    check: (t) => {
      const podNonRoot = securityContextOf(t.spec).runAsNonRoot === true;
      return containersOf(t.spec).flatMap((c) => {
        const own = securityContextOf(c.container).runAsNonRoot;
        if (own === false) return [`${c.where}.securityContext.runAsNonRoot is false`];
        return own === true || podNonRoot ? [] : [`${c.where} may run as root: set runAsNonRoot: true on the pod or on the container`];
      });
    },
  },
  {
    name: "Running as Non-root user",
    level: "restricted",
    check: (t) =>
      contexts(t)
        .filter(({ sc }) => sc.runAsUser === 0)
        .map(({ where }) => `${where}.runAsUser is 0`),
  },
  {
    name: "Seccomp (restricted)",
    level: "restricted",
    check: (t) => {
      const allowed = (sc: Json) => ["RuntimeDefault", "Localhost"].includes(String(asObject(sc.seccompProfile).type));
      const podSet = allowed(securityContextOf(t.spec));
      return containersOf(t.spec).flatMap((c) => {
        const sc = securityContextOf(c.container);
        if (sc.seccompProfile !== undefined) return allowed(sc) ? [] : [`${c.where}.securityContext.seccompProfile.type must be RuntimeDefault or Localhost`];
        return podSet ? [] : [`${c.where} has no seccomp profile: set seccompProfile.type RuntimeDefault on the pod or on the container`];
      });
    },
  },
  {
    name: "Capabilities (restricted)",
    level: "restricted",
    check: (t) =>
      containersOf(t.spec).flatMap((c) => {
        const caps = asObject(securityContextOf(c.container).capabilities);
        const drop = Array.isArray(caps.drop) ? caps.drop.map(String) : [];
        const add = Array.isArray(caps.add) ? caps.add.map(String) : [];
        return [
          ...(drop.includes("ALL") ? [] : [`${c.where}.securityContext.capabilities.drop must include ALL`]),
          ...add.filter((a) => a !== "NET_BIND_SERVICE").map((a) => `${c.where}.securityContext.capabilities.add has ${a}; only NET_BIND_SERVICE may be added`),
        ];
      }),
  },
];

/** Controls of a level: `restricted` holds the baseline controls too. */
export function podSecurityControls(level: "baseline" | "restricted"): readonly PodSecurityControl[] {
  return level === "restricted" ? POD_SECURITY_CONTROLS : POD_SECURITY_CONTROLS.filter((c) => c.level === "baseline");
}
