// A cluster's health poller: between syncs it observes (reads only) the deployments that are not
// Healthy yet or whose objects the change watch saw change, and now and then all of them, at a pace
// it tunes to how long its passes take, so polling stays a small share of a busy cluster's time.
// It never writes to the cluster and never records health itself: the worker decides what a pass
// may overwrite. The pacing and the choice of what to read are pure functions below.

import type { Manifest } from "../api/types.js";
import { type Clock, timerDelay } from "../support/clock.js";
import { type DeploymentHealth, deploymentOf } from "./health.js";

/**
 * Every this many health intervals, all deployments are observed, Healthy ones included, while the
 * change watch is incomplete (with it, at each full resync, see fullResyncMs).
 */
const FULL_PASS_EVERY = 12;
/**
 * ... unless the last such pass took longer than this fraction of the period: then the period
 * grows, so reading every object and Pod of a large cluster stays about 1 % of the time.
 */
const FULL_PASS_SHARE = 0.01;
/** A poll that took long waits this many times its duration before the next one. */
const SLOW_POLL_FACTOR = 3;

/**
 * The delay before the next poll: the interval, or three times the last poll's duration when that
 * is longer (hundreds of deployments coming up on a busy cluster), so polling stays under a
 * quarter of the time and the cluster's API server serves syncs. Always a delay setTimeout honours.
 */
export function nextPollDelay(intervalMs: number, lastPollMs: number): number {
  return timerDelay(Math.max(intervalMs, SLOW_POLL_FACTOR * lastPollMs));
}

export interface FullPassTiming {
  /** The health interval, ms. */
  intervalMs: number;
  /** Whether every change watch is up: then a full pass is only needed once per full resync. */
  watched: boolean;
  /** The period of full resyncs, ms. */
  fullResyncMs: number;
  /** How long the last pass over everything took, ms (0 before the first). */
  lastFullPassMs: number;
}

/**
 * How long after a pass over every deployment the next one is due: FULL_PASS_EVERY intervals, or
 * the full resync period while changes are watched, stretched so a slow pass stays about
 * FULL_PASS_SHARE of the time (a pass that took 2 s runs every 200 s).
 */
export function fullPassPeriod(t: FullPassTiming): number {
  return Math.max(FULL_PASS_EVERY * t.intervalMs, t.watched ? t.fullResyncMs : 0, t.lastFullPassMs / FULL_PASS_SHARE);
}

export interface PassInput {
  /** The time now, and when the last pass over everything started, ms. */
  now: number;
  lastFullPassAt: number;
  /** See fullPassPeriod. */
  period: number;
  /** Health per deployment as last recorded. */
  health: readonly DeploymentHealth[];
  /** Deployments whose objects the change watch saw change since the last poll. */
  changed: ReadonlySet<string>;
  /** The scope of a partial sync in flight: it observes those itself. */
  busy: ReadonlySet<string> | undefined;
}

/** The deployments one poll observes. */
export type HealthPass =
  /** Every deployment but those a sync in flight holds: the pass counts as a pass over everything. */
  | { everything: true; except: ReadonlySet<string> }
  /** The deployments not Healthy yet or changed, but those a sync in flight holds. */
  | { everything: false; deployments: ReadonlySet<string> };

/**
 * What one poll observes: everything once `period` has passed since the last pass over everything,
 * else the deployments not Healthy yet (a rollout waits on them) and those whose objects changed;
 * undefined when there is nothing to read (the common case of a settled, idle fleet).
 */
export function planPass(input: PassInput): HealthPass | undefined {
  const busy = input.busy ?? new Set<string>();
  if (input.now - input.lastFullPassAt >= input.period) return { everything: true, except: busy };
  const deployments = new Set<string>();
  for (const h of input.health) if (h.health !== "Healthy" && !busy.has(h.deployment)) deployments.add(h.deployment);
  for (const d of input.changed) if (!busy.has(d)) deployments.add(d);
  return deployments.size === 0 ? undefined : { everything: false, deployments };
}

/** Whether a poll observes a deployment. */
export function inPass(pass: HealthPass, deployment: string): boolean {
  return pass.everything ? !pass.except.has(deployment) : pass.deployments.has(deployment);
}

