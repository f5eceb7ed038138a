// The cluster controller: for every push-mode Cluster it reads the kubeconfig Secret, probes the
// member (`/version`), keeps Cluster.status current and runs one ClusterSyncWorker. An
// unreachable cluster is marked so and skipped; it never stalls the others. The hub being down
// never marks a member unreachable: the member is probed with the kubeconfig already read.
// A pull-mode Cluster is never connected to: its agent's SyncReports stand in for the worker
// (PulledCluster), the agent is Ready while its reports keep coming, and each commit touching the
// cluster is announced in status.desiredCommit, which the agent watches.
// Sealing keys: a push cluster's key pair is made on the hub (sealing-keys.ts) and a pull
// cluster's by its agent; either way only the recipient is published, in status.sealing.

import { KubeConfig, VersionApi } from "@kubernetes/client-node";
import { FlotillaError } from "../api/errors.js";
import type { Cluster, ClusterSealing, ClusterStatus, Condition } from "../api/types.js";
import type { EnvRepo } from "../gitops/repo.js";
import { KubeClient } from "../kube/client.js";
import { envRepoSource } from "../sync/source.js";
import { ClusterSyncWorker, type SyncEvent } from "../sync/worker.js";
import { parseDuration } from "../api/duration.js";
import { pullNamespace } from "../api/pull.js";
import type { SyncReport } from "../api/types.js";
import type { Hub } from "./hub.js";
import { type ClusterSyncState, PulledCluster } from "./pulled-cluster.js";
import type { HubSealingKeys } from "./sealing-keys.js";

export interface ClusterManagerOptions {
  hub: Hub;
  repo: EnvRepo;
  /** Default drift-check period, ms (a Cluster's spec.resyncInterval overrides it). */
  resyncIntervalMs: number;
  /** How often members are probed, ms. Default 30 000. */
  probeIntervalMs?: number;
  /**
   * How often a member that failed its last probe is probed again, ms, so it is synced soon after
   * it returns. Default 5 000 (or probeIntervalMs if shorter).
   */
  unreachableProbeIntervalMs?: number;
  /** Probe timeout, ms. Default 5 000. */
  probeTimeoutMs?: number;
  /** Health observation period between syncs, ms. Default 5 000. */
  healthIntervalMs?: number;
  onSyncEvent: (event: SyncEvent) => void;
  /** Told of every request a sync worker sends to its cluster (metrics). */
  onClusterRequest?: (cluster: string, verb: string) => void;
  /** Called when a cluster's reachability or version changes. */
  onClusterChanged: (name: string) => void;
  onError?: (cluster: string, error: unknown) => void;
  now?: () => Date;
  /** The SyncReports already cached in a namespace, for a pull cluster seen after its reports. */
  reportsIn?: (namespace: string) => SyncReport[];
  /**
   * A pull-mode cluster whose agent has not reported for this long is not Ready (its agent
   * refreshes its report every 10 s), ms. Default 45 000.
   */
  agentSilenceMs?: number;
  /**
   * The hub's sealing keys: each push cluster gets one (created when missing) and its recipient in
   * status.sealing; a deleted Cluster's key Secret is deleted. Without it, no key is made on the hub
   * (a pull cluster's recipient, from its agent's report, is published all the same).
   */
  sealing?: HubSealingKeys;
  /** A push cluster's key could not be made or published (default: onError). */
  onSealingError?: (cluster: string, error: unknown) => void;
}

