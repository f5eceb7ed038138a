// The web UI's views, from plain objects: a deployment's summary and detail (waves of cluster
// cards, what the rollout waits for, placement reasons), the clusters and the definitions.

import { describe, expect, it } from "vitest";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import {
  clustersView,
  definitionsView,
  deploymentDetail,
  deploymentSummary,
  eventItem,
  matchesFilter,
  parseSelector,
  recentEvents,
  waveCards,
} from "../../../src/ui/server/views.js";
import { aCluster, canary, scaler, worker } from "./fixtures.js";

const NONE = { promote: false, abort: false, retry: false, pause: false, resume: false };

describe("deploymentSummary", () => {
  it("gives phase, target, stable, progress, what it waits for and a health per placed cluster in wave order", () => {
    expect(deploymentSummary(canary())).toEqual({
      namespace: "team-a",
      name: "web",
      labels: { team: "payments", tier: "frontend" },
      phase: "Paused",
      targetRevision: "v2",
      stableRevision: "v1",
      progress: "staging 1/2",
      waitingFor: "promote",
      generation: 3,
      observedGeneration: 3,
      clusters: [
        { name: "staging", wave: "staging", health: "Healthy", phase: "Paused" },
        { name: "prod-eu", wave: "production", health: "Degraded", phase: "Pending" },
      ],
    });
  });

  it("reads a deployment the controller has not looked at yet as Pending, targeting its last revision", () => {
    const ad = canary();
    delete ad.status;
    expect(deploymentSummary(ad)).toMatchObject({ phase: "Pending", targetRevision: "v2", stableRevision: "", observedGeneration: 0, clusters: [] });
  });
});

describe("deploymentDetail", () => {
  it("lays the waves out left to right with a card per cluster: replicas per revision as ready of desired", () => {
    expect(waveCards(canary())).toEqual([
      {
        name: "staging",
        clusters: [
          {
            name: "staging",
            health: "Healthy",
            revisions: [
              { revision: "v1", ready: 3, desired: 3 },
              { revision: "v2", ready: 1, desired: 1 },
            ],
            rollout: { state: "Paused", batch: 1, batches: 2, since: "2026-12-03T10:00:00Z" },
            lastSync: "2026-12-03T10:00:05Z",
          },
        ],
      },
      {
        name: "production",
        clusters: [
          {
            name: "prod-eu",
            health: "Degraded",
            revisions: [{ revision: "v1", ready: 2, desired: 4 }],
            message: "Deployment/web: 2/4 ready",
            rollout: { state: "Pending", batch: 0, since: "2026-12-03T09:00:00Z" },
            lastSync: "2026-12-03T10:00:09Z",
          },
        ],
      },
    ]);
  });

  it("says what the rollout waits for, its analysis, and a reason for every cluster, rejected ones included", () => {
    const d = deploymentDetail(canary(), [], { ...NONE, promote: true });
    expect(d.rollout).toEqual({
      state: "Paused",
      wave: "staging",
      batch: 1,
      batches: 2,
      waitingFor: "promote",
      message: "batch 1/2 of staging is healthy; waiting for promote",
      since: "2026-12-03T10:00:00Z",
      analysis: { cluster: "staging", batch: 1, result: "Successful", at: "2026-12-03T10:00:01Z" },
    });
    expect(d.placement).toEqual([
      { cluster: "staging", wave: "staging", selected: true, reason: "selected for wave staging" },
      { cluster: "prod-eu", wave: "production", selected: true, reason: "labels usage=production match" },
      { cluster: "edge-1", selected: false, reason: "label usage=edge does not match usage=production" },
    ]);
    expect(d.can.promote).toBe(true);
    expect((d.spec as ApplicationDeployment["spec"]).appRevisions).toHaveLength(2);
  });

  it("keeps a card for a cluster that still reports but whose wave is gone", () => {
    const ad = canary();
    ad.spec.placementStrategies = [{ name: "staging", clusterSelector: { labels: { usage: "staging" } } }];
    expect(waveCards(ad).map((w) => [w.name, w.clusters.map((c) => c.name)])).toEqual([
      ["staging", ["staging"]],
      ["(no wave)", ["prod-eu"]],
    ]);
  });
});

describe("events", () => {
  it("lists the newest first, with the last time an event was seen and its count", () => {
    const items = [
      eventItem({ type: "Normal", reason: "Committed", message: "a", count: 2, lastTimestamp: new Date("2026-12-03T10:00:00Z") }),
      eventItem({ type: "Warning", reason: "SyncFailed", message: "b", eventTime: "2026-12-03T11:00:00Z" }),
    ];
    expect(recentEvents(items)).toEqual([
      { type: "Warning", reason: "SyncFailed", message: "b", time: "2026-12-03T11:00:00Z", count: 1 },
      { type: "Normal", reason: "Committed", message: "a", time: "2026-12-03T10:00:00.000Z", count: 2 },
    ]);
  });
});

describe("filters", () => {
  const summary = deploymentSummary(canary());
  it.each([
    [{}, "", true],
    [{ namespace: "team-a" }, "", true],
    [{ namespace: "team-b" }, "", false],
    [{ phase: "paused" }, "", true],
    [{ phase: "Healthy" }, "", false],
    [{}, "team=payments", true],
    [{}, "team=payments,tier=frontend", true],
    [{}, "team=search", false],
    [{}, "tier", true],
    [{}, "owner", false],
  ])("filter %j selector %j matches: %s", (filter, selector, expected) => {
    const parsed = parseSelector(selector);
    if ("error" in parsed) throw new Error(parsed.error);
    expect(matchesFilter(summary, filter, parsed.terms)).toBe(expected);
  });

  it("names a malformed selector term and shows the form", () => {
    expect(parseSelector("team!=x")).toEqual({ error: 'selector: "team!=x" is not key=value or key (for example "team=payments,tier")' });
  });
});

describe("clustersView", () => {
  it("gives mode, version, readiness, the newest sync and the deployments placed on each cluster", () => {
    const other = canary("team-b", "api");
    expect(clustersView([aCluster("prod-eu", { usage: "production" }, false), aCluster("staging", { usage: "staging" })], [canary(), other])).toEqual([
      {
        name: "prod-eu",
        mode: "Push",
        version: "v1.20.2",
        ready: false,
        lastSync: "2026-12-03T10:00:09Z",
        labels: { usage: "production" },
        deployments: ["team-a/web", "team-b/api"],
        paused: false,
        message: "dial tcp: refused",
      },
      {
        name: "staging",
        mode: "Push",
        version: "v1.20.2",
        ready: true,
        lastSync: "2026-12-03T10:00:05Z",
        labels: { usage: "staging" },
        deployments: ["team-a/web", "team-b/api"],
        paused: false,
      },
    ]);
  });
});

describe("definitionsView", () => {
  it("lists each definition's parameters from its JSON Schema: name, type, default, description, required", () => {
    expect(definitionsView([worker()], [scaler()])).toEqual({
      components: [
        {
          name: "worker",
          description: "Long-running process without a network endpoint",
          workload: "apps/v1/Deployment",
          parameters: [
            { name: "image", type: "string", description: "Container image", required: true },
            { name: "cmd", type: "[]string", required: false },
            { name: "port", type: "integer", default: 8080, required: false },
          ],
        },
      ],
      traits: [
        { name: "autoscaler", workload: "apps/v1/Deployment", parameters: [{ name: "max", type: "integer", description: "most replicas", required: false }] },
      ],
    });
  });
});
