import { describe, expect, it } from "vitest";
import type { HealthState, Manifest } from "../../../src/api/types.js";
import { objectHealth } from "../../../src/sync/health.js";

const anApp = (kind: string, spec: Record<string, unknown>, status: Record<string, unknown> | undefined, generation = 3): Manifest => ({
  apiVersion: "apps/v1",
  kind,
  metadata: { name: "shop", namespace: "team-a", generation },
  spec,
  ...(status ? { status } : {}),
});
const done = { observedGeneration: 3, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 };
const cond = (type: string, status: string, reason = "") => ({ type, status, reason, message: "m" });

describe("Deployment health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["a rolled-out Deployment is Healthy", anApp("Deployment", { replicas: 2 }, done), "Healthy"],
    [
      "a paused Deployment is Suspended, not work in progress",
      anApp("Deployment", { replicas: 2, paused: true }, { ...done, updatedReplicas: 1 }),
      "Suspended",
    ],
    [
      "a paused Deployment whose pause is not observed yet is Progressing",
      anApp("Deployment", { replicas: 2, paused: true }, { ...done, observedGeneration: 2 }),
      "Progressing",
    ],
    [
      "a Deployment past its progress deadline is Degraded",
      anApp("Deployment", { replicas: 2 }, { ...done, updatedReplicas: 1, conditions: [cond("Progressing", "False", "ProgressDeadlineExceeded")] }),
      "Degraded",
    ],
    [
      "a Deployment reporting Available=False is Progressing",
      anApp("Deployment", { replicas: 2 }, { ...done, conditions: [cond("Available", "False", "MinimumReplicasUnavailable")] }),
      "Progressing",
    ],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });

  it("says that a paused rollout is paused by spec.paused", () => {
    expect(objectHealth(anApp("Deployment", { replicas: 2, paused: true }, done)).message).toBe("rollout paused (spec.paused)");
  });
});

describe("ReplicaSet health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["a ReplicaSet without status is Progressing", anApp("ReplicaSet", { replicas: 2 }, undefined), "Progressing"],
    ["a ReplicaSet with every replica ready and available is Healthy", anApp("ReplicaSet", { replicas: 2 }, done), "Healthy"],
    ["a ReplicaSet with fewer ready replicas is Progressing", anApp("ReplicaSet", { replicas: 2 }, { ...done, readyReplicas: 1 }), "Progressing"],
    ["a ReplicaSet with fewer available replicas is Progressing", anApp("ReplicaSet", { replicas: 2 }, { ...done, availableReplicas: 1 }), "Progressing"],
    [
      "a ReplicaSet that cannot create pods (quota) is Progressing, not failed yet",
      anApp("ReplicaSet", { replicas: 2 }, { ...done, conditions: [cond("ReplicaFailure", "True", "FailedCreate")] }),
      "Progressing",
    ],
    ["a ReplicaSet at an older generation is Progressing", anApp("ReplicaSet", { replicas: 2 }, { ...done, observedGeneration: 2 }), "Progressing"],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });
});

describe("StatefulSet health", () => {
  const rolling = (partition: number) => ({ replicas: 4, updateStrategy: { type: "RollingUpdate", rollingUpdate: { partition } } });
  it.each<[string, Manifest, HealthState]>([
    [
      "a StatefulSet with every replica ready at the current revision is Healthy",
      anApp(
        "StatefulSet",
        { replicas: 4 },
        { observedGeneration: 3, replicas: 4, readyReplicas: 4, currentReplicas: 4, updatedReplicas: 4, currentRevision: "r2", updateRevision: "r2" },
      ),
      "Healthy",
    ],
    [
      "a StatefulSet with extra pods still terminating is Progressing",
      anApp("StatefulSet", { replicas: 4 }, { observedGeneration: 3, replicas: 6, readyReplicas: 4, currentReplicas: 4 }),
      "Progressing",
    ],
    [
      "a StatefulSet with fewer current replicas is Progressing",
      anApp("StatefulSet", { replicas: 4 }, { observedGeneration: 3, replicas: 4, readyReplicas: 4, currentReplicas: 2 }),
      "Progressing",
    ],
    [
      "a partitioned StatefulSet with the ordinals above the partition updated is Healthy",
      anApp("StatefulSet", rolling(2), {
        observedGeneration: 3,
        replicas: 4,
        readyReplicas: 4,
        currentReplicas: 2,
        updatedReplicas: 2,
        currentRevision: "r1",
        updateRevision: "r2",
      }),
      "Healthy",
    ],
    [
      "a partitioned StatefulSet still updating above the partition is Progressing",
      anApp("StatefulSet", rolling(2), {
        observedGeneration: 3,
        replicas: 4,
        readyReplicas: 4,
        currentReplicas: 3,
        updatedReplicas: 1,
        currentRevision: "r1",
        updateRevision: "r2",
      }),
      "Progressing",
    ],
    [
      "an OnDelete StatefulSet with old pods is Healthy: they change when someone deletes them",
      anApp(
        "StatefulSet",
        { replicas: 2, updateStrategy: { type: "OnDelete" } },
        { observedGeneration: 3, replicas: 2, readyReplicas: 2, currentRevision: "r1", updateRevision: "r2" },
      ),
      "Healthy",
    ],
    [
      "an OnDelete StatefulSet with a pod not ready is Progressing",
      anApp("StatefulSet", { replicas: 2, updateStrategy: { type: "OnDelete" } }, { observedGeneration: 3, replicas: 2, readyReplicas: 1 }),
      "Progressing",
    ],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });
});

describe("DaemonSet health", () => {
  const all = { observedGeneration: 3, desiredNumberScheduled: 3, currentNumberScheduled: 3, updatedNumberScheduled: 3, numberReady: 3, numberAvailable: 3 };
  it.each<[string, Manifest, HealthState]>([
    ["a DaemonSet with every pod updated, ready and available is Healthy", anApp("DaemonSet", {}, all), "Healthy"],
    ["a DaemonSet without a count of scheduled pods is Progressing", anApp("DaemonSet", {}, { observedGeneration: 3 }), "Progressing"],
    ["a DaemonSet with pods not ready is Progressing", anApp("DaemonSet", {}, { ...all, numberReady: 2 }), "Progressing"],
    [
      "a rolling DaemonSet with pods not updated is Progressing",
      anApp("DaemonSet", { updateStrategy: { type: "RollingUpdate" } }, { ...all, updatedNumberScheduled: 1 }),
      "Progressing",
    ],
    [
      "an OnDelete DaemonSet with pods not updated is Healthy",
      anApp("DaemonSet", { updateStrategy: { type: "OnDelete" } }, { ...all, updatedNumberScheduled: 1 }),
      "Healthy",
    ],
  ])("%s", (_name, object, expected) => {
    expect(objectHealth(object).status).toBe(expected);
  });
});