interface ClusterEntry {
  name: string;
  /** The kubeconfig text the worker was built from; a change rebuilds the worker. */
  kubeconfig: string | undefined;
  worker: ClusterSyncWorker | undefined;
  /** Pull mode: the agent's reports, in place of a worker. */
  pulled?: PulledCluster | undefined;
  /** Pull mode: the commit announced in status.desiredCommit, and one waiting while a write is in flight. */
  announced?: string | undefined;
  announcing?: boolean;
  toAnnounce?: string;
  /** Pull mode: the suspended list last written to status.suspendedDeployments (JSON). */
  suspendedAnnounced?: string | undefined;
  /** When this entry was created (ms): a pull cluster with no report after agentSilenceMs is unreachable. */
  since: number;
  reachable: boolean;
  /** Probed at least once (before that, reachability is unknown rather than false). */
  probed: boolean;
  version: string | undefined;
  message: string;
  probing: boolean;
  /** Consecutive probes of a reachable member that got no answer in time. */
  slowProbes: number;
  /** Probe again as soon as this probe is done. */
  retryProbe?: boolean;
  spec: Cluster["spec"];
  /** Ready condition last written, and since when, so an unchanged condition keeps its time. */
  readyStatus?: string;
  readySince?: string;
  statusWrittenAt: number;
  /** status.sealing as last seen on the Cluster or written by this process. */
  sealing?: ClusterSealing | undefined;
  /** Push mode: when the hub key was last made sure of (ms; 0: never); a write in flight. */
  sealingCheckedAt?: number;
  sealingBusy?: boolean;
}

/** Probes in a row without an answer in time before a member that answered before is unreachable. */
const SLOW_PROBES_UNTIL_UNREACHABLE = 2;

/** A probe that got no answer in time (one slow answer does not make a member unreachable). */
class ProbeTimeout extends FlotillaError {
  override name = "ProbeTimeout";
}

/** Rewrite an unchanged Cluster status (its lastProbeTime) at most this often. */
const STATUS_REFRESH_MS = 5 * 60_000;

export class ClusterManager {
  private readonly entries = new Map<string, ClusterEntry>();
  private readonly probeTimer: NodeJS.Timeout;
  private readonly unreachableTimer: NodeJS.Timeout;
  private readonly agentTimer: NodeJS.Timeout;
  private head: string | undefined;
  private suspended: string[] = [];

  constructor(private readonly o: ClusterManagerOptions) {
    const interval = o.probeIntervalMs ?? 30_000;
    this.probeTimer = setInterval(() => {
      for (const name of this.entries.keys()) void this.probe(name);
    }, interval);
    this.unreachableTimer = setInterval(
      () => {
        for (const e of this.entries.values()) if (e.probed && !e.reachable) void this.probe(e.name);
      },
      Math.min(interval, o.unreachableProbeIntervalMs ?? 5_000),
    );
    this.agentTimer = setInterval(() => {
      for (const e of this.entries.values()) if (e.pulled) void this.judgeAgent(e);
    }, 5_000);
  }

  names(): string[] {
    return [...this.entries.keys()].sort();
  }

  /** What the cluster's sync looks like: its worker in push mode, its agent's reports in pull mode. */
  worker(name: string): ClusterSyncState | undefined {
    const e = this.entries.get(name);
    return e?.worker ?? e?.pulled;
  }

  /**
   * The identity that opens values sealed to a push cluster (its Secret on the hub), for its sync
   * loop; undefined for a pull cluster (its agent holds it) or while the key does not exist.
   */
  async sealingIdentity(name: string): Promise<string | undefined> {
    const e = this.entries.get(name);
    if (!e || e.pulled || !this.o.sealing) return undefined;
    return this.o.sealing.identity(name);
  }

  isPull(name: string): boolean {
    return this.entries.get(name)?.pulled !== undefined;
  }

  /**
   * The suspended deployments (spec.suspend), which no sync may touch: push workers are told at
   * once, agents through status.suspendedDeployments of their Cluster.
   */
  setSuspended(deployments: ReadonlySet<string>): void {
    this.suspended = [...deployments].sort();
    for (const e of this.entries.values()) {
      if (e.pulled) this.announceSuspended(e);
      else e.worker?.setSuspended(deployments);
    }
  }

  private announceSuspended(e: ClusterEntry): void {
    const list = this.suspended;
    const text = JSON.stringify(list);
    if (e.suspendedAnnounced === text) return;
    e.suspendedAnnounced = text;
    this.o.hub.patchClusterStatus(e.name, { suspendedDeployments: list }).catch((err: unknown) => {
      e.suspendedAnnounced = undefined; // written again at the next change or agent check
      this.o.onError?.(e.name, err);
    });
  }

