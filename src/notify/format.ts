// Pure: a notification event as the body a webhook receives (Flotilla's versioned JSON, a Slack
// incoming-webhook message or a Teams Adaptive Card message), and the body's signature. The
// body is built once and signed as sent: a receiver verifies the exact bytes it got.

import { createHmac } from "node:crypto";
import type { NotificationFormat } from "../api/types.js";
import type { NotificationEvent } from "./detect.js";

export const NOTIFICATION_API_VERSION = "flotilla.dev/notification/v1";
export const SIGNATURE_HEADER = "X-Flotilla-Signature";
/** Every format carries the event's type and id in headers, so a receiver can dedupe without parsing. */
export const EVENT_HEADER = "X-Flotilla-Event";
export const EVENT_ID_HEADER = "X-Flotilla-Event-Id";

/** The `json` format: documented in docs/notifications.md; fields are only ever added within v1. */
export interface NotificationBodyV1 {
  apiVersion: typeof NOTIFICATION_API_VERSION;
  /** The dedupe key: the same event retried carries the same id. */
  id: string;
  event: NotificationEvent["event"];
  time: string;
  deployment: { namespace: string; name: string; generation: number; uid?: string };
  revision?: string;
  stableRevision?: string;
  wave?: string;
  batch?: number;
  batches?: number;
  clusters: string[];
  /** The environment repository's commit. */
  commit?: string;
  /** The GitSource commit the spec came from. */
  sourceCommit?: string;
  message: string;
  phase?: string;
}

/** The event's id: its dedupe key and, for rollout events, `@<step time>`; a retried delivery carries the same. */
export function eventId(e: NotificationEvent): string {
  return e.since ? `${e.key}@${e.since}` : e.key;
}

export function jsonBody(e: NotificationEvent): NotificationBodyV1 {
  const d = e.deployment;
  return {
    apiVersion: NOTIFICATION_API_VERSION,
    id: eventId(e),
    event: e.event,
    time: e.time,
    deployment: { namespace: d.namespace, name: d.name, generation: d.generation, ...(d.uid ? { uid: d.uid } : {}) },
    ...(e.revision !== undefined ? { revision: e.revision } : {}),
    ...(e.stableRevision !== undefined ? { stableRevision: e.stableRevision } : {}),
    ...(e.wave !== undefined ? { wave: e.wave } : {}),
    ...(e.batch !== undefined ? { batch: e.batch } : {}),
    ...(e.batches !== undefined ? { batches: e.batches } : {}),
    clusters: e.clusters,
    ...(e.commit !== undefined ? { commit: e.commit } : {}),
    ...(e.sourceCommit !== undefined ? { sourceCommit: e.sourceCommit } : {}),
    message: e.message,
    ...(e.phase !== undefined ? { phase: e.phase } : {}),
  };
}

const TITLES: Record<NotificationEvent["event"], string> = {
  RolloutStarted: "Rollout started",
  BatchPaused: "Waiting for promote",
  RolloutFailed: "Rollout failed",
  RolledBack: "Rolled back",
  RolloutCompleted: "Rollout completed",
  SyncFailed: "Sync failed",
  DriftCorrected: "Drift corrected",
};

const BAD: ReadonlySet<string> = new Set(["RolloutFailed", "RolledBack", "SyncFailed"]);

function title(e: NotificationEvent): string {
  return `${TITLES[e.event]}: ${e.deployment.namespace}/${e.deployment.name}${e.revision ? ` ${e.revision}` : ""}`;
}

/** Name/value lines shared by the chat formats, in reading order. */
function facts(e: NotificationEvent): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  if (e.revision) out.push({ name: "Revision", value: e.revision });
  if (e.stableRevision) out.push({ name: "Stable", value: e.stableRevision });
  if (e.wave) out.push({ name: "Wave", value: e.batch !== undefined ? `${e.wave}, batch ${e.batch}${e.batches ? `/${e.batches}` : ""}` : e.wave });
  if (e.clusters.length) out.push({ name: "Clusters", value: e.clusters.join(", ") });
  if (e.phase) out.push({ name: "Phase", value: e.phase });
  if (e.commit) out.push({ name: "Commit", value: e.commit.slice(0, 12) });
  if (e.sourceCommit) out.push({ name: "Source commit", value: e.sourceCommit.slice(0, 12) });
  return out;
}

/** Slack's mrkdwn treats these three as control characters. */
function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** A Slack incoming-webhook message: `text` (the notification's fallback) and Block Kit `blocks`. */
export function slackBody(e: NotificationEvent): Record<string, unknown> {
  const head = title(e);
  return {
    text: slackEscape(`${head}: ${e.message}`),
    blocks: [
      { type: "header", text: { type: "plain_text", text: head.slice(0, 150), emoji: false } },
      { type: "section", text: { type: "mrkdwn", text: slackEscape(e.message).slice(0, 3000) } },
      {
        type: "section",
        fields: facts(e)
          .slice(0, 10)
          .map((f) => ({ type: "mrkdwn", text: `*${f.name}*\n${slackEscape(f.value)}` })),
      },
      { type: "context", elements: [{ type: "mrkdwn", text: slackEscape(`${e.event} · ${e.time} · Flotilla`) }] },
    ],
  };
}

/** A Teams message with one Adaptive Card, as Teams incoming webhooks (and Workflows) take it. */
export function teamsBody(e: NotificationEvent): Record<string, unknown> {
  return {
    type: "message",
    attachments: [
      {
        contentType: "application/vnd.microsoft.card.adaptive",
        contentUrl: null,
        content: {
          $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
          type: "AdaptiveCard",
          version: "1.4",
          body: [
            { type: "TextBlock", size: "Medium", weight: "Bolder", text: title(e), wrap: true, color: BAD.has(e.event) ? "Attention" : "Default" },
            { type: "TextBlock", text: e.message, wrap: true },
            { type: "FactSet", facts: facts(e).map((f) => ({ title: f.name, value: f.value })) },
            { type: "TextBlock", text: `${e.event} · ${e.time}`, isSubtle: true, size: "Small", wrap: true },
          ],
        },
      },
    ],
  };
}

/** The exact bytes sent: one serialization, so the signature is of what goes over the wire. */
export function renderBody(e: NotificationEvent, format: NotificationFormat = "json"): string {
  const body = format === "slack" ? slackBody(e) : format === "teams" ? teamsBody(e) : jsonBody(e);
  return JSON.stringify(body);
}

/** `sha256=<hex HMAC-SHA256 of body>`, the X-Flotilla-Signature header. */
export function signBody(body: string, secret: string | Buffer): string {
  return `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`;
}
