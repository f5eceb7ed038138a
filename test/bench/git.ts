// Benchmark of the environment repository: the cost of committing a 10-file change must follow
// the size of the change, not of the repository (ARCHITECTURE §4), and the repository must stay
// small on disk once packed. Big repositories are built by writing trees directly, not by commits.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { toYaml } from "../../src/api/serialize.js";
import { type DeploymentChange, EnvRepo } from "../../src/gitops/repo.js";
import { ObjectStore, type TreeEntry } from "../../src/gitops/store.js";
import type { BenchCase, BenchFigure } from "./types.js";

const run = promisify(execFile);
const FILES_PER_DEPLOYMENT = 10;
const CLUSTERS = ["bench-eu", "bench-us"];
const WARMUP = 10;
const MEASURED = 25;
const TARGET_MS = 50;

function fileName(deployment: string, k: number): string {
  return `apps.Deployment.${deployment}-f${k}.yaml`;
}

function manifest(namespace: string, deployment: string, k: number, version: number): string {
  return toYaml({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: `${deployment}-f${k}`, namespace, labels: { "app.kubernetes.io/managed-by": "flotilla" } },
    spec: { replicas: 3, template: { spec: { containers: [{ name: "main", image: `registry.example/app:${version}` }] } } },
  });
}

interface Shape {
  namespaces: number;
  deploymentsPerNamespace: number;
}

/** Spread `files` over the clusters in a square-ish namespace × deployment grid. */
function shapeFor(files: number): Shape {
  const perCluster = Math.max(1, Math.round(files / FILES_PER_DEPLOYMENT / CLUSTERS.length));
  const namespaces = Math.max(1, Math.round(Math.sqrt(perCluster / 2)));
  return { namespaces, deploymentsPerNamespace: Math.max(1, Math.round(perCluster / namespaces)) };
}

/**
 * A repository of about `files` files in one commit, written tree by tree: ten shared blob
 * contents, but every deployment folder is its own tree (distinct file names), as in real use.
 */
