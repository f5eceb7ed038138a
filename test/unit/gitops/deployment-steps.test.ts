// `flotilla history`'s pure part: which commits are steps of a deployment, and what each says.

import { describe, expect, it } from "vitest";
import { formatCommitMessage } from "../../../src/gitops/commit-message.js";
import { type DeploymentCommit, deploymentSteps, mayName, summaryFor } from "../../../src/gitops/deployment-steps.js";

const SOURCE = "9f1c2d3e4b5a69788796a5b4c3d2e1f0a9b8c7d6";

function aCommit(n: number, message: string, clusters: string[] = []): DeploymentCommit {
  return { oid: String(n).repeat(40).slice(0, 40), time: new Date(Date.UTC(2026, 0, 1, 0, n)), message, clusters };
}

const alone = formatCommitMessage("v2 batch 1/2 in wave production (prod-eu)", [
  { namespace: "team-a", name: "shop", generation: 4, revision: "v2", wave: "production", batch: { batch: 1, batches: 2 }, sourceCommit: SOURCE },
]);
const shared = formatCommitMessage("update", [
  { namespace: "team-b", name: "db", revision: "v7", summary: "v7 on staging (generation 2)" },
  { namespace: "team-a", name: "shop", generation: 3, revision: "v1", summary: "v1 on prod-eu, staging (generation 3)" },
]);
const other = formatCommitMessage("v1 on staging", [{ namespace: "team-a", name: "shopping", revision: "v1" }]);
const old = "team-a/shop: v1 on staging (generation 1)\n\nFlotilla-Deployment: team-a/shop\nFlotilla-Generation: 1\nFlotilla-Revision: v1\n";

describe("deploymentSteps", () => {
  const commits = [aCommit(4, alone, ["prod-eu"]), aCommit(3, other, ["staging"]), aCommit(2, shared, ["staging", "prod-eu"]), aCommit(1, old, ["staging"])];

  it("lists the commits that name the deployment, newest first, with what each trailer says", () => {
    expect(deploymentSteps(commits, "team-a", "shop")).toEqual([
      {
        time: "2026-01-01T00:04:00Z",
        commit: "4".repeat(40),
        revision: "v2",
        generation: 4,
        wave: "production",
        batch: "1/2",
        clusters: ["prod-eu"],
        sourceCommit: SOURCE,
        summary: "v2 batch 1/2 in wave production (prod-eu)",
      },
      {
        time: "2026-01-01T00:02:00Z",
        commit: "2".repeat(40),
        revision: "v1",
        generation: 3,
        clusters: ["prod-eu", "staging"],
        summary: "v1 on prod-eu, staging (generation 3)",
      },
      { time: "2026-01-01T00:01:00Z", commit: "1".repeat(40), revision: "v1", generation: 1, clusters: ["staging"], summary: "v1 on staging (generation 1)" },
    ]);
  });

  it("never takes a deployment whose name only starts with the one asked for", () => {
    expect(deploymentSteps(commits, "team-a", "shopping").map((s) => s.commit)).toEqual(["3".repeat(40)]);
    expect(deploymentSteps(commits, "team-b", "shop")).toEqual([]);
  });

  it("stops at the limit", () => {
    expect(deploymentSteps(commits, "team-a", "shop", 2).map((s) => s.revision)).toEqual(["v2", "v1"]);
  });
});

describe("mayName", () => {
  it.each([
    [alone, true],
    [shared, true],
    [other, true], // a prefix match: the trailers decide, see deploymentSteps
    ["team-a/shop: hand-made commit\n", false],
  ])("is a cheap test that never misses the deployment's trailer (%#)", (message, expected) => {
    expect(mayName(message, "team-a", "shop")).toBe(expected);
  });
});

describe("summaryFor", () => {
  it("reads the deployment's own line of a shared commit, else the subject", () => {
    expect(summaryFor(shared, "team-b", "db")).toBe("v7 on staging (generation 2)");
    expect(summaryFor("Merge branch 'x'\n", "team-a", "shop")).toBe("Merge branch 'x'");
  });
});
