import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { crashIntervalMs, decidePod, isBrokenImage, type PodContext } from "../../../src/fleet/pod-logic.js";

const NOW = new Date("2030-01-01T00:00:10Z");

function ctx(overrides: Partial<PodContext> = {}): PodContext {
  return {
    nodeName: "n1",
    now: NOW,
    boundForMs: 5_000,
    readyDelayMs: 700,
    crashLoopIntervalMs: 5_000,
    podIP: "10.244.0.9",
    hostIP: "127.0.0.1",
    ...overrides,
  };
}

/** A small pod builder: `aPod().boundTo("n1").withImage("x:1-broken").pod`. */
function aPod() {
  const pod: V1Pod = {
    metadata: { name: "p", namespace: "ns", uid: "u1" },
    spec: { containers: [{ name: "main", image: "nginx:1.27" }] },
    status: { phase: "Pending" },
  };
  const b = {
    pod,
    boundTo(node: string) {
      if (pod.spec) pod.spec.nodeName = node;
      return b;
    },
    withImage(image: string) {
      if (pod.spec) pod.spec.containers = [{ name: "main", image }];
      return b;
    },
    withInit(image: string) {
      if (pod.spec) pod.spec.initContainers = [{ name: "init", image }];
      return b;
    },
    terminating() {
      if (pod.metadata) pod.metadata.deletionTimestamp = NOW;
      return b;
    },
    withStatus(status: NonNullable<V1Pod["status"]>) {
      pod.status = status;
      return b;
    },
  };
  return b;
}

describe("isBrokenImage", () => {
  it.each([
    ["nginx:1.27-broken", true],
    ["registry.local:5000/team/app:v2-broken", true],
    ["app:v2-broken@sha256:abc", true],
    ["nginx:1.27", false],
    ["nginx", false],
    ["registry-broken:5000/app", false],
    ["my-broken/app", false],
    ["app:broken", false],
    [undefined, false],
  ])("says %s is broken: %s", (image, expected) => {
    expect(isBrokenImage(image)).toBe(expected);
  });
});

describe("decidePod", () => {
  it("binds an unscheduled pod", () => {
    expect(decidePod(aPod().pod, ctx()).type).toBe("bind");
  });

  it("ignores a pod bound to another node", () => {
    expect(decidePod(aPod().boundTo("other").terminating().pod, ctx())).toMatchObject({ type: "ignore" });
  });

  it("finishes the deletion of a terminating pod, bound or not", () => {
    expect(decidePod(aPod().boundTo("n1").terminating().pod, ctx()).type).toBe("delete");
    expect(decidePod(aPod().terminating().pod, ctx()).type).toBe("delete");
  });

  it("waits for the start delay before reporting a freshly bound pod running", () => {
    expect(decidePod(aPod().boundTo("n1").pod, ctx({ boundForMs: 200 }))).toEqual({
      type: "later",
      afterMs: 500,
      reason: "starting containers",
    });
  });

  it("marks a bound pod Running and Ready with container statuses", () => {
    const action = decidePod(aPod().boundTo("n1").withInit("busybox:1").pod, ctx());
    expect(action.type).toBe("setStatus");
    if (action.type !== "setStatus") return;
    expect(action.status.phase).toBe("Running");
    expect(action.status.podIP).toBe("10.244.0.9");
    expect(action.status.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(action.status.containerStatuses?.[0]).toMatchObject({ name: "main", image: "nginx:1.27", ready: true, restartCount: 0 });
    expect(action.status.initContainerStatuses?.[0]?.state?.terminated?.reason).toBe("Completed");
  });

  it("leaves a running, ready pod alone", () => {
    const running = decidePod(aPod().boundTo("n1").pod, ctx());
    if (running.type !== "setStatus") throw new Error("expected a status");
    expect(decidePod(aPod().boundTo("n1").withStatus(running.status).pod, ctx()).type).toBe("ignore");
  });

  it("restarts the status when the image changed in place", () => {
    const running = decidePod(aPod().boundTo("n1").pod, ctx());
    if (running.type !== "setStatus") throw new Error("expected a status");
    const changed = aPod().boundTo("n1").withImage("nginx:1.28").withStatus(running.status).pod;
    expect(decidePod(changed, ctx()).type).toBe("setStatus");
  });

  it("crash-loops a -broken pod with a first restart and rechecks later", () => {
    const action = decidePod(aPod().boundTo("n1").withImage("app:v2-broken").pod, ctx());
    expect(action).toMatchObject({ type: "setStatus", recheckAfterMs: 5_000 });
    if (action.type !== "setStatus") return;
    const s = action.status.containerStatuses?.[0];
    expect(s?.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(s?.restartCount).toBe(1);
    expect(s?.ready).toBe(false);
    expect(action.status.conditions?.find((c) => c.type === "Ready")?.status).toBe("False");
  });

  it("raises restartCount only once the crash interval has passed", () => {
    const first = decidePod(aPod().boundTo("n1").withImage("app:v2-broken").pod, ctx());
    if (first.type !== "setStatus") throw new Error("expected a status");
    const crashing = aPod().boundTo("n1").withImage("app:v2-broken").withStatus(first.status).pod;
    expect(decidePod(crashing, ctx({ now: new Date(NOW.getTime() + 2_000) }))).toMatchObject({ type: "later", afterMs: 3_000 });
    const second = decidePod(crashing, ctx({ now: new Date(NOW.getTime() + 5_000) }));
    expect(second.type === "setStatus" && second.status.containerStatuses?.[0]?.restartCount).toBe(2);
  });

  it("keeps a pod with a -broken init container Pending", () => {
    const action = decidePod(aPod().boundTo("n1").withInit("init:1-broken").pod, ctx());
    if (action.type !== "setStatus") throw new Error("expected a status");
    expect(action.status.phase).toBe("Pending");
    expect(action.status.initContainerStatuses?.[0]?.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(action.status.containerStatuses?.[0]?.state?.waiting?.reason).toBe("PodInitializing");
  });

  it("ignores finished pods", () => {
    expect(decidePod(aPod().boundTo("n1").withStatus({ phase: "Succeeded" }).pod, ctx()).type).toBe("ignore");
  });
});

describe("crashIntervalMs", () => {
  it("backs off to a minute after ten restarts", () => {
    expect(crashIntervalMs(1, 5_000)).toBe(5_000);
    expect(crashIntervalMs(9, 5_000)).toBe(5_000);
    expect(crashIntervalMs(10, 5_000)).toBe(60_000);
  });
});
