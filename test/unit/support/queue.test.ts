// The work queue under a fake clock: vi.useFakeTimers() fakes the setTimeout and Date.now the queue
// uses, so every delay is checked to the millisecond and no assertion depends on how busy the machine is.

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WorkQueue } from "../../../src/support/queue.js";

/** Move the fake clock on by `ms`, running the timers that fall due and the promise callbacks they start. */
const advance = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
});

afterEach(() => {
  vi.useRealTimers();
});

/**
 * One worker, held by its first key until `drain()`, which lets it go and returns the keys in the
 * order they ran: what is added meanwhile waits.
 */
function heldQueue(first: string) {
  const calls: string[] = [];
  let release: () => void = () => {};
  const q = new WorkQueue({
    concurrency: 1,
    handler: async (key) => {
      calls.push(key);
      if (calls.length === 1) await new Promise<void>((r) => (release = r));
    },
  });
  q.add(first);
  return {
    q,
    drain: async () => {
      release();
      while (q.size > 0) await advance();
      return calls;
    },
  };
}

describe("WorkQueue", () => {
  it("never runs more handlers at once than its concurrency", async () => {
    let running = 0;
    let peak = 0;
    const done: string[] = [];
    const q = new WorkQueue({
      concurrency: 3,
      handler: async (key) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        done.push(key);
      },
    });
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    while (done.length < 20) await advance(5);
    expect(peak).toBe(3);
  });

  it("processes a key added twice while waiting once, and again if added while processing", async () => {
    const { q, drain } = heldQueue("a");
    q.add("b");
    q.add("b");
    await advance();
    q.add("a"); // while "a" is being processed
    expect(await drain()).toEqual(["a", "b", "a"]);
  });

  it("retries a failing key after base, doubled and capped back-off delays, and stops retrying once it succeeds", async () => {
    const attempts: number[] = [];
    const errors: unknown[] = [];
    const q = new WorkQueue({
      baseBackoffMs: 100,
      maxBackoffMs: 250,
      handler: async () => {
        attempts.push(Date.now());
        if (attempts.length <= 3) throw new Error("boom");
      },
      onError: (_k, e) => errors.push(e),
    });
    q.add("x");
    await advance();
    expect(attempts).toEqual([0]);
    // Each retry comes exactly when its delay is over, not a millisecond sooner: 100, 200, then 250 (capped, not 400).
    for (const [wait, expected] of [
      [100, [0, 100]],
      [200, [0, 100, 300]],
      [250, [0, 100, 300, 550]],
    ] as const) {
      const before = attempts.length;
      await advance(wait - 1);
      expect(attempts).toHaveLength(before);
      await advance(1);
      expect(attempts).toEqual(expected);
    }
    await advance(60_000);
    expect(attempts).toHaveLength(4);
    expect(errors).toHaveLength(3);
    await q.stop();
  });

  it("turns a burst of addWithin calls into one run, and keeps a run that is due sooner", async () => {
    const calls: Array<[string, number]> = [];
    const q = new WorkQueue({ handler: async (key) => void calls.push([key, Date.now()]) });
    for (let i = 0; i < 5; i++) {
      q.addWithin("burst", 40); // at 0, 2, 4, 6, 8: the first one's deadline (40) holds
      await advance(2);
    }
    q.addAfter("soon", 10); // due at 20
    q.addWithin("soon", 1_000); // must not push the earlier timer back
    q.addAfter("late", 5_000); // due at 5010
    q.addWithin("late", 20); // must bring the later timer forward, to 30
    await advance(10_000);
    expect(calls).toEqual([
      ["soon", 20],
      ["late", 30],
      ["burst", 40],
    ]);
    await q.stop();
  });

  it("runs low-priority keys only when no normal key waits, in the order they came", async () => {
    const { q, drain } = heldQueue("busy");
    await advance();
    q.add("poll-1", "low");
    q.add("event-1");
    q.add("poll-2", "low");
    q.add("event-2");
    expect(q.size).toBe(5);
    expect(await drain()).toEqual(["busy", "event-1", "event-2", "poll-1", "poll-2"]);
  });

  it("moves a key waiting at low priority up when it is added normally, and never down", async () => {
    const { q, drain } = heldQueue("busy");
    await advance();
    q.add("a", "low");
    q.add("b");
    q.add("a"); // an event for "a": it now waits with the normal keys, after "b"
    q.add("b", "low"); // a periodic look at a key already waiting changes nothing
    q.add("c");
    expect(q.size).toBe(4);
    expect(await drain()).toEqual(["busy", "b", "a", "c"]);
  });

  it("gives a key added while it runs the highest priority it was asked at", async () => {
    const { q, drain } = heldQueue("a");
    await advance();
    q.add("a"); // while "a" runs: normal wins over the low that follows
    q.add("a", "low");
    q.add("z", "low");
    q.add("b");
    // "a" runs again at normal priority, after "b" which waited first, and before the low "z".
    expect(await drain()).toEqual(["a", "b", "a", "z"]);
  });

  it("lets an event's addWithin promote a key waiting at low priority", async () => {
    const { q, drain } = heldQueue("busy");
    await advance();
    q.add("a", "low");
    q.add("b");
    q.addWithin("a", 1);
    await advance(1); // the addWithin timer fires while "busy" still runs
    q.add("c");
    expect(await drain()).toEqual(["busy", "b", "a", "c"]);
    await q.stop();
  });

  it("keeps an event's sooner run when the running key then sets its periodic requeue", async () => {
    const calls: Array<[string, number]> = [];
    let release: () => void = () => {};
    const q = new WorkQueue({
      concurrency: 1,
      handler: async (key) => {
        calls.push([key, Date.now()]);
        if (calls.length > 1) return;
        await new Promise<void>((r) => (release = r));
        q.addAfter(key, 60_000, "low"); // what a reconcile does at its end: look again later
      },
    });
    q.add("a");
    await advance(5);
    q.addWithin("a", 20); // an event while "a" runs: due at 25
    release();
    await advance(19);
    expect(calls).toEqual([["a", 0]]);
    await advance(1);
    expect(calls).toEqual([
      ["a", 0],
      ["a", 25],
    ]);
    await q.stop();
  });

  it("raises a pending timer's priority when a later, normal addAfter comes, without pushing it back", async () => {
    const { q, drain } = heldQueue("busy");
    await advance();
    q.add("x", "low");
    q.addAfter("b", 20, "low");
    q.addAfter("b", 60_000); // normal, due later: "b" still comes at 20 ms, now at normal priority
    await advance(20);
    expect(q.size).toBe(3);
    expect(await drain()).toEqual(["busy", "b", "x"]);
  });
});
