// One ClusterSyncWorker per member cluster: keeps the cluster at the latest desired commit. The
// newest commit always wins at once (an older sync in flight is interrupted between waves, a
// pending retry is cancelled); failures retry with capped exponential backoff; every
// resyncInterval the same commit is compared with the cluster again, which re-applies drifted
// objects: only the deployments whose objects the change watch saw written to (see DriftSuspects)
// while every watch is up, everything otherwise and every fullResyncEvery-th interval. One run at
// a time per cluster; stop() leaves no timer and no request behind it. This module is the commit
// loop; which deployments a run syncs is sync-scope.ts, health between syncs health-poller.ts,
// the desired state per commit desired-cache.ts.

import { type BackoffOptions, backoffDelay } from "../support/backoff.js";
import type { Manifest } from "../api/types.js";
import type { ClusterApi } from "../kube/cluster-api.js";
import { ChangeWatch, kindKey } from "./change-watch.js";
import { type Clock, clockOf, systemClock, timerDelay } from "../support/clock.js";
import { DesiredCache, type DesiredSource } from "./desired-cache.js";
import { DriftSuspects } from "./drift-suspects.js";
import type { DeploymentHealth } from "./health.js";
import { deploymentOf } from "./health.js";
import { HealthPoller, type PollTarget } from "./health-poller.js";
import { observeHealth, syncCluster } from "./sync.js";
import { commitScope, resyncScope, type ScopeState, stepOf } from "./sync-scope.js";
import type { IdentitySource } from "./sealed.js";
import { objectKey, type SyncResult } from "./types.js";

export type SyncEventType = "Synced" | "SyncFailed" | "DriftCorrected" | "Pruned" | "Skipped" | "HealthChanged";

export interface SyncEvent {
  type: SyncEventType;
  cluster: string;
  commit: string | undefined;
  /** `<namespace>/<name>` of the deployment folder concerned, when the event is about one. */
  deployment?: string;
  /** `Kind/namespace/name`, when the event is about one object. */
  object?: string;
  message: string;
}

export interface ClusterSyncWorkerOptions {
  /** Cluster name, for events and status. */
  cluster: string;
  client: ClusterApi;
  source: DesiredSource;
  /**
   * Period of drift detection (a compare-and-reapply of the current commit: of the deployments
   * whose objects changed, while the change watch is complete; of everything otherwise and every
   * fullResyncEvery-th period), ms. Default 300 000.
   */
  resyncInterval?: number;
  /**
   * Every this many resyncs, everything is compared even though the change watch saw every change:
   * a safety net in case a change did not reach the watch (Argo CD re-lists its cluster cache
   * daily for the same reason). Default 12 (hourly with the default resyncInterval).
   */
  fullResyncEvery?: number;
  /**
   * Period of health observation between syncs (reads only, no writes) of the deployments not yet
   * Healthy or changed (see watchChanges); every 12th observes all of them while changes are not
   * watched. ms; 0 disables. Default 15 000.
   */
  healthInterval?: number;
  /**
   * Watch the kinds of the applied objects (metadata only) to learn which deployments changed:
   * Healthy deployments are then observed again when their objects change and at each resync,
   * instead of every 12th health interval. Default true when healthInterval > 0.
   */
  watchChanges?: boolean;
  backoff?: BackoffOptions;
  /** Start paused: nothing is applied until setPaused(false). Default false. */
  paused?: boolean;
  /**
   * The commit last applied before this worker started (e.g. from the deployment's status), so
   * objects removed since then are pruned after a restart. Default: none.
   */
  appliedCommit?: string;
  /** Delete owned objects whose files disappeared. Default true. */
  prune?: boolean;
  /** How long to wait for applied CRDs to become Established, ms. Default 60 000. */
  crdTimeoutMs?: number;
  /**
   * A partial sync of more deployments than this goes in steps of this many, each reported as it
   * ends (see {@link WorkerStatus.deploymentCommits}). Default 32.
   */
  deploymentsPerStep?: number;
  /**
   * This cluster's age identity for opening sealed Secrets at apply time (push: the hub's Secret
   * `flotilla-sealing-<cluster>`; pull: the agent's Secret on the member); read once per sync
   * that applies a sealed Secret. Default none: every sealed Secret fails alone with a message.
   */
  identity?: IdentitySource;
  /** Receives events; exceptions it throws are ignored. Default: none. */
  onEvent?: (event: SyncEvent) => void;
  /** Clock: every time the worker reads (and the syncs it runs) goes through it. Default `() => new Date()`. */
  now?: () => Date;
}