  isReachable(name: string): boolean {
    return this.entries.get(name)?.reachable ?? false;
  }

  /** True only when the cluster was probed and did not answer (false while it is not probed yet). */
  isUnreachable(name: string): boolean {
    const e = this.entries.get(name);
    return e?.probed === true && !e.reachable;
  }

  version(name: string): string | undefined {
    return this.entries.get(name)?.version;
  }

  message(name: string): string {
    return this.entries.get(name)?.message ?? "cluster is not registered";
  }

  /**
   * A new head of the env repo. Workers of the clusters it touched move to it; the others keep
   * their commit (their folders did not change), so a commit for one deployment does not make
   * every cluster sync again. Without `touched`, every worker moves.
   */
  setHead(commit: string, touched?: Iterable<string>): void {
    this.head = commit;
    const only = touched ? new Set(touched) : undefined;
    for (const e of this.entries.values()) {
      if (only && !only.has(e.name)) continue;
      if (e.pulled) this.announce(e, commit);
      else e.worker?.setDesired(commit);
    }
  }

  /** A SyncReport added, changed or deleted on the hub. Reports outside their cluster's namespace are ignored. */
  onReport(report: SyncReport, deleted: boolean): void {
    const name = report.spec?.cluster;
    const e = name === undefined ? undefined : this.entries.get(name);
    if (!e?.pulled || report.metadata.namespace !== pullNamespace(e.name)) return;
    const now = Date.now();
    const events = deleted ? e.pulled.remove(report, now) : e.pulled.update(report, now);
    for (const ev of events) this.o.onSyncEvent(ev);
    void this.judgeAgent(e);
  }

  /** Tell the agent of a new commit through status.desiredCommit; one write at a time, the newest wins. */
  private announce(e: ClusterEntry, commit: string): void {
    e.toAnnounce = commit;
    if (e.announcing) return;
    e.announcing = true;
    void (async () => {
      try {
        while (e.toAnnounce !== undefined && e.toAnnounce !== e.announced) {
          const next = e.toAnnounce;
          try {
            await this.o.hub.patchClusterStatus(e.name, { desiredCommit: next });
            e.announced = next;
          } catch (err) {
            // The agent polls Git as well: a missed announcement delays it, it does not lose the commit.
            this.o.onError?.(e.name, err);
            break;
          }
        }
      } finally {
        e.announcing = false;
      }
    })();
  }

  /** Is the agent reporting? Writes the Cluster's Ready condition and tells the controller when that changed. */
  private async judgeAgent(e: ClusterEntry): Promise<void> {
    const pulled = e.pulled;
    if (!pulled) return;
    if (e.suspendedAnnounced === undefined) this.announceSuspended(e);
    this.publishAgentSealing(e, pulled);
    const silence = this.o.agentSilenceMs ?? 45_000;
    const now = Date.now();
    const agent = pulled.agentReport;
    const before = `${e.reachable}|${e.version}|${e.message}`;
    if (agent && now - pulled.lastReportAt < silence) {
      e.reachable = true;
      e.probed = true;
      if (agent.version) e.version = agent.version;
      e.message = `agent ${agent.identity ?? "?"} reporting${agent.version ? `, Kubernetes ${agent.version}` : ""}`;
    } else if (agent || now - e.since >= silence) {
      e.reachable = false;
      e.probed = true;
      e.message = agent
        ? `unreachable: no report from the agent for ${Math.round((now - pulled.lastReportAt) / 1000)} s`
        : `unreachable: no agent has reported yet; install it on the cluster (flotilla cluster add ${e.name} --mode pull prints its manifest)`;
    } else return;
    const changed = `${e.reachable}|${e.version}|${e.message}` !== before;
    // The silence counter in the message changes every time: rewrite only a flip, or every STATUS_REFRESH_MS.
    const flipped = before.split("|")[0] !== String(e.reachable);
    if (flipped || (changed && !e.message.startsWith("unreachable: no report")) || now - e.statusWrittenAt > STATUS_REFRESH_MS)
      await this.writeStatus(e, flipped || changed);
    if (flipped || before.split("|")[1] !== String(e.version)) this.o.onClusterChanged(e.name);
  }

