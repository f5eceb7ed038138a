import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { toYaml } from "../../../src/api/serialize.js";
import type { Manifest } from "../../../src/api/types.js";
import { manifestFileName } from "../../../src/gitops/layout.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { envRepoSource } from "../../../src/sync/source.js";

const configMap = (name: string, value: string): Manifest => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "shop", labels: { "flotilla.dev/app": `shop.${name}` } },
  data: { value },
});

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("envRepoSource", () => {
  it("reads and parses only the files a commit changed, and hands out the same object for the others", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-source-"));
    const repo = await EnvRepo.open({ dir });
    const commit = async (name: string, value: string) => {
      const o = configMap(name, value);
      const result = await repo.commitDeployments([{ namespace: "shop", name, clusters: { c1: { [manifestFileName(o)]: toYaml(o) } } }], `${name}=${value}`);
      if (!result) throw new Error("nothing committed");
      return result.oid;
    };
    const reads: string[] = [];
    const source = envRepoSource(
      {
        listCluster: (c, commit) => repo.listCluster(c, commit),
        readFile: (oid) => {
          reads.push(oid);
          return repo.readFile(oid);
        },
      },
      "c1",
    );
    await commit("cart", "1");
    const first = await source(await commit("web", "1"));
    expect(first.objects.map((o) => `${o.metadata.name}=${JSON.stringify(o.data)}`)).toEqual([`cart={"value":"1"}`, `web={"value":"1"}`]);
    expect(reads).toHaveLength(2);

    const second = await source(await commit("web", "2"));
    expect(reads).toHaveLength(3);
    expect(second.objects[0]).toBe(first.objects[0]);
    expect(second.objects[1]).not.toBe(first.objects[1]);
    expect(second.objects[1]?.data).toEqual({ value: "2" });
  });
});
