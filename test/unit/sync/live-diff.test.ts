// `flotilla diff --live` against a fake member: only reads and dry runs, one entry per object, the
// live object against what the dry run answers, with status and write records left out.

import { describe, expect, it } from "vitest";
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../../src/api/labels.js";
import type { Manifest } from "../../../src/api/types.js";
import { prepareForApply } from "../../../src/sync/hash.js";
import { liveChanges } from "../../../src/sync/live-diff.js";
import { FakeCluster } from "../fake-cluster.js";

function aConfigMap(name: string, value: string, labels: Record<string, string> = {}): Manifest {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "team-a", labels }, data: { value } } as Manifest;
}

function aMember(): FakeCluster {
  const member = new FakeCluster();
  member.seed({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a" } });
  return member;
}

describe("liveChanges", () => {
  it("shows a changed value as a patch of the live object against the dry run, and never writes", async () => {
    const member = aMember();
    member.seed({ ...prepareForApply(aConfigMap("web", "1")), status: { phase: "x" } } as Manifest);
    const [change] = await liveChanges(member, [aConfigMap("web", "2")]);
    expect(change?.action).toBe("changed");
    expect(change?.patch.split("\n").slice(0, 2)).toEqual(["--- live/ConfigMap/team-a/web", "+++ dry-run/ConfigMap/team-a/web"]);
    expect(change?.patch).toContain('\n-  value: "1"\n+  value: "2"\n');
    expect(change?.patch).not.toMatch(/resourceVersion|uid|status|managedFields/);
    expect(member.callsOf("apply")).toEqual([]);
    expect(member.callsOf("dryRun")).toEqual(["ConfigMap/team-a/web"]);
  });

  it("reports an object that is already as desired as unchanged, with no patch", async () => {
    const member = aMember();
    member.seed(prepareForApply(aConfigMap("web", "1")));
    expect(await liveChanges(member, [aConfigMap("web", "1")])).toEqual([{ object: "ConfigMap/team-a/web", action: "unchanged", patch: "" }]);
  });

  it("shows a missing object as added, and one in a namespace the member lacks as added with why", async () => {
    const member = aMember();
    const other = { ...aConfigMap("db", "1"), metadata: { name: "db", namespace: "team-b" } } as Manifest;
    const [web, db] = await liveChanges(member, [aConfigMap("web", "1"), other]);
    expect(web).toMatchObject({ object: "ConfigMap/team-a/web", action: "added" });
    expect(web?.patch.split("\n").slice(0, 2)).toEqual(["--- /dev/null", "+++ dry-run/ConfigMap/team-a/web"]);
    expect(db).toMatchObject({ object: "ConfigMap/team-b/db", action: "added", message: expect.stringContaining("namespace team-b does not exist yet") });
  });

  it("skips an object Flotilla does not own, as the sync loop does, and prunes only owned ones", async () => {
    const member = aMember();
    member.seed(aConfigMap("theirs", "1", { [LABEL_MANAGED_BY]: "helm" }));
    member.seed(aConfigMap("gone", "1", { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE }));
    member.seed(aConfigMap("not-ours", "1"));
    const changes = await liveChanges(member, [aConfigMap("theirs", "2")], [aConfigMap("gone", "1"), aConfigMap("not-ours", "1"), aConfigMap("absent", "1")]);
    expect(changes.map((c) => [c.object, c.action])).toEqual([
      ["ConfigMap/team-a/theirs", "skipped"],
      ["ConfigMap/team-a/gone", "removed"],
    ]);
    expect(changes[1]?.patch.split("\n").slice(0, 2)).toEqual(["--- live/ConfigMap/team-a/gone", "+++ /dev/null"]);
  });

  it("reports a member that refuses the read as failed, naming the object", async () => {
    const member = aMember();
    member.failOn("get", "ConfigMap/team-a/web", 403, "Forbidden");
    const [change] = await liveChanges(member, [aConfigMap("web", "1")]);
    expect(change).toMatchObject({ object: "ConfigMap/team-a/web", action: "failed", message: expect.stringContaining("HTTP 403") });
  });
});
