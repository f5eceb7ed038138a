// `flotilla diff`'s text: a line per cluster, the patches under it, colors only when asked.

import { describe, expect, it } from "vitest";
import { type DiffReport, formatDiffReport, somethingChanges } from "../../../src/cli/diff-view.js";
import { folderChanges } from "../../../src/gitops/folder-diff.js";

const FOLDER = "clusters/prod-eu/team-a/shop";

function aReport(over: Partial<DiffReport> = {}): DiffReport {
  const repo = folderChanges(FOLDER, { "core.ConfigMap.a.yaml": "value: 1\n", "core.ConfigMap.old.yaml": "x: 1\n" }, { "core.ConfigMap.a.yaml": "value: 2\n" });
  const deployments = [
    {
      namespace: "team-a",
      name: "shop",
      file: "app.yaml",
      revision: "v2",
      hub: { state: "unchanged" as const, patch: "" },
      clusters: [
        { cluster: "prod-eu", repo },
        { cluster: "staging", repo: [], note: "pull mode: not compared" },
      ],
    },
  ];
  return { envRepo: { repository: "env", head: "a".repeat(40) }, deployments, notes: [], errors: [], changed: somethingChanges(deployments), ...over };
}

describe("formatDiffReport", () => {
  it("prints each cluster's summary line with its patches below it, plain without color", () => {
    const text = formatDiffReport(aReport(), { color: false });
    expect(text).toBe(
      [
        "ApplicationDeployment team-a/shop (app.yaml)",
        "hub: no change",
        "clusters: v2 fully rolled out (what the repository holds once the rollout completes), against env at aaaaaaaaaaaa",
        "cluster prod-eu: 1 changed, 0 added, 1 removed",
        `--- a/${FOLDER}/core.ConfigMap.a.yaml`,
        `+++ b/${FOLDER}/core.ConfigMap.a.yaml`,
        "@@ -1,1 +1,1 @@",
        "-value: 1",
        "+value: 2",
        `--- a/${FOLDER}/core.ConfigMap.old.yaml`,
        "+++ /dev/null",
        "@@ -1,1 +0,0 @@",
        "-x: 1",
        "cluster staging: no change",
        "cluster staging (live): pull mode: not compared",
        "",
      ].join("\n"),
    );
  });

  it("colors removed lines red, added lines green and hunk headers cyan when asked", () => {
    const text = formatDiffReport(aReport(), { color: true });
    expect(text).toContain("\x1b[31m-value: 1\x1b[0m\n\x1b[32m+value: 2\x1b[0m");
    expect(text).toContain("\x1b[36m@@ -1,1 +1,1 @@\x1b[0m");
  });
});

describe("somethingChanges", () => {
  it("is true for a new deployment on the hub even when no file changes, false when nothing does", () => {
    const quiet = aReport().deployments.map((d) => ({ ...d, clusters: [] }));
    expect(somethingChanges(quiet)).toBe(false);
    expect(somethingChanges(quiet.map((d) => ({ ...d, hub: { state: "new" as const, patch: "+x" } })))).toBe(true);
    expect(
      somethingChanges(quiet.map((d) => ({ ...d, clusters: [{ cluster: "c", live: [{ object: "ConfigMap/a/b", action: "skipped" as const, patch: "" }] }] }))),
    ).toBe(false);
  });
});
