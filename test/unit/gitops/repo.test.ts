import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { configMaps, steppingClock, stockGit, tempDir } from "./support.js";

describe("EnvRepo (embedded)", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let repo: EnvRepo;

  beforeEach(async () => {
    dir = await tempDir();
    repo = await EnvRepo.open({ dir: `${dir.path}/env.git`, clock: steppingClock(Date.UTC(2024, 0, 1), 1000) });
  });
  afterEach(() => dir.cleanup());

  it("creates an empty bare repository with no head", async () => {
    expect(await repo.head()).toBeNull();
    expect(await repo.log()).toEqual([]);
  });

  it("commits a deployment to two clusters in one commit and reads each cluster back", async () => {
    const files = configMaps("team-a", { a: "1", b: "2" });
    const result = await repo.commitDeployments(
      [{ namespace: "team-a", name: "shop", clusters: { "prod-eu": files, "prod-us": files }, generation: 1, revision: "v1" }],
      "v1 rendered",
    );
    expect(result?.state).toBe("local");
    expect(await repo.head()).toBe(result?.oid);
    const eu = await repo.readCluster("prod-eu", result?.oid ?? "");
    expect([...eu.keys()]).toEqual(["clusters/prod-eu/team-a/shop/core.ConfigMap.a.yaml", "clusters/prod-eu/team-a/shop/core.ConfigMap.b.yaml"]);
    expect(eu.get("clusters/prod-eu/team-a/shop/core.ConfigMap.a.yaml")).toBe(files["core.ConfigMap.a.yaml"]);
    expect((await repo.readCluster("prod-us", "main")).size).toBe(2);
    const [entry] = await repo.log(5);
    expect(entry?.subject).toBe("team-a/shop: v1 rendered");
    expect(entry?.deployments).toEqual([{ namespace: "team-a", name: "shop", generation: 1, revision: "v1" }]);
  });

  it("returns null and writes no commit when the rendered files did not change", async () => {
    const change = { namespace: "team-a", name: "shop", clusters: { c1: configMaps("team-a", { a: "1" }) } };
    const first = await repo.commitDeployments([change], "render");
    expect(await repo.commitDeployments([change], "render again")).toBeNull();
    expect(await repo.head()).toBe(first?.oid);
    expect(await repo.log()).toHaveLength(1);
  });

  it("replaces a folder by exactly the given files, dropping objects no longer rendered", async () => {
    await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: { c1: configMaps("ns", { a: "1", b: "2" }) } }], "v1");
    const second = await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: { c1: configMaps("ns", { b: "3", c: "4" }) } }], "v2");
    expect([...(await repo.readCluster("c1", second?.oid ?? "")).keys()]).toEqual([
      "clusters/c1/ns/d/core.ConfigMap.b.yaml",
      "clusters/c1/ns/d/core.ConfigMap.c.yaml",
    ]);
  });

  it("removes the deployment's folder from clusters it is no longer placed on, and everywhere on deletion", async () => {
    const files = configMaps("ns", { a: "1" });
    const other = { namespace: "ns", name: "other", clusters: { c1: files } };
    await repo.commitDeployments([other], "other");
    await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: { c1: files, c2: files } }], "two clusters");
    const moved = await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: { c2: files } }], "moved away from c1");
    expect([...(await repo.readCluster("c1", moved?.oid ?? "")).keys()]).toEqual(["clusters/c1/ns/other/core.ConfigMap.a.yaml"]);
    expect((await repo.readCluster("c2", moved?.oid ?? "")).size).toBe(1);
    const deleted = await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: {} }], "deleted");
    // c2 held only this deployment: the whole cluster folder is gone (Git keeps no empty folders).
    expect((await repo.readCluster("c2", deleted?.oid ?? "")).size).toBe(0);
    expect((await repo.readCluster("c1", deleted?.oid ?? "")).size).toBe(1);
    expect(await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: {} }], "deleted again")).toBeNull();
  });

  it("puts several deployments into one commit", async () => {
    const result = await repo.commitDeployments(
      [
        { namespace: "a", name: "one", clusters: { c1: configMaps("a", { x: "1" }) }, generation: 2 },
        { namespace: "b", name: "two", clusters: { c1: configMaps("b", { y: "1" }) }, generation: 5 },
      ],
      "batch",
    );
    expect(await repo.log()).toHaveLength(1);
    expect((await repo.readCluster("c1", result?.oid ?? "")).size).toBe(2);
    expect((await repo.log())[0]?.deployments.map((d) => `${d.namespace}/${d.name}@${d.generation}`)).toEqual(["a/one@2", "b/two@5"]);
  });

  it("names the GitSource commit of a deployment that came from one in a Flotilla-Source-Commit trailer", async () => {
    const source = "5".repeat(40);
    const result = await repo.commitDeployments(
      [
        { namespace: "a", name: "from-git", clusters: { c1: configMaps("a", { s: "1" }) }, generation: 3, sourceCommit: source },
        { namespace: "b", name: "by-hand", clusters: { c1: configMaps("b", { h: "1" }) }, generation: 1 },
      ],
      "batch",
    );
    const [entry] = await repo.log(1);
    expect(entry?.oid).toBe(result?.oid);
    expect(entry?.deployments.map((d) => [`${d.namespace}/${d.name}`, d.sourceCommit])).toEqual([
      ["a/from-git", source],
      ["b/by-hand", undefined],
    ]);
    const message = await stockGit(repo.dir, ["log", "-1", "--format=%B"]);
    expect(message.stdout).toContain(`Flotilla-Deployment: a/from-git\nFlotilla-Generation: 3\nFlotilla-Source-Commit: ${source}\n`);
  });

  it("refuses the same deployment twice in one commit and unsafe file names before writing anything", async () => {
    const c = { namespace: "a", name: "one", clusters: {} };
    await expect(repo.commitDeployments([c, c], "dup")).rejects.toThrow(/appears twice/);
    await expect(repo.commitDeployments([{ namespace: "a", name: "one", clusters: { c1: { "../x.yaml": "x" } } }], "bad")).rejects.toThrow(
      /Expected `<group>.<kind>.<name>.yaml`/,
    );
    expect(await repo.head()).toBeNull();
  });

  it("diffs a cluster between commits, from nothing, and ignores other clusters", async () => {
    const first = await repo.commitDeployments(
      [{ namespace: "ns", name: "d", clusters: { c1: configMaps("ns", { a: "1", b: "2" }), c2: configMaps("ns", { z: "1" }) } }],
      "v1",
    );
    const second = await repo.commitDeployments(
      [{ namespace: "ns", name: "d", clusters: { c1: configMaps("ns", { b: "3", c: "4" }), c2: configMaps("ns", { z: "2" }) } }],
      "v2",
    );
    const from = first?.oid ?? "";
    const to = second?.oid ?? "";
    expect(await repo.diffCluster("c1", from, to)).toEqual({
      added: ["clusters/c1/ns/d/core.ConfigMap.c.yaml"],
      modified: ["clusters/c1/ns/d/core.ConfigMap.b.yaml"],
      removed: ["clusters/c1/ns/d/core.ConfigMap.a.yaml"],
    });
    expect(await repo.diffCluster("c1", null, from)).toEqual({
      added: ["clusters/c1/ns/d/core.ConfigMap.a.yaml", "clusters/c1/ns/d/core.ConfigMap.b.yaml"],
      modified: [],
      removed: [],
    });
    expect(await repo.diffCluster("c1", to, to)).toEqual({ added: [], modified: [], removed: [] });
    expect(await repo.diffCluster("gone", from, to)).toEqual({ added: [], modified: [], removed: [] });
  });

  it("serializes concurrent commits: every change lands, each on the previous head", async () => {
    const results = await Promise.all(
      ["a", "b", "c", "d"].map((name) => repo.commitDeployments([{ namespace: "ns", name, clusters: { c1: configMaps("ns", { x: name }) } }], name)),
    );
    const log = await repo.log();
    expect(log).toHaveLength(4);
    expect(log.map((e) => e.oid)).toEqual(results.map((r) => r?.oid).reverse());
    expect((await repo.readCluster("c1", "main")).size).toBe(4);
  });

  it("keeps reading every commit after loose objects are packed", async () => {
    const oids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: { c1: configMaps("ns", { a: String(i) }) } }], `v${i}`);
      oids.push(r?.oid ?? "");
    }
    const packed = await repo.maybePack(1);
    expect(packed.packed).toBeGreaterThan(20);
    expect((await repo.maybePack(1)).packed).toBe(0);
    for (const [i, oid] of oids.entries()) {
      expect([...(await repo.readCluster("c1", oid)).values()][0]).toContain(`value: "${i}"`);
    }
    const next = await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: { c1: configMaps("ns", { a: "0" }) } }], "back to 0");
    expect(next).not.toBeNull();
  });

  it("reopens an existing repository and continues its history", async () => {
    const first = await repo.commitDeployments([{ namespace: "ns", name: "d", clusters: { c1: configMaps("ns", { a: "1" }) } }], "v1");
    const again = await EnvRepo.open({ dir: `${dir.path}/env.git` });
    expect(await again.head()).toBe(first?.oid);
    const second = await again.commitDeployments([{ namespace: "ns", name: "d", clusters: { c1: configMaps("ns", { a: "2" }) } }], "v2");
    expect((await again.log()).map((e) => e.oid)).toEqual([second?.oid, first?.oid]);
  });
});