export interface WorkerStatus {
  cluster: string;
  paused: boolean;
  /** The newest commit asked for. */
  desiredCommit: string | undefined;
  /** The last commit applied with no failed object. */
  appliedCommit: string | undefined;
  /** The commit of the last finished sync, successful or not. */
  attemptedCommit: string | undefined;
  /**
   * Deployments synced by a step of a commit that is not applied as a whole yet: deployment →
   * that commit. A deployment is at least at `appliedCommit`, or at its entry here. Emptied when
   * a commit is applied.
   */
  deploymentCommits: Record<string, string>;
  lastSyncTime: string | undefined;
  lastResult: SyncResult | undefined;
  /** Health per deployment folder, refreshed by syncs and by the health interval. */
  health: DeploymentHealth[];
  /** Why the last sync failed, if it did. */
  error: string | undefined;
  /** Consecutive failed syncs (resets on success or on a new commit). */
  failures: number;
  nextRetryAt: string | undefined;
  /** Totals since start, for metrics. */
  counters: { syncs: number; failedSyncs: number; driftCorrections: number; requests: number };
}

const FULL_RESYNC_EVERY = 12;

/**
 * A sync in flight for at least this long is interrupted by a newer commit. A sync of the
 * deployments a commit touched takes well under this even on a busy cluster; one that has run this
 * long waits on something (CRDs becoming Established, a slow server). Interrupting sooner made a
 * busy cluster abort most syncs and record none as applied while commits kept coming.
 */
const SUPERSEDE_AFTER_MS = 15_000;

/**
 * Health after a sync of some deployments: theirs from the sync, the others' as they were (minus
 * deployments no longer in the folder).
 */
function mergeHealth(
  before: readonly DeploymentHealth[],
  synced: readonly DeploymentHealth[],
  scope: ReadonlySet<string>,
  objects: readonly Manifest[],
): DeploymentHealth[] {
  const present = new Set(objects.map(deploymentOf));
  const kept = before.filter((h) => !scope.has(h.deployment) && present.has(h.deployment));
  return [...kept, ...synced].sort((a, b) => (a.deployment < b.deployment ? -1 : a.deployment > b.deployment ? 1 : 0));
}

/** A resync interval below this (`0s`) would compare the cluster in a loop: it is raised to it. */
export const MIN_RESYNC_MS = 1_000;

export class ClusterSyncWorker {
  private readonly o: ClusterSyncWorkerOptions;
  private readonly clock: Clock;
  private readonly s: WorkerStatus;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly poller: HealthPoller;
  private readonly changeWatch: ChangeWatch | undefined;
  /** Deployments the watch saw change in a way that may be drift, since their last compare. */
  private readonly suspects = new DriftSuspects();
  /** When the last sync that compared everything started (ms). */
  private lastFullSyncAt = 0;
  /** The resync timer fired: the next run of the same commit is a resync, not a retry or a resume. */
  private resyncDue = false;
  private watchedKinds = "";
  private inflight: { commit: string; abort: AbortController; startedAt: number; scope?: ReadonlySet<string> | "all" } | undefined;
  /** Syncs started so far; the number of the last full one; the last partial one per deployment. */
  private syncSeq = 0;
  private fullSyncSeq = 0;
  private readonly touchedAt = new Map<string, number>();
  /**
   * Deployments that failed in a step since the last run that finished a commit: later steps are
   * made of the others, and the last run takes them all again (it reports them and backs off).
   */
  private readonly failedInSteps = new Set<string>();
  private again = false;
  private stopped = false;
  private readonly cache: DesiredCache;
  /** Objects believed to be on the cluster from earlier syncs: the "previous" set for pruning. */
  private previous: Manifest[] | undefined;
  private suspended = new Set<string>();
  /**
   * Deployments the next sync must include even if their files did not change: they failed, or a
   * full sync is due (undefined = everything). See commitScope.
   */
  private mustSync: Set<string> | undefined;
  /** `s.health` by deployment. */
  private healthIndex = new Map<string, DeploymentHealth>();

