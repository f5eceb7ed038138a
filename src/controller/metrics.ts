// Prometheus metrics and the operational HTTP endpoints: /metrics, /healthz (the process is
// alive) and /readyz (caches synced and every watch of the hub up; a standby replica is ready).

import { createServer, type Server } from "node:http";
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: "flotilla_reconcile_total",
    help: "Reconciles of ApplicationDeployments by result",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: "flotilla_reconcile_duration_seconds",
    help: "Duration of one reconcile",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({ name: "flotilla_queue_depth", help: "Deployments waiting or being reconciled", registers: [this.registry] });
  readonly syncs = new Counter({
    name: "flotilla_sync_total",
    help: "Cluster syncs by cluster and result",
    labelNames: ["cluster", "result"],
    registers: [this.registry],
  });
  readonly driftCorrections = new Counter({
    name: "flotilla_drift_corrections_total",
    help: "Objects re-applied because they drifted from Git",
    labelNames: ["cluster"],
    registers: [this.registry],
  });
  readonly clusterRequests = new Counter({
    name: "flotilla_cluster_requests_total",
    help: "Requests the sync loop sent to member clusters, by cluster and verb",
    labelNames: ["cluster", "verb"],
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: "flotilla_status_writes_total",
    help: "ApplicationDeployment status writes to the hub",
    registers: [this.registry],
  });
  readonly commits = new Counter({ name: "flotilla_git_commits_total", help: "Commits written to the environment repository", registers: [this.registry] });
  readonly clustersReady = new Gauge({
    name: "flotilla_clusters_ready",
    help: "Registered clusters that answered their last probe",
    registers: [this.registry],
  });
  readonly leader = new Gauge({ name: "flotilla_leader", help: "1 when this replica holds the leader lease", registers: [this.registry] });
}

export interface OpsServerOptions {
  /** `host:port` or `:port`; port 0 picks a free one. */
  address: string;
  metrics: ControllerMetrics;
  ready: () => boolean;
}

export function parseAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  const host = i <= 0 ? "0.0.0.0" : address.slice(0, i);
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`--metrics-addr: "${address}" is not host:port or :port`);
  }
  return { host, port };
}

/** Start the ops server; resolves with the server and the port it listens on. */
export async function startOpsServer(options: OpsServerOptions): Promise<{ server: Server; port: number }> {
  const { host, port } = parseAddress(options.address);
  const server = createServer((req, res) => {
    if (req.url === "/metrics") {
      options.metrics.registry
        .metrics()
        .then((text) => {
          res.writeHead(200, { "content-type": options.metrics.registry.contentType });
          res.end(text);
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
      return;
    }
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
      return;
    }
    if (req.url === "/readyz") {
      const ready = options.ready();
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
      res.end(ready ? "ready\n" : "not ready\n");
      return;
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  return { server, port: typeof addr === "object" && addr ? addr.port : port };
}
