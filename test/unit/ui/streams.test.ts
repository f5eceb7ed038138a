// The live stream's fan-out with fake responses: the cap, the per-stream namespace filter, the
// re-check when the access answer expires, the end of a stream whose token stopped being valid, a
// stream that cannot keep up, and cleanup when a browser goes away.

import { EventEmitter } from "node:events";
import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { EventStreams, type StreamAccess } from "../../../src/ui/server/streams.js";
import { deploymentSummary } from "../../../src/ui/server/views.js";
import { canary } from "./fixtures.js";

class FakeResponse extends EventEmitter {
  text = "";
  ended = false;
  destroyed = false;
  writableLength = 0;
  writeHead() {
    return this;
  }
  write(chunk: string) {
    this.text += chunk;
    return true;
  }
  end(chunk?: string) {
    if (chunk) this.text += chunk;
    this.ended = true;
    this.emit("close");
  }
  destroy() {
    this.destroyed = true;
    this.emit("close");
  }
}

const TEAM_A: StreamAccess = { deployments: { all: false, namespaces: new Set(["team-a"]) }, clusters: false };
const ALL: StreamAccess = { deployments: { all: true }, clusters: true };

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

const res = () => new FakeResponse();
const asRes = (r: FakeResponse) => r as unknown as ServerResponse;
const tick = () => new Promise((r) => setImmediate(r));

describe("EventStreams", () => {
  it("refuses a stream beyond the cap and forgets a closed one", () => {
    const s = new EventStreams({ maxStreams: 1 });
    const a = res();
    expect(s.open(asRes(a), { access: ALL, ttlMs: 1000, refresh: async () => ALL })).toBe(true);
    expect(s.open(asRes(res()), { access: ALL, ttlMs: 1000, refresh: async () => ALL })).toBe(false);
    a.emit("close");
    expect(s.size).toBe(0);
    expect(s.open(asRes(res()), { access: ALL, ttlMs: 1000, refresh: async () => ALL })).toBe(true);
    s.close();
  });

  it("sends a deployment only to streams of users who may list its namespace", () => {
    const s = new EventStreams();
    const a = res();
    const b = res();
    s.open(asRes(a), { access: TEAM_A, ttlMs: 1000, refresh: async () => TEAM_A });
    s.open(asRes(b), { access: ALL, ttlMs: 1000, refresh: async () => ALL });
    s.deployment(deploymentSummary(canary("team-b", "api")));
    s.deploymentDeleted("team-a", "web");
    expect(a.text).not.toContain("team-b");
    expect(a.text).toContain('{"namespace":"team-a","name":"web","deleted":true}');
    expect(b.text).toContain('"namespace":"team-b"');
    s.close();
  });

  it("shows a cluster's deployments only of the user's namespaces, and no cluster to a user who may not list them", () => {
    const s = new EventStreams();
    const limited = res();
    const all = res();
    s.open(asRes(limited), { access: { ...TEAM_A, clusters: true }, ttlMs: 1000, refresh: async () => TEAM_A });
    s.open(asRes(all), { access: ALL, ttlMs: 1000, refresh: async () => ALL });
    const none = res();
    s.open(asRes(none), { access: TEAM_A, ttlMs: 1000, refresh: async () => TEAM_A });
    s.cluster({ name: "prod-eu", mode: "Push", ready: true, labels: {}, deployments: ["team-a/web", "team-b/api"], paused: false });
    expect(limited.text).toContain('"deployments":["team-a/web"]');
    expect(all.text).toContain('"deployments":["team-a/web","team-b/api"]');
    expect(none.text).not.toContain("prod-eu");
    s.close();
  });

  it("asks the user's access again once it expired, and ends the stream when the token is no longer valid", async () => {
    const c = clock();
    const s = new EventStreams({ now: c.now });
    const r = res();
    let valid = true;
    let asked = 0;
    s.open(asRes(r), {
      access: TEAM_A,
      ttlMs: 10_000,
      refresh: async () => {
        asked++;
        return valid ? ALL : undefined;
      },
    });
    s.deployment(deploymentSummary(canary("team-b", "api")));
    expect(asked).toBe(0);
    c.advance(10_001);
    s.deployment(deploymentSummary(canary("team-b", "other")));
    await tick();
    expect(asked).toBe(1);
    // The widened access applies from the next change on.
    s.deployment(deploymentSummary(canary("team-b", "third")));
    expect(r.text).toContain('"name":"third"');
    valid = false;
    c.advance(10_001);
    s.deployment(deploymentSummary(canary("team-a", "web")));
    await tick();
    expect(r.ended).toBe(true);
    expect(r.text).toContain("event: signout");
    expect(s.size).toBe(0);
    s.close();
  });

  it("closes a stream whose browser stopped reading instead of buffering without bound", () => {
    const s = new EventStreams({ maxBufferedBytes: 10 });
    const r = res();
    s.open(asRes(r), { access: ALL, ttlMs: 1000, refresh: async () => ALL });
    r.writableLength = 11;
    s.deployment(deploymentSummary(canary()));
    expect(r.destroyed).toBe(true);
    expect(s.size).toBe(0);
    s.close();
  });

  it("serializes nothing while no stream is open, and sends a change made meanwhile to a later stream", () => {
    const s = new EventStreams();
    const ad = deploymentSummary(canary());
    const first = res();
    s.open(asRes(first), { access: ALL, ttlMs: 1000, refresh: async () => ALL });
    s.deployment(ad);
    first.emit("close");
    s.deployment({ ...ad, phase: "Healthy" });
    expect(s.serialized).toBe(1);
    const later = res();
    s.open(asRes(later), { access: ALL, ttlMs: 1000, refresh: async () => ALL });
    s.deployment(ad);
    expect(later.text).toContain('"phase":"Paused"');
    s.close();
  });
});
