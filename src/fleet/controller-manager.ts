// One kube-controller-manager of the fleet: the deployment, replicaset, namespace, garbage
// collector, service-account (token) and node-lifecycle controllers that make a member behave
// like a cluster. It serves nothing (both ports 0), so several run side by side without clashing.
import { type ManagedProcess, spawnManaged } from "./processes.js";

export interface ControllerManagerOptions {
  cluster: string;
  binary: string;
  kubeconfig: string;
  /** Signs the tokens of service-account token Secrets (the API server's public key verifies them). */
  serviceAccountPrivateKey: string;
  /** CA bundle put into service-account token Secrets as `ca.crt`. */
  rootCaFile: string;
  /**
   * Controllers to run. Default `*` (everything on by default). The hub needs only `namespace`,
   * `garbagecollector`, `serviceaccount` and `serviceaccount-token` (see HUB_CONTROLLERS).
   */
  controllers?: string[];
  /**
   * How often the HorizontalPodAutoscaler controller looks at every autoscaler, seconds. Default
   * 15, as in Kubernetes. A new autoscaler is Progressing until its first look (the health rule
   * agrees with Argo CD's), so a shorter period makes rollouts that create one brisker; each look
   * costs the member a scale read and, without a metrics server, an Event patch per autoscaler.
   */
  hpaSyncPeriodSeconds?: number;
  logFile: string;
}

/** What the hub needs: deletable namespaces, owner-reference GC and service-account tokens. */
export const HUB_CONTROLLERS = ["namespace", "garbagecollector", "serviceaccount", "serviceaccount-token"];

export function controllerManagerArgs(o: Omit<ControllerManagerOptions, "binary" | "logFile">): string[] {
  return [
    `--kubeconfig=${o.kubeconfig}`,
    `--service-account-private-key-file=${o.serviceAccountPrivateKey}`,
    `--root-ca-file=${o.rootCaFile}`,
    `--controllers=${(o.controllers ?? ["*"]).join(",")}`,
    "--use-service-account-credentials=false",
    // One instance per cluster: no election, so controllers start at once.
    "--leader-elect=false",
    "--port=0",
    "--secure-port=0",
    // The defaults (20 qps) would take minutes to create thousands of pods.
    "--kube-api-qps=200",
    "--kube-api-burst=400",
    "--concurrent-deployment-syncs=10",
    "--concurrent-replicaset-syncs=10",
    `--horizontal-pod-autoscaler-sync-period=${o.hpaSyncPeriodSeconds ?? 15}s`,
    "--profiling=false",
    "--v=1",
  ];
}

export function startControllerManager(o: ControllerManagerOptions): ManagedProcess {
  return spawnManaged({
    name: `${o.cluster} kube-controller-manager`,
    command: o.binary,
    args: controllerManagerArgs(o),
    logFile: o.logFile,
  });
}
