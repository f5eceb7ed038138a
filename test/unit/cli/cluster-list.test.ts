// `flotilla cluster list`'s view: the columns kubectl users read (READY, VERSION, LABELS, AGE,
// MESSAGE last), the probe's message for a member that is not Ready, -o wide's extra columns, the
// Cluster objects as a List for -o json, and kubectl's way of printing an age.

import yaml from "js-yaml";
import { describe, expect, it } from "vitest";
import type { Cluster } from "../../../src/api/types.js";
import { clusterTable, formatClusterList } from "../../../src/cli/cluster-view.js";
import { humanAge } from "../../../src/cli/table.js";

const NOW = Date.parse("2026-12-02T12:00:00Z");

function cluster(name: string, labels: Record<string, string>, status?: Cluster["status"], spec: Cluster["spec"] = {}): Cluster {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "Cluster",
    metadata: { name, labels, creationTimestamp: "2026-12-01T11:00:00Z", managedFields: [{ manager: "flotilla" }] },
    spec,
    ...(status ? { status } : {}),
  };
}

const ready = cluster(
  "prod-us",
  { usage: "production", region: "us" },
  {
    version: "v1.29.4",
    lastProbeTime: "2026-12-02T11:59:30Z",
    conditions: [{ type: "Ready", status: "True", reason: "Reachable", message: "reachable", lastTransitionTime: "2026-12-01T11:00:05Z" }],
  },
  { resyncInterval: "10m" },
);
const RECIPIENT = `age1${"q".repeat(58)}`;
ready.status = { ...ready.status, sealing: { recipient: RECIPIENT, since: "2026-12-01T11:00:01Z" } };
const unreachable = cluster(
  "edge-1",
  {},
  {
    lastProbeTime: "2026-12-02T11:55:00Z",
    conditions: [
      { type: "Ready", status: "False", reason: "Unreachable", message: "connect ECONNREFUSED 10.0.0.9:6443", lastTransitionTime: "2026-12-02T11:50:00Z" },
    ],
  },
  { paused: true, mode: "Pull" },
);
const fresh = cluster("staging", { usage: "staging" });

describe("cluster list table", () => {
  it("lists clusters by name with Ready, version, sorted labels, age and the probe's message last", () => {
    expect(clusterTable([ready, fresh, unreachable], NOW)).toBe(
      [
        "NAME      READY     VERSION   LABELS                       AGE   MESSAGE",
        "edge-1    False               <none>                       25h   connect ECONNREFUSED 10.0.0.9:6443",
        "prod-us   True      v1.29.4   region=us,usage=production   25h   reachable",
        "staging   Unknown             usage=staging                25h   not probed yet",
        "",
      ].join("\n"),
    );
  });

  it("adds MODE (Push unless the Cluster says Pull), PAUSED, RESYNC, LAST-PROBE and SEALING-RECIPIENT with -o wide, before MESSAGE", () => {
    const lines = clusterTable([ready, unreachable], NOW, true).split("\n");
    expect(lines[0]?.split(/\s{2,}/)).toEqual([
      "NAME",
      "READY",
      "VERSION",
      "LABELS",
      "AGE",
      "MODE",
      "PAUSED",
      "RESYNC",
      "LAST-PROBE",
      "SEALING-RECIPIENT",
      "MESSAGE",
    ]);
    expect(lines[1]?.split(/\s{2,}/)).toEqual(["edge-1", "False", "<none>", "25h", "Pull", "true", "5m", "<none>", "connect ECONNREFUSED 10.0.0.9:6443"]);
    expect(lines[2]?.split(/\s{2,}/)).toEqual([
      "prod-us",
      "True",
      "v1.29.4",
      "region=us,usage=production",
      "25h",
      "Push",
      "false",
      "10m",
      "30s",
      RECIPIENT,
      "reachable",
    ]);
  });

  it("says so when the hub has no Cluster", () => {
    expect(clusterTable([], NOW)).toBe("No Clusters found.\n");
  });

  it("prints a List of the Cluster objects for -o json and yaml, by name, without managedFields", () => {
    const json = JSON.parse(formatClusterList([ready, unreachable], "json"));
    expect(json.kind).toBe("List");
    expect(json.items.map((c: Cluster) => c.metadata.name)).toEqual(["edge-1", "prod-us"]);
    expect(json.items[1].metadata.managedFields).toBeUndefined();
    expect(json.items[1].status.version).toBe("v1.29.4");
    expect((yaml.load(formatClusterList([ready], "yaml")) as { items: Cluster[] }).items[0]?.metadata.labels).toEqual({ usage: "production", region: "us" });
  });
});

describe("humanAge", () => {
  it.each([
    [-5_000, "0s"],
    [45_000, "45s"],
    [119_000, "119s"],
    [150_000, "2m30s"],
    [300_000, "5m"],
    [95 * 60_000, "95m"],
    [(4 * 60 + 15) * 60_000, "4h15m"],
    [30 * 3_600_000, "30h"],
    [(3 * 24 + 4) * 3_600_000, "3d4h"],
    [40 * 86_400_000, "40d"],
    [(2 * 365 + 10) * 86_400_000, "2y10d"],
    [9 * 365 * 86_400_000, "9y"],
  ])("%d ms is %s", (ms, text) => {
    expect(humanAge(ms)).toBe(text);
  });
});
