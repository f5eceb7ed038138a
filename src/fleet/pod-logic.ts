// What the node simulator does with a Pod, and the statuses it writes. Pure: pod + context in,
// decision out, clock injected. The simulator (node-simulator.ts) does the I/O.
// By convention a Pod with any container image whose tag ends in `-broken` never becomes ready:
// it crash-loops with a rising restartCount, so failing rollouts can be demonstrated and tested.
import type { V1Container, V1ContainerStatus, V1Pod, V1PodCondition, V1PodStatus } from "@kubernetes/client-node";

export interface PodContext {
  /** The simulated node. */
  nodeName: string;
  now: Date;
  /** How long ago the simulator first saw this pod bound to its node; undefined if just now. */
  boundForMs: number | undefined;
  /** Delay between binding and Running/Ready (the "container start"). */
  readyDelayMs: number;
  /** Time between two simulated crashes of a `-broken` container (see crashIntervalMs). */
  crashLoopIntervalMs: number;
  /** IPs to report. */
  podIP: string;
  hostIP: string;
}

export type PodAction =
  | { type: "delete"; reason: string }
  | { type: "bind"; reason: string }
  | { type: "setStatus"; status: V1PodStatus; reason: string; recheckAfterMs?: number }
  | { type: "later"; afterMs: number; reason: string }
  | { type: "ignore"; reason: string };

/** True when the image's tag (not registry port, not digest) ends in `-broken`. */
export function isBrokenImage(image: string | undefined): boolean {
  if (!image) return false;
  const withoutDigest = image.split("@")[0] ?? "";
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  if (colon <= slash) return false; // no tag (a colon before the last slash is a registry port)
  return withoutDigest.slice(colon + 1).endsWith("-broken");
}

/** Restart interval grows like a kubelet's back-off, but stays short enough for tests: 5 s × 1, then 60 s after 10 restarts. */
export function crashIntervalMs(restartCount: number, baseMs: number): number {
  return restartCount >= 10 ? Math.max(baseMs, 60_000) : baseMs;
}

function containers(pod: V1Pod): V1Container[] {
  return pod.spec?.containers ?? [];
}

function initContainers(pod: V1Pod): V1Container[] {
  return pod.spec?.initContainers ?? [];
}

export function isBrokenPod(pod: V1Pod): boolean {
  return [...initContainers(pod), ...containers(pod)].some((c) => isBrokenImage(c.image));
}

function timeOf(value: Date | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? undefined : t;
}

/** The status written so far matches the spec's images (an in-place image change needs a new status). */
function statusMatchesSpec(pod: V1Pod): boolean {
  const byName = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s.image]));
  return containers(pod).every((c) => byName.get(c.name) === c.image);
}

function isReady(pod: V1Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True");
}

/** The crash-looping container status with the most recent crash, if any. */
function lastCrash(pod: V1Pod): { restartCount: number; at: number } | undefined {
  let found: { restartCount: number; at: number } | undefined;
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    if (s.state?.waiting?.reason !== "CrashLoopBackOff") continue;
    const at = timeOf(s.lastState?.terminated?.finishedAt) ?? 0;
    if (!found || s.restartCount > found.restartCount) found = { restartCount: s.restartCount, at };
  }
  return found;
}

export function decidePod(pod: V1Pod, ctx: PodContext): PodAction {
  const nodeName = pod.spec?.nodeName;
  if (nodeName && nodeName !== ctx.nodeName) return { type: "ignore", reason: `bound to another node (${nodeName})` };
  if (pod.metadata?.deletionTimestamp) {
    // No kubelet will confirm the termination, so finish it (grace period 0) or the object stays
    // forever and ReplicaSets cannot scale down.
    return { type: "delete", reason: "terminating" };
  }
  if (!nodeName) return { type: "bind", reason: "unscheduled (the simulator is the only scheduler)" };
  const phase = pod.status?.phase;
  if (phase === "Succeeded" || phase === "Failed") return { type: "ignore", reason: `finished (${phase})` };
  const bound = ctx.boundForMs ?? 0;
  if (bound < ctx.readyDelayMs && !(phase === "Running" && statusMatchesSpec(pod))) {
    return { type: "later", afterMs: ctx.readyDelayMs - bound, reason: "starting containers" };
  }
  if (isBrokenPod(pod)) {
    const crash = lastCrash(pod);
    if (crash && statusMatchesSpec(pod)) {
      const wait = crash.at + crashIntervalMs(crash.restartCount, ctx.crashLoopIntervalMs) - ctx.now.getTime();
      if (wait > 0) return { type: "later", afterMs: wait, reason: "crash-looping (waiting for the next restart)" };
    }
    const restartCount = (crash?.restartCount ?? 0) + 1;
    return {
      type: "setStatus",
      status: crashLoopStatus(pod, ctx, restartCount),
      reason: `image tag ends in -broken: crash ${restartCount}`,
      recheckAfterMs: crashIntervalMs(restartCount, ctx.crashLoopIntervalMs),
    };
  }
  if (phase === "Running" && isReady(pod) && statusMatchesSpec(pod)) return { type: "ignore", reason: "running and ready" };
  return { type: "setStatus", status: runningStatus(pod, ctx), reason: "containers started" };
}

