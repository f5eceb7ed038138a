// Benchmark of the sync loop against a real member API server: objects per second applied cold,
// and the cost (time, API calls) of a resync when nothing changed and when one object changed.
//
// The member is found, in order, from:
//   FLOTILLA_BENCH_KUBECONFIG=<file>   any cluster's kubeconfig (cluster-admin);
//   FLOTILLA_BENCH_FLEET_DIR=<dir>     a running local fleet (`flotilla fleet up --detach --dir <dir>`);
//                                      its `prod-eu` member (or the first member) is used.
// Objects go to a fresh namespace that is deleted afterwards. Deployments have 0 replicas so the
// figure is the apply path, not the node simulator creating Pods.

import { KubeConfig } from "@kubernetes/client-node";
import type { Manifest } from "../../src/api/types.js";
import { readFleet } from "../../src/fleet/index.js";
import { KubeClient } from "../../src/kube/client.js";
import { syncCluster } from "../../src/sync/sync.js";
import type { BenchCase, BenchFigure } from "./types.js";

const CONFIGMAPS = 150;
const DEPLOYMENTS = 150;

async function memberKubeconfigPath(): Promise<string> {
  const file = process.env.FLOTILLA_BENCH_KUBECONFIG;
  if (file) return file;
  const dir = process.env.FLOTILLA_BENCH_FLEET_DIR;
  if (dir) {
    const info = await readFleet(dir);
    const member = info?.clusters.find((c) => c.name === "prod-eu") ?? info?.clusters.find((c) => c.role === "member");
    if (member) return member.kubeconfigPath;
    throw new Error(`FLOTILLA_BENCH_FLEET_DIR=${dir}: no fleet with a member cluster there`);
  }
  throw new Error("the sync benchmark needs a member cluster: set FLOTILLA_BENCH_KUBECONFIG or FLOTILLA_BENCH_FLEET_DIR");
}

function objects(ns: string, version: number): Manifest[] {
  const labels = { "app.kubernetes.io/managed-by": "flotilla", "flotilla.dev/app": `${ns}.bench` };
  const out: Manifest[] = [];
  for (let i = 0; i < CONFIGMAPS; i++) {
    out.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `cm-${i}`, namespace: ns, labels },
      data: { index: String(i), version: String(i === 0 ? version : 1) },
    });
  }
  for (let i = 0; i < DEPLOYMENTS; i++) {
    out.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: `web-${i}`, namespace: ns, labels: { ...labels, "flotilla.dev/revision": "v1" } },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: `web-${i}` } },
        template: {
          metadata: { labels: { app: `web-${i}` } },
          spec: {
            containers: [
              { name: "app", image: "registry.example/web:1", ports: [{ containerPort: 8080 }], resources: { requests: { cpu: "100m", memory: "64Mi" } } },
            ],
          },
        },
      },
    });
  }
  return out;
}

async function measure<T>(client: KubeClient, fn: () => Promise<T>): Promise<{ ms: number; calls: number; writes: number; value: T }> {
  const calls0 = client.stats.total;
  const writes0 = (client.stats.byVerb.apply ?? 0) + (client.stats.byVerb.delete ?? 0);
  const t0 = performance.now();
  const value = await fn();
  return {
    ms: performance.now() - t0,
    calls: client.stats.total - calls0,
    writes: (client.stats.byVerb.apply ?? 0) + (client.stats.byVerb.delete ?? 0) - writes0,
    value,
  };
}

export const syncBench: BenchCase = {
  group: "sync",
  needsFleet: true,
  async run(): Promise<BenchFigure[]> {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(await memberKubeconfigPath());
    const client = new KubeClient({ kubeConfig });
    const ns = `bench-sync-${Date.now().toString(36)}`;
    const n = CONFIGMAPS + DEPLOYMENTS;
    try {
      const v1 = objects(ns, 1);
      const cold = await measure(client, () => syncCluster({ client, desired: { commit: "c1", objects: v1 } }));
      if (cold.value.failed > 0) throw new Error(`cold sync failed: ${cold.value.changes.find((c) => c.action === "failed")?.message}`);
      const idle = await measure(client, () => syncCluster({ client, desired: { commit: "c1", objects: v1 }, previous: v1 }));
      const v2 = objects(ns, 2);
      const one = await measure(client, () => syncCluster({ client, desired: { commit: "c2", objects: v2 }, previous: v1 }));
      const changed = one.value.changes.filter((c) => c.action !== "unchanged").length;
      return [
        {
          name: `sync: cold apply of ${n} objects (${CONFIGMAPS} ConfigMaps + ${DEPLOYMENTS} Deployments)`,
          value: n / (cold.ms / 1000),
          unit: "objects/s",
          how: `one syncCluster into a new namespace on a member API server, 8 requests in flight; ${cold.calls} API calls, ${cold.writes} writes, ${cold.ms.toFixed(0)} ms`,
        },
        {
          name: `sync: resync of ${n} unchanged objects`,
          value: idle.ms,
          unit: "ms",
          how: `syncCluster of the same commit again (drift check included); ${idle.calls} API calls, ${idle.writes} writes`,
          target: "0 writes",
          met: idle.writes === 0,
        },
        {
          name: `sync: resync API calls for ${n} unchanged objects`,
          value: idle.calls,
          unit: "calls",
          how: "requests counted by the client: one GET of the namespace and one LIST per (kind, namespace)",
        },
        {
          name: `sync: apply a commit changing 1 of ${n} objects`,
          value: one.ms,
          unit: "ms",
          how: `${one.calls} API calls, ${one.writes} writes, ${changed} change(s) reported`,
          target: "1 write",
          met: one.writes === 1,
        },
      ];
    } finally {
      await client.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => undefined);
      client.close();
    }
  },
};