  constructor(options: ClusterSyncWorkerOptions) {
    this.o = options;
    this.clock = options.now ? clockOf(options.now) : systemClock;
    // Keep only the commits that can still matter: the one asked for and the one applied.
    this.cache = new DesiredCache({ source: options.source, keep: () => [this.s.appliedCommit, this.s.desiredCommit] });
    this.poller = new HealthPoller({
      intervalMs: options.healthInterval ?? 15_000,
      fullResyncMs: this.fullResyncMs,
      clock: this.clock,
      target: () => this.pollTarget(),
      observe: (objects, partial) => observeHealth(this.o.client, objects, { partial }),
    });
    this.s = {
      cluster: options.cluster,
      paused: options.paused ?? false,
      desiredCommit: undefined,
      appliedCommit: options.appliedCommit,
      attemptedCommit: undefined,
      deploymentCommits: {},
      lastSyncTime: undefined,
      lastResult: undefined,
      health: [],
      error: undefined,
      failures: 0,
      nextRetryAt: undefined,
      counters: { syncs: 0, failedSyncs: 0, driftCorrections: 0, requests: 0 },
    };
    if ((options.healthInterval ?? 15_000) > 0 && (options.watchChanges ?? true)) {
      this.changeWatch = new ChangeWatch({
        client: options.client,
        clock: this.clock,
        onChange: (change) => {
          this.poller.markChanged(change.deployment);
          this.suspects.observe(change);
        },
        onMissed: (kind) => {
          this.poller.forceFullPass();
          this.suspects.suspectAll(new Set((this.previous ?? []).filter((o) => kindKey(o) === kind).map(deploymentOf)));
        },
      });
    }
    this.poller.start();
  }

  /**
   * The worker's state as it is now, without copies: the controller reads it several times per
   * reconcile, and a copy of every deployment's health per read made each reconcile cost O(N).
   * Read it and let go; `status` is the copy to keep.
   */
  get view(): Readonly<WorkerStatus> {
    return this.s;
  }

  /** One deployment's health from the last observation (see `view`). */
  healthOf(deployment: string): DeploymentHealth | undefined {
    return this.healthIndex.get(deployment);
  }

  /** A snapshot of the worker's state (a copy; safe to keep). */
  get status(): WorkerStatus {
    return {
      ...this.s,
      counters: { ...this.s.counters, requests: this.o.client.stats.total },
      health: [...this.s.health],
      deploymentCommits: { ...this.s.deploymentCommits },
    };
  }

  /** Ask for a commit. It supersedes any older one at once, even one failing or backing off. */
  setDesired(commit: string): void {
    if (this.stopped) return;
    if (commit === this.s.desiredCommit && this.s.failures === 0) return;
    if (commit !== this.s.desiredCommit) this.s.failures = 0;
    this.s.desiredCommit = commit;
    // A sync that is nearly done is let finish (it records its commit, then the newer one runs):
    // aborting every sync on every commit would keep a busy cluster from ever completing one.
    // One that has run for a while (waiting on CRDs, a slow server) is interrupted at once.
    if (this.inflight && this.inflight.commit !== commit && this.clock.now() - this.inflight.startedAt >= SUPERSEDE_AFTER_MS) {
      this.inflight.abort.abort();
    }
    this.wake();
  }

  /** Pause (nothing is applied; a sync in flight stops between waves) or resume. */
  setPaused(paused: boolean): void {
    this.s.paused = paused;
    if (paused) {
      this.clearTimer();
      this.inflight?.abort.abort();
    } else {
      this.wake();
    }
  }

  /**
   * Deployments (`<namespace>/<name>`) whose objects are neither applied nor pruned, e.g. while
   * their ApplicationDeployment has `spec.suspend: true`.
   */
  setSuspended(deployments: Iterable<string>): void {
    const next = new Set(deployments);
    // A resumed deployment is compared with the cluster again, whether or not its files changed.
    for (const d of this.suspended) if (!next.has(d)) this.mustSync?.add(d);
    this.suspended = next;
  }

  /** Run a sync of the current commit now (drift check included), without waiting for the timer. */
  resync(): void {
    this.mustSync = undefined;
    this.wake();
  }

