import { describe, expect, it } from "vitest";
import { WorkQueue } from "../../../src/controller/queue.js";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

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
      while (q.size > 0) await tick();
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
        await tick();
        running--;
        done.push(key);
      },
    });
    for (let i = 0; i < 20; i++) q.add(`k${i}`);
    while (done.length < 20) await tick();
    expect(peak).toBe(3);
  });

  it("processes a key added twice while waiting once, and again if added while processing", async () => {
    const { q, drain } = heldQueue("a");
    q.add("b");
    q.add("b");
    await tick();
    q.add("a"); // while "a" is being processed
    expect(await drain()).toEqual(["a", "b", "a"]);
  });

  it("retries a failing key with back-off", async () => {
    let attempts = 0;
    const errors: unknown[] = [];
    const q = new WorkQueue({
      baseBackoffMs: 5,
      handler: async () => {
        attempts++;
        if (attempts < 3) throw new Error("boom");
      },
      onError: (_k, e) => errors.push(e),
    });
    q.add("x");
    while (attempts < 3) await tick();
    expect(errors).toHaveLength(2);
    await q.stop();
  });

  it("turns a burst of addWithin calls into one run, and keeps a run that is due sooner", async () => {
    const calls: string[] = [];
    const q = new WorkQueue({ handler: async (key) => void calls.push(key) });
    for (let i = 0; i < 5; i++) {
      q.addWithin("burst", 40);
      await tick(2);
    }
    q.addAfter("soon", 10);
    q.addWithin("soon", 1_000); // must not push the earlier timer back
    q.addAfter("late", 5_000);
    q.addWithin("late", 20); // must bring the later timer forward
    await tick(80);
    expect(calls.filter((k) => k === "burst")).toHaveLength(1);
    expect(calls).toContain("soon");
    expect(calls).toContain("late");
    await q.stop();
  });

  it("runs low-priority keys only when no normal key waits, in the order they came", async () => {
    const { q, drain } = heldQueue("busy");
    await tick();
    q.add("poll-1", "low");
    q.add("event-1");
    q.add("poll-2", "low");
    q.add("event-2");
    expect(q.size).toBe(5);
    expect(await drain()).toEqual(["busy", "event-1", "event-2", "poll-1", "poll-2"]);
  });

  it("moves a key waiting at low priority up when it is added normally, and never down", async () => {
    const { q, drain } = heldQueue("busy");
    await tick();
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
    await tick();
    q.add("a"); // while "a" runs: normal wins over the low that follows
    q.add("a", "low");
    q.add("z", "low");
    q.add("b");
    // "a" runs again at normal priority, after "b" which waited first, and before the low "z".
    expect(await drain()).toEqual(["a", "b", "a", "z"]);
  });

  it("lets an event's addWithin promote a key waiting at low priority", async () => {
    const { q, drain } = heldQueue("busy");
    await tick();
    q.add("a", "low");
    q.add("b");
    q.addWithin("a", 1);
    await tick(20); // the addWithin timer fired while "busy" still runs
    q.add("c");
    expect(await drain()).toEqual(["busy", "b", "a", "c"]);
    await q.stop();
  });
  it("keeps an event's sooner run when the running key then sets its periodic requeue", async () => {
    const calls: Array<[string, number]> = [];
    const started = Date.now();
    let release: () => void = () => {};
    const q = new WorkQueue({
      concurrency: 1,
      handler: async (key) => {
        calls.push([key, Date.now() - started]);
        if (calls.length > 1) return;
        await new Promise<void>((r) => (release = r));
        q.addAfter(key, 60_000, "low"); // what a reconcile does at its end: look again later
      },
    });
    q.add("a");
    await tick();
    q.addWithin("a", 20); // an event while "a" runs
    release();
    await tick(120);
    expect(calls.map(([k]) => k)).toEqual(["a", "a"]);
    expect(calls[1]![1]).toBeLessThan(1_000);
    await q.stop();
  });

  it("raises a pending timer's priority when a later, normal addAfter comes, without pushing it back", async () => {
    const { q, drain } = heldQueue("busy");
    await tick();
    q.add("x", "low");
    q.addAfter("b", 20, "low");
    q.addAfter("b", 60_000); // normal, due later: "b" still comes at 20 ms, now at normal priority
    await tick(60);
    expect(q.size).toBe(3);
    expect(await drain()).toEqual(["busy", "b", "x"]);
  });
});
