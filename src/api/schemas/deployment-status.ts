// The schema of ApplicationDeployment.status: what the controller reports (src/controller/status.ts)
// and the rollout planner's persisted state (src/rollout/state.ts), from which a restarted
// controller resumes. Written by the controller only; the descriptions say how to read it.

import { conditionList, type Schema } from "./common.js";

/** A revision with the replicas the planner gives it in one cluster. */
function plannedReplicas(description: string, replicas: string): Schema {
  return {
    type: "object",
    description,
    properties: {
      name: { type: "string", description: "Name of the revision (an entry of spec.appRevisions)." },
      replicas: { type: "integer", description: replicas },
    },
  };
}

/** One cluster's progress through a rollout (src/rollout/state.ts). */
const rolloutCluster: Schema = {
  type: "object",
  description: "Where one selected cluster is in the rollout.",
  properties: {
    name: { type: "string", description: "Name of the Cluster." },
    wave: { type: "string", description: "The wave the cluster belongs to (the first that selects it)." },
    batch: {
      type: "integer",
      description: "The batch applied to the cluster, 1-based: 0 before the cluster started, the number of batches once it completed.",
    },
    state: {
      type: "string",
      description:
        "Pending (not started: its wave is not open or maxConcurrency is reached), Progressing (batch committed, waiting until synced and healthy), Soaking (healthy, waiting for the batch's wait), Analyzing (running rollout.analysis), Paused (waiting for flotilla.dev/promote), Completed, Failed (stopped where it was) or RolledBack (back at the revisions, or files, it had before).",
    },
    since: { type: "string", description: "When the cluster entered its state (RFC 3339 UTC time)." },
    batchStartedAt: {
      type: "string",
      description: "When the current batch was applied (RFC 3339 UTC time); progressDeadline and the analysis's elapsed count from here.",
    },
    batches: { type: "integer", description: "How many batches the cluster's wave has: its own, else the target revision's." },
    revisions: {
      type: "array",
      description: "The revisions the planner gives the cluster at this step, oldest first.",
      items: plannedReplicas(
        "One revision planned for the cluster.",
        "Replicas of the revision in the cluster at this step; 0 keeps it deployed for a fast rollback.",
      ),
    },
    sources: {
      type: "array",
      description: "The revisions the cluster ran before the rollout started, oldest first: what a rollback restores.",
      items: plannedReplicas("One revision the cluster ran before the rollout.", "Replicas the revision had in the cluster before the rollout started."),
    },
    message: { type: "string", description: "What the cluster waits for, or why it failed or was rolled back." },
    rendering: {
      type: "string",
      description:
        "Fingerprint of what the deployment renders for the cluster (replica counts aside) that the rollout brought it; when the current rendering differs, the change is rolled out through the waves.",
    },
    update: {
      type: "integer",
      description:
        "The generation of the deployment whose in-place update (a change of the running revision's rendering) the cluster takes part in; absent in a rollout of a new revision.",
    },
    held: {
      type: "object",
      description:
        "The restore point of an in-place update: the files the cluster keeps while the update waits for its wave, and gets back if the update is rolled back.",
      properties: {
        commit: { type: "string", description: "The environment repository commit whose files of this cluster are kept." },
        rendering: { type: "string", description: "Fingerprint of the rendering those files hold." },
      },
    },
  },
};

const rolloutStatus: Schema = {
  type: "object",
  description:
    "The rollout planner's state, written before each step's commit so that a restarted controller resumes where it was, neither repeating nor skipping a batch.",
  properties: {
    wave: { type: "string", description: "The wave shown to users: the first with a cluster that has not completed (the last wave once all have)." },
    batch: { type: "integer", description: "The furthest batch applied in that wave, 1-based; 0 before the wave starts." },
    batches: {
      type: "integer",
      description: "How many batches that wave has: its own placementStrategies[].batches, else the target revision's (1 by default).",
    },
    state: {
      type: "string",
      description:
        "Pending, Progressing, Soaking, Analyzing or Paused (the shown wave's clusters in flight), Completed (every cluster), Failed or RolledBack (any cluster), or Suspended (spec.suspend is true). See clusters[].state.",
    },
    message: {
      type: "string",
      description: "Where the rollout stands, in words: clusters in flight and their batch, what they wait for, failures and ignored control annotations.",
    },
    since: {
      type: "string",
      description: "When revision, wave, batch or state last changed (RFC 3339 UTC time); while Suspended, when the suspension began.",
    },
    revision: { type: "string", description: "The revision this rollout drives (the target when it started); a different last revision starts a new rollout." },
    startedAt: { type: "string", description: "When the rollout of revision started (RFC 3339 UTC time)." },
    update: {
      type: "integer",
      description:
        "Set while the rollout is an in-place update of revision (its rendering changed, no new revision): the generation of the deployment that started it.",
    },
    waitingFor: {
      type: "string",
      description: "What the rollout waits for now: promote, resume, healthy replicas, analysis, soak <time left>, sync or spec.suspend: false.",
    },
    clusters: { type: "array", description: "Every selected cluster's progress, in wave order then by name.", items: rolloutCluster },
    pendingCommit: {
      type: "string",
      description:
        "Set only while a step is recorded but not yet committed: the step's commit message, used to make the commit after a controller restart so the step keeps its line in the Git history.",
    },
    analysis: {
      type: "object",
      description: "The last evaluation of the target revision's rollout.analysis.",
      properties: {
        cluster: { type: "string", description: "The cluster that was analysed." },
        batch: { type: "integer", description: "The cluster's batch when it was analysed, 1-based." },
        result: {
          type: "string",
          description:
            "Successful, Failed (failureCondition holds), Running (successCondition does not hold yet, or could not be evaluated yet) or Error (an expression does not compile or does not return a bool).",
        },
        message: { type: "string", description: "Which condition held or did not, or the error." },
        at: { type: "string", description: "When the evaluation ran (RFC 3339 UTC time)." },
      },
    },
  },
};

