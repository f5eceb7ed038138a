// A keyed work queue with bounded concurrency, in the style of client-go's workqueue: a key is
// processed by at most one worker at a time, adding a key that is already waiting is a no-op, a
// key added while it is being processed runs again afterwards, and failures retry with back-off.
// Keys added with low priority (periodic re-checks that nothing asked for) wait until no other
// key does, like controller-runtime's priority queue: under load they would otherwise delay the
// work that events ask for. The controller queues deployments with it; the node simulator pods.

import { backoffDelay } from "./backoff.js";

/** "low": a periodic re-check, processed only when no normal key waits. */
export type Priority = "normal" | "low";

export interface WorkQueueOptions {
  /** Processes one key; a throw schedules a retry with exponential back-off. */
  handler: (key: string) => Promise<void>;
  /** Keys processed at once. Default 16. */
  concurrency?: number;
  /** First retry delay; doubles per consecutive failure up to maxBackoffMs. Default 200 ms. */
  baseBackoffMs?: number;
  /** Default 10 s. */
  maxBackoffMs?: number;
  /** Called with each handler failure (after which the key is retried). */
  onError?: (key: string, err: unknown) => void;
}

export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys waiting at low priority, in order; a key promoted to normal leaves it. */
  private readonly lowQueue = new Set<string>();
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  /** Keys added while being processed, with the priority of their next run. */
  private readonly dirty = new Map<string, Priority>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; due: number; priority: Priority }>();
  private readonly failures = new Map<string, number>();
  private running = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: WorkQueueOptions) {}

  add(key: string, priority: Priority = "normal"): void {
    if (this.stopped) return;
    this.clearTimer(key);
    if (this.active.has(key)) {
      if (this.dirty.get(key) !== "normal") this.dirty.set(key, priority);
      return;
    }
    if (this.queued.has(key)) {
      // A key waiting at low priority that something now asks for moves up.
      if (priority === "normal" && this.lowQueue.delete(key)) this.queue.push(key);
      else return;
    } else {
      this.queued.add(key);
      if (priority === "normal") this.queue.push(key);
      else this.lowQueue.add(key);
    }
    this.pump();
  }

  /**
   * Add the key after `ms`. A timer already set for the key that is due sooner stays (at the higher
   * of the two priorities), as in client-go's delaying queue: the periodic requeue a run sets at its
   * end must not push back what an event asked for while it ran.
   */
  addAfter(key: string, ms: number, priority: Priority = "normal"): void {
    if (this.stopped) return;
    const due = Date.now() + Math.max(0, ms);
    const pending = this.timers.get(key);
    if (pending && pending.due <= due) {
      if (priority === "normal") pending.priority = "normal";
      return;
    }
    this.clearTimer(key);
    const timer = setTimeout(
      () => {
        // The entry's priority may have been raised since it was set.
        const fired = this.timers.get(key)?.priority ?? priority;
        this.timers.delete(key);
        this.add(key, fired);
      },
      Math.max(0, ms),
    );
    timer.unref();
    this.timers.set(key, { timer, due, priority: pending?.priority === "normal" ? "normal" : priority });
  }

  /**
   * Make sure the key is processed within `ms`, keeping a key that already waits or is due
   * sooner: a burst of events for one key (its clusters syncing one after another) becomes one run.
   */
  addWithin(key: string, ms: number): void {
    if (this.stopped || (this.queued.has(key) && !this.lowQueue.has(key))) return;
    this.addAfter(key, ms);
  }

  /** Forget a key: pending timers and failure counts (e.g. the object was deleted). */
  forget(key: string): void {
    this.clearTimer(key);
    this.failures.delete(key);
  }

  get size(): number {
    return this.queue.length + this.lowQueue.size + this.active.size;
  }

  /** Stop taking work and wait for the keys being processed. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t.timer);
    this.timers.clear();
    this.queue.length = 0;
    this.lowQueue.clear();
    this.queued.clear();
    if (this.running > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  private clearTimer(key: string): void {
    const t = this.timers.get(key);
    if (t) clearTimeout(t.timer);
    this.timers.delete(key);
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 16;
    while (!this.stopped && this.running < limit && this.queued.size > 0) {
      const key = this.queue.shift() ?? this.takeLow();
      this.queued.delete(key);
      this.active.add(key);
      this.running++;
      void this.run(key);
    }
  }

  private takeLow(): string {
    const key = this.lowQueue.values().next().value as string;
    this.lowQueue.delete(key);
    return key;
  }

  private async run(key: string): Promise<void> {
    try {
      await this.options.handler(key);
      this.failures.delete(key);
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      this.options.onError?.(key, err);
      this.addAfter(key, backoffDelay(n, { initialMs: this.options.baseBackoffMs ?? 200, maxMs: this.options.maxBackoffMs ?? 10_000 }));
    } finally {
      this.active.delete(key);
      this.running--;
      const again = this.dirty.get(key);
      if (again) {
        this.dirty.delete(key);
        this.add(key, again);
      }
      if (this.running === 0 && this.stopped) for (const w of this.idleWaiters.splice(0)) w();
      this.pump();
    }
  }
}
