// Delivers rollout and sync events to the webhooks of Notification objects. A reconcile only hands
// over what it saw (observe, syncEvent): detection is pure (src/notify/detect.ts), queues are in
// memory and drained asynchronously, one Notification at a time in order, so a slow or absent
// receiver never holds a reconcile. Failed attempts back off (capped, with jitter) while the event
// is recent; an event counts as sent only after a 2xx, and what was sent is recorded in the
// Notification's status, which the next leader reads back. Never logs or writes a URL or secret.

import { CustomObjectsApi, type KubeConfig, type KubernetesObject, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { GROUP, VERSION } from "../api/labels.js";
import type {
  ApplicationDeployment,
  ApplicationDeploymentStatus,
  Condition,
  Notification,
  NotificationSentEntry,
  NotificationStatus,
  NotificationEventType,
  NotificationWebhook,
} from "../api/types.js";
import { type DeploymentRef, type NotificationEvent, rolloutEvents, sameOccurrence, standingEvents, syncEvent, type SyncEventInput } from "../notify/detect.js";
import { EVENT_HEADER, EVENT_ID_HEADER, eventId, renderBody, SIGNATURE_HEADER, signBody } from "../notify/format.js";
import { alreadySent, recentEnough, wants, withSent } from "../notify/select.js";
import { webhookUrlProblem } from "../notify/webhook.js";
import { backoffDelay } from "../support/backoff.js";
import { type Hub, type InformerHandlers, type SupervisedInformer, supervisedInformer } from "./hub.js";

export const NOTIFICATIONS_PLURAL = "notifications";

/** One POST. Resolves with the HTTP status; rejects when no answer came (refused, timed out). */
export type WebhookSend = (request: { url: string; body: string; headers: Record<string, string> }) => Promise<number>;

/** What the notifier needs of the hub: the Notifications (an informer), their status, Secrets. */
export interface NotificationStore {
  list(): readonly Notification[];
  get(namespace: string, name: string): Notification | undefined;
  readonly synced: boolean;
  patchStatus(namespace: string, name: string, status: NotificationStatus): Promise<void>;
  /** A Secret's value, or undefined when the Secret or key does not exist. */
  readSecret(namespace: string, name: string, key: string): Promise<string | undefined>;
  stop(): Promise<void>;
}

export interface NotifierOptions {
  store: NotificationStore;
  logger: Logger;
  /** Default: `fetch`, 10 s per attempt, redirects not followed. */
  send?: WebhookSend;
  /** First retry delay, ms. Default 1 000. */
  initialRetryMs?: number;
  /** Longest retry delay, ms. Default 300 000 (5 minutes). */
  maxRetryMs?: number;
  /** An event is retried, and standing events are sent after a restart, for this long, ms. Default 3 600 000 (1 hour). */
  maxAgeMs?: number;
  /** The clock, ms since the epoch. Default Date.now. */
  now?: () => number;
  /** Told of every attempt's outcome (metrics). */
  onDelivery?: (event: NotificationEventType, result: DeliveryResult) => void;
}

/** delivered; failed (retried later); given_up (dropped after maxAgeMs). */
export type DeliveryResult = "delivered" | "failed" | "given_up";

interface Delivery {
  event: NotificationEvent;
  /** When it was queued, ms: retries stop maxAgeMs after it. */
  queuedAt: number;
  attempts: number;
  notBefore: number;
}

/** One Notification's queue and what its status says. */
interface Channel {
  namespace: string;
  name: string;
  uid: string | undefined;
  /** The spec's generation last seen: a new one retries the queue at once. */
  generation: number;
  queue: Delivery[];
  status: NotificationStatus;
  running: boolean;
  timer: NodeJS.Timeout | undefined;
  wake: (() => void) | undefined;
  writing: Promise<void> | undefined;
  dirty: boolean;
}

const DEFAULT_SEND_TIMEOUT_MS = 10_000;
const MAX_QUEUE = 1_000;
/** Observations made before the Notifications were listed, replayed once they are. */
const MAX_EARLY = 10_000;

export const fetchSend: WebhookSend = async ({ url, body, headers }) => {
  const res = await fetch(url, { method: "POST", body, headers, redirect: "manual", signal: AbortSignal.timeout(DEFAULT_SEND_TIMEOUT_MS) });
  await res.body?.cancel().catch(() => undefined);
  return res.status;
};

/** Why a send failed, without the URL (a fetch error's cause may name host and port). */
export function sendErrorText(e: unknown): string {
  const cause = (e as { cause?: { code?: unknown } } | null)?.cause;
  if (typeof cause?.code === "string") return `no answer from the receiver (${cause.code})`;
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return "no answer from the receiver within 10 s";
  return "no answer from the receiver";
}

export class Notifier {
  private readonly channels = new Map<string, Channel>();
  /** Deployments seen in this term: the first look sends what stands, later looks what changed. */
  private readonly seen = new Set<string>();
  private early: Array<() => void> = [];
  private earlyTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly send: WebhookSend;
  private readonly now: () => number;

  constructor(private readonly o: NotifierOptions) {
    this.send = o.send ?? fetchSend;
    this.now = o.now ?? Date.now;
  }

  /** After a reconcile computed `next` from `previous` (whether or not it was written). */
  observe(ad: ApplicationDeployment, previous: ApplicationDeploymentStatus | undefined, next: ApplicationDeploymentStatus): void {
    if (this.stopped) return;
    if (!this.o.store.synced) {
      this.later(() => this.observe(ad, previous, next));
      return;
    }
    const ref = refOf(ad);
    const key = `${ref.namespace}/${ref.name}`;
    const first = !this.seen.has(key);
    this.seen.add(key);
    const events = first ? standingEvents(ref, next) : rolloutEvents(ref, previous, next);
    for (const e of events) this.offer(e, ad.metadata.labels, first);
  }

  /** A sync event of the sync loop about one deployment. */
  syncEvent(ad: ApplicationDeployment, ev: SyncEventInput): void {
    if (this.stopped) return;
    if (ev.type !== "SyncFailed" && ev.type !== "DriftCorrected") return;
    if (!this.o.store.synced) {
      this.later(() => this.syncEvent(ad, ev));
      return;
    }
    const e = syncEvent(refOf(ad), ad.status, ev, new Date(this.now()));
    if (e) this.offer(e, ad.metadata.labels, false);
  }

  /** The deployment is gone: its next appearance is a first look again. */
  forget(namespace: string, name: string): void {
    this.seen.delete(`${namespace}/${name}`);
  }

  /**
   * A Notification changed. Its spec (e.g. its URL was fixed): try its queue again now. Its
   * status (this notifier's own writes) changes nothing.
   */
  changed(n: Notification): void {
    const ch = this.channels.get(channelKey(n));
    if (!ch) return;
    if (ch.uid !== n.metadata.uid) {
      this.drop(ch);
      return;
    }
    const generation = n.metadata.generation ?? 0;
    if (generation === ch.generation) return;
    ch.generation = generation;
    ch.queue.forEach((d) => {
      d.notBefore = 0;
    });
    ch.wake?.();
  }

  deleted(n: Notification): void {
    const ch = this.channels.get(channelKey(n));
    if (ch) this.drop(ch);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.earlyTimer) clearInterval(this.earlyTimer);
    for (const ch of this.channels.values()) {
      if (ch.timer) clearTimeout(ch.timer);
      ch.wake?.();
    }
    await Promise.all([...this.channels.values()].map((ch) => ch.writing));
    await this.o.store.stop();
  }

  /** How many events wait for delivery (for tests and metrics). */
  get pending(): number {
    return [...this.channels.values()].reduce((n, ch) => n + ch.queue.length, 0);
  }

  private later(replay: () => void): void {
    if (this.early.length < MAX_EARLY) this.early.push(replay);
    this.earlyTimer ??= setInterval(() => {
      if (!this.o.store.synced || this.stopped) return;
      clearInterval(this.earlyTimer);
      this.earlyTimer = undefined;
      const replays = this.early;
      this.early = [];
      for (const r of replays) r();
    }, 250);
    this.earlyTimer.unref?.();
  }

  private offer(e: NotificationEvent, labels: Record<string, string> | undefined, standing: boolean): void {
    const now = this.now();
    for (const n of this.o.store.list()) {
      if (!wants(n, e, labels)) continue;
      if (standing && !recentEnough(n, e, now, this.o.maxAgeMs ?? 3_600_000)) continue;
      const ch = this.channel(n);
      if (alreadySent(ch.status.sent ?? [], e) || ch.queue.some((d) => sameOccurrence(d.event, e) && sameDeployment(d.event, e))) continue;
      if (ch.queue.length >= MAX_QUEUE) {
        this.o.logger.warn({ notification: `${ch.namespace}/${ch.name}`, event: e.event }, "notification queue full; event dropped");
        continue;
      }
      ch.queue.push({ event: e, queuedAt: now, attempts: 0, notBefore: 0 });
      void this.pump(ch);
    }
  }

  private channel(n: Notification): Channel {
    const key = channelKey(n);
    let ch = this.channels.get(key);
    if (ch && ch.uid !== n.metadata.uid) {
      this.drop(ch);
      ch = undefined;
    }
    if (!ch) {
      // Counts and the sent record continue from what the last leader wrote.
      const s = n.status ?? {};
      ch = {
        namespace: n.metadata.namespace ?? "default",
        name: n.metadata.name,
        uid: n.metadata.uid,
        generation: n.metadata.generation ?? 0,
        queue: [],
        status: {
          ...(s.conditions ? { conditions: s.conditions } : {}),
          delivered: s.delivered ?? 0,
          failed: s.failed ?? 0,
          ...(s.lastDelivery ? { lastDelivery: s.lastDelivery } : {}),
          ...(s.lastFailure ? { lastFailure: s.lastFailure } : {}),
          sent: (s.sent ?? []).filter(isSentEntry),
        },
        running: false,
        timer: undefined,
        wake: undefined,
        writing: undefined,
        dirty: false,
      };
      this.channels.set(key, ch);
    }
    return ch;
  }

  private drop(ch: Channel): void {
    ch.queue = [];
    if (ch.timer) clearTimeout(ch.timer);
    ch.wake?.();
    this.channels.delete(`${ch.namespace}/${ch.name}`);
  }

  /** Deliver the channel's queue in order; one runner per channel. */
  private async pump(ch: Channel): Promise<void> {
    if (ch.running) return;
    ch.running = true;
    try {
      while (!this.stopped && ch.queue.length > 0 && this.channels.get(`${ch.namespace}/${ch.name}`) === ch) {
        const d = ch.queue[0] as Delivery;
        const wait = d.notBefore - this.now();
        if (wait > 0) {
          await new Promise<void>((resolve) => {
            ch.wake = resolve;
            ch.timer = setTimeout(resolve, wait);
          });
          ch.wake = undefined;
          ch.timer = undefined;
          continue;
        }
        const n = this.o.store.get(ch.namespace, ch.name);
        if (!n || n.metadata.uid !== ch.uid) break;
        await this.attempt(ch, n, d);
      }
    } finally {
      ch.running = false;
    }
  }

  /** The receiver's URL, from the spec or read from its Secret at each delivery (a rotated URL counts at once). */
  private async webhookUrl(namespace: string, webhook: NotificationWebhook): Promise<{ url: string } | { failure: { reason: string; message: string } }> {
    const ref = webhook.urlSecretRef;
    if (!ref) {
      const url = webhook.url ?? "";
      const problem = webhookUrlProblem(url);
      return problem ? { failure: { reason: "InvalidWebhook", message: problem } } : { url };
    }
    const read = await this.secretValue(namespace, "spec.webhook.urlSecretRef", ref);
    if ("failure" in read) return read;
    const url = read.value.trim();
    const problem = webhookUrlProblem(url, `the URL in Secret ${namespace}/${ref.name} (key ${ref.key})`);
    return problem ? { failure: { reason: "InvalidWebhook", message: problem } } : { url };
  }

  /** A key of a Secret in the Notification's namespace, or the SecretNotFound failure naming `field`. */
  private async secretValue(
    namespace: string,
    field: string,
    ref: { name: string; key: string },
  ): Promise<{ value: string } | { failure: { reason: string; message: string } }> {
    const value = await this.o.store.readSecret(namespace, ref.name, ref.key).catch(() => undefined);
    if (value !== undefined) return { value };
    return {
      failure: {
        reason: "SecretNotFound",
        message: `${field}: cannot read key ${ref.key} of Secret ${namespace}/${ref.name}; create it, or let the controller read Secrets in ${namespace} (bind flotilla-source-secrets there)`,
      },
    };
  }

  private async attempt(ch: Channel, n: Notification, d: Delivery): Promise<void> {
    const e = d.event;
    const who = { notification: `${ch.namespace}/${ch.name}`, event: e.event, deployment: `${e.deployment.namespace}/${e.deployment.name}`, key: e.key };
    let failure: { reason: string; message: string } | undefined;
    try {
      const target = await this.webhookUrl(ch.namespace, n.spec.webhook);
      if ("failure" in target) failure = target.failure;
      else {
        const body = renderBody(e, n.spec.webhook.format ?? "json");
        const headers: Record<string, string> = {
          "Content-Type": "application/json",
          "User-Agent": "flotilla",
          [EVENT_HEADER]: e.event,
          [EVENT_ID_HEADER]: eventId(e),
        };
        const ref = n.spec.webhook.secretRef;
        if (ref) {
          const secret = await this.secretValue(ch.namespace, "spec.webhook.secretRef", ref);
          if ("failure" in secret) failure = secret.failure;
          else headers[SIGNATURE_HEADER] = signBody(body, secret.value);
        }
        if (!failure) {
          const status = await this.send({ url: target.url, body, headers }).catch((err: unknown) => {
            failure = { reason: "DeliveryFailed", message: sendErrorText(err) };
            return undefined;
          });
          if (status !== undefined && (status < 200 || status > 299))
            failure = {
              reason: "DeliveryFailed",
              message: `the receiver answered HTTP ${status}${status >= 300 && status < 400 ? " (redirects are not followed)" : ""}`,
            };
        }
      }
    } catch (err) {
      failure = { reason: "DeliveryFailed", message: err instanceof Error ? (err.message.split("\n")[0] ?? "failed") : "failed" };
    }
    const now = this.now();
    const iso = new Date(now).toISOString();
    const record = { event: e.event, deployment: `${e.deployment.namespace}/${e.deployment.name}`, time: iso };
    if (!failure) {
      this.o.onDelivery?.(e.event, "delivered");
      ch.queue.shift();
      ch.status.delivered = (ch.status.delivered ?? 0) + 1;
      ch.status.lastDelivery = record;
      ch.status.sent = withSent(ch.status.sent ?? [], e, iso);
      ch.status.conditions = [readyCondition(true, "Delivered", `delivered ${e.event} of ${record.deployment}`, n, ch.status.conditions, iso)];
      this.o.logger.info({ ...who, attempts: d.attempts + 1 }, "notification delivered");
    } else {
      d.attempts++;
      ch.status.failed = (ch.status.failed ?? 0) + 1;
      ch.status.lastFailure = { ...record, message: failure.message };
      const giveUp = now - d.queuedAt >= (this.o.maxAgeMs ?? 3_600_000);
      const message = giveUp ? `${failure.message}; gave up on ${e.event} of ${record.deployment} after ${d.attempts} attempts` : failure.message;
      ch.status.conditions = [readyCondition(false, failure.reason, message, n, ch.status.conditions, iso)];
      this.o.onDelivery?.(e.event, giveUp ? "given_up" : "failed");
      if (giveUp) {
        ch.queue.shift();
        this.o.logger.warn({ ...who, attempts: d.attempts, err: failure.message }, "notification not delivered; giving up");
      } else {
        const delay = backoffDelay(d.attempts, { initialMs: this.o.initialRetryMs ?? 1_000, maxMs: this.o.maxRetryMs ?? 300_000 });
        // Equal jitter: many Notifications to one receiver that comes back do not all retry at once.
        d.notBefore = now + delay / 2 + Math.random() * (delay / 2);
        this.o.logger.warn(
          { ...who, attempts: d.attempts, retryInMs: Math.round(d.notBefore - now), err: failure.message },
          "notification not delivered; retrying",
        );
      }
    }
    ch.status.observedGeneration = n.metadata.generation ?? 0;
    this.writeStatus(ch);
  }

  /** One status write at a time per Notification; changes made meanwhile go in the next one. */
  private writeStatus(ch: Channel): void {
    if (ch.writing) {
      ch.dirty = true;
      return;
    }
    const status = structuredClone(ch.status);
    ch.writing = this.o.store
      .patchStatus(ch.namespace, ch.name, status)
      .catch((err: unknown) => {
        this.o.logger.warn(
          { notification: `${ch.namespace}/${ch.name}`, err: err instanceof Error ? err.message.split("\n")[0] : String(err) },
          "cannot write the Notification's status",
        );
      })
      .finally(() => {
        ch.writing = undefined;
        if (ch.dirty && !this.stopped) {
          ch.dirty = false;
          this.writeStatus(ch);
        }
      });
  }
}

