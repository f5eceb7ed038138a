import { KubeConfig } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { LEADER_LABEL, LeaderPodLabel, leaderLabelPatch } from "../../../src/controller/leader-label.js";

/** A Pod's leader label behind a patch function that fails the first `failures` calls. */
function fakePod(failures: number) {
  const state = { label: undefined as string | undefined, calls: 0, failures };
  const patch = async (body: ReturnType<typeof leaderLabelPatch>) => {
    state.calls++;
    if (state.failures > 0) {
      state.failures--;
      throw Object.assign(new Error("the hub is down"), { code: 503 });
    }
    const value = body.metadata.labels[LEADER_LABEL];
    state.label = value === null ? undefined : value;
  };
  return { state, patch };
}

const options = (patch: (body: ReturnType<typeof leaderLabelPatch>) => Promise<unknown>, errors: boolean[] = []) => ({
  kc: new KubeConfig(),
  podName: "flotilla-controller-0",
  podNamespace: "flotilla-system",
  retryMs: 5,
  patch,
  onError: (_: unknown, leading: boolean) => errors.push(leading),
});

describe("the leader label on the controller's Pod", () => {
  it("is a merge patch that sets the label, or removes it with null", () => {
    expect(leaderLabelPatch(true)).toEqual({ metadata: { labels: { "flotilla.dev/leader": "true" } } });
    expect(leaderLabelPatch(false)).toEqual({ metadata: { labels: { "flotilla.dev/leader": null } } });
  });

  it("retries a failed patch until the Pod shows the wish, and tells of each failure", async () => {
    const pod = fakePod(2);
    const errors: boolean[] = [];
    await new LeaderPodLabel(options(pod.patch, errors)).set(true);
    expect(pod.state.label).toBe("true");
    expect(pod.state.calls).toBe(3);
    expect(errors).toEqual([true, true]);
  });

  it("ends with the newest wish when the leadership changes while a patch is retried", async () => {
    const pod = fakePod(3);
    const label = new LeaderPodLabel(options(pod.patch));
    const first = label.set(true);
    const second = label.set(false);
    await Promise.all([first, second]);
    expect(pod.state.label).toBeUndefined();
    // Nothing was written for the wish that was replaced before it got through.
    expect(pod.state.calls).toBe(4);
  });

  it("does not patch again what the Pod already shows", async () => {
    const pod = fakePod(0);
    const label = new LeaderPodLabel(options(pod.patch));
    await label.set(true);
    await label.set(true);
    expect(pod.state.calls).toBe(1);
  });

  it("stops retrying once closed", async () => {
    const pod = fakePod(1_000);
    const label = new LeaderPodLabel({ ...options(pod.patch), retryMs: 20 });
    const done = label.set(true);
    await new Promise((r) => setTimeout(r, 50));
    label.close();
    await done;
    const calls = pod.state.calls;
    await new Promise((r) => setTimeout(r, 100));
    expect(pod.state.calls).toBe(calls);
    expect(pod.state.label).toBeUndefined();
  });
});