  /** Pull mode: the recipient the agent reports goes to status.sealing (since: when first seen here). */
  private publishAgentSealing(e: ClusterEntry, pulled: PulledCluster): void {
    const recipient = pulled.agentReport?.sealingRecipient;
    if (!recipient || recipient === e.sealing?.recipient || e.sealingBusy) return;
    const sealing = { recipient, since: (this.o.now ?? (() => new Date()))().toISOString() };
    e.sealingBusy = true;
    this.o.hub
      .patchClusterStatus(e.name, { sealing })
      .then(
        () => {
          e.sealing = sealing;
        },
        (err: unknown) => this.o.onError?.(e.name, err), // written at the next report or agent check
      )
      .finally(() => {
        e.sealingBusy = false;
      });
  }

  /**
   * Push mode: make sure the cluster has its key on the hub and its recipient in status.sealing.
   * Checked again every STATUS_REFRESH_MS, so a key Secret deleted to rotate it is replaced.
   */
  private ensureSealing(e: ClusterEntry): void {
    const keys = this.o.sealing;
    if (!keys || e.pulled || e.sealingBusy || Date.now() - (e.sealingCheckedAt ?? 0) < STATUS_REFRESH_MS) return;
    e.sealingBusy = true;
    void (async () => {
      try {
        const sealing = await keys.ensure(e.name);
        if (e.pulled) return; // turned to pull meanwhile: the agent's key counts
        if (sealing.recipient !== e.sealing?.recipient) await this.o.hub.patchClusterStatus(e.name, { sealing });
        e.sealing = sealing;
        e.sealingCheckedAt = Date.now();
      } catch (err) {
        // Tried again at the next probe; told apart from probe errors: no key means no sealed value opens.
        (this.o.onSealingError ?? this.o.onError)?.(e.name, err);
      } finally {
        e.sealingBusy = false;
      }
    })();
  }

  /** Cluster added or changed. */
  upsert(cluster: Cluster): void {
    const name = cluster.metadata.name;
    let entry = this.entries.get(name);
    if (!entry) {
      entry = {
        name,
        kubeconfig: undefined,
        worker: undefined,
        reachable: false,
        probed: false,
        version: cluster.status?.version,
        message: "not probed yet",
        probing: false,
        slowProbes: 0,
        spec: cluster.spec,
        statusWrittenAt: 0,
        since: Date.now(),
        ...(cluster.status?.conditions?.[0]?.lastTransitionTime
          ? { readySince: cluster.status.conditions[0].lastTransitionTime, readyStatus: cluster.status.conditions[0].status }
          : {}),
      };
      this.entries.set(name, entry);
    }
    // Our own writes come back here; a write in flight must not be undone by an older event.
    if (!entry.sealingBusy) entry.sealing = cluster.status?.sealing;
    if (cluster.spec.mode === "Pull") {
      this.upsertPull(entry, cluster);
      return;
    }
    if (entry.pulled) {
      // Pull → push: the agent's reports no longer count; the controller connects from now on.
      entry.pulled = undefined;
      entry.message = "not probed yet";
      entry.probed = false;
      entry.reachable = false;
      entry.sealingCheckedAt = 0;
    }
    this.ensureSealing(entry);
    const isNew = entry.worker === undefined && !entry.probing && entry.message === "not probed yet";
    const pausedChanged = (entry.spec.paused ?? false) !== (cluster.spec.paused ?? false);
    const resyncChanged = entry.spec.resyncInterval !== cluster.spec.resyncInterval;
    const refChanged =
      JSON.stringify(entry.spec.kubeconfigSecretRef) !== JSON.stringify(cluster.spec.kubeconfigSecretRef) || entry.spec.local !== cluster.spec.local;
    entry.spec = cluster.spec;
    if (pausedChanged) entry.worker?.setPaused(cluster.spec.paused ?? false);
    if (refChanged || resyncChanged) entry.kubeconfig = undefined; // rebuild on the next probe
    // Our own status writes come back as watch events: only a new Cluster or a changed spec is
    // probed at once; everything else waits for the probe timer.
    if (isNew || refChanged || resyncChanged) void this.probe(name);
  }

