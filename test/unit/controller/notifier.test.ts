// The notifier with a fake store (the hub's Notifications, their status, Secrets) and a fake
// receiver: delivery order, dedupe within a term and across a restart (the sent record read back
// from status), retries and giving up, and what status says when a webhook cannot be used.

import { createHmac } from "node:crypto";
import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import type { ApplicationDeployment, ApplicationDeploymentStatus, Notification, NotificationStatus } from "../../../src/api/types.js";
import { type NotificationStore, Notifier, sendErrorText, type WebhookSend } from "../../../src/controller/notifier.js";

const URL = "https://hooks.example.com/services/T/B/secret-path";
const CREATED = new Date(Date.now() - 60_000).toISOString();

function aNotification(over: Partial<Notification["spec"]> = {}, status?: NotificationStatus): Notification {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "Notification",
    metadata: { name: "team", namespace: "team-a", uid: "n-1", generation: 1, creationTimestamp: CREATED },
    spec: {
      events: ["BatchPaused", "RolloutCompleted", "SyncFailed"],
      webhook: { url: URL, format: "json", secretRef: { name: "sig", key: "token" } },
      ...over,
    },
    ...(status ? { status } : {}),
  };
}

class FakeStore implements NotificationStore {
  synced = true;
  writes: NotificationStatus[] = [];
  secrets: Record<string, string> = {
    "team-a/sig/token": "s3cret",
    "team-a/slack/url": `${URL}\n`,
    "team-a/plain/url": "http://hooks.example.com/secret-path",
  };
  constructor(public items: Notification[]) {}
  list() {
    return this.items;
  }
  get(namespace: string, name: string) {
    return this.items.find((n) => n.metadata.namespace === namespace && n.metadata.name === name);
  }
  async patchStatus(_ns: string, _name: string, status: NotificationStatus) {
    this.writes.push(status);
  }
  async readSecret(namespace: string, name: string, key: string) {
    return this.secrets[`${namespace}/${name}/${key}`];
  }
  async stop() {}
  get last(): NotificationStatus | undefined {
    return this.writes.at(-1);
  }
}

interface Call {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** A receiver answering with `answers` in turn (then 200); a number is an HTTP status, an Error a refused connection. */
function receiver(answers: Array<number | Error> = []): { send: WebhookSend; calls: Call[] } {
  const calls: Call[] = [];
  const send: WebhookSend = async (req) => {
    calls.push(req);
    const a = answers.shift() ?? 200;
    if (a instanceof Error) throw a;
    return a;
  };
  return { send, calls };
}

const since = new Date(Date.now() - 10_000).toISOString();

function deployment(status: ApplicationDeploymentStatus, labels: Record<string, string> = {}): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: "frontend", namespace: "team-a", generation: 2, uid: "d-1", labels },
    spec: { appRevisions: [], placementStrategies: [] },
    status,
  };
}

function pausedStatus(at = since): ApplicationDeploymentStatus {
  return {
    phase: "Paused",
    targetRevision: "v2",
    stableRevision: "v1",
    rollout: {
      revision: "v2",
      startedAt: at,
      since: at,
      state: "Paused",
      wave: "staging",
      batch: 1,
      batches: 3,
      clusters: [{ name: "staging", wave: "staging", state: "Paused", batch: 1, batches: 3, since: at, revisions: [], sources: [] }],
    },
  };
}

const progressing: ApplicationDeploymentStatus = {
  phase: "Progressing",
  targetRevision: "v2",
  rollout: {
    revision: "v2",
    startedAt: since,
    since,
    state: "Progressing",
    clusters: [{ name: "staging", wave: "staging", state: "Progressing", batch: 1, since, revisions: [], sources: [] }],
  },
};

