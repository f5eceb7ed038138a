import { afterEach, describe, expect, it, vi } from "vitest";
import type { HealthState, Manifest } from "../../../src/api/types.js";
import type { Clock } from "../../../src/support/clock.js";
import type { DeploymentHealth } from "../../../src/sync/health.js";
import { fullPassPeriod, HealthPoller, inPass, nextPollDelay, type PassInput, planPass, type PollTarget } from "../../../src/sync/health-poller.js";

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

function healthOf(deployment: string, health: HealthState): DeploymentHealth {
  return { deployment, health, message: "", objects: [], revisions: [] };
}

function objectOf(deployment: string): Manifest {
  const [ns, app] = deployment.split("/") as [string, string];
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: `${app}-settings`, namespace: ns, labels: { "flotilla.dev/app": `${ns}.${app}` } } };
}

/** Two Healthy deployments, team/web and team/shop, applied and idle; `watched`: the change watch is complete. */
/** One deployment, team/web, still Progressing; the change watch is not complete. */
function progressingWeb() {
  return { applied: [objectOf("team/web")], suspended: new Set<string>(), busy: undefined, health: [healthOf("team/web", "Progressing")], watched: false };
}

function settledPair(watched: boolean) {
  return {
    applied: [objectOf("team/web"), objectOf("team/shop")],
    suspended: new Set<string>(),
    busy: undefined,
    health: [healthOf("team/web", "Healthy"), healthOf("team/shop", "Healthy")],
    watched,
  };
}

describe("nextPollDelay: a slow poll is not repeated at once", () => {
  it.each([
    // [interval, last poll took, delay]
    [5 * SECOND, 0, 5 * SECOND],
    [5 * SECOND, 1 * SECOND, 5 * SECOND],
    // Three times the poll's duration once that is longer than the interval: polling stays under a quarter of the time.
    [5 * SECOND, 2 * SECOND, 6 * SECOND],
    [5 * SECOND, 20 * SECOND, 60 * SECOND],
    // Never longer than a delay Node's timers honour.
    [5 * SECOND, 2 ** 31, 2 ** 31 - 1],
  ])("polls every %d ms after a poll of %d ms: waits %d ms", (interval, last, delay) => {
    expect(nextPollDelay(interval, last)).toBe(delay);
  });
});

describe("fullPassPeriod: how often every deployment is observed", () => {
  const base = { intervalMs: 5 * SECOND, watched: false, fullResyncMs: 60 * MINUTE, lastFullPassMs: 0 };

  it("is 12 health intervals while changes are not watched", () => {
    expect(fullPassPeriod(base)).toBe(60 * SECOND);
  });

  it("is the full resync period while every change is watched", () => {
    expect(fullPassPeriod({ ...base, watched: true })).toBe(60 * MINUTE);
  });

  it("stretches so a slow pass stays about 1 % of the time: a pass of 2 s runs every 200 s", () => {
    expect(fullPassPeriod({ ...base, lastFullPassMs: 2 * SECOND })).toBe(200 * SECOND);
    // A pass of 0.5 s would be due every 50 s, less than 12 intervals: the intervals win.
    expect(fullPassPeriod({ ...base, lastFullPassMs: 500 })).toBe(60 * SECOND);
  });
});

describe("planPass: what one poll observes", () => {
  const settled: PassInput = {
    now: 10 * MINUTE,
    lastFullPassAt: 10 * MINUTE - 30 * SECOND,
    period: 60 * SECOND,
    health: [healthOf("team/shop", "Healthy"), healthOf("team/cart", "Healthy")],
    changed: new Set(),
    busy: undefined,
  };

  it("reads nothing on a settled, unchanged cluster before a full pass is due", () => {
    expect(planPass(settled)).toBeUndefined();
  });

  it("observes the deployments not Healthy yet and those the watch saw change", () => {
    const input = {
      ...settled,
      health: [...settled.health, healthOf("team/web", "Progressing"), healthOf("team/db", "Degraded")],
      changed: new Set(["team/cart"]),
    };
    expect(planPass(input)).toEqual({ everything: false, deployments: new Set(["team/web", "team/db", "team/cart"]) });
  });

  it("observes everything once the period has passed since the last full pass, not a moment before", () => {
    expect(planPass({ ...settled, lastFullPassAt: settled.now - settled.period + 1 })).toBeUndefined();
    expect(planPass({ ...settled, lastFullPassAt: settled.now - settled.period })).toEqual({ everything: true, except: new Set() });
  });

  it("leaves the deployments of a partial sync in flight to the sync", () => {
    const input = { ...settled, health: [healthOf("team/web", "Progressing")], changed: new Set(["team/cart"]), busy: new Set(["team/web"]) };
    expect(planPass(input)).toEqual({ everything: false, deployments: new Set(["team/cart"]) });
    expect(planPass({ ...input, changed: new Set<string>() })).toBeUndefined();
    const full = planPass({ ...input, lastFullPassAt: 0 });
    expect(full && inPass(full, "team/web")).toBe(false);
    expect(full && inPass(full, "team/shop")).toBe(true);
  });
});

