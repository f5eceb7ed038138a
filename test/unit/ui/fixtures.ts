// Small builders of the objects the web UI's server reads from the controller's caches.

import type { ApplicationDeployment, Cluster, ComponentDefinition, TraitDefinition } from "../../../src/api/types.js";

/** A canary paused in staging: v1 stable in production, v2 at batch 1/2 in staging, edge-1 rejected. */
export function canary(namespace = "team-a", name = "web"): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name, namespace, generation: 3, labels: { team: "payments", tier: "frontend" }, uid: "u-1" },
    spec: {
      appRevisions: [
        { name: "v1", template: { spec: { components: [{ name: "web", type: "webservice", settings: { image: "web:1" } }] } }, rollout: { replicas: 4 } },
        {
          name: "v2",
          template: { spec: { components: [{ name: "web", type: "webservice", settings: { image: "web:2" } }] } },
          rollout: { replicas: 4, batches: [{ replicas: 1, pause: true }, { replicas: "100%" }] },
        },
      ],
      placementStrategies: [
        { name: "staging", clusterSelector: { labels: { usage: "staging" } } },
        { name: "production", clusterSelector: { labels: { usage: "production" } } },
      ],
    },
    status: {
      observedGeneration: 3,
      phase: "Paused",
      targetRevision: "v2",
      stableRevision: "v1",
      progress: "staging 1/2",
      rollout: {
        wave: "staging",
        batch: 1,
        batches: 2,
        state: "Paused",
        message: "batch 1/2 of staging is healthy; waiting for promote",
        since: "2026-12-03T10:00:00Z",
        waitingFor: "promote",
        clusters: [
          { name: "staging", wave: "staging", batch: 1, batches: 2, state: "Paused", since: "2026-12-03T10:00:00Z", revisions: [], sources: [] },
          { name: "prod-eu", wave: "production", batch: 0, state: "Pending", since: "2026-12-03T09:00:00Z", revisions: [], sources: [] },
        ],
        analysis: { cluster: "staging", batch: 1, result: "Successful", at: "2026-12-03T10:00:01Z" },
      },
      placement: [
        { cluster: "staging", wave: "staging", selected: true },
        { cluster: "prod-eu", wave: "production", selected: true, reason: "labels usage=production match" },
        { cluster: "edge-1", selected: false, reason: "label usage=edge does not match usage=production" },
      ],
      clusters: [
        {
          name: "staging",
          health: "Healthy",
          revisions: [
            { name: "v1", replicas: 3, readyReplicas: 3 },
            { name: "v2", replicas: 1, readyReplicas: 1 },
          ],
          lastSyncTime: "2026-12-03T10:00:05Z",
        },
        {
          name: "prod-eu",
          health: "Degraded",
          revisions: [{ name: "v1", replicas: 4, readyReplicas: 2 }],
          message: "Deployment/web: 2/4 ready",
          lastSyncTime: "2026-12-03T10:00:09Z",
        },
      ],
    },
  };
}

export function aCluster(name: string, labels: Record<string, string> = {}, ready = true): Cluster {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "Cluster",
    metadata: { name, labels },
    spec: { kubeconfigSecretRef: { namespace: "flotilla-system", name, key: "kubeconfig" } },
    status: {
      version: "v1.20.2",
      conditions: [
        {
          type: "Ready",
          status: ready ? "True" : "False",
          reason: ready ? "Reachable" : "Unreachable",
          message: ready ? "" : "dial tcp: refused",
          lastTransitionTime: "2026-12-03T09:00:00Z",
        },
      ],
    },
  };
}

export function worker(): ComponentDefinition {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ComponentDefinition",
    metadata: { name: "worker", annotations: { "flotilla.dev/description": "Long-running process\n without a network endpoint" } },
    spec: {
      workload: { apiVersion: "apps/v1", kind: "Deployment" },
      template: "{}",
      schema: {
        type: "object",
        required: ["image"],
        properties: {
          image: { type: "string", description: "Container image" },
          cmd: { type: "array", items: { type: "string" } },
          port: { type: "integer", default: 8080 },
        },
      },
    },
  };
}

export function scaler(): TraitDefinition {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "TraitDefinition",
    metadata: { name: "autoscaler" },
    spec: { appliesTo: ["apps/v1/Deployment"], schema: { type: "object", properties: { max: { type: "integer", description: "most replicas" } } } },
  };
}
