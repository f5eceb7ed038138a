// The pull-mode agent: runs inside a member cluster, keeps it at its folder of the environment
// repository with the very sync loop the hub uses in push mode (ClusterSyncWorker), and reports
// to the hub in SyncReports. It learns of a new commit from its own Cluster's status.desiredCommit
// (a watch the controller's write wakes within a second) and, as a fallback, by polling Git. With
// the hub or Git unreachable it keeps applying the last fetched commit and correcting drift; its
// reports wait and go out when the hub answers. Replicas share a Lease on the member: one works.
// It keeps the member's sealing key (sealing-key.ts) and reports only its recipient.

import { readFile, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { CustomObjectsApi, type KubeConfig, type KubernetesObject, VersionApi } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { Counter, collectDefaultMetrics, Gauge, Registry } from "prom-client";
import { parseDuration } from "../api/duration.js";
import { GROUP, VERSION } from "../api/labels.js";
import type { Cluster } from "../api/types.js";
import { type SupervisedInformer, supervisedInformer } from "../controller/hub.js";
import { LeaderElector } from "../controller/leader.js";
import { EnvRepo } from "../gitops/repo.js";
import { KubeClient } from "../kube/client.js";
import { type KeepAliveKubeConfig, keepAliveKubeConfig } from "../kube/keep-alive.js";
import { envRepoSource } from "../sync/source.js";
import { ClusterSyncWorker, type SyncEvent } from "../sync/worker.js";
import { backoffDelay } from "../support/backoff.js";
import { agentReport, DeploymentReportMemo, RecentEvents } from "./reports.js";
import { ReportWriter } from "./report-writer.js";
import { kubeKeyObjects } from "../secrets/keys.js";
import { type AgentSealingKey, agentSealingKey } from "./sealing-key.js";

/**
 * The shortest time between the starts of two fetches, ms. Short: a rollout's next step is often
 * committed within a second of the agent's last fetch (its own report made it), and waiting out a
 * long gap put up to a second on that step. A fetch costs the controller's Git server no process
 * (it answers an agent's incremental fetch itself), so four a second in a burst are cheap.
 */
const MIN_FETCH_GAP_MS = 250;

export interface AgentOptions {
  /** The Cluster this agent syncs (its folder `clusters/<cluster>/`). */
  cluster: string;
  /** The hub, as the agent's own identity reaches it. */
  hub: KubeConfig;
  /** The member the agent runs in. */
  member: KubeConfig;
  gitUrl: string;
  /** Token for Git; sent as `Authorization: Bearer`. */
  gitToken?: string;
  /** Where the fetched environment repository is kept (`<dataDir>/env.git`) with the agent's last known state. */
  dataDir: string;
  /** Namespace of the Lease on the member. Default flotilla-agent. */
  namespace?: string;
  identity: string;
  /** Take the Lease before working. Default true. */
  leaderElection?: boolean;
  leaseDurationSeconds?: number;
  /** Fallback Git polling period, ms. Default 30 000. */
  pollIntervalMs?: number;
  /** Agent report refresh period while nothing changes, ms. Default 10 000. */
  heartbeatMs?: number;
  /** Drift-check period, ms, unless the Cluster's spec.resyncInterval says otherwise. Default 300 000. */
  resyncIntervalMs?: number;
  /** Health observation period between syncs, ms. Default 5 000. */
  healthIntervalMs?: number;
  logger: Logger;
  /** Called when the Lease is lost: the process should exit so a fresh one campaigns. */
  onLostLease?: () => void;
}

/** What survives a restart on the data volume: what the hub said last, for when it cannot be asked. */
interface SavedState {
  paused?: boolean;
  resyncInterval?: string;
  suspended?: string[];
}

export class AgentMetrics {
  readonly registry = new Registry();
  readonly leader = new Gauge({ name: "flotilla_agent_leader", help: "1 while this agent replica holds the Lease and works", registers: [this.registry] });
  readonly syncs = new Counter({
    name: "flotilla_agent_syncs_total",
    help: "Finished syncs of the cluster by result",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly driftCorrections = new Counter({
    name: "flotilla_agent_drift_corrections_total",
    help: "Objects re-applied because they had drifted",
    registers: [this.registry],
  });
  readonly fetches = new Counter({
    name: "flotilla_agent_git_fetches_total",
    help: "Fetches of the environment repository by result",
    labelNames: ["result"],
    registers: [this.registry],
  });
  readonly reportWrites = new Counter({ name: "flotilla_agent_report_writes_total", help: "SyncReports written to the hub", registers: [this.registry] });
  readonly reportFailures = new Counter({
    name: "flotilla_agent_report_failures_total",
    help: "Report flushes that failed (the hub unreachable or refusing)",
    registers: [this.registry],
  });
  readonly reportsPending = new Gauge({
    name: "flotilla_agent_reports_pending",
    help: "SyncReports waiting to be written to the hub",
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

export class Agent {
  readonly metrics = new AgentMetrics();
  private readonly log: Logger;
  private elector: LeaderElector | undefined;
  private repo: EnvRepo | undefined;
  private worker: ClusterSyncWorker | undefined;
  private writer: ReportWriter | undefined;
  private clusterWatch: SupervisedInformer<Cluster> | undefined;
  private readonly events = new RecentEvents();
  private readonly reports = new DeploymentReportMemo();
  private publishQueued = false;
  private timers: NodeJS.Timeout[] = [];
  private fetching: Promise<void> | undefined;
  private fetchAgain = false;
  private fetchStarted = false;
  private lastFetchAt = 0;
  private fetchedCommit: string | undefined;
  /** The commit the hub last asked for, until the fetched head contains it. */
  private askedCommit: string | undefined;
  private version: string | undefined;
  private state: SavedState = {};
  private working = false;
  private stopped = false;
  private sealing: AgentSealingKey | undefined;
  private sealingRecipient: string | undefined;

  /** The hub and the member as client-node API clients reach them: over shared keep-alive connections. */
  private readonly hub: KeepAliveKubeConfig;
  private readonly member: KeepAliveKubeConfig;

  constructor(private readonly o: AgentOptions) {
    this.log = o.logger.child({ cluster: o.cluster });
    this.hub = keepAliveKubeConfig(o.hub);
    this.member = keepAliveKubeConfig(o.member);
  }

  /** Ready: a standby is ready (it waits for the Lease), a leader once it works. */
  ready(): boolean {
    return !this.stopped && (this.elector ? !this.elector.isLeader || this.working : this.working);
  }

  async start(): Promise<void> {
    await mkdir(this.o.dataDir, { recursive: true });
    if (this.o.leaderElection === false) {
      this.metrics.leader.set(1);
      await this.startWork();
      return;
    }
    this.elector = new LeaderElector({
      kc: this.member,
      namespace: this.o.namespace ?? "flotilla-agent",
      name: "flotilla-agent",
      identity: this.o.identity,
      ...(this.o.leaseDurationSeconds ? { leaseDurationSeconds: this.o.leaseDurationSeconds } : {}),
      onStartedLeading: () => {
        this.log.info({ identity: this.o.identity }, "took the agent Lease; working");
        this.metrics.leader.set(1);
        void this.startWork().catch((e: unknown) => this.log.error({ err: String(e) }, "could not start work"));
      },
      onStoppedLeading: () => {
        this.log.warn({ identity: this.o.identity }, "lost the agent Lease; stopping");
        this.metrics.leader.set(0);
        void this.stopWork().then(() => this.o.onLostLease?.());
      },
      onError: (e) => this.log.warn({ err: String(e) }, "agent leader election"),
    });
    this.elector.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.stopWork();
    await this.elector?.stop();
    this.hub.destroyAgents();
    this.member.destroyAgents();
  }

  /**
   * The identity that opens values sealed to this cluster (the member's Secret flotilla-sealing,
   * made when missing), for the sync loop; undefined before work starts. Rejects when the member
   * does not answer or refuses.
   */
  sealingIdentity(): Promise<string | undefined> {
    return this.sealing?.identity() ?? Promise.resolve(undefined);
  }

  /** Make sure of the member's sealing key and report its recipient; a failure is retried by the caller's timer. */
  private async checkSealingKey(): Promise<void> {
    const key = this.sealing;
    if (!key) return;
    try {
      const recipient = await key.ensure();
      if (recipient !== this.sealingRecipient) {
        this.sealingRecipient = recipient;
        this.log.info({ recipient }, "sealing key ready; its recipient goes to the hub");
        this.publish();
      }
    } catch (e) {
      this.log.warn(
        { err: errText(e), secret: `${this.o.namespace ?? "flotilla-agent"}/flotilla-sealing` },
        "cannot read or create the member's sealing key; sealed values cannot be opened until it exists (retrying)",
      );
    }
  }

  private async startWork(): Promise<void> {
    if (this.working || this.stopped) return;
    const memberClient = new KubeClient({ kubeConfig: this.o.member });
    const keyNamespace = this.o.namespace ?? "flotilla-agent";
    this.sealing = agentSealingKey(kubeKeyObjects(memberClient), keyNamespace, {
      // deploy/agent creates the namespace; an agent run by hand (a local fleet) may find none.
      createNamespace: async () => {
        await memberClient.send("POST", "/api/v1/namespaces", { body: { apiVersion: "v1", kind: "Namespace", metadata: { name: keyNamespace } } });
      },
    });
    // The key does not wait for Git: it is made while the repository is opened.
    void this.checkSealingKey();
    this.state = await this.loadState();
    this.repo = await this.openRepo();
    if (this.stopped) return;
    const head = await this.repo.head();
    if (head) this.fetchedCommit = head;
    const resync = this.state.resyncInterval ? parseDuration(this.state.resyncInterval) : (this.o.resyncIntervalMs ?? 300_000);
    this.writer = new ReportWriter({
      hub: this.hub,
      cluster: this.o.cluster,
      onError: (e) => this.log.warn({ err: errText(e) }, "reports not written (the hub did not take them); retrying"),
      onFlushed: (n, ok) => {
        if (ok) this.metrics.reportWrites.inc(n);
        else this.metrics.reportFailures.inc();
        this.metrics.reportsPending.set(this.writer?.pending ?? 0);
      },
    });
    this.worker = new ClusterSyncWorker({
      cluster: this.o.cluster,
      client: memberClient,
      source: envRepoSource(this.repo, this.o.cluster),
      resyncInterval: resync,
      healthInterval: this.o.healthIntervalMs ?? 5_000,
      paused: this.state.paused ?? false,
      // Sealed Secrets are opened here, with the member's own key: it never leaves the member.
      identity: () => this.sealingIdentity(),
      onEvent: (ev) => this.onSyncEvent(ev),
    });
    this.working = true;
    if (this.state.suspended?.length) this.worker.setSuspended(this.state.suspended);
    if (head) this.worker.setDesired(head);
    this.clusterWatch = this.watchCluster();
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.o.pollIntervalMs ?? 30_000, () => void this.fetch());
    every(this.o.heartbeatMs ?? 10_000, () => this.publish());
    every(5 * 60_000, () => void this.probeVersion());
    // Every 30 s until the key exists, then every 5 min (a Secret deleted to rotate the key is replaced).
    let sealingChecks = 0;
    every(30_000, () => {
      if (this.sealingRecipient === undefined || ++sealingChecks % 10 === 0) void this.checkSealingKey();
    });
    void this.probeVersion();
    void this.fetch();
    this.publish();
    this.log.info({ head: head?.slice(0, 12), gitUrl: this.o.gitUrl }, "agent working");
  }

  private async stopWork(): Promise<void> {
    if (!this.working) return;
    if (this.publishQueued) this.publishNow();
    this.working = false;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.clusterWatch?.stop();
    await this.worker?.stop();
    // One last try to tell the hub where this replica stopped; a successor writes on top of it.
    await this.writer?.flush().catch(() => undefined);
    this.writer?.stop();
  }

  /** The env repo's local copy; an empty one waits for Git, a non-empty one works from what it has. */
  private async openRepo(): Promise<EnvRepo> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await EnvRepo.open({
          dir: join(this.o.dataDir, "env.git"),
          remote: { url: this.o.gitUrl, ...(this.o.gitToken ? { token: this.o.gitToken, authScheme: "bearer" as const } : {}) },
        });
      } catch (e) {
        if (this.stopped || !(e as { retryable?: boolean }).retryable) throw e;
        this.log.warn({ err: errText(e), attempt }, "waiting for the environment repository");
        await sleep(backoffDelay(attempt, { initialMs: 1_000, maxMs: 15_000 }));
      }
    }
  }

  /** Fetch the environment repository; one fetch at a time, one more if asked meanwhile. */
  private fetch(): Promise<void> {
    if (!this.repo || !this.working) return Promise.resolve();
    if (this.fetching) {
      // A fetch still waiting for its turn brings this commit too; one under way may not.
      if (this.fetchStarted) this.fetchAgain = true;
      return this.fetching;
    }
    const repo = this.repo;
    this.fetchStarted = false;
    this.fetching = (async () => {
      // Commits come in bursts (a ramp commits many times a second): fetches start at most every
      // MIN_FETCH_GAP_MS, each bringing everything committed so far — an isolated commit is
      // fetched at once.
      const wait = this.lastFetchAt + MIN_FETCH_GAP_MS - Date.now();
      if (wait > 0) await sleep(wait);
      this.fetchStarted = true;
      this.lastFetchAt = Date.now();
      const startedAt = performance.now();
      const result = await repo.sync();
      const ms = Math.round(performance.now() - startedAt);
      if (result.error) {
        this.metrics.fetches.inc({ result: "failed" });
        this.log.warn({ err: result.error.message }, "fetching the environment repository failed; working from the last fetched commit");
        return;
      }
      this.metrics.fetches.inc({ result: "ok" });
      const head = result.head;
      if (!head) return;
      if (head !== this.fetchedCommit) this.log.debug({ head: head.slice(0, 12), ms, waitedMs: Math.max(0, Math.round(wait)) }, "fetched");
      this.fetchedCommit = head;
      this.worker?.setDesired(head);
      if (this.askedCommit && (await this.contains(head, this.askedCommit))) this.askedCommit = undefined;
      this.publish();
    })()
      .catch((e: unknown) => {
        this.metrics.fetches.inc({ result: "failed" });
        this.log.warn({ err: errText(e) }, "fetching the environment repository failed");
      })
      .finally(() => {
        this.fetching = undefined;
        // The hub asked for a commit the fetch did not bring yet (a mirror lagging): ask again soon.
        if (this.fetchAgain || this.askedCommit) {
          const soon = !this.fetchAgain;
          this.fetchAgain = false;
          if (soon) setTimeout(() => void this.fetch(), 1_000).unref();
          else void this.fetch();
        }
      });
    return this.fetching;
  }

  private async contains(head: string, commit: string): Promise<boolean> {
    if (head === commit) return true;
    return (await this.repo?.isAncestor(commit, head)) ?? false;
  }

  private watchCluster(): SupervisedInformer<Cluster> {
    const api = this.hub.makeApiClient(CustomObjectsApi);
    const selector = `metadata.name=${this.o.cluster}`;
    // The agent may read its own Cluster only: list and watch by name (RBAC resourceNames).
    const path = `/apis/${GROUP}/${VERSION}/clusters?fieldSelector=${encodeURIComponent(selector)}`;
    return supervisedInformer<KubernetesObject>(
      this.hub,
      path,
      () => api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: "clusters", fieldSelector: selector }) as never,
      {
        onChange: (c) => this.onCluster(c as unknown as Cluster),
        onDelete: () => this.log.warn("the Cluster was deleted on the hub; keeping the last commit"),
      },
      {
        name: "Cluster",
        onError: (_kind, e) => this.log.debug({ err: errText(e) }, "watching the Cluster failed; retrying"),
        onRecovered: () => this.publish(),
      },
    ) as unknown as SupervisedInformer<Cluster>;
  }

  private onCluster(c: Cluster): void {
    if (c.metadata.name !== this.o.cluster) return;
    const paused = c.spec.paused ?? false;
    if (paused !== (this.state.paused ?? false) || c.spec.resyncInterval !== this.state.resyncInterval) {
      if (paused !== (this.state.paused ?? false)) this.log.info({ paused }, paused ? "the Cluster is paused" : "the Cluster is resumed");
      this.state = {
        paused,
        ...(c.spec.resyncInterval ? { resyncInterval: c.spec.resyncInterval } : {}),
        ...(this.state.suspended ? { suspended: this.state.suspended } : {}),
      };
      this.worker?.setPaused(paused);
      void this.saveState();
    }
    const suspended = c.status?.suspendedDeployments ?? [];
    if (JSON.stringify(suspended) !== JSON.stringify(this.state.suspended ?? [])) {
      this.state = { ...this.state, suspended };
      this.worker?.setSuspended(suspended);
      void this.saveState();
    }
    const desired = c.status?.desiredCommit;
    if (desired && desired !== this.askedCommit && desired !== this.fetchedCommit) {
      this.log.debug({ commit: desired.slice(0, 12) }, "the hub announced a commit");
      this.askedCommit = desired;
      void this.fetch();
    }
  }

  private onSyncEvent(ev: SyncEvent): void {
    const level = ev.type === "SyncFailed" ? "warn" : ev.type === "DriftCorrected" ? "info" : "debug";
    this.log[level]({ event: ev.type, deployment: ev.deployment, object: ev.object, commit: ev.commit?.slice(0, 12), message: ev.message }, "sync event");
    if (ev.type === "Synced" || ev.type === "SyncFailed") this.metrics.syncs.inc({ result: ev.type === "Synced" ? "ok" : "failed" });
    if (ev.type === "DriftCorrected") this.metrics.driftCorrections.inc();
    this.events.add(ev);
    this.publish();
  }

  /**
   * Hand the current state to the writer soon; it writes what changed. A sync emits an event per
   * deployment it touched, all in one turn of the event loop: they make one hand-over.
   */
  private publish(): void {
    if (this.publishQueued) return;
    this.publishQueued = true;
    setImmediate(() => this.publishNow());
  }

  private publishNow(): void {
    this.publishQueued = false;
    const worker = this.worker;
    const writer = this.writer;
    if (!worker || !writer || !this.working) return;
    const view = worker.view;
    this.events.retain(new Set(view.health.map((h) => h.deployment)));
    writer.set(
      this.reports.build(view, this.events.view),
      agentReport(view, {
        identity: this.o.identity,
        ...(this.version ? { version: this.version } : {}),
        ...(this.fetchedCommit ? { fetchedCommit: this.fetchedCommit } : {}),
        ...(this.sealingRecipient ? { sealingRecipient: this.sealingRecipient } : {}),
        heartbeatTime: new Date().toISOString(),
      }),
    );
    this.metrics.reportsPending.set(writer.pending);
  }

  private async probeVersion(): Promise<void> {
    try {
      const v = await this.member.makeApiClient(VersionApi).getCode();
      if (v.gitVersion !== this.version) {
        this.version = v.gitVersion;
        this.publish();
      }
    } catch (e) {
      this.log.warn({ err: errText(e) }, "reading the member's version failed");
    }
  }

  private async loadState(): Promise<SavedState> {
    try {
      return JSON.parse(await readFile(join(this.o.dataDir, "agent-state.json"), "utf8")) as SavedState;
    } catch {
      return {};
    }
  }

  private async saveState(): Promise<void> {
    await writeFile(join(this.o.dataDir, "agent-state.json"), `${JSON.stringify(this.state)}\n`).catch((e: unknown) =>
      this.log.warn({ err: errText(e) }, "could not save the agent state"),
    );
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function errText(e: unknown): string {
  if (e instanceof Error) return e.message.split("\n")[0] ?? e.message;
  const body = (e as { body?: unknown } | null)?.body;
  return typeof body === "string" ? body.slice(0, 200) : String(e);
}
