// Which status differences cost a write on the hub.

import { describe, expect, it } from "vitest";
import type { ApplicationDeploymentStatus } from "../../../src/api/types.js";
import { statusChanged } from "../../../src/controller/status.js";

const status = (over: { appliedCommit?: string; lastSyncTime?: string; health?: "Healthy" | "Progressing"; message?: string } = {}): ApplicationDeploymentStatus => ({
  observedGeneration: 1,
  phase: "Healthy",
  commit: "a".repeat(40),
  clusters: [
    {
      name: "prod-eu",
      health: over.health ?? "Healthy",
      revisions: [{ name: "v1", replicas: 2, readyReplicas: 2 }],
      appliedCommit: over.appliedCommit ?? "b".repeat(40),
      lastSyncTime: over.lastSyncTime ?? "2026-01-01T00:00:00Z",
      ...(over.message ? { message: over.message } : {}),
    },
  ],
});

describe("statusChanged", () => {
  it("ignores a cluster's newer applied commit and sync time: other deployments' commits move them", () => {
    expect(statusChanged(status(), status({ appliedCommit: "c".repeat(40), lastSyncTime: "2026-01-01T00:05:00Z" }))).toBe(false);
  });

  it("sees a cluster's health or message change", () => {
    expect(statusChanged(status(), status({ health: "Progressing" }))).toBe(true);
    expect(statusChanged(status(), status({ message: "sync in progress" }))).toBe(true);
  });

  it("sees a first status", () => {
    expect(statusChanged(undefined, status())).toBe(true);
  });
});
