// The member client's reads against a real API server: after its own writes it reads from the
// watch cache (etcd serves none of those reads, counted by the server's own metrics) and still sees
// every write; after a delete it reads that kind from etcd until a later write proves the cache
// holds the delete.

import https from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Manifest } from "../../src/api/types.js";
import { KubeClient } from "../../src/sync/kube.js";
import { kubeConfig, uniqueName, withNamespace } from "./support/fleet.js";

const MEMBER = "prod-eu";
let client: KubeClient;

beforeAll(() => {
  client = new KubeClient({ kubeConfig: kubeConfig(MEMBER) });
});

afterAll(() => client.close());

/** How often the member's API server has read ConfigMaps from etcd, by operation (`list`, `get`). */
async function etcdReads(operation: "list" | "get"): Promise<number> {
  const kc = kubeConfig(MEMBER);
  const options: https.RequestOptions = {};
  await kc.applyToHTTPSOptions(options);
  const server = new URL(kc.getCurrentCluster()?.server ?? "");
  const text = await new Promise<string>((resolve, reject) => {
    https
      .get({ ...options, hostname: server.hostname, port: server.port, path: "/metrics" }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve(body));
        res.on("error", reject);
      })
      .on("error", reject);
  });
  const type = operation === "list" ? "*[]core.ConfigMap" : "*core.ConfigMap";
  const line = text.split("\n").find((l) => l.startsWith(`etcd_request_duration_seconds_count{operation="${operation}",type="${type}"}`));
  return Number(line?.split(" ")[1] ?? 0);
}

function configMap(ns: string, name: string, value: string): Manifest {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels: { test: "reads" } }, data: { value } };
}

/** The names of this test's ConfigMaps in `ns`, as the client lists them. */
async function listedNames(ns: string): Promise<string[]> {
  return (await client.list("v1", "ConfigMap", { namespace: ns, labelSelector: "test=reads" })).map((m) => m.metadata.name).sort();
}

describe("KubeClient reads", () => {
  it("reads its own writes back from the watch cache: every read sees the write before it and none goes to etcd", async () => {
    await withNamespace(MEMBER, async (ns) => {
      const name = uniqueName("cm");
      await client.apply(configMap(ns, name, "0"));
      const lists = await etcdReads("list");
      const gets = await etcdReads("get");
      for (let i = 1; i <= 10; i++) {
        await client.apply(configMap(ns, name, String(i)));
        const listed = await client.list("v1", "ConfigMap", { namespace: ns });
        expect(listed.find((m) => m.metadata.name === name)?.data).toEqual({ value: String(i) });
        expect((await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name }))?.data).toEqual({ value: String(i) });
      }
      // 20 reads; the fleet's own components watch ConfigMaps and read none from etcd meanwhile.
      expect((await etcdReads("list")) - lists).toBe(0);
      expect((await etcdReads("get")) - gets).toBe(0);
    });
  });

  it("reads a kind from etcd after deleting one of its objects, until it writes that kind again", async () => {
    await withNamespace(MEMBER, async (ns) => {
      await client.apply(configMap(ns, "kept", "1"));
      await client.apply(configMap(ns, "removed", "1"));
      expect(await listedNames(ns)).toEqual(["kept", "removed"]);
      expect(await client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "removed" })).toBe(true);
      const before = await etcdReads("list");
      expect(await listedNames(ns)).toEqual(["kept"]);
      // An unchanged write keeps the object's old version: it says nothing of the delete.
      await client.apply(configMap(ns, "kept", "1"));
      expect(await listedNames(ns)).toEqual(["kept"]);
      expect((await etcdReads("list")) - before).toBe(2);
      // A change is written after the delete: from here the cache holds the delete too.
      await client.apply(configMap(ns, "kept", "2"));
      const listed = await client.list("v1", "ConfigMap", { namespace: ns, labelSelector: "test=reads" });
      expect(listed.map((m) => [m.metadata.name, m.data?.value])).toEqual([["kept", "2"]]);
      expect((await etcdReads("list")) - before).toBe(2);
    });
  });
});
