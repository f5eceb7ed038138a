// The schema of Notification: which rollout and sync events of a namespace's deployments go to
// which webhook, in which format (src/notify/, src/controller/notifier.ts). The webhook's URL and
// signing secret never reach status: status says what was delivered and what failed, and why.

import { conditionList, type Schema } from "./common.js";

export const NOTIFICATION_EVENTS = [
  "RolloutStarted",
  "BatchPaused",
  "RolloutFailed",
  "RolledBack",
  "RolloutCompleted",
  "SyncFailed",
  "DriftCorrected",
] as const;
export const NOTIFICATION_FORMATS = ["json", "slack", "teams"] as const;

const str = (description: string): Schema => ({ type: "string", description });

/** `{name, key}` of a Secret in the Notification's namespace. */
const secretKeyRef = (description: string, holding: string): Schema => ({
  type: "object",
  required: ["name", "key"],
  additionalProperties: false,
  description,
  properties: { name: str("Name of the Secret."), key: str(`Key of the Secret's data holding ${holding}.`) },
});

export const notificationSpecSchema: Schema = {
  type: "object",
  required: ["events", "webhook"],
  additionalProperties: false,
  description: "Which deployments and events to tell about, and the webhook that is told.",
  properties: {
    selector: {
      type: "object",
      additionalProperties: false,
      description: "The ApplicationDeployments of the Notification's namespace it is about. Absent or empty: all of them.",
      properties: {
        matchLabels: {
          type: "object",
          additionalProperties: { type: "string", description: "The value the label must have." },
          description: "Labels a deployment must all carry, with these values.",
        },
      },
    },
    events: {
      type: "array",
      minItems: 1,
      "x-kubernetes-list-type": "set",
      description:
        "The events to send, each at most once: RolloutStarted (a new revision or change starts rolling out), BatchPaused (a batch waits for flotilla.dev/promote), RolloutFailed, RolledBack, RolloutCompleted (the target is stable and healthy everywhere), SyncFailed (a cluster could not apply a commit), DriftCorrected (a cluster's live objects were put back as Git has them).",
      items: { type: "string", enum: [...NOTIFICATION_EVENTS], description: "One event type." },
    },
    webhook: {
      type: "object",
      additionalProperties: false,
      description: "Where each event is POSTed, and how. Exactly one of url and urlSecretRef.",
      // Exactly one place for the URL: both would leave which one counts to a guess.
      oneOf: [{ required: ["url"] }, { required: ["urlSecretRef"] }],
      properties: {
        url: {
          type: "string",
          minLength: 1,
          maxLength: 2048,
          pattern: "^https?://",
          description:
            "The receiver: an https:// URL, or http:// to a loopback (localhost, 127.0.0.0/8, ::1) or cluster-local host (*.svc, *.svc.cluster.local) only. No user or password in it. Never logged and never in status, but readable by anyone who may get Notifications: put a Slack or Teams URL (a credential) in urlSecretRef instead.",
        },
        urlSecretRef: secretKeyRef(
          "A Secret in the Notification's namespace whose value is the receiver's URL (same rules as url), for URLs that are credentials themselves (Slack, Teams). Read at each delivery, so a rotated URL is used from the next event on.",
          "the URL",
        ),
        format: {
          type: "string",
          enum: [...NOTIFICATION_FORMATS],
          description:
            "The body: json (Flotilla's versioned schema flotilla.dev/notification/v1, see docs/notifications.md), slack (an incoming-webhook message) or teams (an Adaptive Card message). Default json.",
        },
        secretRef: secretKeyRef(
          "A Secret in the Notification's namespace whose value signs every body: the header X-Flotilla-Signature is sha256=<hex HMAC-SHA256 of the exact body>. Never logged and never in status.",
          "the signing secret",
        ),
      },
    },
  },
};

const record = (description: string, extra: Record<string, Schema> = {}): Schema => ({
  type: "object",
  required: ["event", "deployment", "time", ...Object.keys(extra)],
  additionalProperties: false,
  description,
  properties: {
    event: str("The event, e.g. BatchPaused."),
    deployment: str("The ApplicationDeployment, as <namespace>/<name>."),
    time: str("When (RFC 3339)."),
    ...extra,
  },
});

export const notificationStatusSchema: Schema = {
  type: "object",
  additionalProperties: false,
  description: "What the controller delivered; written by the controller only. Never holds the webhook's URL or secret.",
  properties: {
    observedGeneration: { type: "integer", description: "The metadata.generation this status was written for." },
    conditions: conditionList(
      "Ready: True with reason Delivered when the last attempt succeeded (or nothing was sent yet, reason Waiting); False with reason DeliveryFailed, InvalidWebhook or SecretNotFound and a message saying why.",
    ),
    delivered: { type: "integer", minimum: 0, description: "Events the receiver accepted (a 2xx answer) since the Notification was created." },
    failed: { type: "integer", minimum: 0, description: "Failed delivery attempts (each retry counts) since the Notification was created." },
    lastDelivery: record("The last event the receiver accepted."),
    lastFailure: record("The last failed attempt and why (the HTTP status or the connection error); never the URL.", {
      message: str("Why it failed."),
    }),
    sent: {
      type: "array",
      maxItems: 200,
      description:
        "The most recent events delivered, by dedupe key: an event is sent once per deployment generation and step, also across controller restarts. Bounded; the oldest entries go first.",
      items: {
        type: "object",
        required: ["key", "deployment", "time"],
        additionalProperties: false,
        description: "One delivered event.",
        properties: {
          key: str("<event>/<generation>/<revision>/<wave>/<batch> for rollout events, <event>/<generation>/<cluster>/<commit> for sync events."),
          deployment: str("The ApplicationDeployment, as <namespace>/<name>."),
          since: str("For rollout events, when the step happened (RFC 3339): a rollout retried back to the same step is a new occurrence, sent again."),
          time: str("When it was delivered (RFC 3339)."),
        },
      },
    },
  },
};
