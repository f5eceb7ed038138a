// A work queue keyed by object: a key is processed by one worker at a time, adding a key that is
// already waiting is a no-op, a key added while it is being processed runs once more afterwards,
// and failures requeue with per-key exponential backoff (the rate limit of controller-runtime).

export interface WorkQueueOptions<K> {
  /** Handles one key; a thrown error requeues the key with backoff. */
  process: (key: K) => Promise<void>;
  /** Keys processed at once (different keys). Default 4. */
  concurrency?: number;
  /** First retry delay after a failure, ms. Default 500. */
  baseDelayMs?: number;
  /** Upper bound of the retry delay, ms. Default 60 000. */
  maxDelayMs?: number;
  /** Called with the error of a failed key, for logs and metrics. */
  onError?: (key: K, error: unknown) => void;
}

export class WorkQueue<K> {
  private readonly o: Required<Omit<WorkQueueOptions<K>, "onError">> & Pick<WorkQueueOptions<K>, "onError">;
  private readonly ready: K[] = [];
  private readonly waiting = new Set<K>();
  private readonly active = new Set<K>();
  private readonly dirty = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly timers = new Map<K, NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions<K>) {
    this.o = { concurrency: 4, baseDelayMs: 500, maxDelayMs: 60_000, ...options };
  }

  /** Keys waiting or being processed. */
  get depth(): number {
    return this.waiting.size + this.active.size;
  }

  /** Queue a key now, or after `delayMs` (an earlier pending time wins). */
  add(key: K, delayMs = 0): void {
    if (this.stopped) return;
    if (delayMs > 0) {
      if (this.timers.has(key) || this.waiting.has(key)) return;
      this.timers.set(key, setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, delayMs));
      return;
    }
    const timer = this.timers.get(key);
    if (timer) {
      clearTimeout(timer);
      this.timers.delete(key);
    }
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.ready.push(key);
    this.pump();
  }

  /** Forget a key's failure count (after a success or when the object is gone). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** Resolves when nothing is waiting or running (timers for later keys are not waited for). */
  async idle(): Promise<void> {
    if (this.depth === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
    this.ready.length = 0;
    this.waiting.clear();
  }

  private pump(): void {
    while (!this.stopped && this.running < this.o.concurrency && this.ready.length > 0) {
      const key = this.ready.shift() as K;
      this.waiting.delete(key);
      this.active.add(key);
      this.running++;
      void this.run(key);
    }
  }

  private async run(key: K): Promise<void> {
    try {
      await this.o.process(key);
      this.failures.delete(key);
    } catch (error) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      this.o.onError?.(key, error);
      this.active.delete(key);
      this.running--;
      this.add(key, Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (n - 1)));
      this.afterRun(key);
      return;
    }
    this.active.delete(key);
    this.running--;
    this.afterRun(key);
  }

  private afterRun(key: K): void {
    if (this.dirty.delete(key)) this.add(key);
    this.pump();
    if (this.depth === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
