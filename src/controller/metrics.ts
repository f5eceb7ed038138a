// Prometheus metrics and the operational HTTP endpoints: /metrics, /healthz (the process is
// alive) and /readyz (caches synced and every watch of the hub up; a standby replica is ready).

import { createServer, type Server } from "node:http";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** What the ops server reads of each registered cluster when it is scraped. */
export interface ClusterGaugeState {
  name: string;
  ready: boolean;
  /** When the cluster's sync loop last finished a sync, if it has. */
  lastSyncTime: string | undefined;
}

/** The labels of a deployment's info series. */
export interface DeploymentInfo {
  phase: string;
  target: string;
  stable: string;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  /** Where the cluster gauges are read from at each scrape; the controller sets it when it starts work. */
  clusterStates: () => ClusterGaugeState[] = () => [];
  /** The label values of each deployment's info series, so a change removes the old series. */
  private readonly infoLabels = new Map<string, Record<string, string>>();
  readonly reconciles = new Counter({
    name: "flotilla_reconcile_total",
    help: "Reconciles of ApplicationDeployments by result",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: "flotilla_reconcile_duration_seconds",
    help: "Duration of one reconcile",
    // Up to a minute: reconciles wait on the hub and on Git under load (seconds at 1,000 deployments).
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
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
  readonly gitServeAnswers = new Counter({
    name: "flotilla_git_serve_answers_total",
    help: "Fetch requests of pull-mode agents answered, by who answered (cache, controller, backend) and what was asked (refs, pack)",
    labelNames: ["by", "asked"] as const,
    registers: [this.registry],
  });
  readonly commits = new Counter({ name: "flotilla_git_commits_total", help: "Commits written to the environment repository", registers: [this.registry] });
  readonly clustersReady = new Gauge({
    name: "flotilla_clusters_ready",
    help: "Registered clusters that answered their last probe",
    registers: [this.registry],
    collect: () => this.collectClusters(),
  });
  readonly clusterReady = new Gauge({
    name: "flotilla_cluster_ready",
    help: "1 when the cluster answered its last probe, else 0",
    labelNames: ["cluster"],
    registers: [this.registry],
  });
  readonly clusterLastSyncAge = new Gauge({
    name: "flotilla_cluster_last_sync_age_seconds",
    help: "Seconds since the cluster's sync loop last finished a sync (absent before the first)",
    labelNames: ["cluster"],
    registers: [this.registry],
  });
  readonly deploymentInfo = new Gauge({
    name: "flotilla_deployment_info",
    help: "1 per ApplicationDeployment, labelled with its phase and its target and stable revisions",
    labelNames: ["namespace", "name", "phase", "target", "stable"],
    registers: [this.registry],
  });
  readonly rolloutSteps = new Counter({
    name: "flotilla_rollout_steps_total",
    help: "Rollout steps recorded (a batch, a wave, a promotion, a rollback), each before its commit",
    registers: [this.registry],
  });
  readonly gitPushFailures = new Counter({
    name: "flotilla_git_push_failures_total",
    help: "Commits the Git remote did not take at once (kept locally and pushed again)",
    registers: [this.registry],
  });
  readonly leader = new Gauge({ name: "flotilla_leader", help: "1 when this replica holds the leader lease", registers: [this.registry] });
  readonly notificationDeliveries = new Counter({
    name: "flotilla_notification_deliveries_total",
    help: "Webhook deliveries of Notifications by event and result (delivered; failed: retried later; given_up: dropped after the age limit)",
    labelNames: ["event", "result"],
    registers: [this.registry],
  });
  readonly admissionReviews = new Counter({
    name: "flotilla_admission_reviews_total",
    help: "AdmissionReviews answered by the validating webhook, by kind, operation and verdict",
    labelNames: ["kind", "operation", "allowed"],
    registers: [this.registry],
  });
  readonly admissionDuration = new Histogram({
    name: "flotilla_admission_review_duration_seconds",
    help: "Time from a review's request to its answer, body read included (the API server waits at most the webhook's timeoutSeconds)",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
    // prom-client names these gauges like counters, which promtool (and Prometheus' naming rules)
    // refuse; the same totals are the sums of nodejs_active_{handles,requests,resources} by type.
    for (const misnamed of ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"]) {
      this.registry.removeSingleMetric(misnamed);
    }
  }

  /** The deployment's info series now says `info`; the series it replaces is removed. */
  setDeploymentInfo(namespace: string, name: string, info: DeploymentInfo): void {
    const key = `${namespace}/${name}`;
    const labels = { namespace, name, ...info };
    const before = this.infoLabels.get(key);
    if (before && JSON.stringify(before) === JSON.stringify(labels)) return;
    if (before) this.deploymentInfo.remove(before);
    this.deploymentInfo.set(labels, 1);
    this.infoLabels.set(key, labels);
  }

  /** The deployment is gone: its info series goes too. */
  forgetDeployment(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const before = this.infoLabels.get(key);
    if (before) this.deploymentInfo.remove(before);
    this.infoLabels.delete(key);
  }

  /** This replica stopped working (it lost the lease): a standby reports no deployment and no queue. */
  forgetAllDeployments(): void {
    this.deploymentInfo.reset();
    this.infoLabels.clear();
    this.queueDepth.set(0);
  }

  /** Cluster gauges as the cluster manager sees them at scrape time (clusters removed since drop out). */
  private collectClusters(now = Date.now()): void {
    const states = this.clusterStates();
    this.clusterReady.reset();
    this.clusterLastSyncAge.reset();
    for (const c of states) {
      this.clusterReady.set({ cluster: c.name }, c.ready ? 1 : 0);
      const at = c.lastSyncTime ? Date.parse(c.lastSyncTime) : Number.NaN;
      if (Number.isFinite(at)) this.clusterLastSyncAge.set({ cluster: c.name }, Math.max(0, (now - at) / 1000));
    }
    this.clustersReady.set(states.filter((c) => c.ready).length);
  }
}

export interface OpsServerOptions {
  /** `host:port` or `:port`; port 0 picks a free one. */
  address: string;
  metrics: { registry: Registry };
  ready: () => boolean;
}

/** `host:port` or `:port` (every interface) as host and port; `flag` names the option in the error. */
export function parseAddress(address: string, flag = "--metrics-addr"): { host: string; port: number } {
  const i = address.lastIndexOf(":");
  const host = i <= 0 ? "0.0.0.0" : address.slice(0, i);
  const port = Number(address.slice(i + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${flag}: "${address}" is not host:port or :port (for example ":8080" or "127.0.0.1:8080")`);
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
