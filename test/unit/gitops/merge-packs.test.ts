// Merging the packs that fetches and housekeeping leave, checked with stock git: nothing lost,
// the repository fsck-clean, the largest pack kept while it outweighs the rest.

import { readdir, readFile } from "node:fs/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergePacks, packsToMerge, removePacks } from "../../../src/gitops/pack.js";
import { readFolder } from "../../../src/gitops/reads.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { type AccessDecision, startGitServer } from "../../../src/gitops/serve.js";
import { ObjectStore } from "../../../src/gitops/store.js";
import { configMaps, stockGit, tempDir } from "./support.js";

const packsIn = async (gitdir: string) =>
  (await readdir(`${gitdir}/objects/pack`))
    .filter((f) => f.endsWith(".idx"))
    .map((f) => f.slice(0, -4))
    .sort();
const allowAll = async (): Promise<AccessDecision> => ({ outcome: "allowed", user: "agent" });

describe("merging packs", { timeout: 30_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir("flotilla-merge-packs-");
  });
  afterAll(async () => {
    await dir.cleanup();
  });

  it("writes the smaller packs' objects into one, keeps a pack that outweighs them twice, and loses nothing", async () => {
    const gitdir = `${dir.path}/local.git`;
    // A pack per commit (housekeeping after every commit), no merging: the packs to merge.
    const repo = await EnvRepo.open({ dir: gitdir, packThreshold: 1, maxPacks: 0 });
    const many: Record<string, string> = {};
    for (let i = 0; i < 100; i++) many[`c${i}`] = String(i);
    await repo.commitDeployments([{ namespace: "team-a", name: "big", clusters: { "prod-eu": configMaps("team-a", many) } }], "big");
    for (let i = 0; i < 5; i++)
      await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { "prod-eu": configMaps("team-a", { web: String(i) }) } }], `web ${i}`);
    const before = await packsIn(gitdir);
    expect(before).toHaveLength(6);
    const objectsBefore = (await stockGit(gitdir, ["rev-list", "--objects", "--all"])).stdout;

    const store = new ObjectStore({ gitdir });
    expect((await mergePacks(store, { maxPacks: 6 })).merged).toBe(0);
    const result = await mergePacks(store, { maxPacks: 4 });
    // The first commit's pack (100 ConfigMaps and their trees) outweighs the five small ones (7 objects each) twice.
    expect(result.merged).toBe(5);
    expect(result.retired).toHaveLength(5);
    const kept = before.filter((p) => !result.retired.includes(p));
    expect(kept).toHaveLength(1);
    // New reads look only in the kept and the new pack; the retired data stays for reads under way.
    expect(await packsIn(gitdir)).toEqual([kept[0], result.pack].sort());
    const dataFiles = async () => (await readdir(`${gitdir}/objects/pack`)).filter((f) => f.endsWith(".pack"));
    expect(await dataFiles()).toHaveLength(7);
    await removePacks(gitdir, result.retired);
    expect(await dataFiles()).toHaveLength(2);
    const fsck = await stockGit(gitdir, ["fsck", "--strict", "--no-dangling"]);
    expect(fsck.code, fsck.stderr).toBe(0);
    expect((await stockGit(gitdir, ["rev-list", "--objects", "--all"])).stdout).toBe(objectsBefore);
    const verify = await stockGit(gitdir, ["verify-pack", `${gitdir}/objects/pack/${result.pack}.idx`]);
    expect(verify.code, verify.stderr).toBe(0);
  });

  it("copies whole objects' entries byte for byte and writes a delta's object whole", async () => {
    const gitdir = `${dir.path}/deltas.git`;
    const repo = await EnvRepo.open({ dir: gitdir, packThreshold: 0, maxPacks: 0 });
    const text = (i: number) => `${"line of a long ConfigMap value\n".repeat(200)}version ${i}\n`;
    const commit = (i: number) =>
      repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { "prod-eu": configMaps("team-a", { web: text(i) }) } }], `v${i}`);
    const verbose = async (name: string) => (await stockGit(gitdir, ["verify-pack", "-v", `${gitdir}/objects/pack/${name}.idx`])).stdout;
    // A pack of whole objects deflated at zlib level 1 (we write level 6): a copy keeps its bytes.
    for (let i = 0; i < 3; i++) await commit(i);
    expect((await stockGit(gitdir, ["-c", "pack.compression=1", "repack", "-a", "-d", "-f", "--window=0"])).code).toBe(0);
    const [whole] = await packsIn(gitdir);
    expect(await verbose(whole as string)).not.toMatch(/chain length/);
    const body = (await readFile(`${gitdir}/objects/pack/${whole}.pack`)).subarray(12, -20);
    // Then a pack with deltas between the similar ConfigMaps.
    for (let i = 3; i < 6; i++) await commit(i);
    expect((await stockGit(gitdir, ["repack", "-d"])).code).toBe(0);
    const deltified = (await packsIn(gitdir)).find((p) => p !== whole) as string;
    expect(await verbose(deltified)).toMatch(/chain length = 1:/);
    const objectsBefore = (await stockGit(gitdir, ["rev-list", "--objects", "--all"])).stdout;

    const result = await mergePacks(new ObjectStore({ gitdir }), { maxPacks: 1 });
    expect(result.merged).toBe(2);
    await removePacks(gitdir, result.retired);
    const merged = await readFile(`${gitdir}/objects/pack/${result.pack}.pack`);
    // The whole pack's entries copied as they were: same deflated bytes, same order.
    expect(merged.indexOf(body)).toBeGreaterThan(0);
    // No delta left: every object stands on its own, and stock git finds nothing missing.
    expect(await verbose(result.pack as string)).not.toMatch(/chain length/);
    const fsck = await stockGit(gitdir, ["fsck", "--strict", "--no-dangling"]);
    expect(fsck.code, fsck.stderr).toBe(0);
    expect((await stockGit(gitdir, ["rev-list", "--objects", "--all"])).stdout).toBe(objectsBefore);
    const readBack = await EnvRepo.open({ dir: gitdir });
    const files = await readBack.readCluster("prod-eu", (await readBack.head()) as string);
    expect([...files.values()].join("")).toContain("version 5");
  });

  it("lets go of the merged packs' indexes in the library's cache and keeps the others", async () => {
    const gitdir = `${dir.path}/cache.git`;
    const repo = await EnvRepo.open({ dir: gitdir, packThreshold: 1, maxPacks: 0 });
    const many: Record<string, string> = {};
    for (let i = 0; i < 50; i++) many[`c${i}`] = String(i);
    await repo.commitDeployments([{ namespace: "team-a", name: "big", clusters: { "prod-eu": configMaps("team-a", many) } }], "big");
    for (let i = 0; i < 3; i++)
      await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { "prod-eu": configMaps("team-a", { web: String(i) }) } }], `web ${i}`);
    const store = new ObjectStore({ gitdir });
    const filesAt = async (commit: string) => [...(await readFolder(store, (await store.readCommit(commit)).tree, "clusters/prod-eu")).values()].join("");
    // Reading every commit's files loads each pack's index into the library's cache.
    for (const entry of await repo.log(10)) await filesAt(entry.oid);
    const cachedPacks = () =>
      Object.getOwnPropertySymbols(store.cache)
        .map((k) => (store.cache as Record<symbol, unknown>)[k])
        .filter((v): v is Map<string, unknown> => v instanceof Map)
        .flatMap((m) => [...m.keys()].map((path) => path.slice(path.lastIndexOf("/") + 1, -4)))
        .sort();
    const before = await packsIn(gitdir);
    expect(cachedPacks()).toEqual(before);

    const result = await mergePacks(store, { maxPacks: 2 });
    expect(result.retired).toHaveLength(3);
    store.forgetPacks(result.retired);
    const kept = before.filter((p) => !result.retired.includes(p));
    expect(cachedPacks()).toEqual(kept);
    expect(await filesAt((await repo.head()) as string)).toContain('value: "2"');
    expect(cachedPacks()).toEqual([...kept, result.pack].sort());
  });

  it("chooses the fewest smallest packs, and more while the next one does not outweigh them twice", () => {
    const packs = (...objects: number[]) => objects.map((n, i) => ({ name: `p${i}`, objects: n }));
    expect(packsToMerge(packs(1000, 10, 10), 3)).toEqual([]);
    // Down to 3 packs: the two smallest at least; 100 outweighs their 20 twice, so it stays.
    expect(packsToMerge(packs(1000, 100, 10, 10), 3).map((p) => p.name)).toEqual(["p2", "p3"]);
    // 30 does not outweigh 20 twice: merged too; 1000 outweighs the 50.
    expect(packsToMerge(packs(1000, 30, 10, 10), 3).map((p) => p.name)).toEqual(["p2", "p3", "p1"]);
  });

  it("rewrites each object a logarithmic number of times over many fetches", () => {
    // A clone's pack, then one 10-object pack per fetch, merged past 4 packs, 512 fetches.
    let packs = [{ objects: 5_000 }];
    let rewritten = 0;
    for (let fetch = 0; fetch < 512; fetch++) {
      packs.push({ objects: 10 });
      const merged = packsToMerge(packs, 4);
      if (merged.length === 0) continue;
      const total = merged.reduce((n, p) => n + p.objects, 0);
      rewritten += total;
      packs = [...packs.filter((p) => !merged.includes(p)), { objects: total }];
      expect(packs.length).toBeLessThanOrEqual(4);
    }
    // 5,120 fetched objects; merging all but the largest pack every time rewrote 427,720 (84 each).
    expect(rewritten / 5_120).toBeLessThan(12);
  });

  it("keeps an agent that fetched many times at a few packs, readable all along", async () => {
    const served = `${dir.path}/served.git`;
    const repo = await EnvRepo.open({ dir: served });
    await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { "prod-eu": configMaps("team-a", { web: "0" }) } }], "v0");
    const { server, port } = await startGitServer({ host: "127.0.0.1", port: 0, repoDir: served, authorize: allowAll });
    try {
      const agentDir = `${dir.path}/agent.git`;
      const agent = await EnvRepo.open({
        dir: agentDir,
        maxPacks: 3,
        retiredPackGraceMs: 0,
        remote: { url: `http://127.0.0.1:${port}/env.git`, token: "t", authScheme: "bearer" },
      });
      for (let i = 1; i <= 10; i++) {
        await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { "prod-eu": configMaps("team-a", { web: String(i) }) } }], `v${i}`);
        const synced = await agent.sync();
        expect(synced.head).toBe(await repo.head());
        const files = await agent.readCluster("prod-eu", synced.head as string);
        expect([...files.values()].join("")).toContain(`value: "${i}"`);
      }
      // Eleven fetches, each leaving a pack, merged as they came: past three, the small ones are
      // written into one (the retired data removed at once here, a minute later by default).
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await packsIn(agentDir)).length).toBeLessThanOrEqual(4);
      const fsck = await stockGit(agentDir, ["fsck", "--strict", "--no-dangling"]);
      expect(fsck.code, fsck.stderr).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
