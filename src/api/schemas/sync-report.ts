// The schema of SyncReport: what a pull-mode agent tells the hub (src/agent/reports.ts writes
// it, src/controller/pulled-cluster.ts reads it). One object per deployment on the cluster, named
// `<namespace>.<name>`, and one named `agent` for the agent itself, all in the hub namespace
// `flotilla-cluster-<cluster>`, the only namespace the agent may write to.

import type { Schema } from "./common.js";

const str = (description: string): Schema => ({ type: "string", description });

export const syncReportSpecSchema: Schema = {
  type: "object",
  required: ["cluster"],
  additionalProperties: false,
  description: "What the report is about.",
  properties: {
    cluster: str("The Cluster reported on."),
    deployment: str("`<namespace>/<name>` of the ApplicationDeployment reported on; absent in the agent's own report (named `agent`)."),
  },
};

const agentReport: Schema = {
  type: "object",
  additionalProperties: false,
  description: "The agent's own state (in the report named `agent`): where its sync loop is, and the member's version.",
  properties: {
    identity: str("The agent replica that holds the member's Lease and writes the reports."),
    version: str("The member's Kubernetes version (gitVersion)."),
    desiredCommit: str("The newest environment-repository commit the agent was asked to apply."),
    appliedCommit: str("The last commit applied with no failed object."),
    attemptedCommit: str("The commit of the last finished sync, successful or not."),
    fetchedCommit: str("The newest commit the agent has fetched from Git."),
    paused: { type: "boolean", description: "The Cluster is paused (spec.paused): the agent applies nothing." },
    error: str("Why the last sync failed, if it did."),
    failures: { type: "integer", description: "Consecutive failed syncs." },
    lastSyncTime: str("When the last sync finished (RFC 3339)."),
    nextRetryAt: str("When a failed sync is retried (RFC 3339)."),
    heartbeatTime: str(
      "Written at least every heartbeat period while the agent runs (RFC 3339); the controller marks the Cluster not Ready when reports stop.",
    ),
    sealingRecipient: str(
      "The age recipient (public key, age1…) of the member's sealing key, whose identity the agent keeps in the Secret flotilla-sealing of its namespace on the member and never sends; the controller copies it to the Cluster's status.sealing.",
    ),
  },
};

const deploymentReport: Schema = {
  type: "object",
  additionalProperties: false,
  required: ["health"],
  description: "One deployment's objects on the cluster: the commit they are applied at, their health and replicas per revision.",
  properties: {
    commit: str("The environment-repository commit the deployment's objects are applied at."),
    health: str("Healthy, Progressing, Degraded, Suspended, Missing or Unknown."),
    message: str("The first non-healthy objects' messages."),
    objects: {
      type: "array",
      description: "Health per object.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["object", "health"],
        description: "One object's health.",
        properties: { object: str("`Kind/namespace/name`."), health: str("The object's health."), message: str("Why.") },
      },
    },
    revisions: {
      type: "array",
      description: "Replicas per revision, from the workloads labelled flotilla.dev/revision.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["name", "replicas", "readyReplicas"],
        description: "One revision's replicas.",
        properties: {
          name: str("The revision."),
          replicas: { type: "integer", description: "Replicas of the revision's workloads." },
          readyReplicas: { type: "integer", description: "Ready replicas." },
          restarts: { type: "integer", description: "Container restarts of its Pods." },
        },
      },
    },
    failed: {
      type: "array",
      description: "Objects the last sync could not apply.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["object", "message"],
        description: "One object that failed.",
        properties: { object: str("`Kind/namespace/name`."), message: str("What failed and what to do.") },
      },
    },
    events: {
      type: "array",
      description:
        "The agent's latest sync events about the deployment, oldest first; the controller records each new one as a Kubernetes Event on the ApplicationDeployment.",
      items: {
        type: "object",
        additionalProperties: false,
        required: ["type", "message", "time"],
        description: "One sync event.",
        properties: {
          type: str("Synced, SyncFailed, DriftCorrected, Pruned or Skipped."),
          message: str("What happened."),
          commit: str("The commit being applied."),
          time: str("When the agent saw it (RFC 3339 with milliseconds)."),
        },
      },
    },
  },
};

export const syncReportStatusSchema: Schema = {
  type: "object",
  additionalProperties: false,
  description: "The report, written by the agent (no status subresource: one write creates or updates the whole report).",
  properties: { agent: agentReport, deployment: deploymentReport },
};