/** Poll until `check` holds (the notifier works on its own timers); fails after 5 s. */
async function waitUntil(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const logger = pino({ level: "silent" });
const notifiers: Notifier[] = [];
function aNotifier(store: FakeStore, send: WebhookSend, over: Partial<ConstructorParameters<typeof Notifier>[0]> = {}): Notifier {
  const n = new Notifier({ store, logger, send, initialRetryMs: 5, maxRetryMs: 20, ...over });
  notifiers.push(n);
  return n;
}

afterEach(async () => {
  await Promise.all(notifiers.splice(0).map((n) => n.stop()));
});

describe("the notifier", () => {
  it("delivers a pause once, signed, and records it in status without the URL or the secret", async () => {
    const store = new FakeStore([aNotification()]);
    const { send, calls } = receiver();
    const notifier = aNotifier(store, send);
    const ad = deployment(progressing);
    notifier.observe(ad, undefined, progressing); // first look: RolloutStarted stands, not asked for
    notifier.observe(ad, progressing, pausedStatus());
    notifier.observe(ad, pausedStatus(), pausedStatus()); // nothing new
    await waitUntil(() => store.last?.delivered === 1);
    expect(calls).toHaveLength(1);
    const call = calls[0] as Call;
    expect(call.url).toBe(URL);
    expect(JSON.parse(call.body)).toMatchObject({ event: "BatchPaused", revision: "v2", wave: "staging", batch: 1 });
    expect(call.headers["X-Flotilla-Signature"]).toBe(`sha256=${createHmac("sha256", "s3cret").update(call.body).digest("hex")}`);
    expect(call.headers["X-Flotilla-Event-Id"]).toBe(`BatchPaused/2/v2/staging/1@${since}`);
    expect(store.last?.sent).toEqual([expect.objectContaining({ key: "BatchPaused/2/v2/staging/1", deployment: "team-a/frontend", since })]);
    expect(store.last?.conditions?.[0]).toMatchObject({ type: "Ready", status: "True", reason: "Delivered" });
    const text = JSON.stringify(store.writes);
    expect(text).not.toContain("secret-path");
    expect(text).not.toContain("s3cret");
  });

  it("never waits for the receiver: observe returns while a send hangs", () => {
    const store = new FakeStore([aNotification()]);
    const notifier = aNotifier(store, () => new Promise<number>(() => undefined));
    notifier.observe(deployment(progressing), progressing, pausedStatus());
    expect(notifier.pending).toBe(1);
  });

  it("retries a failed delivery with backoff, counting each failure, and sends it once the receiver answers", async () => {
    const store = new FakeStore([aNotification()]);
    const refused = Object.assign(new Error("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    const { send, calls } = receiver([refused, 503, refused]);
    const outcomes: string[] = [];
    const notifier = aNotifier(store, send, { onDelivery: (event, result) => outcomes.push(`${event} ${result}`) });
    notifier.observe(deployment(progressing), progressing, pausedStatus());
    await waitUntil(() => store.last?.delivered === 1);
    expect(calls).toHaveLength(4);
    // What the controller counts in flotilla_notification_deliveries_total.
    expect(outcomes).toEqual(["BatchPaused failed", "BatchPaused failed", "BatchPaused failed", "BatchPaused delivered"]);
    expect(store.last?.failed).toBe(3);
    expect(store.last?.lastFailure).toMatchObject({
      event: "BatchPaused",
      deployment: "team-a/frontend",
      message: "no answer from the receiver (ECONNREFUSED)",
    });
    expect(new Set(calls.map((c) => c.body)).size).toBe(1);
  });

  it("gives up on an event older than the age limit, saying so in status", async () => {
    const store = new FakeStore([aNotification()]);
    let now = Date.now();
    const outcomes: string[] = [];
    const notifier = aNotifier(store, receiver([500, 500, 500, 500]).send, {
      maxAgeMs: 30_000,
      initialRetryMs: 10_000,
      maxRetryMs: 10_000,
      now: () => now,
      onDelivery: (_event, result) => outcomes.push(result),
    });
    notifier.observe(deployment(progressing), progressing, pausedStatus());
    await waitUntil(() => (store.last?.failed ?? 0) >= 1);
    now += 60_000;
    const edited = aNotification();
    edited.metadata.generation = 2;
    notifier.changed(edited); // a spec edit wakes the queue instead of waiting out the backoff
    await waitUntil(() => notifier.pending === 0);
    expect(store.last?.delivered).toBe(0);
    expect(store.last?.conditions?.[0]?.message).toContain("gave up on BatchPaused of team-a/frontend");
    expect(outcomes).toEqual(["failed", "given_up"]);
  });

  it("after a restart sends a standing event not sent yet, and not one the status records as sent", async () => {
    const sentEarlier: NotificationStatus = {
      delivered: 4,
      failed: 1,
      sent: [{ key: "BatchPaused/2/v2/staging/1", deployment: "team-a/frontend", since, time: since }],
    };
    const store = new FakeStore([aNotification({}, sentEarlier)]);
    const first = receiver();
    aNotifier(store, first.send).observe(deployment(pausedStatus()), pausedStatus(), pausedStatus());
    await new Promise((r) => setTimeout(r, 50));
    expect(first.calls).toHaveLength(0);

    const other = new FakeStore([aNotification()]);
    const second = receiver();
    aNotifier(other, second.send).observe(deployment(pausedStatus()), pausedStatus(), pausedStatus());
    await waitUntil(() => other.last?.delivered === 1);
    expect(second.calls.map((c) => JSON.parse(c.body).event)).toEqual(["BatchPaused"]);
  });

  it("keeps backing off when only the Notification's status changes (its own writes)", async () => {
    const store = new FakeStore([aNotification()]);
    const { send, calls } = receiver([500, 500, 500]);
    const notifier = aNotifier(store, send, { initialRetryMs: 60_000, maxRetryMs: 60_000 });
    notifier.observe(deployment(progressing), progressing, pausedStatus());
    await waitUntil(() => store.last?.failed === 1);
    for (let i = 0; i < 5; i++) notifier.changed({ ...aNotification(), status: store.last ?? {} });
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(1);
  });

  it("counts on from what the status said", async () => {
    const store = new FakeStore([aNotification({}, { delivered: 4, failed: 1, sent: [] })]);
    aNotifier(store, receiver().send).observe(deployment(progressing), progressing, pausedStatus());
    await waitUntil(() => store.last?.delivered === 5);
    expect(store.last?.failed).toBe(1);
  });

  it("does not send a standing event that happened before the Notification existed", async () => {
    const store = new FakeStore([aNotification()]);
    const { send, calls } = receiver();
    const old = new Date(Date.parse(CREATED) - 60_000).toISOString();
    aNotifier(store, send).observe(deployment(pausedStatus(old)), pausedStatus(old), pausedStatus(old));
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(0);
  });

  it("sends only to Notifications whose selector matches the deployment's labels", async () => {
    const store = new FakeStore([aNotification({ selector: { matchLabels: { tier: "web" } } })]);
    const { send, calls } = receiver();
    const notifier = aNotifier(store, send);
    notifier.observe(deployment(progressing, { tier: "db" }), progressing, pausedStatus());
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(0);
    notifier.observe(deployment(progressing, { tier: "web" }), progressing, pausedStatus());
    await waitUntil(() => calls.length === 1);
  });

  it("sends a sync failure once per cluster and commit", async () => {
    const store = new FakeStore([aNotification()]);
    const { send, calls } = receiver();
    const notifier = aNotifier(store, send);
    const ad = deployment(pausedStatus());
    for (let i = 0; i < 3; i++) notifier.syncEvent(ad, { type: "SyncFailed", cluster: "prod-eu", commit: "abcdef0123456789", message: "refused" });
    notifier.syncEvent(ad, { type: "Synced", cluster: "prod-eu", commit: "abcdef0123456789", message: "" });
    await waitUntil(() => store.last?.delivered === 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(calls.map((c) => JSON.parse(c.body).id)).toEqual(["SyncFailed/2/prod-eu/abcdef012345"]);
  });

  it.each([
    ["an http:// URL outside the cluster", { webhook: { url: "http://hooks.example.com/secret-path" } }, "InvalidWebhook"],
    ["a Secret that does not exist", { webhook: { url: URL, secretRef: { name: "missing", key: "token" } } }, "SecretNotFound"],
    ["a URL Secret that does not exist", { webhook: { urlSecretRef: { name: "missing", key: "url" } } }, "SecretNotFound"],
    ["an http:// URL outside the cluster read from its Secret", { webhook: { urlSecretRef: { name: "plain", key: "url" } } }, "InvalidWebhook"],
  ])("reports %s in Ready without the URL, and sends nothing", async (_what, spec, reason) => {
    const store = new FakeStore([aNotification(spec as Partial<Notification["spec"]>)]);
    const { send, calls } = receiver();
    aNotifier(store, send).observe(deployment(progressing), progressing, pausedStatus());
    await waitUntil(() => store.last?.conditions?.[0]?.reason === reason);
    expect(calls).toHaveLength(0);
    expect(store.last?.conditions?.[0]?.status).toBe("False");
    expect(JSON.stringify(store.writes)).not.toContain("secret-path");
  });

  it("reads the URL from urlSecretRef at each delivery, so a rotated URL counts from the next event", async () => {
    const store = new FakeStore([aNotification({ webhook: { urlSecretRef: { name: "slack", key: "url" }, format: "slack" } })]);
    const { send, calls } = receiver();
    const notifier = aNotifier(store, send);
    const ad = deployment(progressing);
    notifier.observe(ad, progressing, pausedStatus());
    await waitUntil(() => calls.length === 1);
    // The Secret's trailing newline (kubectl create secret --from-file) is not part of the URL.
    expect(calls[0]?.url).toBe(URL);
    store.secrets["team-a/slack/url"] = "https://hooks.example.com/services/T/B/rotated";
    notifier.observe(ad, pausedStatus(), {
      ...pausedStatus(),
      phase: "Healthy",
      stableRevision: "v2",
      rollout: { ...pausedStatus().rollout, state: "Completed" },
    } as ApplicationDeploymentStatus);
    await waitUntil(() => calls.length === 2);
    expect(calls[1]?.url).toBe("https://hooks.example.com/services/T/B/rotated");
    expect(JSON.stringify(store.writes)).not.toContain("hooks.example.com");
  });

  it("names the Secret, not the URL, when the URL it holds may not be used", async () => {
    const store = new FakeStore([aNotification({ webhook: { urlSecretRef: { name: "plain", key: "url" } } })]);
    aNotifier(store, receiver().send).observe(deployment(progressing), progressing, pausedStatus());
    await waitUntil(() => store.last?.conditions?.[0]?.reason === "InvalidWebhook");
    expect(store.last?.conditions?.[0]?.message).toContain("the URL in Secret team-a/plain (key url) uses http:// to a host outside the cluster");
  });

  it("replays what it saw before the Notifications were listed", async () => {
    const store = new FakeStore([aNotification()]);
    store.synced = false;
    const { send, calls } = receiver();
    aNotifier(store, send).observe(deployment(progressing), progressing, pausedStatus());
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toHaveLength(0);
    store.synced = true;
    await waitUntil(() => calls.length === 1);
  });

  it("describes a failed send without naming host or port", () => {
    const err = Object.assign(new Error("fetch failed"), { cause: Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" }) });
    expect(sendErrorText(err)).toBe("no answer from the receiver (ECONNREFUSED)");
  });
});