/** What the worker holds when a poll starts. */
export interface PollTarget {
  /** What the syncs so far put on the cluster. */
  applied: readonly Manifest[];
  /** Deployments neither applied nor observed (suspended). */
  suspended: ReadonlySet<string>;
  /** See PassInput.busy. */
  busy: ReadonlySet<string> | undefined;
  /** See PassInput.health. */
  health: readonly DeploymentHealth[];
  /** Whether every change watch is up. */
  watched: boolean;
  /** Takes what the poll observed; the worker keeps what no sync started since made stale. */
  record(observed: DeploymentHealth[]): void;
}

export interface HealthPollerOptions {
  /** Period of polls, ms; 0 disables polling. */
  intervalMs: number;
  /** The period of full resyncs, ms (see fullPassPeriod). */
  fullResyncMs: number;
  /** Every time the poller reads goes through it. */
  clock: Clock;
  /** What a poll starts from; undefined when nothing can be observed now (no sync yet, a full sync in flight, paused). */
  target: () => PollTarget | undefined;
  /** Reads the health of objects (from the cluster); `partial` when not every deployment is read. */
  observe: (objects: Manifest[], partial: boolean) => Promise<DeploymentHealth[]>;
}

export class HealthPoller {
  private timer: NodeJS.Timeout | undefined;
  private run: Promise<void> | undefined;
  private stopped = false;
  /** When the last pass over every deployment started, and how long it took (ms). */
  private fullPassAt: number;
  private fullPassMs = 0;
  /** Deployments whose objects changed on the cluster since the last poll (watch). */
  private changed = new Set<string>();

  constructor(private readonly o: HealthPollerOptions) {
    this.fullPassAt = o.clock.now();
  }

  /** Start polling (no-op when the interval is 0). */
  start(): void {
    this.schedule(0);
  }

  /** The change watch saw one of a deployment's objects change: the next poll observes it. */
  markChanged(deployment: string): void {
    this.changed.add(deployment);
  }

  /** Changes may have been missed (a watch listed again): the next poll observes everything. */
  forceFullPass(): void {
    this.fullPassAt = 0;
  }

  /** A sync that started at `startedAt` (ms) observed every deployment: it counts as a full pass. */
  fullPassDone(startedAt: number): void {
    this.fullPassAt = startedAt;
  }

  /** No more polls; a poll in flight finishes (see idle). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Resolves when no poll is running. */
  async idle(): Promise<void> {
    await this.run;
  }

  private schedule(lastPollMs: number): void {
    if (this.o.intervalMs <= 0 || this.stopped) return;
    this.timer = setTimeout(
      () => {
        const started = this.o.clock.now();
        this.run = this.poll()
          .catch(() => undefined)
          .finally(() => {
            this.run = undefined;
            this.schedule(this.o.clock.now() - started);
          });
      },
      nextPollDelay(this.o.intervalMs, lastPollMs),
    );
  }

  /**
   * One poll. It runs beside a partial sync (during a ramp, commits keep the worker syncing all the
   * time, and deployments synced earlier would otherwise wait for the last commit to become
   * Healthy), for the deployments outside its scope.
   */
  private async poll(): Promise<void> {
    const target = this.o.target();
    if (!target) return;
    const started = this.o.clock.now();
    const period = fullPassPeriod({
      intervalMs: this.o.intervalMs,
      watched: target.watched,
      fullResyncMs: this.o.fullResyncMs,
      lastFullPassMs: this.fullPassMs,
    });
    const changed = this.changed;
    this.changed = new Set();
    const pass = planPass({ now: started, lastFullPassAt: this.fullPassAt, period, health: target.health, changed, busy: target.busy });
    if (!pass) return;
    const objects = target.applied.filter((o) => {
      const d = deploymentOf(o);
      return !target.suspended.has(d) && inPass(pass, d);
    });
    if (objects.length === 0) return;
    const observed = await this.o.observe(objects, !pass.everything);
    if (pass.everything) {
      this.fullPassAt = started;
      this.fullPassMs = this.o.clock.now() - started;
    }
    target.record(observed);
  }
}
