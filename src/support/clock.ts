// Time in the sync loop: the clock it reads, as a small seam (the worker, its health poller and a
// sync read the time only through a Clock, so tests can fix or step it), and the delays its timers
// can honour. It never starts a timer: timers stay Node's, and tests fake both with vi.useFakeTimers.

/** Reads the current time. */
export interface Clock {
  /** Milliseconds since the epoch, as `Date.now()`. */
  now(): number;
}

/** The system clock. Reads `Date.now` at each call, so fake timers installed later are honoured. */
export const systemClock: Clock = { now: () => Date.now() };

/** A Clock reading a `() => Date` function (the form the worker's `now` option takes). */
export function clockOf(now: () => Date): Clock {
  return { now: () => now().getTime() };
}

/** Node fires a timer at once when its delay is over 2^31 − 1 ms (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay setTimeout honours: a longer interval (`resyncInterval: 720h`, which the schema
 * accepts) waits the longest delay Node keeps instead of firing at once, over and over.
 */
export function timerDelay(ms: number): number {
  if (Number.isNaN(ms)) return MAX_TIMER_MS;
  return Math.min(Math.max(ms, 0), MAX_TIMER_MS);
}
