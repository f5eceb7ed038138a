// The live view of `flotilla up` and `flotilla status`: one header line, the reason the deployment
// is not ready, a bar per cluster and revision, and the clusters left out with their reason.

import { describe, expect, it } from "vitest";
import type { ApplicationDeployment, ApplicationDeploymentStatus, ClusterDeploymentStatus, Condition } from "../../../src/api/types.js";
import { progressLines } from "../../../src/cli/progress.js";
import { aDeployment } from "../builders.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";
const HEADER = "team-a/example-deploy  phase: Progressing  target: v2  commit: 0123456789ab";

const deployed = (status: ApplicationDeploymentStatus | undefined): ApplicationDeployment => {
  const ad = aDeployment("example-deploy").build();
  if (status) ad.status = status;
  return ad;
};
const ready = (status: Condition["status"], reason: string, message: string): Condition => ({ type: "Ready", status, reason, message });
const cluster = (name: string, health: ClusterDeploymentStatus["health"], ...revisions: Array<[string, number, number]>): ClusterDeploymentStatus => ({
  name,
  health,
  revisions: revisions.map(([revision, replicas, readyReplicas]) => ({ name: revision, replicas, readyReplicas })),
});
const progressing = (over: Partial<ApplicationDeploymentStatus> = {}): ApplicationDeploymentStatus => ({
  phase: "Progressing",
  targetRevision: "v2",
  commit: COMMIT,
  ...over,
});

describe("progressLines", () => {
  it.each<{ name: string; ad: ApplicationDeployment | undefined; lines: string[] }>([
    { name: "waits for the deployment to appear on the hub", ad: undefined, lines: ["waiting for the deployment to appear on the hub..."] },
    { name: "waits for the controller while there is no status", ad: deployed(undefined), lines: ["team-a/example-deploy: waiting for the controller..."] },
    {
      name: "waits for the controller while the status has no phase yet",
      ad: deployed({ observedGeneration: 1 }),
      lines: ["team-a/example-deploy: waiting for the controller..."],
    },
    {
      name: "names a deployment without a namespace as in the default namespace",
      ad: aDeployment("example-deploy").inNamespace(undefined).build(),
      lines: ["default/example-deploy: waiting for the controller..."],
    },
    {
      name: "shows a healthy deployment as its header and full bars, without a reason line",
      ad: deployed({
        phase: "Healthy",
        targetRevision: "v2",
        commit: COMMIT,
        conditions: [ready("True", "Healthy", "revision v2 is healthy on every selected cluster")],
        clusters: [cluster("prod-eu", "Healthy", ["v2", 5, 5])],
      }),
      lines: ["team-a/example-deploy  phase: Healthy  target: v2  commit: 0123456789ab", "  prod-eu      v2     [####################]   5/5  Healthy"],
    },
    {
      name: "says why the deployment is not ready, then one bar per revision of each cluster",
      ad: deployed(
        progressing({
          conditions: [ready("False", "Progressing", "v2: prod-eu progressing at batch 1/2")],
          clusters: [cluster("prod-eu", "Progressing", ["v1", 3, 3], ["v2", 2, 1]), cluster("prod-us", "Healthy", ["v1", 4, 4])],
        }),
      ),
      lines: [
        HEADER,
        "  Progressing: v2: prod-eu progressing at batch 1/2",
        "  prod-eu      v1     [####################]   3/3  Progressing",
        "  prod-eu      v2     [##########----------]   1/2  Progressing",
        "  prod-us      v1     [####################]   4/4  Healthy",
      ],
    },
    {
      name: "shows the reason when Ready is Unknown too",
      ad: deployed(progressing({ conditions: [ready("Unknown", "Progressing", "waiting for the clusters to sync")] })),
      lines: [HEADER, "  Progressing: waiting for the clusters to sync"],
    },
    {
      name: "shows no reason line when there is no Ready condition",
      ad: deployed(progressing({ conditions: [{ type: "Synced", status: "False", reason: "SyncInProgress", message: "prod-eu: sync in progress" }] })),
      lines: [HEADER],
    },
    {
      name: "puts dashes for a target and a commit not known yet",
      ad: deployed({ phase: "Pending" }),
      lines: ["team-a/example-deploy  phase: Pending  target: -  commit: -"],
    },
    {
      name: "shows a cluster without revisions as the target revision at 0/0",
      ad: deployed(progressing({ clusters: [{ name: "prod-eu", health: "Missing" }] })),
      lines: [HEADER, "  prod-eu      v2     [--------------------]   0/0  Missing"],
    },
    {
      name: "shows ? for the revision of a cluster without revisions when there is no target",
      ad: deployed({ phase: "Progressing", clusters: [{ name: "prod-eu", health: "Unknown", revisions: [] }] }),
      lines: ["team-a/example-deploy  phase: Progressing  target: -  commit: -", "  prod-eu      ?      [--------------------]   0/0  Unknown"],
    },
    {
      name: "rounds the bar to the nearest of 20 cells (1/3 → 7, 2/3 → 13, 1/40 → 1)",
      ad: deployed(
        progressing({
          clusters: [cluster("a", "Progressing", ["v2", 3, 1]), cluster("b", "Progressing", ["v2", 3, 2]), cluster("c", "Progressing", ["v2", 40, 1])],
        }),
      ),
      lines: [
        HEADER,
        "  a            v2     [#######-------------]   1/3  Progressing",
        "  b            v2     [#############-------]   2/3  Progressing",
        "  c            v2     [#-------------------]   1/40  Progressing",
      ],
    },
    {
      name: "fills the bar but shows the true count when more replicas are ready than desired (a surge)",
      ad: deployed(progressing({ clusters: [cluster("prod-eu", "Progressing", ["v2", 5, 7])] })),
      lines: [HEADER, "  prod-eu      v2     [####################]   7/5  Progressing"],
    },
    {
      name: "shows a revision scaled to 0 (kept for rollback) as an empty bar",
      ad: deployed(progressing({ clusters: [cluster("prod-eu", "Healthy", ["v1", 0, 0], ["v2", 5, 5])] })),
      lines: [HEADER, "  prod-eu      v1     [--------------------]   0/0  Healthy", "  prod-eu      v2     [####################]   5/5  Healthy"],
    },
    {
      name: "shows a negative desired count as 0",
      ad: deployed(progressing({ clusters: [cluster("prod-eu", "Unknown", ["v2", -1, 0])] })),
      lines: [HEADER, "  prod-eu      v2     [--------------------]   0/0  Unknown"],
    },
    {
      name: "does not cut a cluster name longer than its column",
      ad: deployed(progressing({ clusters: [cluster("prod-eu-west-1a", "Healthy", ["v2", 1, 1])] })),
      lines: [HEADER, "  prod-eu-west-1a v2     [####################]   1/1  Healthy"],
    },
    {
      name: "lists the clusters not selected with their reason, after the bars",
      ad: deployed(
        progressing({
          clusters: [cluster("prod-eu", "Healthy", ["v2", 1, 1])],
          placement: [
            { cluster: "prod-eu", wave: "production", selected: true },
            { cluster: "edge-1", selected: false, reason: "label usage=edge does not match usage=production" },
            { cluster: "lab", selected: false },
          ],
        }),
      ),
      lines: [
        HEADER,
        "  prod-eu      v2     [####################]   1/1  Healthy",
        "  edge-1       not selected: label usage=edge does not match usage=production",
        "  lab          not selected: ",
      ],
    },
  ])("$name", ({ ad, lines }) => {
    expect(progressLines(ad)).toEqual(lines);
  });
});