function readyCondition(ok: boolean, reason: string, message: string, n: Notification, previous: Condition[] | undefined, now: string): Condition {
  const status = ok ? "True" : "False";
  const old = previous?.find((c) => c.type === "Ready");
  return {
    type: "Ready",
    status,
    reason,
    message,
    observedGeneration: n.metadata.generation ?? 0,
    lastTransitionTime: old?.status === status && old.lastTransitionTime ? old.lastTransitionTime : now,
  };
}

function refOf(ad: ApplicationDeployment): DeploymentRef {
  return {
    namespace: ad.metadata.namespace ?? "default",
    name: ad.metadata.name,
    generation: ad.metadata.generation ?? 0,
    ...(ad.metadata.uid ? { uid: ad.metadata.uid } : {}),
  };
}

function channelKey(n: Notification): string {
  return `${n.metadata.namespace ?? "default"}/${n.metadata.name}`;
}

function sameDeployment(a: NotificationEvent, b: NotificationEvent): boolean {
  return a.deployment.namespace === b.deployment.namespace && a.deployment.name === b.deployment.name;
}

function isSentEntry(v: unknown): v is NotificationSentEntry {
  const s = v as NotificationSentEntry | null;
  return typeof s === "object" && s !== null && typeof s.key === "string" && typeof s.deployment === "string";
}

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** The hub's Notifications through a supervised informer; status by merge patch of the status subresource. */
export function hubNotificationStore(
  kc: KubeConfig,
  hub: Hub,
  handlers: { onChange: (n: Notification) => void; onDelete: (n: Notification) => void; onError?: (kind: string, e: unknown) => void },
): NotificationStore {
  const custom = kc.makeApiClient(CustomObjectsApi);
  const informer = supervisedInformer<KubernetesObject>(
    kc,
    `/apis/${GROUP}/${VERSION}/${NOTIFICATIONS_PLURAL}`,
    () => custom.listCustomObjectForAllNamespaces({ group: GROUP, version: VERSION, plural: NOTIFICATIONS_PLURAL }) as Promise<{ items: KubernetesObject[] }>,
    // Our API types keep timestamps as strings, as JSON has them: cast at this edge, as hub.ts does.
    handlers as unknown as InformerHandlers<KubernetesObject>,
    { name: "Notification", ...(handlers.onError ? { onError: handlers.onError } : {}) },
  ) as unknown as SupervisedInformer<Notification>;
  // A hub without the Notification CRD (an upgrade that did not apply it yet) has none by
  // construction: listed and empty, so events are not held back waiting for a list that never comes.
  return {
    list: () => (informer.notServed ? [] : informer.list()),
    get: (namespace, name) => (informer.notServed ? undefined : informer.get(name, namespace)),
    get synced() {
      return informer.synced || informer.notServed;
    },
    patchStatus: async (namespace, name, status) => {
      await custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, namespace, plural: NOTIFICATIONS_PLURAL, name, body: { status } },
        merge,
      );
    },
    readSecret: async (namespace, name, key) => {
      try {
        return await hub.readSecretKey(namespace, name, key);
      } catch (e) {
        if ((e as { code?: unknown }).code === 404) return undefined;
        throw e;
      }
    },
    stop: () => informer.stop(),
  };
}
