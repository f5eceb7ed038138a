import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { commitScope, type ResyncState, resyncScope, type ScopeState, stepOf } from "../../../src/sync/sync-scope.js";

/** A ConfigMap of deployment `<ns>/<app>`, as the renderer labels it. */
function objectOf(deployment: string, name: string): Manifest {
  const [ns, app] = deployment.split("/") as [string, string];
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels: { "flotilla.dev/app": `${ns}.${app}` } }, data: { a: "1" } };
}

/** After a successful sync of a cluster that holds a baseline: nothing must be synced again. */
const settled: ScopeState = { mustSync: new Set(), hasBaseline: true, failures: 0 };

describe("commitScope: the deployments a new commit syncs", () => {
  const shop = objectOf("team/shop", "shop-settings");
  const cart = objectOf("team/cart", "cart-settings");
  const previous = [shop, cart];

  it("is the deployment whose object the source parsed again, and none of the others", () => {
    const edited = { ...cart, data: { a: "2" } };
    expect(commitScope(settled, [shop, edited], previous)).toEqual(new Set(["team/cart"]));
  });

  it("compares objects by identity: an equal copy counts as changed, the same object does not", () => {
    // The source hands back the very same object for a file it did not parse again.
    expect(commitScope(settled, [shop, cart], previous)).toEqual(new Set());
    expect(commitScope(settled, [structuredClone(shop), cart], previous)).toEqual(new Set(["team/shop"]));
  });

  it("includes a deployment whose objects were all removed, so they are pruned", () => {
    expect(commitScope(settled, [shop], previous)).toEqual(new Set(["team/cart"]));
  });

  it("includes a new deployment", () => {
    const web = objectOf("team/web", "web-settings");
    expect(commitScope(settled, [shop, cart, web], previous)).toEqual(new Set(["team/web"]));
  });

  it("adds the deployments that must be synced again though their files did not change", () => {
    const state: ScopeState = { ...settled, mustSync: new Set(["team/failed-last-time"]) };
    expect(commitScope(state, [shop, { ...cart }], previous)).toEqual(new Set(["team/failed-last-time", "team/cart"]));
  });

  it.each<[string, ScopeState]>([
    ["a full sync is due", { ...settled, mustSync: undefined }],
    ["no sync left a baseline yet (the first sync after a start)", { ...settled, hasBaseline: false }],
    ["the last sync failed", { ...settled, failures: 1 }],
  ])("is everything (undefined) when %s", (_, state) => {
    expect(commitScope(state, [shop, cart], previous)).toBeUndefined();
  });
});

describe("resyncScope: what a resync on the timer compares", () => {
  const HOUR = 3_600_000;
  const watching: ResyncState = { ...settled, watchComplete: true, suspects: new Set(), now: 10 * HOUR, lastFullSyncAt: 9.5 * HOUR, fullResyncMs: HOUR };

  it("is nothing on a settled cluster whose watch saw no suspect change", () => {
    expect(resyncScope(watching)).toEqual(new Set());
  });

  it("is the drift suspects and the deployments that must be synced again", () => {
    const state: ResyncState = { ...watching, suspects: new Set(["team/edited"]), mustSync: new Set(["team/failed"]) };
    expect(resyncScope(state)).toEqual(new Set(["team/edited", "team/failed"]));
  });

  it("returns a copy: the worker's suspects and mustSync are not shared with the run", () => {
    const suspects = new Set(["team/edited"]);
    const scope = resyncScope({ ...watching, suspects });
    scope?.add("team/other");
    expect(suspects).toEqual(new Set(["team/edited"]));
  });

  it("compares everything once fullResyncMs has passed since the last full compare, not a moment before", () => {
    expect(resyncScope({ ...watching, lastFullSyncAt: watching.now - HOUR + 1 })).toEqual(new Set());
    expect(resyncScope({ ...watching, lastFullSyncAt: watching.now - HOUR })).toBeUndefined();
  });

  it.each<[string, Partial<ResyncState>]>([
    ["a change watch is down", { watchComplete: false }],
    ["a full sync is due", { mustSync: undefined }],
    ["no sync left a baseline yet", { hasBaseline: false }],
    ["the last sync failed", { failures: 2 }],
  ])("is everything (undefined) while %s", (_, change) => {
    expect(resyncScope({ ...watching, suspects: new Set(["team/edited"]), ...change })).toBeUndefined();
  });
});

describe("stepOf: a large partial sync goes in steps", () => {
  const five = new Set(["team/e", "team/b", "team/d", "team/a", "team/c"]);
  const first = { isNewCommit: true, failedInSteps: new Set<string>(), perStep: 2 };

  it("takes the first perStep deployments by name", () => {
    expect(stepOf(five, first)).toEqual(new Set(["team/a", "team/b"]));
  });

  it("leaves out the deployments that failed in an earlier step", () => {
    expect(stepOf(five, { ...first, failedInSteps: new Set(["team/a", "team/b"]) })).toEqual(new Set(["team/c", "team/d"]));
  });

  it("is not a step once what is left, failed ones aside, fits in one run (the last run takes them all)", () => {
    const failed = new Set(["team/a", "team/b", "team/c"]);
    expect(stepOf(five, { ...first, failedInSteps: failed })).toBeUndefined();
    expect(stepOf(new Set(["team/a", "team/b"]), first)).toBeUndefined();
  });

  it("is never a step for a resync or a full sync", () => {
    expect(stepOf(five, { ...first, isNewCommit: false })).toBeUndefined();
    expect(stepOf(undefined, first)).toBeUndefined();
  });

  it("counts a step size below one as one", () => {
    expect(stepOf(five, { ...first, perStep: 0 })).toEqual(new Set(["team/a"]));
  });
});