  /** Resolves when no sync is running or queued. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stop: cancel timers, interrupt a sync in flight and wait for it; the worker is unusable after. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.clearTimer();
    this.poller.stop();
    this.inflight?.abort.abort();
    await this.idle();
    await this.poller.idle();
    await this.changeWatch?.stop();
  }

  // ---------- internals ----------

  private emit(event: Omit<SyncEvent, "cluster">): void {
    try {
      this.o.onEvent?.({ cluster: this.o.cluster, ...event });
    } catch {
      // A listener's failure must not break the loop.
    }
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.s.nextRetryAt = undefined;
  }

  private schedule(requestedMs: number, retry: boolean): void {
    const delayMs = timerDelay(requestedMs);
    this.clearTimer();
    if (this.stopped || this.s.paused) return;
    if (retry) this.s.nextRetryAt = new Date(this.clock.now() + delayMs).toISOString();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!retry) this.resyncDue = true;
      this.wake();
    }, delayMs);
  }

  /**
   * What a health poll starts from (see HealthPoller): what the syncs so far put on the cluster
   * (steps of a commit included), not a commit's files, since during a ramp the commits keep coming
   * and one is applied as a whole only now and then. Nothing while a full sync is in flight (it
   * observes everything itself) or while paused. What a sync started meanwhile touched is not
   * recorded (the sync knows better), nor anything after a full sync started.
   */
  private pollTarget(): PollTarget | undefined {
    const applied = this.previous;
    const busy = this.inflight?.scope;
    if (!applied || busy === "all" || this.s.paused || this.stopped) return undefined;
    const startSeq = this.syncSeq;
    return {
      applied,
      suspended: this.suspended,
      busy,
      health: this.s.health,
      watched: this.changeWatch?.complete ?? false,
      record: (observed) => {
        if (this.fullSyncSeq > startSeq || this.stopped) return;
        const fresh = new Map(observed.filter((h) => (this.touchedAt.get(h.deployment) ?? 0) <= startSeq).map((h) => [h.deployment, h]));
        // Only deployments the last sync recorded are updated: one it removed meanwhile stays removed.
        this.recordHealth(
          this.s.health.map((h) => fresh.get(h.deployment) ?? h),
          this.s.attemptedCommit,
        );
      },
    };
  }

  /** The change watch follows the kinds of what the syncs put on the cluster. */
  private watchKinds(): void {
    if (!this.changeWatch || this.stopped) return;
    const kinds = [...new Set((this.previous ?? []).map(kindKey))].sort();
    const signature = kinds.join(",");
    if (signature === this.watchedKinds) return;
    this.watchedKinds = signature;
    this.changeWatch.setKinds(kinds);
  }

  private recordHealth(health: DeploymentHealth[], commit: string | undefined): void {
    const before = new Map(this.s.health.map((h) => [h.deployment, h.health] as const));
    this.s.health = health;
    this.healthIndex = new Map(health.map((h) => [h.deployment, h]));
    for (const h of health) {
      const was = before.get(h.deployment);
      if (was !== undefined && was !== h.health) {
        this.emit({ type: "HealthChanged", commit, deployment: h.deployment, message: `${was} → ${h.health}${h.message ? `: ${h.message}` : ""}` });
      }
    }
  }

  private filter(objects: readonly Manifest[]): Manifest[] {
    return this.suspended.size === 0 ? [...objects] : objects.filter((o) => !this.suspended.has(deploymentOf(o)));
  }

