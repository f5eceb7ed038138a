// The Node and Lease objects of a simulated kubelet. Pure: name + clock in, manifests out.
// Capacity is large on purpose (no real resources are used) so thousands of Pods fit.

export interface NodeSpecOptions {
  name: string;
  now: Date;
  /** Reported as InternalIP. Default 127.0.0.1 (nothing listens there for the node). */
  address?: string;
  /** Default "10000" pods, 1000 CPUs, 4 TiB memory. */
  capacity?: Record<string, string>;
}

export const DEFAULT_CAPACITY: Record<string, string> = {
  cpu: "1000",
  memory: "4Ti",
  pods: "10000",
  "ephemeral-storage": "10Ti",
};

function iso(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** Node conditions of a healthy kubelet, heartbeat `now`. */
export function nodeConditions(now: Date): Array<Record<string, string>> {
  const t = iso(now);
  const c = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: t,
    lastTransitionTime: t,
  });
  return [
    c("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    c("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    c("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    c("Ready", "True", "KubeletReady", "simulated kubelet is posting ready status (flotilla node simulator)"),
  ];
}

export function nodeStatus(options: NodeSpecOptions): Record<string, unknown> {
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  return {
    capacity,
    allocatable: capacity,
    conditions: nodeConditions(options.now),
    addresses: [
      { type: "InternalIP", address: options.address ?? "127.0.0.1" },
      { type: "Hostname", address: options.name },
    ],
    nodeInfo: {
      machineID: "",
      systemUUID: "",
      bootID: "",
      kernelVersion: "",
      osImage: "Flotilla node simulator",
      containerRuntimeVersion: "simulated://1.0",
      kubeletVersion: "v1.20.2",
      kubeProxyVersion: "v1.20.2",
      operatingSystem: "linux",
      architecture: "amd64",
    },
  };
}

export function nodeManifest(options: NodeSpecOptions): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: options.name,
      labels: {
        "kubernetes.io/hostname": options.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "flotilla.dev/simulated": "true",
      },
    },
    spec: {},
    status: nodeStatus(options),
  };
}

/** The kube-node-lease Lease the node lifecycle controller reads as the kubelet's heartbeat. */
export function leaseManifest(name: string, now: Date, durationSeconds = 40): Record<string, unknown> {
  return {
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name, namespace: "kube-node-lease" },
    spec: { holderIdentity: name, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) },
  };
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fractional digits. */
export function microTime(d: Date): string {
  return `${d.toISOString().slice(0, 23)}000Z`;
}
