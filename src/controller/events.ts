// Kubernetes Events on the ApplicationDeployment for every step (Rendered, Committed, Synced,
// DriftCorrected, ...). The same reason and message for the same object is sent once per window,
// so a steady state costs no writes. Sending is best effort: an Event never fails a reconcile.

import type { CoreV1Api } from "@kubernetes/client-node";
import { API_VERSION } from "../api/labels.js";

export interface EventTarget {
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface EventRecorderOptions {
  core: CoreV1Api;
  /** Reporting component. Default `flotilla-controller`. */
  component?: string;
  /** An identical event for the same object is not sent again within this window, ms. Default 600 000. */
  dedupeWindowMs?: number;
  onError?: (error: unknown) => void;
  now?: () => Date;
}

export class EventRecorder {
  private readonly sent = new Map<string, number>();
  private seq = 0;

  constructor(private readonly o: EventRecorderOptions) {}

  record(target: EventTarget, type: "Normal" | "Warning", reason: string, message: string): void {
    const now = (this.o.now ?? (() => new Date()))();
    const key = `${target.namespace}/${target.name}/${target.uid ?? ""}|${reason}|${message}`;
    const last = this.sent.get(key);
    if (last !== undefined && now.getTime() - last < (this.o.dedupeWindowMs ?? 600_000)) return;
    this.sent.set(key, now.getTime());
    if (this.sent.size > 50_000) this.sent.clear();
    const name = `${target.name}.${now.getTime().toString(16)}${(this.seq++ % 4096).toString(16)}`;
    this.o.core
      .createNamespacedEvent({
        namespace: target.namespace,
        body: {
          metadata: { name, namespace: target.namespace },
          involvedObject: {
            apiVersion: API_VERSION,
            kind: target.kind,
            namespace: target.namespace,
            name: target.name,
            ...(target.uid ? { uid: target.uid } : {}),
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: this.o.component ?? "flotilla-controller" },
          reportingComponent: this.o.component ?? "flotilla-controller",
          reportingInstance: this.o.component ?? "flotilla-controller",
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      })
      .catch((e: unknown) => this.o.onError?.(e));
  }
}
