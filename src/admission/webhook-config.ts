// The ValidatingWebhookConfiguration the controller owns: one webhook for Flotilla's kinds,
// failurePolicy Ignore and a short timeout, so a controller that is down or slow never blocks
// writes to the hub (the controller's own validation stays the safety net). Built as plain data;
// applied with server-side apply as field manager `flotilla`.

import type { Manifest } from "../api/types.js";
import { GROUP, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/labels.js";
import { ADMITTED_KINDS } from "./validator.js";

/** The one webhook's name (the API server's messages show it: `admission webhook "validate.flotilla.dev" denied the request`). */
export const WEBHOOK_NAME = "validate.flotilla.dev";
/** The path the server answers on. */
export const VALIDATE_PATH = "/validate";

/** A label selector as Kubernetes writes it. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

/** How the API server reaches the webhook. */
export type ClientConfig =
  /** In the cluster: through the controller's Service. */
  | { service: { namespace: string; name: string; port: number } }
  /** Outside it (the local fleet): a URL, e.g. `https://127.0.0.1:9443/validate`. */
  | { url: string };

export interface WebhookConfigOptions {
  /** The configuration's name. Default `flotilla`. */
  name?: string;
  clientConfig: ClientConfig;
  /** Seconds the API server waits for an answer before it lets the request through. Default 2. */
  timeoutSeconds?: number;
  /** Only objects with these labels are sent (tests scope their webhook this way). Default: every object. */
  objectSelector?: LabelSelector;
}

export const DEFAULT_CONFIG_NAME = "flotilla";

/** The configuration, with `caBundle` (PEM) as the CAs the API server trusts for it. */
export function webhookConfiguration(o: WebhookConfigOptions, caBundle: string): Manifest {
  const clientConfig = "url" in o.clientConfig ? { url: o.clientConfig.url } : { service: { ...o.clientConfig.service, path: VALIDATE_PATH } };
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: o.name ?? DEFAULT_CONFIG_NAME, labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE } },
    webhooks: [
      {
        name: WEBHOOK_NAME,
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        // A controller outage must never block the hub: the object is let in and the
        // controller reports problems in its status once it is back.
        failurePolicy: "Ignore",
        matchPolicy: "Equivalent",
        timeoutSeconds: o.timeoutSeconds ?? 2,
        clientConfig: { ...clientConfig, caBundle: Buffer.from(caBundle).toString("base64") },
        rules: [
          {
            apiGroups: [GROUP],
            apiVersions: ["*"],
            operations: ["CREATE", "UPDATE"],
            // The main resources only: status writes (the controller's, the agents') are never sent.
            resources: Object.values(ADMITTED_KINDS),
            scope: "*",
          },
        ],
        ...(o.objectSelector ? { objectSelector: o.objectSelector } : {}),
      },
    ],
  } as unknown as Manifest;
}
