import { describe, expect, it } from "vitest";
import type { Notification } from "../../../src/api/types.js";
import type { NotificationEvent } from "../../../src/notify/detect.js";
import { alreadySent, MAX_SENT, recentEnough, wants, withSent } from "../../../src/notify/select.js";
import { webhookUrlProblem } from "../../../src/notify/webhook.js";

function aNotification(over: Partial<Notification["spec"]> = {}, created = "2026-12-03T10:00:00Z"): Notification {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "Notification",
    metadata: { name: "team", namespace: "team-a", creationTimestamp: created },
    spec: { events: ["BatchPaused"], webhook: { url: "https://hooks.example.com/x" }, ...over },
  };
}

function anEvent(over: Partial<NotificationEvent> = {}): NotificationEvent {
  return {
    event: "BatchPaused",
    key: "BatchPaused/3/v2/staging/1",
    since: "2026-12-03T10:30:00.000Z",
    time: "2026-12-03T10:30:00.000Z",
    deployment: { namespace: "team-a", name: "frontend", generation: 3 },
    clusters: ["staging"],
    message: "",
    ...over,
  };
}

describe("which Notifications an event goes to", () => {
  it.each([
    ["an event it lists, of its namespace, with no selector", aNotification(), anEvent(), undefined, true],
    ["an event it does not list", aNotification(), anEvent({ event: "RolloutCompleted" }), undefined, false],
    ["a deployment of another namespace", aNotification(), anEvent({ deployment: { namespace: "team-b", name: "frontend", generation: 1 } }), undefined, false],
    ["a deployment with the selector's labels", aNotification({ selector: { matchLabels: { tier: "web" } } }), anEvent(), { tier: "web", x: "y" }, true],
    ["a deployment without them", aNotification({ selector: { matchLabels: { tier: "web" } } }), anEvent(), { tier: "db" }, false],
  ])("%s: %s", (_what, n, e, labels, expected) => {
    expect(wants(n, e, labels)).toBe(expected);
  });
});

describe("the sent record", () => {
  it("tells an occurrence sent by key and step time, per deployment", () => {
    const sent = withSent([], anEvent(), "2026-12-03T10:31:00Z");
    expect(sent).toEqual([
      { key: "BatchPaused/3/v2/staging/1", deployment: "team-a/frontend", since: "2026-12-03T10:30:00.000Z", time: "2026-12-03T10:31:00Z" },
    ]);
    expect(alreadySent(sent, anEvent())).toBe(true);
    expect(alreadySent(sent, anEvent({ since: "2026-12-03T10:40:00.000Z" }))).toBe(false);
    expect(alreadySent(sent, anEvent({ deployment: { namespace: "team-a", name: "other", generation: 3 } }))).toBe(false);
  });

  it("keeps only the newest MAX_SENT entries", () => {
    let sent = withSent([], anEvent({ key: "first" }), "t");
    for (let i = 0; i < MAX_SENT; i++) sent = withSent(sent, anEvent({ key: `k${i}` }), "t");
    expect(sent).toHaveLength(MAX_SENT);
    expect(alreadySent(sent, anEvent({ key: "first" }))).toBe(false);
    expect(alreadySent(sent, anEvent({ key: `k${MAX_SENT - 1}` }))).toBe(true);
  });

  it("sends a standing event after a restart only if it happened after the Notification's creation and within the age limit", () => {
    const n = aNotification();
    const now = Date.parse("2026-12-03T11:00:00Z");
    expect(recentEnough(n, anEvent(), now, 3_600_000)).toBe(true);
    expect(recentEnough(n, anEvent({ time: "2026-12-03T09:59:00Z" }), now, 3_600_000)).toBe(false);
    expect(recentEnough(n, anEvent(), now, 10 * 60_000)).toBe(false);
  });
});

describe("webhook URLs", () => {
  it.each([
    ["https://hooks.slack.com/services/T/B/X"],
    ["http://127.0.0.1:9000/hook"],
    ["http://localhost/hook"],
    ["http://[::1]:8080/"],
    ["http://receiver.team-a.svc:8080/hook"],
    ["http://receiver.team-a.svc.cluster.local/hook"],
  ])("accepts %s", (url) => {
    expect(webhookUrlProblem(url)).toBeUndefined();
  });

  it.each([
    ["http://hooks.example.com/x", "uses http:// to a host outside the cluster"],
    ["ftp://example.com/x", "must start with https://"],
    ["https://user:pw@example.com/x", "carries a user or password"],
    ["not a url", "is not a valid URL"],
  ])("refuses %s, naming the field and the fix but not the URL", (url, problem) => {
    const message = webhookUrlProblem(url);
    expect(message).toContain(problem);
    expect(message).toContain("spec.webhook.url");
    expect(message).not.toContain("example.com");
  });
});