function iso(d: Date): string {
  // Kubernetes timestamps have second precision; sub-second parts would be dropped anyway.
  return `${d.toISOString().slice(0, 19)}Z`;
}

function condition(type: string, ok: boolean, now: Date, reason?: string, message?: string): V1PodCondition {
  return {
    type,
    status: ok ? "True" : "False",
    lastTransitionTime: iso(now) as unknown as Date,
    ...(reason ? { reason } : {}),
    ...(message ? { message } : {}),
  };
}

function ids(pod: V1Pod, c: V1Container) {
  return { imageID: `simulated://${c.image ?? ""}`, containerID: `simulated://${pod.metadata?.uid ?? ""}/${c.name}` };
}

function startTime(pod: V1Pod, now: Date): string {
  const prev = pod.status?.startTime;
  return prev ? iso(new Date(prev)) : iso(now);
}

function base(pod: V1Pod, ctx: PodContext) {
  return {
    hostIP: ctx.hostIP,
    podIP: ctx.podIP,
    podIPs: [{ ip: ctx.podIP }],
    startTime: startTime(pod, ctx.now) as unknown as Date,
  };
}

function running(pod: V1Pod, c: V1Container, now: Date): V1ContainerStatus {
  return {
    name: c.name,
    image: c.image ?? "",
    ...ids(pod, c),
    ready: true,
    started: true,
    restartCount: 0,
    state: { running: { startedAt: iso(now) as unknown as Date } },
  };
}

function completedInit(pod: V1Pod, c: V1Container, now: Date): V1ContainerStatus {
  return {
    name: c.name,
    image: c.image ?? "",
    ...ids(pod, c),
    ready: true,
    restartCount: 0,
    state: {
      terminated: {
        exitCode: 0,
        reason: "Completed",
        startedAt: iso(now) as unknown as Date,
        finishedAt: iso(now) as unknown as Date,
      },
    },
  };
}

function crashing(pod: V1Pod, c: V1Container, now: Date, restartCount: number): V1ContainerStatus {
  return {
    name: c.name,
    image: c.image ?? "",
    ...ids(pod, c),
    ready: false,
    started: false,
    restartCount,
    state: {
      waiting: {
        reason: "CrashLoopBackOff",
        message: `back-off restarting failed container ${c.name} in pod ${pod.metadata?.name ?? ""} (simulated: image tag ends in -broken)`,
      },
    },
    lastState: {
      terminated: {
        exitCode: 1,
        reason: "Error",
        startedAt: iso(now) as unknown as Date,
        finishedAt: iso(now) as unknown as Date,
      },
    },
  };
}

/** Every container running and ready, init containers completed. */
export function runningStatus(pod: V1Pod, ctx: PodContext): V1PodStatus {
  const now = ctx.now;
  return {
    phase: "Running",
    ...base(pod, ctx),
    conditions: [
      condition("Initialized", true, now),
      condition("Ready", true, now),
      condition("ContainersReady", true, now),
      condition("PodScheduled", true, now),
    ],
    initContainerStatuses: initContainers(pod).map((c) => completedInit(pod, c, now)),
    containerStatuses: containers(pod).map((c) => running(pod, c, now)),
  };
}

/**
 * `-broken` containers wait in CrashLoopBackOff with `restartCount` restarts; the others run. A
 * broken init container keeps the pod Pending with its app containers not started, as a kubelet does.
 */
export function crashLoopStatus(pod: V1Pod, ctx: PodContext, restartCount: number): V1PodStatus {
  const now = ctx.now;
  const brokenInit = initContainers(pod).find((c) => isBrokenImage(c.image));
  const unready = brokenInit
    ? containers(pod).map((c) => c.name)
    : containers(pod)
        .filter((c) => isBrokenImage(c.image))
        .map((c) => c.name);
  const message = `containers with unready status: [${unready.join(" ")}]`;
  let initDone = true;
  const initContainerStatuses = initContainers(pod).map((c) => {
    if (!initDone) {
      return { name: c.name, image: c.image ?? "", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } };
    }
    if (isBrokenImage(c.image)) {
      initDone = false;
      return crashing(pod, c, now, restartCount);
    }
    return completedInit(pod, c, now);
  });
  const containerStatuses = containers(pod).map((c): V1ContainerStatus => {
    if (brokenInit)
      return { name: c.name, image: c.image ?? "", imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "PodInitializing" } } };
    return isBrokenImage(c.image) ? crashing(pod, c, now, restartCount) : running(pod, c, now);
  });
  return {
    phase: brokenInit ? "Pending" : "Running",
    ...base(pod, ctx),
    conditions: [
      brokenInit
        ? condition("Initialized", false, now, "ContainersNotInitialized", `containers with incomplete status: [${brokenInit.name}]`)
        : condition("Initialized", true, now),
      condition("Ready", false, now, "ContainersNotReady", message),
      condition("ContainersReady", false, now, "ContainersNotReady", message),
      condition("PodScheduled", true, now),
    ],
    initContainerStatuses,
    containerStatuses,
  };
}
