// `flotilla status` without a name: the deployments as `kubectl get ad` lists them, sorted by
// namespace and name, with the Ready condition's status and message.

import { describe, expect, it } from "vitest";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import { deploymentTable } from "../../../src/cli/status-view.js";

function deployment(namespace: string, name: string, status?: ApplicationDeployment["status"]): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { namespace, name },
    spec: {} as ApplicationDeployment["spec"],
    ...(status ? { status } : {}),
  };
}

describe("deploymentTable", () => {
  const web = deployment("team-b", "web", {
    phase: "Progressing",
    targetRevision: "v2",
    stableRevision: "v1",
    progress: "production 1/3",
    conditions: [{ type: "Ready", status: "False", reason: "Progressing", message: "waiting for prod-eu" }],
  });
  const api = deployment("team-a", "api", {
    phase: "Healthy",
    targetRevision: "v7",
    stableRevision: "v7",
    conditions: [{ type: "Ready", status: "True", reason: "Healthy", message: "" }],
  });
  const fresh = deployment("team-a", "new");

  it("lists by namespace and name, one column per printer column, blanks where status says nothing yet", () => {
    expect(deploymentTable([web, fresh, api], true).split("\n")).toEqual([
      "NAMESPACE   NAME   PHASE         TARGET   STABLE   PROGRESS         READY   MESSAGE",
      "team-a      api    Healthy       v7       v7" + " ".repeat(24) + "True", // an empty PROGRESS keeps its column
      "team-a      new",
      "team-b      web    Progressing   v2       v1       production 1/3   False   waiting for prod-eu",
      "",
    ]);
  });

  it("leaves the namespace column out for one namespace, and says so when there is nothing", () => {
    expect(deploymentTable([api], false).split("\n")[0]).toBe("NAME   PHASE     TARGET   STABLE   PROGRESS   READY   MESSAGE");
    expect(deploymentTable([], false)).toBe("No ApplicationDeployments found.\n");
  });
});
