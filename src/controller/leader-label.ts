// The label `flotilla.dev/leader: "true"` on the controller's own Pod while it leads. Only the
// leader has the caches the web UI answers from and the current environment repository that
// pull-mode agents fetch and webhooks act on, so the Services `flotilla-ui` and `flotilla-git`
// select this label: with two replicas, every request reaches the leader instead of half of them
// a standby's 503. The Pod names itself through the downward API (POD_NAME, POD_NAMESPACE);
// outside a Pod (the local fleet) there is nothing to label.
//
// Writes are serialised and the newest wish wins: a patch that fails is retried with backoff
// until it succeeds or a newer wish replaces it, so a brief hub outage at a hand-over leaves the
// label right afterwards. A process that starts takes the label off first, since a container
// restarted in the same Pod keeps the Pod's labels from its previous life as leader.

import { CoreV1Api, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP } from "../api/labels.js";

/** The label a leading replica's Pod carries; the Services in front of the leader select it. */
export const LEADER_LABEL = `${GROUP}/leader`;

export interface LeaderPodLabelOptions {
  kc: KubeConfig;
  podName: string;
  podNamespace: string;
  /** Told of a patch that failed (it is retried). */
  onError?: (error: unknown, leading: boolean) => void;
  /** First retry delay, ms; doubles up to 30 s. Default 500. */
  retryMs?: number;
  /** Sends the merge patch. Default: a PATCH of the Pod on the hub (tests pass their own). */
  patch?: (body: ReturnType<typeof leaderLabelPatch>) => Promise<unknown>;
}

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

/** The merge patch that sets or removes the label (null deletes a key in a merge patch). */
export function leaderLabelPatch(leading: boolean): { metadata: { labels: Record<string, string | null> } } {
  return { metadata: { labels: { [LEADER_LABEL]: leading ? "true" : null } } };
}

export class LeaderPodLabel {
  private readonly patch: (body: ReturnType<typeof leaderLabelPatch>) => Promise<unknown>;
  private wanted: boolean | undefined;
  private written: boolean | undefined;
  private running: Promise<void> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(private readonly o: LeaderPodLabelOptions) {
    const core = o.patch ? undefined : o.kc.makeApiClient(CoreV1Api);
    this.patch = o.patch ?? ((body) => (core as CoreV1Api).patchNamespacedPod({ name: o.podName, namespace: o.podNamespace, body }, merge));
  }

  /** Says whether this replica leads; resolves once the Pod shows it (or a newer call took over, or close()). */
  set(leading: boolean): Promise<void> {
    this.wanted = leading;
    // A retry waiting on its timer goes now: the wish changed.
    this.wake?.();
    this.running ??= this.loop().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Stops retrying; a patch in flight completes. */
  close(): void {
    this.closed = true;
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let delay = this.o.retryMs ?? 500;
    while (!this.closed && this.wanted !== undefined && this.wanted !== this.written) {
      const leading = this.wanted;
      try {
        await this.patch(leaderLabelPatch(leading));
        this.written = leading;
        delay = this.o.retryMs ?? 500;
      } catch (err) {
        this.o.onError?.(err, leading);
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          this.timer = setTimeout(resolve, delay);
        });
        clearTimeout(this.timer);
        this.wake = undefined;
        delay = Math.min(30_000, delay * 2);
      }
    }
  }
}
