import { describe, expect, it } from "vitest";
import type { HealthState, Manifest } from "../../../src/api/types.js";
import { objectHealth } from "../../../src/sync/health.js";

const aPod = (restartPolicy: string | undefined, status: Record<string, unknown> | undefined): Manifest => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "p", namespace: "team-a" },
  spec: { containers: [{ name: "app", image: "app:1" }], ...(restartPolicy ? { restartPolicy } : {}) },
  ...(status ? { status } : {}),
});
const ready = (value: "True" | "False") => ({ type: "Ready", status: value });
const waiting = (reason: string, message = "") => ({ name: "app", ready: false, restartCount: 3, state: { waiting: { reason, message } } });
const runningAfterCrash = { name: "app", ready: false, restartCount: 1, state: { running: {} }, lastState: { terminated: { reason: "Error", exitCode: 1 } } };

describe("Pod health", () => {
  it.each<[string, Manifest, HealthState]>([
    ["a pod without status yet is Progressing", aPod(undefined, undefined), "Progressing"],
    ["a pending pod is Progressing", aPod(undefined, { phase: "Pending" }), "Progressing"],
    ["a running, ready pod is Healthy", aPod("Always", { phase: "Running", conditions: [ready("True")] }), "Healthy"],
    [
      "a running pod not ready yet is Progressing",
      aPod("Always", { phase: "Running", conditions: [ready("False")], containerStatuses: [{ name: "app", ready: false, state: { running: {} } }] }),
      "Progressing",
    ],
    [
      "a pod in CrashLoopBackOff is Degraded",
      aPod("Always", { phase: "Running", containerStatuses: [waiting("CrashLoopBackOff", "back-off 40s")] }),
      "Degraded",
    ],
    ["a pod in ImagePullBackOff is Degraded", aPod(undefined, { phase: "Pending", containerStatuses: [waiting("ImagePullBackOff")] }), "Degraded"],
    ["a pod in ErrImagePull is Degraded", aPod(undefined, { phase: "Pending", containerStatuses: [waiting("ErrImagePull")] }), "Degraded"],
    [
      "an init container stuck in CreateContainerConfigError is Degraded",
      aPod(undefined, { phase: "Pending", initContainerStatuses: [waiting("CreateContainerConfigError")] }),
      "Degraded",
    ],
    [
      "a pod just creating its containers is Progressing",
      aPod(undefined, { phase: "Pending", containerStatuses: [waiting("ContainerCreating")] }),
      "Progressing",
    ],
    [
      "a restarting pod whose container crashed before is Degraded",
      aPod("Always", { phase: "Running", conditions: [ready("False")], containerStatuses: [runningAfterCrash] }),
      "Degraded",
    ],
    [
      "an unschedulable pod is Degraded",
      aPod(undefined, { phase: "Pending", conditions: [{ type: "PodScheduled", status: "False", reason: "Unschedulable", message: "0/3 nodes" }] }),
      "Degraded",
    ],
    [
      "a run-once pod in CrashLoopBackOff may still succeed: Progressing",
      aPod("OnFailure", { phase: "Running", containerStatuses: [waiting("CrashLoopBackOff")] }),
      "Progressing",
    ],
    ["a run-once pod that is running is Progressing until it finishes", aPod("Never", { phase: "Running", conditions: [ready("True")] }), "Progressing"],
    ["a pod that succeeded is Healthy", aPod("Never", { phase: "Succeeded" }), "Healthy"],
    [
      "a pod that failed is Degraded",
      aPod("OnFailure", { phase: "Failed", containerStatuses: [{ name: "app", state: { terminated: { exitCode: 2, reason: "Error" } } }] }),
      "Degraded",
    ],
    ["a pod on a node that stopped reporting is Unknown", aPod(undefined, { phase: "Unknown", reason: "NodeLost" }), "Unknown"],
  ])("%s", (_name, pod, expected) => {
    expect(objectHealth(pod).status).toBe(expected);
  });

  it("names the stuck container and repeats its reason and message", () => {
    const h = objectHealth(aPod(undefined, { phase: "Pending", containerStatuses: [waiting("ImagePullBackOff", 'Back-off pulling image "app:1"')] }));
    expect(h).toEqual({ status: "Degraded", message: 'container app: ImagePullBackOff: Back-off pulling image "app:1"' });
  });

  it("says which container failed and with what exit code", () => {
    const h = objectHealth(
      aPod("Never", { phase: "Failed", containerStatuses: [{ name: "migrate", state: { terminated: { exitCode: 3, reason: "Error" } } }] }),
    );
    expect(h.message).toBe("pod failed: container migrate exited with code 3 (Error)");
  });
});
