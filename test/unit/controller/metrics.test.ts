// The controller's /metrics as Prometheus reads it: a live scrape of the ops server passes
// `promtool check metrics` (installed by scripts/install-control-plane.sh), and the series
// operators alert on say what they should: one info series per deployment, replaced when its
// phase changes and gone with the deployment; per-cluster readiness and sync age read at scrape
// time; the process metrics every Prometheus exporter has.

import { spawnSync } from "node:child_process";
import type { Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { ControllerMetrics, startOpsServer } from "../../../src/controller/metrics.js";

let server: Server | undefined;

afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function scrape(metrics: ControllerMetrics): Promise<string> {
  const started = await startOpsServer({ address: "127.0.0.1:0", metrics, ready: () => true });
  server = started.server;
  const res = await fetch(`http://127.0.0.1:${started.port}/metrics`);
  expect(res.status).toBe(200);
  return res.text();
}

/** The sample lines of one metric family, without comments. */
function samples(text: string, name: string): string[] {
  return text.split("\n").filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

describe("the controller's /metrics", () => {
  it("passes promtool check metrics", async () => {
    const metrics = new ControllerMetrics();
    metrics.setDeploymentInfo("team-a", "web", { phase: "Progressing", target: "v2", stable: "v1" });
    metrics.clusterStates = () => [{ name: "prod-eu", ready: true, lastSyncTime: new Date().toISOString() }];
    metrics.reconcileDuration.observe(42);
    metrics.notificationDeliveries.inc({ event: "BatchPaused", result: "delivered" });
    metrics.admissionReviews.inc({ kind: "ApplicationDeployment", operation: "CREATE", allowed: "false" });
    metrics.admissionDuration.observe(0.004);
    const text = await scrape(metrics);
    expect(samples(text, "flotilla_notification_deliveries_total")).toEqual([
      'flotilla_notification_deliveries_total{event="BatchPaused",result="delivered"} 1',
    ]);
    expect(samples(text, "flotilla_admission_reviews_total")).toEqual([
      'flotilla_admission_reviews_total{kind="ApplicationDeployment",operation="CREATE",allowed="false"} 1',
    ]);
    const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(lint.error, "promtool not found: run scripts/install-control-plane.sh").toBeUndefined();
    expect({ status: lint.status, problems: `${lint.stdout}${lint.stderr}`.trim() }).toEqual({ status: 0, problems: "" });
  });

  it("keeps one info series per deployment, replaced when its phase changes and removed with it", async () => {
    const metrics = new ControllerMetrics();
    metrics.setDeploymentInfo("team-a", "web", { phase: "Progressing", target: "v2", stable: "v1" });
    metrics.setDeploymentInfo("team-a", "web", { phase: "Healthy", target: "v2", stable: "v2" });
    metrics.setDeploymentInfo("team-b", "shop", { phase: "Failed", target: "v9", stable: "v8" });
    metrics.forgetDeployment("team-b", "shop");
    expect(samples(await scrape(metrics), "flotilla_deployment_info")).toEqual([
      'flotilla_deployment_info{namespace="team-a",name="web",phase="Healthy",target="v2",stable="v2"} 1',
    ]);
  });

  it("drops every deployment's info series and the queue depth when the replica stops working (a standby reports none)", async () => {
    const metrics = new ControllerMetrics();
    metrics.setDeploymentInfo("team-a", "web", { phase: "Degraded", target: "v2", stable: "v1" });
    metrics.queueDepth.set(3);
    metrics.forgetAllDeployments();
    const text = await scrape(metrics);
    expect(samples(text, "flotilla_deployment_info")).toEqual([]);
    expect(samples(text, "flotilla_queue_depth")).toEqual(["flotilla_queue_depth 0"]);
    metrics.setDeploymentInfo("team-a", "web", { phase: "Healthy", target: "v2", stable: "v2" });
    expect(samples(await scrape(metrics), "flotilla_deployment_info")).toHaveLength(1);
  });

  it("reads each cluster's readiness and the age of its last sync when scraped, and only clusters still registered", async () => {
    const metrics = new ControllerMetrics();
    let states = [
      { name: "prod-eu", ready: true, lastSyncTime: new Date(Date.now() - 90_000).toISOString() },
      { name: "prod-us", ready: false, lastSyncTime: undefined },
    ];
    metrics.clusterStates = () => states;
    const first = await scrape(metrics);
    expect(samples(first, "flotilla_cluster_ready")).toEqual(['flotilla_cluster_ready{cluster="prod-eu"} 1', 'flotilla_cluster_ready{cluster="prod-us"} 0']);
    expect(samples(first, "flotilla_clusters_ready")).toEqual(["flotilla_clusters_ready 1"]);
    const age = samples(first, "flotilla_cluster_last_sync_age_seconds");
    expect(age).toHaveLength(1); // prod-us never synced: no age rather than a made-up one
    const seconds = Number(age[0]?.split(" ")[1]);
    expect(seconds).toBeGreaterThanOrEqual(90);
    expect(seconds).toBeLessThan(120);
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    states = [{ name: "prod-us", ready: true, lastSyncTime: undefined }];
    expect(samples(await scrape(metrics), "flotilla_cluster_ready")).toEqual(['flotilla_cluster_ready{cluster="prod-us"} 1']);
  });

  it("buckets reconciles up to a minute and exports the process metrics", async () => {
    const metrics = new ControllerMetrics();
    metrics.reconcileDuration.observe(45);
    const text = await scrape(metrics);
    expect(text).toContain('flotilla_reconcile_duration_seconds_bucket{le="30"} 0');
    expect(text).toContain('flotilla_reconcile_duration_seconds_bucket{le="60"} 1');
    for (const name of ["process_cpu_seconds_total", "process_resident_memory_bytes", "nodejs_eventloop_lag_seconds"]) expect(text).toContain(`\n${name}`);
  });
});