async function buildRepository(dir: string, shape: Shape): Promise<number> {
  const store = new ObjectStore({ gitdir: dir });
  const blobs: string[] = [];
  for (let k = 0; k < FILES_PER_DEPLOYMENT; k++) blobs.push(await store.writeBlob(Buffer.from(manifest("ns", "seed", k, 0))));
  let count = 0;
  const clusterEntries: TreeEntry[] = [];
  for (const cluster of CLUSTERS) {
    const nsEntries: TreeEntry[] = [];
    for (let n = 0; n < shape.namespaces; n++) {
      const depEntries: TreeEntry[] = [];
      for (let d = 0; d < shape.deploymentsPerNamespace; d++) {
        const dep = `app-${d}`;
        const files: TreeEntry[] = blobs.map((oid, k) => ({ mode: "100644", path: fileName(dep, k), oid, type: "blob" }));
        count += files.length;
        depEntries.push({ mode: "040000", path: dep, oid: await store.writeTree(files), type: "tree" });
      }
      nsEntries.push({ mode: "040000", path: `ns-${n}`, oid: await store.writeTree(depEntries), type: "tree" });
    }
    clusterEntries.push({ mode: "040000", path: cluster, oid: await store.writeTree(nsEntries), type: "tree" });
  }
  const clusters = await store.writeTree(clusterEntries);
  const root = await store.writeTree([{ mode: "040000", path: "clusters", oid: clusters, type: "tree" }]);
  const sig = { name: "bench", email: "bench@localhost", timestamp: 1_700_000_000, timezoneOffset: 0 };
  const commit = await store.writeCommit({ message: "seed\n", tree: root, parent: [], author: sig, committer: sig });
  await store.writeRef("refs/heads/main", commit);
  return count;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** A change of all ten files of one deployment in one cluster. */
function tenFileChange(shape: Shape, i: number): DeploymentChange {
  // Walk the grid with a stride so successive commits touch different namespaces and deployments.
  const n = (i * 7) % shape.namespaces;
  const d = (i * 13) % shape.deploymentsPerNamespace;
  const namespace = `ns-${n}`;
  const name = `app-${d}`;
  const files: Record<string, string> = {};
  for (let k = 0; k < FILES_PER_DEPLOYMENT; k++) files[fileName(name, k)] = manifest(namespace, name, k, i + 1);
  return { namespace, name, clusters: { [CLUSTERS[0] as string]: files }, generation: i + 1, revision: `r${i + 1}` };
}

async function commitCost(files: number): Promise<{ figure: BenchFigure; ms: number }> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-bench-git-"));
  try {
    const shape = shapeFor(files);
    const buildStart = performance.now();
    const actual = await buildRepository(dir, shape);
    // Seed objects are packed first, as they would be in a long-lived repository.
    const repo = await EnvRepo.open({ dir, packThreshold: 0 });
    await repo.maybePack(1);
    const buildSeconds = (performance.now() - buildStart) / 1000;
    const times: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < WARMUP + MEASURED; i++) {
      const change = tenFileChange(shape, i);
      const start = performance.now();
      const cpuStart = process.cpuUsage();
      const result = await repo.commitDeployments([change], `bench commit ${i}`);
      const elapsed = performance.now() - start;
      const used = process.cpuUsage(cpuStart);
      if (!result) throw new Error(`bench commit ${i} changed nothing`);
      if (i >= WARMUP) {
        times.push(elapsed);
        cpu.push((used.user + used.system) / 1000);
      }
    }
    const ms = median(times);
    return {
      ms,
      figure: {
        name: `git: commit of a 10-file change (${actual.toLocaleString("en-US")} files)`,
        value: Math.round(ms * 100) / 100,
        unit: "ms/op",
        how: `median of ${MEASURED} commitDeployments calls after ${WARMUP} warm-up, each replacing the 10 files of a different deployment; repository of ${CLUSTERS.length} clusters × ${shape.namespaces} namespaces × ${shape.deploymentsPerNamespace} deployments × 10 files, seed built in ${buildSeconds.toFixed(1)} s and packed, auto-pack off; median CPU time (user+system) ${median(cpu).toFixed(1)} ms/commit`,
        target: `<= ${TARGET_MS} ms`,
        met: ms <= TARGET_MS,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function duBytes(path: string): Promise<number> {
  const { stdout } = await run("du", ["-sk", path]);
  return Number.parseInt(stdout.split("\t")[0] ?? "0", 10) * 1024;
}

async function sizeAfterCommits(commits: number): Promise<BenchFigure> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-bench-git-"));
  try {
    const repo = await EnvRepo.open({ dir }); // default auto-pack threshold
    const shape: Shape = { namespaces: 4, deploymentsPerNamespace: 5 };
    const start = performance.now();
    for (let i = 0; i < commits; i++) await repo.commitDeployments([tenFileChange(shape, i)], `bench commit ${i}`);
    const seconds = (performance.now() - start) / 1000;
    await repo.maybePack(1);
    const bytes = await duBytes(dir);
    return {
      name: `git: repository size after ${commits.toLocaleString("en-US")} commits`,
      value: Math.round((bytes / 1024 / 1024) * 100) / 100,
      unit: "MiB",
      how: `du -sk of the bare repository after ${commits} commits of a 10-file change (40 deployment folders over 2 clusters), with automatic packing (threshold 2,000 loose objects) and a final pack; undeltified packs; commits took ${seconds.toFixed(1)} s in total`,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const gitBench: BenchCase = {
  group: "git",
  async run() {
    const figures: BenchFigure[] = [];
    const costs: number[] = [];
    for (const files of [1_000, 10_000, 100_000]) {
      const { figure, ms } = await commitCost(files);
      figures.push(figure);
      costs.push(ms);
    }
    const ratio = (costs[2] as number) / (costs[0] as number);
    figures.push({
      name: "git: commit cost at 100,000 files relative to 1,000 files",
      value: Math.round(ratio * 100) / 100,
      unit: "x",
      how: "ratio of the two medians above; 1.0 means perfectly flat",
      target: "<= 2 (flat)",
      met: ratio <= 2,
    });
    figures.push(await sizeAfterCommits(1_000));
    return figures;
  },
};
