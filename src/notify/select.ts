// Pure: which Notifications an event goes to, and the bounded record of what was sent that makes
// delivery once per occurrence across controller restarts (it lives in the Notification's status).

import type { Notification, NotificationSentEntry } from "../api/types.js";
import { type NotificationEvent, sameOccurrence } from "./detect.js";

/** At most this many sent entries are kept per Notification (the oldest go first). */
export const MAX_SENT = 200;

/** Does `n` ask for this event of a deployment with these labels? Only deployments of its own namespace. */
export function wants(n: Notification, e: NotificationEvent, labels: Record<string, string> | undefined): boolean {
  if ((n.metadata.namespace ?? "default") !== e.deployment.namespace) return false;
  if (!n.spec?.events?.includes(e.event)) return false;
  const match = n.spec.selector?.matchLabels ?? {};
  return Object.entries(match).every(([k, v]) => labels?.[k] === v);
}

/** Has this occurrence of the event been delivered to the Notification already? */
export function alreadySent(sent: readonly NotificationSentEntry[], e: NotificationEvent): boolean {
  const deployment = `${e.deployment.namespace}/${e.deployment.name}`;
  return sent.some((s) => s.deployment === deployment && sameOccurrence(s, e));
}

/** The record with the delivery of `e` at `time` added, bounded to MAX_SENT. */
export function withSent(sent: readonly NotificationSentEntry[], e: NotificationEvent, time: string, max = MAX_SENT): NotificationSentEntry[] {
  const entry: NotificationSentEntry = {
    key: e.key,
    deployment: `${e.deployment.namespace}/${e.deployment.name}`,
    ...(e.since ? { since: e.since } : {}),
    time,
  };
  return [...sent, entry].slice(-max);
}

/**
 * After a restart, or for a Notification created later: an event standing in a status is sent
 * only if it happened after the Notification was created and is recent enough to still matter.
 */
export function recentEnough(n: Notification, e: NotificationEvent, nowMs: number, maxAgeMs: number): boolean {
  const at = Date.parse(e.time);
  if (Number.isNaN(at)) return false;
  const created = n.metadata.creationTimestamp ? Date.parse(n.metadata.creationTimestamp) : Number.NaN;
  // creationTimestamp has whole seconds: an event in the second the Notification was created counts.
  if (!Number.isNaN(created) && at < created - 1_000) return false;
  return nowMs - at <= maxAgeMs;
}
