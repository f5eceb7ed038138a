// Health of a bare Pod: judged by its phase, its containers and its restart policy. A Pod that
// restarts forever (restartPolicy Always) is Degraded as soon as a container is stuck failing;
// one meant to finish (Never, OnFailure) is work in progress until it has finished.

import type { JsonObject, Manifest } from "../api/types.js";
import { condition, degraded, explain, type Health, healthy, joined, obj, progressing } from "./health-common.js";

interface ContainerStatus {
  name?: string;
  ready?: boolean;
  state?: { waiting?: { reason?: string; message?: string }; terminated?: { reason?: string; message?: string; exitCode?: number } };
  lastState?: { terminated?: { reason?: string; exitCode?: number } };
}

function containerStatuses(status: JsonObject): ContainerStatus[] {
  const all = [status.initContainerStatuses, status.containerStatuses].flatMap((l) => (Array.isArray(l) ? (l as ContainerStatus[]) : []));
  return all.filter((c) => c !== null && typeof c === "object");
}

/** A waiting reason that will not clear by itself: CrashLoopBackOff, ImagePullBackOff, ErrImagePull, CreateContainerConfigError... */
function stuck(reason: string | undefined): boolean {
  return typeof reason === "string" && (reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff"));
}

function describeWaiting(c: ContainerStatus): string {
  const w = c.state?.waiting;
  return `container ${c.name ?? "?"}: ${[w?.reason, w?.message].filter(Boolean).join(": ")}`;
}

function failureMessage(status: JsonObject): string {
  if (typeof status.message === "string" && status.message) return status.message;
  const failed = containerStatuses(status).find((c) => (c.state?.terminated?.exitCode ?? 0) !== 0);
  const t = failed?.state?.terminated;
  if (t) return `container ${failed?.name ?? "?"} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ""}`;
  return typeof status.reason === "string" ? status.reason : "";
}

export function podHealth(live: Manifest): Health {
  const status = obj(live.status);
  const restartPolicy = obj(live.spec).restartPolicy ?? "Always";
  const phase = typeof status.phase === "string" ? status.phase : "Pending";
  if (phase === "Succeeded") return healthy("completed");
  if (phase === "Failed") return degraded(joined("pod failed", failureMessage(status)));
  if (phase === "Unknown")
    return {
      status: "Unknown",
      message: joined("the node does not report the pod", explain({ reason: status.reason as string, message: status.message as string })),
    };
  // A pod meant to run once is not failed while its container backs off: it may still succeed.
  if (restartPolicy === "Always") {
    const stuckContainers = containerStatuses(status).filter((c) => stuck(c.state?.waiting?.reason));
    if (stuckContainers.length > 0) return degraded(stuckContainers.map(describeWaiting).join("; "));
  }
  const scheduled = condition(status, "PodScheduled");
  if (scheduled?.status === "False" && scheduled.reason === "Unschedulable") return degraded(joined("cannot be scheduled", scheduled.message));
  if (phase === "Pending") return progressing(joined("pod Pending", typeof status.message === "string" ? status.message : explain(scheduled)));
  // Running.
  if (restartPolicy !== "Always") return progressing(`running to completion (restartPolicy ${String(restartPolicy)})`);
  if (condition(status, "Ready")?.status === "True") return healthy("ready");
  const crashed = containerStatuses(status).find((c) => c.ready !== true && c.lastState?.terminated !== undefined);
  if (crashed) {
    const t = crashed.lastState?.terminated;
    return degraded(`container ${crashed.name ?? "?"} terminated (${t?.reason ?? "exit code"} ${t?.exitCode ?? "?"}) and is not ready`);
  }
  return progressing(joined("pod Running, not ready", explain(condition(status, "Ready"))));
}