  private upsertPull(entry: ClusterEntry, cluster: Cluster): void {
    entry.spec = cluster.spec;
    if (entry.pulled) return;
    // Push → pull: this process stops connecting to the member at once.
    const worker = entry.worker;
    entry.worker = undefined;
    entry.kubeconfig = undefined;
    void worker?.stop();
    entry.pulled = new PulledCluster(entry.name);
    entry.reachable = false;
    entry.probed = false;
    entry.since = Date.now();
    entry.message = "waiting for the agent's first report";
    entry.announced = cluster.status?.desiredCommit;
    entry.suspendedAnnounced = cluster.status?.suspendedDeployments ? JSON.stringify(cluster.status.suspendedDeployments) : undefined;
    if (this.head) this.announce(entry, this.head);
    for (const r of this.o.reportsIn?.(pullNamespace(entry.name)) ?? []) this.onReport(r, false);
  }

  /** The Cluster was deleted: its worker stops and its key Secret on the hub (if any) is deleted. */
  async remove(name: string): Promise<void> {
    const entry = this.entries.get(name);
    this.entries.delete(name);
    await entry?.worker?.stop();
    // A key of a cluster that no longer exists opens nothing anyone should need: values for a
    // cluster added again under this name are sealed again (or rekeyed) to its new key.
    await this.o.sealing?.remove(name).catch((err: unknown) => this.o.onError?.(name, err));
  }

  async stop(): Promise<void> {
    clearInterval(this.probeTimer);
    clearInterval(this.unreachableTimer);
    clearInterval(this.agentTimer);
    await Promise.all([...this.entries.values()].map((e) => e.worker?.stop()));
  }

  private async readKubeconfig(spec: Cluster["spec"]): Promise<string> {
    if (spec.local) return this.o.hub.kc.exportConfig();
    const ref = spec.kubeconfigSecretRef;
    if (!ref) throw new Error("spec.kubeconfigSecretRef is not set (and spec.local is not true)");
    const text = await this.o.hub.readSecretKey(ref.namespace, ref.name, ref.key).catch((e: unknown) => {
      const code = (e as { code?: unknown }).code;
      const status = typeof code === "number" ? code : undefined;
      throw new SecretReadError(
        status === 404
          ? `Secret ${ref.namespace}/${ref.name} does not exist`
          : `Secret ${ref.namespace}/${ref.name} cannot be read (HTTP ${status ?? "error"})`,
        // No answer, or the hub failing: a fault of the hub, not of the Secret or the member.
        status === undefined || status >= 500,
        { cause: e },
      );
    });
    if (!text) throw new Error(`Secret ${ref.namespace}/${ref.name} has no key "${ref.key}"`);
    return text;
  }