  private wake(): void {
    if (this.stopped) return;
    this.clearTimer();
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.runOnce()
      .catch(() => undefined)
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.stopped) {
          this.again = false;
          this.wake();
        }
      });
  }

  private async runOnce(): Promise<void> {
    const commit = this.s.desiredCommit;
    if (!commit || this.s.paused || this.stopped) return;
    const abort = new AbortController();
    this.inflight = { commit, abort, startedAt: this.clock.now() };
    const isNewCommit = commit !== this.s.attemptedCommit;
    const resyncDue = this.resyncDue;
    this.resyncDue = false;
    let suspected: string[] = [];
    try {
      const desired = await this.cache.load(commit);
      if (this.previous === undefined && this.s.appliedCommit && this.s.appliedCommit !== commit) {
        // After a restart: what the last applied commit put on the cluster is the prune baseline.
        this.previous = (await this.cache.load(this.s.appliedCommit).catch(() => undefined))?.objects;
      }
      if (abort.signal.aborted) return;
      const objects = this.filter(desired.objects);
      const previous = this.filter(this.previous ?? []);
      // The same commit again is a resync: everything is compared with the cluster, or on the
      // timer, while the watch has seen every change, what may have drifted.
      let scope = isNewCommit ? commitScope(this.scopeState(), objects, previous) : resyncDue ? this.resyncScope() : undefined;
      // A large partial sync goes in steps (see stepOf).
      const step = stepOf(scope, { isNewCommit, failedInSteps: this.failedInSteps, perStep: this.o.deploymentsPerStep ?? 32 });
      const isStep = step !== undefined;
      if (isStep) scope = step;
      else this.failedInSteps.clear();
      const seq = ++this.syncSeq;
      if (scope === undefined) this.fullSyncSeq = seq;
      else for (const d of scope) this.touchedAt.set(d, seq);
      this.inflight.scope = scope ?? "all";
      const inScope = (o: Manifest) => scope === undefined || scope.has(deploymentOf(o));
      suspected = this.suspects.take(scope);
      const outcome = await syncCluster({
        client: this.o.client,
        desired: { commit, objects: objects.filter(inScope), ...(desired.invalid ? { invalid: desired.invalid } : {}) },
        previous: previous.filter(inScope),
        prune: this.o.prune ?? true,
        signal: abort.signal,
        crdTimeoutMs: this.o.crdTimeoutMs ?? 60_000,
        clock: this.clock,
        ...(scope ? { partial: true } : {}),
        ...(this.o.identity ? { identity: this.o.identity } : {}),
      });
      if (outcome.aborted) {
        this.suspects.restore(suspected);
        return; // a newer commit or a pause interrupted us; wake() runs again
      }
      const { pruneFailed, inSync, ...scoped } = outcome;
      for (const { desired: d, live } of inSync) this.suspects.recordCompared(objectKey(d), deploymentOf(d), d, live.metadata);
      if (scope === undefined) {
        // It observed and compared everything.
        this.poller.fullPassDone(this.inflight.startedAt);
        this.lastFullSyncAt = this.inflight.startedAt;
        this.suspects.retain(new Set(objects.map(objectKey)));
      }
      const result = scope ? { ...scoped, health: mergeHealth(this.s.health, scoped.health, scope, objects) } : scoped;
      if (scope && isStep) {
        this.finishStep(commit, scope, objects, pruneFailed, result);
        return;
      }
      this.mustSync = new Set(result.changes.filter((c) => c.action === "failed").map((c) => c.deployment));
      // Suspended deployments' objects stay in the baseline so they are pruned once resumed and removed.
      const kept = (this.previous ?? []).filter((o) => this.suspended.has(deploymentOf(o)));
      this.previous = [...objects, ...pruneFailed, ...kept];
      this.watchKinds();
      this.s.counters.syncs++;
      this.s.attemptedCommit = commit;
      this.s.lastResult = result;
      this.s.lastSyncTime = new Date(this.clock.now()).toISOString();
      if (result.failed > 0) {
        this.fail(
          `${result.failed} object(s) failed: ${result.changes
            .filter((c) => c.action === "failed")
            .slice(0, 3)
            .map((c) => c.message)
            .join("; ")}`,
        );
      } else {
        this.s.failures = 0;
        this.s.error = undefined;
        this.s.appliedCommit = commit;
        this.s.deploymentCommits = {};
        this.schedule(Math.max(this.o.resyncInterval ?? 300_000, MIN_RESYNC_MS), false);
      }
      // Events last: a listener may act on them at once (the controller reconciles synchronously
      // up to its first await), and must see the applied commit this sync just recorded.
      this.recordHealth(result.health, commit);
      this.report(result, isNewCommit);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.suspects.restore(suspected);
      this.mustSync = undefined;
      this.failedInSteps.clear();
      this.emit({ type: "SyncFailed", commit, message });
      this.fail(message);
    } finally {
      if (this.inflight?.abort === abort) this.inflight = undefined;
    }
  }

  /**
   * One step of a large partial sync is done. The prune baseline moves for the step's deployments
   * that synced without failure, so the next run's scope is the rest; failed ones stay in it but
   * out of later steps, and end in the last run, which reports them and backs off. Their commit is
   * recorded per deployment; the commit as a whole is applied only by the last run.
   */
  private finishStep(commit: string, step: ReadonlySet<string>, objects: readonly Manifest[], pruneFailed: readonly Manifest[], result: SyncResult): void {
    const failed = new Set(result.changes.filter((c) => c.action === "failed").map((c) => c.deployment));
    const done = new Set([...step].filter((d) => !failed.has(d)));
    for (const d of failed) this.failedInSteps.add(d);
    this.previous = [...(this.previous ?? []).filter((o) => !done.has(deploymentOf(o))), ...objects.filter((o) => done.has(deploymentOf(o))), ...pruneFailed];
    this.watchKinds();
    for (const d of done) {
      this.mustSync?.delete(d);
      this.s.deploymentCommits[d] = commit;
    }
    this.recordHealth(result.health, commit);
    this.report({ ...result, changes: result.changes.filter((c) => done.has(c.deployment)) }, true);
    this.again = true; // the rest of the commit next, or a newer commit
  }

  /** What the scope of the next run depends on (see sync-scope.ts). */
  private scopeState(): ScopeState {
    return { mustSync: this.mustSync, hasBaseline: this.previous !== undefined, failures: this.s.failures };
  }

  /**
   * What a resync on the timer compares (see resyncScope): the watch's changes not judged yet are
   * judged first (a watch that lists again makes its kind's deployments suspects).
   */
  private resyncScope(): Set<string> | undefined {
    this.suspects.judgeRest();
    return resyncScope({
      ...this.scopeState(),
      watchComplete: this.changeWatch?.complete ?? false,
      suspects: this.suspects.pending,
      now: this.clock.now(),
      lastFullSyncAt: this.lastFullSyncAt,
      fullResyncMs: this.fullResyncMs,
    });
  }

  private get fullResyncMs(): number {
    return (this.o.fullResyncEvery ?? FULL_RESYNC_EVERY) * (this.o.resyncInterval ?? 300_000);
  }

  private fail(message: string): void {
    this.s.failures++;
    this.s.counters.failedSyncs++;
    this.s.error = message;
    this.schedule(backoffDelay(this.s.failures, this.o.backoff ?? {}), true);
  }

  private report(result: SyncResult, isNewCommit: boolean): void {
    const byDeployment = new Map<string, SyncResult["changes"]>();
    for (const c of result.changes) {
      const list = byDeployment.get(c.deployment) ?? [];
      list.push(c);
      byDeployment.set(c.deployment, list);
      if (c.drift && c.drift.length > 0) {
        this.s.counters.driftCorrections++;
        this.emit({ type: "DriftCorrected", commit: result.commit, deployment: c.deployment, object: c.object, message: c.message });
      }
      if (c.action === "skipped" && isNewCommit)
        this.emit({ type: "Skipped", commit: result.commit, deployment: c.deployment, object: c.object, message: c.message });
    }
    for (const [deployment, changes] of byDeployment) {
      const count = (a: string) => changes.filter((c) => c.action === a).length;
      const failed = count("failed");
      const deleted = count("deleted");
      if (deleted > 0) this.emit({ type: "Pruned", commit: result.commit, deployment, message: `${deleted} object(s) pruned` });
      if (failed > 0) {
        const first = changes.find((c) => c.action === "failed");
        this.emit({
          type: "SyncFailed",
          commit: result.commit,
          deployment,
          message: `${failed} of ${changes.length} object(s) failed; first: ${first?.message ?? ""}`,
        });
      } else if (isNewCommit || count("created") + count("configured") + deleted > 0) {
        const summary = (["created", "configured", "unchanged", "deleted", "skipped"] as const)
          .map((a) => [a, count(a)] as const)
          .filter(([, n]) => n > 0)
          .map(([a, n]) => `${n} ${a}`)
          .join(", ");
        this.emit({ type: "Synced", commit: result.commit, deployment, message: `synced ${result.commit.slice(0, 12)}: ${summary}` });
      }
    }
  }
}
