// The schemas of Cluster.spec and Cluster.status: how the controller reaches a member cluster
// and what its probes found (src/controller/clusters.ts). A Cluster's labels, which placement
// selects on, are plain metadata.labels.

import { conditionList, duration, type Schema } from "./common.js";

export const clusterSpecSchema: Schema = {
  type: "object",
  additionalProperties: false,
  description: "How the controller reaches the cluster and syncs it. Placement strategies select Clusters by name and metadata.labels.",
  properties: {
    kubeconfigSecretRef: {
      type: "object",
      required: ["namespace", "name", "key"],
      additionalProperties: false,
      description:
        "The Secret on the hub holding the kubeconfig the controller uses for the cluster (its current context). Required unless local is true. Read again at every probe, so a rotated kubeconfig is picked up.",
      properties: {
        namespace: {
          type: "string",
          description: "Namespace of the Secret; installed with the manifests in deploy/, the controller may read Secrets in flotilla-system only.",
        },
        name: { type: "string", description: "Name of the Secret." },
        key: { type: "string", description: "Key of the Secret's data that holds the kubeconfig, e.g. kubeconfig." },
      },
    },
    local: {
      type: "boolean",
      description: "The cluster is the hub itself: the controller uses its own connection and ignores kubeconfigSecretRef. Default false.",
    },
    paused: {
      type: "boolean",
      description:
        "Nothing is synced to the cluster (no apply, prune or drift correction; a sync in flight stops), while it stays selected and its deployments keep being rendered to Git, so it catches up when unpaused. Default false.",
    },
    resyncInterval: duration(
      "How often the cluster's live objects are compared with Git and drifted ones re-applied; every 12th time everything is compared. Default: the controller's --resync (5m).",
    ),
    mode: {
      type: "string",
      enum: ["Push", "Pull"],
      description:
        "Push (default): the controller applies to the cluster with the kubeconfig of kubeconfigSecretRef. Pull: `flotilla agent` runs inside the cluster, fetches the cluster's folder of the environment repository, applies it and reports in SyncReports in the hub namespace flotilla-cluster-<name>; the hub holds no credential of the cluster, so kubeconfigSecretRef and local must be unset.",
    },
  },
};

export const clusterStatusSchema: Schema = {
  type: "object",
  description:
    "What the controller's probes of the cluster found (push mode: probes call /version every 30 s; pull mode: from the agent's SyncReport, Ready while it reports).",
  properties: {
    conditions: conditionList(
      "Ready: True (reason Reachable) when the cluster answered the last probe, False (reason Unreachable) when it did not, with the error in the message.",
    ),
    version: {
      type: "string",
      description: "The cluster's Kubernetes version (gitVersion from /version, e.g. v1.30.2); templates read it as context.cluster.version.",
    },
    lastProbeTime: {
      type: "string",
      description: "When a probe's result was last written (RFC 3339 UTC time): at every change, and about every 5 minutes while nothing changes.",
    },
    desiredCommit: {
      type: "string",
      description:
        "Pull mode: the environment-repository commit the cluster's agent is asked to apply, written by the controller after each commit that changes the cluster's folder. The agent watches it to fetch at once; it also polls Git.",
    },
    suspendedDeployments: {
      type: "array",
      items: { type: "string", description: "`<namespace>/<name>` of a deployment." },
      description: "Pull mode: the ApplicationDeployments with spec.suspend, whose objects the agent leaves alone (written by the controller).",
    },
    sealing: {
      type: "object",
      required: ["recipient", "since"],
      additionalProperties: false,
      description:
        "The cluster's sealing key: `flotilla secret seal` encrypts values of sealed-secret components to its recipient, and only the sync loop of this cluster holds the identity that opens them. Push mode: the controller keeps the identity in the Secret flotilla-sealing-<cluster> of its namespace on the hub; pull mode: the agent keeps it in the Secret flotilla-sealing of its namespace on the member and reports only the recipient.",
      properties: {
        recipient: { type: "string", description: "The age recipient (public key, age1…) values for this cluster are sealed to." },
        since: {
          type: "string",
          description: "Since when the cluster has this key (RFC 3339): values sealed before it need `flotilla secret rekey`.",
        },
      },
    },
  },
};