const placementDecision: Schema = {
  type: "object",
  description: "The placement decision for one Cluster.",
  properties: {
    cluster: { type: "string", description: "Name of the Cluster." },
    wave: { type: "string", description: "The wave that selected the cluster (the first whose clusterSelector matches); absent when none does." },
    selected: { type: "boolean", description: "Whether the deployment is delivered to the cluster." },
    reason: {
      type: "string",
      description: "Why the cluster is or is not selected, e.g. label usage=edge does not match usage=production; a paused cluster is selected and says so.",
    },
  },
};

const clusterState: Schema = {
  type: "object",
  description: "The deployment as seen in one selected cluster.",
  properties: {
    name: { type: "string", description: "Name of the Cluster." },
    appliedCommit: { type: "string", description: "The environment repository commit last applied to the cluster for this deployment." },
    health: {
      type: "string",
      enum: ["Healthy", "Suspended", "Progressing", "Degraded", "Missing", "Unknown"],
      description:
        "The worst health of the deployment's objects in the cluster (Degraded, then Missing, Unknown, Progressing, Suspended, Healthy), from each object's CEL health rule or the built-in rule for its kind. Progressing while the commit is not applied; Unknown while the cluster is unreachable.",
    },
    revisions: {
      type: "array",
      description: "The revisions planned for the cluster, oldest first, with their live readiness.",
      items: {
        type: "object",
        description: "One revision in the cluster.",
        properties: {
          name: { type: "string", description: "Name of the revision." },
          replicas: { type: "integer", description: "Replicas the rollout planned for the revision in the cluster." },
          readyReplicas: { type: "integer", description: "Ready replicas of the revision's workloads in the cluster, as last observed." },
          restarts: {
            type: "integer",
            description: "Container restarts summed over the revision's Pods in the cluster (revision.restarts in rollout analysis).",
          },
        },
      },
    },
    lastSyncTime: { type: "string", description: "When the cluster's sync loop last finished a sync (RFC 3339 UTC time), drift checks included." },
    message: {
      type: "string",
      description: "What is not right yet: unhealthy objects, a failed object, a sync in progress or failed, a paused or unreachable cluster.",
    },
  },
};

export const applicationDeploymentStatusSchema: Schema = {
  type: "object",
  description:
    "The observed state, written by the controller: phase, conditions, the environment commit, placement, per-cluster health and the rollout's progress.",
  properties: {
    observedGeneration: { type: "integer", description: "The metadata.generation of the spec this status was computed for." },
    phase: {
      type: "string",
      enum: ["Pending", "Progressing", "Paused", "Healthy", "Degraded", "Failed"],
      description:
        "Summary for people: Progressing (rolling out, syncing or waiting for health), Paused (waiting for a promote or a suspended workload's resume, or spec.suspend is true), Healthy (the target revision is rolled out and healthy on every selected cluster), Degraded (a workload is Degraded or a cluster unreachable), Failed (the spec does not render, or the rollout failed). Pending is part of the API but not written by the controller.",
    },
    targetRevision: { type: "string", description: "The revision being rolled out: the last of spec.appRevisions." },
    stableRevision: {
      type: "string",
      description: "The target revision as of the last time the phase was Healthy: the last revision that completed everywhere.",
    },
    conditions: conditionList(
      "kstatus conditions Ready, Reconciling and Stalled, plus Rendered (the spec renders), Committed (the manifests are in Git), Synced (the clusters applied the commit) and Healthy (the objects are healthy), each with a CamelCase reason and a message.",
    ),
    commit: { type: "string", description: "The environment repository commit (full SHA) that holds the deployment's manifests as last committed." },
    sourceCommit: {
      type: "string",
      description:
        "The commit of the GitSource the spec came from (its flotilla.dev/source-commit annotation) when the deployment's manifests were last committed; absent for a deployment applied by hand.",
    },
    progress: {
      type: "string",
      description:
        "Short progress for the PROGRESS printer column: done when Healthy, else <wave> <batch>/<batches> once the rollout has a wave, else - when Failed, else <healthy>/<selected> clusters.",
    },
    rollout: rolloutStatus,
    placement: {
      type: "array",
      description: "One placement decision per registered Cluster, sorted by name, with the reason for each (flotilla placement explain shows the same).",
      items: placementDecision,
    },
    clusters: { type: "array", description: "The deployment in each selected cluster: applied commit, health and replicas per revision.", items: clusterState },
  },
};
