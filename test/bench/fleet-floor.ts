// The floor under the fleet-scale headline: what the local fleet itself needs to run the same N
// deployments when no delivery engine is involved. A fresh fleet (as in fleet.ts); every
// deployment rendered up front with the same definitions, placement and full rollout the
// controller would reach; the objects applied straight to the members (server-side apply, the
// controller's client settings: 8 requests in flight per member); then every object's health
// read with the controller's own rules until all are Healthy (one LIST per kind and member every
// 2 s). No hub writes, no Git, no rollout steps, no status: the members' API servers, etcd,
// controller managers and node simulators do only what the objects themselves cause.
//
// The ratio of the headline's time to this one is Flotilla's cost over the fleet's own.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Cluster, Manifest } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { FileDefinitionSource } from "../../src/definitions/loader.js";
import { buildRegistry } from "../../src/definitions/registry.js";
import { type RunningFleet, startFleet } from "../../src/fleet/index.js";
import { place } from "../../src/placement/select.js";
import { renderDeployment } from "../../src/render/render.js";
import { fullRolloutTargets } from "../../src/rollout/targets.js";
import { objectHealth } from "../../src/sync/health.js";
import { KubeClient } from "../../src/kube/client.js";
import { sortForApply } from "../../src/sync/order.js";
import { objectKey } from "../../src/sync/types.js";
import { apiServerRequests, deployment, kubeConfigFrom, machineCpuLine, NAMESPACES, pool, perDeployment, requestLines } from "./fleet.js";
import { cpuBetween, descendantCpu } from "./process-cpu.js";
import type { BenchCase, BenchFigure } from "./types.js";

const POLL_MS = 2_000;

const say = (line: string) => process.stdout.write(`  [fleet-floor] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many of `desired` are Healthy on the member, by one LIST per kind. */
async function healthyCount(client: KubeClient, desired: Map<string, Manifest>, kinds: Array<[string, string]>): Promise<number> {
  let n = 0;
  for (const [apiVersion, kind] of kinds) {
    for (const live of await client.list(apiVersion, kind, { labelSelector: "app.kubernetes.io/managed-by=flotilla" })) {
      const want = desired.get(objectKey(live));
      if (want && objectHealth(live, want).status === "Healthy") n++;
    }
  }
  return n;
}

export const fleetFloorBench: BenchCase = {
  group: "fleet-floor",
  needsFleet: true,
  scaled: true,
  async run(n: number): Promise<BenchFigure[]> {
    const timeoutMs = Math.max(10 * 60_000, n * 1_500);
    const dir = await mkdtemp(join(tmpdir(), "flotilla-bench-floor-"));
    let fleet: RunningFleet | undefined;
    const clients: KubeClient[] = [];
    try {
      say(`N = ${n}; starting the local fleet in ${dir}`);
      fleet = await startFleet({ dir, log: () => undefined });
      const registry = buildRegistry(await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments());
      const clusters: Cluster[] = fleet.members.map((m) => ({
        apiVersion: "flotilla.dev/v1alpha1",
        kind: "Cluster",
        metadata: { name: m.name, labels: m.labels },
        spec: { kubeconfigSecretRef: { namespace: "flotilla-system", name: `cluster-${m.name}`, key: "kubeconfig" } },
        status: { version: "v1.20.2" },
      }));
      const perMember = new Map<string, Map<string, Manifest>>(fleet.members.map((m) => [m.name, new Map()]));
      for (let i = 0; i < n; i++) {
        const d = deployment(i);
        const targets = fullRolloutTargets(d, place(d.spec.placementStrategies, clusters), clusters).map((t) => ({ ...t, releaseReplicasToAutoscaler: true }));
        for (const rendered of await renderDeployment({ deployment: d, registry, targets })) {
          for (const m of rendered.manifests) perMember.get(rendered.cluster)?.set(objectKey(m), m);
        }
      }
      const total = [...perMember.values()].reduce((a, m) => a + m.size, 0);
      const members = fleet.members.map((m) => {
        const kc = kubeConfigFrom(m.kubeconfigPath);
        const client = new KubeClient({ kubeConfig: kc, fieldManager: "flotilla" });
        clients.push(client);
        const desired = perMember.get(m.name) ?? new Map<string, Manifest>();
        const kinds = [...new Set([...desired.values()].map((o) => `${o.apiVersion}|${o.kind}`))].map((k) => k.split("|") as [string, string]);
        return { name: m.name, kc, client, desired, kinds };
      });
      for (const m of members) {
        for (let i = 0; i < NAMESPACES; i++) await m.client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: `bench-${i}` } });
      }
      say(`${total} objects rendered for ${members.length} members; applying`);

      const requestsBefore = await Promise.all(members.map((m) => apiServerRequests(m.kc)));
      const fleetCpuBefore = descendantCpu(members.map((m) => m.name));
      const ownCpuBefore = process.cpuUsage();
      const start = performance.now();
      await Promise.all(members.map((m) => pool(sortForApply([...m.desired.values()]), 8, async (o) => void (await m.client.apply(o)))));
      const appliedS = (performance.now() - start) / 1000;
      say(`applied in ${appliedS.toFixed(1)} s; waiting for Healthy`);
      let healthy = 0;
      let lastSaid = 0;
      while (performance.now() - start < timeoutMs) {
        healthy = (await Promise.all(members.map((m) => healthyCount(m.client, m.desired, m.kinds)))).reduce((a, b) => a + b, 0);
        if (healthy === total) break;
        if (performance.now() - lastSaid > 10_000) {
          lastSaid = performance.now();
          say(`${((performance.now() - start) / 1000).toFixed(0)} s: ${healthy}/${total} objects Healthy`);
        }
        await sleep(POLL_MS);
      }
      const healthyS = (performance.now() - start) / 1000;
      say(`${healthy === total ? "all" : `NOT all (${healthy}/${total})`} Healthy after ${healthyS.toFixed(1)} s`);
      const ownCpu = process.cpuUsage(ownCpuBefore);
      const ownCpuS = (ownCpu.user + ownCpu.system) / 1e6;
      const fleetCpu = cpuBetween(fleetCpuBefore, descendantCpu(members.map((m) => m.name)));
      say(machineCpuLine(fleetCpu, ownCpuS, healthyS));
      for (const line of await requestLines(members, requestsBefore, "during the ramp", 12)) say(line);
      const scaled = n.toLocaleString("en");
      return [
        {
          name: `fleet floor: ${scaled} deployments' objects applied straight to the members → all Healthy`,
          value: healthy === total ? healthyS : Number.NaN,
          unit: "s",
          how: `a fresh local fleet; the ${total} objects the ${scaled} fleet-scale deployments render (full rollout, same placement) applied with server-side apply, 8 in flight per member (took ${appliedS.toFixed(1)} s), no controller, hub or Git; health by the controller's rules, one LIST per kind and member every ${POLL_MS / 1000} s`,
        },
        perDeployment("fleet floor: apply → all Healthy", n, healthy === total ? healthyS * 1000 : Number.NaN, "ms", "the floor above divided by N"),
        perDeployment(
          "fleet floor: machine CPU",
          n,
          (fleetCpu.totalS + ownCpuS) * 1000,
          "CPU ms",
          "this process and every fleet process (from /proc) from the first apply to all Healthy, divided by N",
        ),
      ];
    } finally {
      for (const c of clients) c.close();
      await fleet?.stop().catch((e: unknown) => say(`stopping the fleet: ${String(e)}`));
      await rm(dir, { recursive: true, force: true }).catch(() => {});
    }
  },
};
