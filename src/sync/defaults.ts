// Defaults the API server would set anyway, filled in before server-side apply because
// Kubernetes 1.20 refuses an apply whose associative list omits a key field with a default:
// `.spec.ports: element 0: associative list with keys has an element that omits key field
// "protocol"`. Filling `protocol: TCP` (the server's own default) changes nothing on the cluster.

import type { Manifest } from "../api/types.js";

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function withProtocols(ports: unknown): unknown {
  if (!Array.isArray(ports)) return ports;
  return ports.map((p) => (isObj(p) && p.protocol === undefined ? { ...p, protocol: "TCP" } : p));
}

function podSpec(spec: unknown): unknown {
  if (!isObj(spec)) return spec;
  const out: Obj = { ...spec };
  for (const key of ["containers", "initContainers"]) {
    const list = spec[key];
    if (Array.isArray(list)) out[key] = list.map((c) => (isObj(c) && c.ports !== undefined ? { ...c, ports: withProtocols(c.ports) } : c));
  }
  return out;
}

function template(t: unknown): unknown {
  return isObj(t) && isObj(t.spec) ? { ...t, spec: podSpec(t.spec) } : t;
}

/** The object with port protocols defaulted where Kubernetes keys lists by them. Never mutates input. */
export function fillApplyDefaults(obj: Manifest): Manifest {
  const spec = obj.spec;
  if (!isObj(spec)) return obj;
  switch (obj.kind) {
    case "Service":
      return spec.ports === undefined ? obj : { ...obj, spec: { ...spec, ports: withProtocols(spec.ports) } };
    case "Pod":
      return { ...obj, spec: podSpec(spec) };
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "ReplicationController":
    case "Job":
      return spec.template === undefined ? obj : { ...obj, spec: { ...spec, template: template(spec.template) } };
    case "CronJob": {
      const jt = spec.jobTemplate;
      if (!isObj(jt) || !isObj(jt.spec)) return obj;
      return { ...obj, spec: { ...spec, jobTemplate: { ...jt, spec: { ...jt.spec, template: template(jt.spec.template) } } } };
    }
    default:
      return obj;
  }
}
