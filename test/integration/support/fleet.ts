// Helpers for integration tests against the local fleet that test/integration/global-setup.ts
// starts once per run (a hub and the members staging, prod-eu, prod-us; real API servers).
//
//   fleet()                        the fleet: { dir, clusters } (hub + members, servers, kubeconfigs, labels)
//   cluster("prod-eu")             one cluster's FleetCluster (throws for an unknown name)
//   hub(), members()               the hub / the member clusters
//   kubeConfig("prod-eu")          a @kubernetes/client-node KubeConfig as cluster-admin;
//   kubeConfig("hub", { token })     ... or as another user (e.g. cluster("hub").unprivilegedToken)
//   uniqueName("web")              "web-k3x9q2": a DNS-label-safe name unique to this run
//   withNamespace(["staging", "prod-eu"], async (ns) => { ... })
//                                  creates namespace `ns` on each given cluster (or one: "prod-eu"),
//                                  runs the body, then deletes the namespace (without waiting)
//   waitFor(async () => value, { timeoutMs, intervalMs, message })
//                                  polls until the function returns a truthy value (returned) and
//                                  ignores errors meanwhile; on timeout throws with the last error
//   kubectl("prod-eu", ["get", "nodes"], { input, allowFailure })
//                                  runs /usr/bin/kubectl against a cluster; throws on a non-zero
//                                  exit unless allowFailure; returns { stdout, stderr, code }
//
// Pods never run: the fleet's node simulator binds them and marks them Running/Ready ~0.7 s later;
// a Pod with an image tag ending in `-broken` stays not ready in CrashLoopBackOff (restarts rise).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { inject } from "vitest";
import type { FleetCluster } from "../../../src/fleet/index.js";

/** What global-setup provides: JSON-serialisable. */
export interface TestFleet {
  dir: string;
  clusters: FleetCluster[];
}

declare module "vitest" {
  export interface ProvidedContext {
    fleet: TestFleet;
  }
}

export function fleet(): TestFleet {
  const f = inject("fleet");
  if (!f) throw new Error("no fleet provided: run integration tests with `vitest run --project integration`");
  return f;
}

export function cluster(name: string): FleetCluster {
  const c = fleet().clusters.find((x) => x.name === name);
  if (!c)
    throw new Error(
      `no cluster ${name} in the test fleet (have: ${fleet()
        .clusters.map((x) => x.name)
        .join(", ")})`,
    );
  return c;
}

export function hub(): FleetCluster {
  return cluster("hub");
}

export function members(): FleetCluster[] {
  return fleet().clusters.filter((c) => c.role === "member");
}

type ClusterRef = string | FleetCluster;

function resolve(ref: ClusterRef): FleetCluster {
  return typeof ref === "string" ? cluster(ref) : ref;
}

/** A KubeConfig for the cluster: its admin kubeconfig file, or the same server with another token. */
export function kubeConfig(ref: ClusterRef, options: { token?: string } = {}): KubeConfig {
  const c = resolve(ref);
  const kc = new KubeConfig();
  kc.loadFromFile(c.kubeconfigPath);
  if (options.token === undefined) return kc;
  const current = kc.getCurrentCluster();
  if (!current) throw new Error(`${c.kubeconfigPath} has no current cluster`);
  const other = new KubeConfig();
  other.loadFromOptions({
    clusters: [current],
    users: [{ name: "test-user", token: options.token }],
    contexts: [{ name: "test", cluster: current.name, user: "test-user" }],
    currentContext: "test",
  });
  return other;
}

/** `<prefix>-<6 random chars>`, lower-case (valid as a namespace or object name). */
export function uniqueName(prefix = "t"): string {
  const suffix = randomBytes(6)
    .toString("base64url")
    .toLowerCase()
    .replace(/[^a-z0-9]/g, "x")
    .slice(0, 6);
  return `${prefix}-${suffix}`.slice(0, 63);
}

/**
 * Create a unique namespace on each cluster, run `body(ns)`, then delete the namespaces (the
 * delete is requested, not awaited: namespace termination takes a few seconds).
 */
export async function withNamespace<T>(
  clusters: ClusterRef | ClusterRef[],
  body: (ns: string) => Promise<T>,
  options: { prefix?: string; labels?: Record<string, string> } = {},
): Promise<T> {
  const list = (Array.isArray(clusters) ? clusters : [clusters]).map(resolve);
  const ns = uniqueName(options.prefix ?? "it");
  const apis = list.map((c) => kubeConfig(c).makeApiClient(CoreV1Api));
  await Promise.all(apis.map((api) => api.createNamespace({ body: { metadata: { name: ns, labels: { "flotilla.dev/test": "true", ...options.labels } } } })));
  try {
    return await body(ns);
  } finally {
    await Promise.allSettled(apis.map((api) => api.deleteNamespace({ name: ns })));
  }
}

/**
 * The value of a read, or undefined when the object does not exist (HTTP 404). Every other failure
 * (403, a refused connection, a wrong kubeconfig) is thrown: a test that reads "absent" from an
 * unreadable cluster would pass for the wrong reason.
 */
export async function orAbsent<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (error) {
    if ((error as { code?: unknown }).code === 404) return undefined;
    throw error;
  }
}

export interface WaitOptions {
  /** Default 30 s. */
  timeoutMs?: number;
  /** Default 250 ms. */
  intervalMs?: number;
  /** Says what was awaited, for the timeout error. */
  message?: string;
}

/** Poll `predicate` until it returns a truthy value, which is returned. Errors count as "not yet". */
export async function waitFor<T>(predicate: () => T | Promise<T>, options: WaitOptions = {}): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const intervalMs = options.intervalMs ?? 250;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) return value as NonNullable<T>;
      lastValue = value;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError ? `last error: ${(lastError as Error).message}` : `last value: ${JSON.stringify(lastValue)}`;
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${options.message ?? "a condition"} (${why})`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface KubectlResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** The kubectl the tests drive clusters with: $KUBECTL, else the one on PATH (the setup script installs Debian's). */
export const KUBECTL = process.env.KUBECTL ?? "kubectl";

/** Run kubectl against a cluster (as admin, via its kubeconfig). */
export function kubectl(ref: ClusterRef, args: string[], options: { input?: string; allowFailure?: boolean; timeoutMs?: number } = {}): Promise<KubectlResult> {
  const c = resolve(ref);
  return new Promise((resolvePromise, reject) => {
    const child = execFile(
      KUBECTL,
      ["--kubeconfig", c.kubeconfigPath, ...args],
      { timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        const result = { stdout, stderr, code };
        if (code !== 0 && !options.allowFailure) {
          reject(new Error(`kubectl ${args.join(" ")} on ${c.name} exited ${code}: ${stderr.trim()}`));
        } else resolvePromise(result);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}