  private async probe(name: string): Promise<void> {
    const entry = this.entries.get(name);
    if (!entry || entry.probing || entry.pulled) return;
    this.ensureSealing(entry);
    entry.probing = true;
    const before = `${entry.reachable}|${entry.version}|${entry.message}`;
    const wasUnreachable = entry.probed && !entry.reachable;
    try {
      let text: string;
      try {
        text = await this.readKubeconfig(entry.spec);
      } catch (e) {
        // The hub not answering says nothing about the member: probe it with what was read before.
        if (!(e instanceof SecretReadError && e.hubUnavailable && entry.kubeconfig !== undefined)) throw e;
        text = entry.kubeconfig;
      }
      const kc = new KubeConfig();
      try {
        kc.loadFromString(text);
      } catch {
        throw new Error("the kubeconfig in the Secret is not valid YAML or has no current context");
      }
      if (!kc.getCurrentCluster()) throw new Error("the kubeconfig has no current cluster");
      const version = await withTimeout(kc.makeApiClient(VersionApi).getCode(), this.o.probeTimeoutMs ?? 5_000);
      entry.slowProbes = 0;
      entry.version = version.gitVersion;
      entry.reachable = true;
      entry.message = `reachable, Kubernetes ${version.gitVersion}`;
      if (entry.kubeconfig !== text || !entry.worker) {
        await entry.worker?.stop();
        entry.kubeconfig = text;
        entry.worker = this.makeWorker(name, kc, entry.spec);
      } else if (wasUnreachable) {
        // Back: sync now rather than when the failed syncs' backoff (up to minutes) runs out.
        entry.worker.resync();
      }
    } catch (e) {
      this.o.onError?.(name, e);
      // A member that answered before and now only answers slowly (its API server busy with a
      // ramp) is asked again at once; it is unreachable when that probe fails too. Marking it
      // unreachable on one slow answer requeued every deployment on it, twice.
      if (e instanceof ProbeTimeout && entry.reachable && ++entry.slowProbes < SLOW_PROBES_UNTIL_UNREACHABLE) {
        entry.retryProbe = true;
      } else {
        entry.slowProbes = 0;
        entry.reachable = false;
        entry.message = `unreachable: ${e instanceof Error ? e.message.split("\n")[0] : String(e)}`;
      }
    } finally {
      entry.probing = false;
      entry.probed = true;
    }
    const changed = `${entry.reachable}|${entry.version}|${entry.message}` !== before;
    // Status is written when something changed, and otherwise at most every STATUS_REFRESH_MS so
    // lastProbeTime stays meaningful without a write (and a watch event) per probe.
    if (changed || Date.now() - entry.statusWrittenAt > STATUS_REFRESH_MS) await this.writeStatus(entry, changed);
    if (changed) this.o.onClusterChanged(name);
    if (entry.retryProbe) {
      entry.retryProbe = false;
      void this.probe(name);
    }
  }

  private makeWorker(name: string, kc: KubeConfig, spec: Cluster["spec"]): ClusterSyncWorker {
    const resync = spec.resyncInterval ? parseDuration(spec.resyncInterval) : this.o.resyncIntervalMs;
    const worker = new ClusterSyncWorker({
      cluster: name,
      client: new KubeClient({ kubeConfig: kc, onRequest: (verb) => this.o.onClusterRequest?.(name, verb) }),
      source: envRepoSource(this.o.repo, name),
      resyncInterval: resync,
      healthInterval: this.o.healthIntervalMs ?? 5_000,
      paused: spec.paused ?? false,
      identity: () => this.sealingIdentity(name),
      onEvent: (ev) => {
        // A whole sync failed (not one object): the member may be gone; probe it now rather than
        // at the next probe period.
        if (ev.type === "SyncFailed" && ev.deployment === undefined && this.entries.get(name)?.worker === worker) void this.probe(name);
        this.o.onSyncEvent(ev);
      },
    });
    if (this.head) worker.setDesired(this.head);
    return worker;
  }

  private async writeStatus(entry: ClusterEntry, changed: boolean): Promise<void> {
    const now = (this.o.now ?? (() => new Date()))().toISOString();
    const readyStatus = entry.reachable ? "True" : "False";
    const flipped = changed && entry.readyStatus !== readyStatus;
    const since = flipped || !entry.readySince ? now : entry.readySince;
    const ready: Condition = {
      type: "Ready",
      status: readyStatus,
      reason: entry.pulled ? (entry.reachable ? "AgentReporting" : "AgentNotReporting") : entry.reachable ? "Reachable" : "Unreachable",
      message: entry.message,
      lastTransitionTime: since,
    };
    entry.readyStatus = readyStatus;
    entry.readySince = since;
    entry.statusWrittenAt = Date.now();
    const status: ClusterStatus = { conditions: [ready], lastProbeTime: now, ...(entry.version ? { version: entry.version } : {}) };
    await this.o.hub.patchClusterStatus(entry.name, status).catch((e: unknown) => {
      entry.statusWrittenAt = 0; // written again at the next probe
      this.o.onError?.(entry.name, e);
    });
  }
}

/** The kubeconfig Secret could not be read; `hubUnavailable` when the hub did not answer properly. */
class SecretReadError extends FlotillaError {
  override name = "SecretReadError";
  constructor(
    message: string,
    readonly hubUnavailable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new ProbeTimeout(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}
