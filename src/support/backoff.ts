// Capped exponential backoff, the one formula every retry loop uses (sync worker, work queue, hub
// informers, change watches, installs, the node simulator). Pure arithmetic; callers own the timer.

export interface BackoffOptions {
  /** First retry delay in ms. Default 1 000. */
  initialMs?: number;
  /** Upper bound of the delay in ms. Default 300 000 (5 minutes). */
  maxMs?: number;
  /** Growth per consecutive failure. Default 2. */
  factor?: number;
}

/** Delay before retry number `failures` (1-based): initial × factor^(failures−1), capped at max. */
export function backoffDelay(failures: number, o: BackoffOptions = {}): number {
  const initial = o.initialMs ?? 1_000;
  const max = o.maxMs ?? 300_000;
  return Math.min(max, initial * (o.factor ?? 2) ** Math.max(0, failures - 1));
}