/** A clock the test moves by hand, and a poller over a target the test holds. */
function pollerOver(target: Omit<PollTarget, "record">, intervalMs: number, pollTakes: number) {
  let time = 1_000 * MINUTE;
  const clock: Clock = { now: () => time };
  const polls: Array<{ deployments: string[]; partial: boolean; at: number }> = [];
  const recorded: DeploymentHealth[][] = [];
  const poller = new HealthPoller({
    intervalMs,
    fullResyncMs: 60 * MINUTE,
    clock,
    target: () => ({ ...target, record: (observed) => recorded.push(observed) }),
    observe: async (objects, partial) => {
      polls.push({ deployments: objects.map((o) => o.metadata.name), partial, at: time });
      time += pollTakes;
      return [];
    },
  });
  return { poller, polls, recorded, advance: (ms: number) => (time += ms) };
}

describe("HealthPoller", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("polls the unhealthy deployments at each interval, skipping suspended ones, and records what it read", async () => {
    vi.useFakeTimers();
    const target = {
      applied: [objectOf("team/web"), objectOf("team/paused"), objectOf("team/shop")],
      suspended: new Set(["team/paused"]),
      busy: undefined,
      health: [healthOf("team/web", "Progressing"), healthOf("team/paused", "Progressing"), healthOf("team/shop", "Healthy")],
      watched: false,
    };
    const { poller, polls, recorded } = pollerOver(target, 5 * SECOND, 0);
    poller.start();
    await vi.advanceTimersByTimeAsync(5 * SECOND - 1);
    expect(polls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(polls.map((p) => [p.deployments, p.partial])).toEqual([[["web-settings"], true]]);
    expect(recorded).toHaveLength(1);
    poller.stop();
    await poller.idle();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("waits three times a slow poll's duration before the next one", async () => {
    vi.useFakeTimers();
    const target = progressingWeb();
    // Each poll takes 4 s on the poller's clock: the next one waits 12 s, not the 1 s interval.
    const { poller, polls } = pollerOver(target, 1 * SECOND, 4 * SECOND);
    poller.start();
    await vi.advanceTimersByTimeAsync(1 * SECOND);
    expect(polls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(12 * SECOND - 1);
    expect(polls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(polls).toHaveLength(2);
    poller.stop();
  });

  it("observes everything when changes may have been missed, then waits a full period again", async () => {
    vi.useFakeTimers();
    const target = settledPair(false);
    const { poller, polls, advance } = pollerOver(target, 1 * SECOND, 0);
    poller.start();
    await vi.advanceTimersByTimeAsync(1 * SECOND);
    expect(polls).toEqual([]); // settled, and a full pass is due only 12 intervals after the start
    poller.forceFullPass();
    await vi.advanceTimersByTimeAsync(1 * SECOND);
    expect(polls.map((p) => [p.deployments, p.partial])).toEqual([[["web-settings", "shop-settings"], false]]);
    // The pass just done counts: nothing is read before 12 more intervals on the poller's clock.
    advance(11 * SECOND);
    await vi.advanceTimersByTimeAsync(1 * SECOND);
    expect(polls).toHaveLength(1);
    advance(1 * SECOND);
    await vi.advanceTimersByTimeAsync(1 * SECOND);
    expect(polls).toHaveLength(2);
    poller.stop();
  });

  it("observes a Healthy deployment once the watch saw it change, and only once", async () => {
    vi.useFakeTimers();
    const target = settledPair(true);
    const { poller, polls } = pollerOver(target, 1 * SECOND, 0);
    poller.start();
    poller.markChanged("team/shop");
    await vi.advanceTimersByTimeAsync(2 * SECOND);
    expect(polls.map((p) => p.deployments)).toEqual([["shop-settings"]]);
    poller.stop();
  });

  it("polls nothing at all with an interval of 0", async () => {
    vi.useFakeTimers();
    const target = progressingWeb();
    const { poller } = pollerOver(target, 0, 0);
    poller.start();
    expect(vi.getTimerCount()).toBe(0);
  });
});
