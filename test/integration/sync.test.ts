// The sync loop against a real member API server: apply, no-op re-apply, prune, ownership,
// failure isolation, newer-commit-wins and drift correction. Every case uses its own namespace.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { Manifest } from "../../src/api/types.js";
import { manifestFileName } from "../../src/gitops/layout.js";
import { EnvRepo } from "../../src/gitops/repo.js";
import { ChangeWatch } from "../../src/sync/change-watch.js";
import { envRepoSource } from "../../src/sync/source.js";
import { KubeClient } from "../../src/kube/client.js";
import { observeHealth, syncCluster } from "../../src/sync/sync.js";
import type { DesiredState } from "../../src/sync/types.js";
import { ClusterSyncWorker, type SyncEvent } from "../../src/sync/worker.js";
import { cluster, KUBECTL, uniqueName, waitFor } from "./support/fleet.js";

/**
 * The member cluster under test: the local fleet's `prod-eu` (started by global-setup), or any
 * cluster whose kubeconfig file FLOTILLA_SYNC_KUBECONFIG names (for work on the sync loop alone).
 */
async function memberKubeconfig(): Promise<{ kubeConfig: KubeConfig; path: string }> {
  const override = process.env.FLOTILLA_SYNC_KUBECONFIG;
  const path = override ?? cluster("prod-eu").kubeconfigPath;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(path);
  return { kubeConfig, path };
}

const run = promisify(execFile);

let client: KubeClient;
let kubeconfigPath: string;
let memberConfig: KubeConfig;
const namespaces: string[] = [];
const crds: string[] = [];

beforeAll(async () => {
  const member = await memberKubeconfig();
  kubeconfigPath = member.path;
  memberConfig = member.kubeConfig;
  client = new KubeClient({ kubeConfig: member.kubeConfig });
});

afterAll(async () => {
  for (const ns of namespaces) await client.delete({ apiVersion: "v1", kind: "Namespace", name: ns }).catch(() => undefined);
  for (const crd of crds) await client.delete({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crd }).catch(() => undefined);
  client.close();
});

function uniqueNamespace(prefix: string): string {
  const ns = uniqueName(prefix);
  namespaces.push(ns);
  return ns;
}

const owned = (ns: string, app = "shop", revision?: string) => ({
  "app.kubernetes.io/managed-by": "flotilla",
  "flotilla.dev/app": `${ns}.${app}`,
  ...(revision ? { "flotilla.dev/revision": revision } : {}),
});

function configMap(ns: string, name: string, data: Record<string, string> = { a: "1" }): Manifest {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns, labels: owned(ns) }, data };
}

function deployment(ns: string, name: string, image = "nginx:1.27", replicas = 1): Manifest {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns, labels: owned(ns, "shop", "v1") },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: "app", image, resources: { requests: { cpu: "0.1", memory: "64Mi" } } }] },
      },
    },
  };
}

function service(ns: string, name: string): Manifest {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace: ns, labels: owned(ns) },
    spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
  };
}

/** Waits until `count` stays the same for a whole window of `windowMs`. */
async function untilQuiet(count: () => number, windowMs: number, message: string): Promise<void> {
  await waitFor(
    async () => {
      const before = count();
      await new Promise((r) => setTimeout(r, windowMs));
      return count() === before;
    },
    { timeoutMs: 20_000, intervalMs: 0, message },
  );
}

/** A counter of the member API server's /metrics, summed over the series whose labels include all of `labels`. */
async function serverCounter(name: string, labels: Record<string, string | readonly string[]>): Promise<number> {
  const { stdout } = await run(KUBECTL, ["--kubeconfig", kubeconfigPath, "get", "--raw", "/metrics"], { maxBuffer: 64 * 2 ** 20 });
  let n = 0;
  for (const line of stdout.split("\n")) {
    if (!line.startsWith(`${name}{`)) continue;
    const has = (label: string, value: string) => line.includes(`${label}="${value}"`);
    if (Object.entries(labels).every(([label, want]) => (typeof want === "string" ? has(label, want) : want.some((v) => has(label, v))))) {
      n += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return n;
}

/** The member API server's list requests to etcd so far, summed over `types` (e.g. "*[]core.Pod"). */
const etcdLists = (types: readonly string[]) => serverCounter("etcd_request_duration_seconds_count", { operation: "list", type: types });

const actions = (r: { changes: { object: string; action: string }[] }) => Object.fromEntries(r.changes.map((c) => [c.object, c.action]));

describe("syncCluster on a member cluster", () => {
  it("creates the namespace and the desired objects, and reports each one", async () => {
    const ns = uniqueNamespace("sync-apply");
    const objects = [configMap(ns, "settings"), deployment(ns, "web"), service(ns, "web")];
    const result = await syncCluster({ client, desired: { commit: "c1", objects } });
    expect(actions(result)).toEqual({
      [`Namespace/${ns}`]: "created",
      [`ConfigMap/${ns}/settings`]: "created",
      [`Deployment/${ns}/web`]: "created",
      [`Service/${ns}/web`]: "created",
    });
    const live = await client.get({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "web" });
    expect(live?.metadata.annotations?.["flotilla.dev/applied-hash"]).toMatch(/^sha256:/);
    const managers = (live?.metadata as { managedFields?: { manager?: string }[] } | undefined)?.managedFields?.map((f) => f.manager);
    expect(managers).toContain("flotilla");
    const nsLive = await client.get({ apiVersion: "v1", kind: "Namespace", name: ns });
    expect(nsLive?.metadata.labels?.["app.kubernetes.io/created-by"]).toBe("flotilla");
    expect(result.health.map((h) => h.deployment)).toEqual([`${ns}/shop`]);
  });

  it("reads health from the API server's watch cache: its lists do not reach etcd", async () => {
    const ns = uniqueNamespace("sync-cached");
    const objects = [configMap(ns, "settings"), deployment(ns, "web"), service(ns, "web")];
    await syncCluster({ client, desired: { commit: "c1", objects } });
    const types = ["*[]core.ConfigMap", "*[]apps.Deployment", "*[]core.Service", "*[]core.Pod"];
    const ROUNDS = 20;

    const timeouts = () => serverCounter("apiserver_request_total", { code: "504", verb: "LIST" });
    const [before, timeoutsBefore] = [await etcdLists(types), await timeouts()];
    let health: Awaited<ReturnType<typeof observeHealth>> = [];
    for (let i = 0; i < ROUNDS; i++) health = await observeHealth(client, objects);
    const cachedLists = (await etcdLists(types)) - before;
    // Each kind's cache had reached the client's last write of that kind: no read waited in vain.
    expect((await timeouts()) - timeoutsBefore).toBe(0);
    // Each round lists three kinds and the Pods: 80 lists. Other clients of the shared member
    // (the namespace controller emptying earlier tests' namespaces) may add a few.
    expect(cachedLists).toBeLessThan(ROUNDS / 2);
    expect(health.map((h) => h.objects.map((o) => o.object).sort())).toEqual([[`ConfigMap/${ns}/settings`, `Deployment/${ns}/web`, `Service/${ns}/web`]]);
    expect(health[0]?.objects.find((o) => o.object.startsWith("ConfigMap/"))?.status).toBe("Healthy");

    // The same lists read consistently do reach etcd: the counter above could have moved.
    const beforeConsistent = await etcdLists(types);
    for (let i = 0; i < ROUNDS; i++) await client.list("apps/v1", "Deployment", { namespace: ns });
    expect((await etcdLists(types)) - beforeConsistent).toBeGreaterThanOrEqual(ROUNDS);
  });

  it("reads from the cache no older than its own last write, and still answers when the server never reached that version", async () => {
    const ns = uniqueNamespace("sync-cached-version");
    const [first] = (await syncCluster({ client, desired: { commit: "c1", objects: [configMap(ns, "settings")] } })).inSync;
    const writer = new KubeClient({ kubeConfig: memberConfig });
    try {
      // What a client that wrote to an etcd later restored from a backup would ask for.
      writer.noteWrite(configMap(ns, "settings"), String(BigInt(first?.live.metadata.resourceVersion ?? "1") + 1_000_000n));
      const timeouts = () => serverCounter("apiserver_request_total", { code: "504", resource: "configmaps", verb: "LIST" });
      const before = await timeouts();
      const names = async () => (await writer.list("v1", "ConfigMap", { namespace: ns, cached: true })).map((o) => o.metadata.name);
      expect(await names()).toContain("settings");
      // The first read asked for the version (the server timed it out), the second for the cache as it is.
      expect((await timeouts()) - before).toBe(1);
      expect(await names()).toContain("settings");
      expect((await timeouts()) - before).toBe(1);
    } finally {
      writer.close();
    }
  });

  it("re-applies an unchanged commit without writing: generations and flotilla's field records stay the same", async () => {
    const ns = uniqueNamespace("sync-noop");
    const objects = [configMap(ns, "settings"), deployment(ns, "web"), service(ns, "web")];
    await syncCluster({ client, desired: { commit: "c1", objects } });
    // What a write by flotilla would change: the generation (spec) where the kind has one, else the
    // resourceVersion, and flotilla's own managedFields entry (its time moves on every apply that
    // changes anything). Status writes by the Deployment controller and the node simulator move the
    // Deployment's resourceVersion at any time, so it is not compared.
    const versions = async () =>
      (await Promise.all(objects.map((o) => client.get({ apiVersion: o.apiVersion, kind: o.kind, namespace: ns, name: o.metadata.name })))).map((o) => {
        const meta = o?.metadata as
          | { generation?: number; resourceVersion?: string; managedFields?: { manager?: string; time?: string; operation?: string }[] }
          | undefined;
        const ours = meta?.managedFields?.filter((f) => f.manager === "flotilla").map((f) => `${f.operation}@${f.time}`);
        return { version: meta?.generation ?? meta?.resourceVersion, ours };
      });
    // Wait until nobody writes (the same records twice, a second apart) before measuring ours.
    const before = await waitFor(
      async () => {
        const first = await versions();
        await new Promise((r) => setTimeout(r, 1_000));
        return JSON.stringify(first) === JSON.stringify(await versions()) ? first : undefined;
      },
      { message: "the objects to settle", timeoutMs: 30_000 },
    );
    const writes = client.stats.byVerb.apply ?? 0;
    const result = await syncCluster({ client, desired: { commit: "c1", objects }, previous: objects });
    expect(new Set(result.changes.map((c) => c.action))).toEqual(new Set(["unchanged"]));
    expect(client.stats.byVerb.apply ?? 0).toBe(writes);
    expect(await versions()).toEqual(before);
  });

  it("hands the replica count to an autoscaler without writing the workload, and then leaves the count to it", async () => {
    const ns = uniqueNamespace("sync-autoscaled");
    const step1 = deployment(ns, "web", "nginx:1.27", 2);
    await syncCluster({ client, desired: { commit: "c1", objects: [step1] } });
    const ref = { apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "web" };
    const ours = async () =>
      ((await client.get(ref))?.metadata as { managedFields?: { manager?: string; time?: string }[] } | undefined)?.managedFields?.find(
        (f) => f.manager === "flotilla",
      );
    const before = await ours();
    expect(before?.time).toBeDefined();
    // The completion step: the same workload, marked as autoscaled in Git.
    const step2: Manifest = { ...step1, metadata: { ...step1.metadata, annotations: { "flotilla.dev/autoscaled-path": "spec.replicas" } } };
    const writes = client.stats.byVerb.apply ?? 0;
    const result = await syncCluster({ client, desired: { commit: "c2", objects: [step2] }, previous: [step1] });
    expect(actions(result)).toEqual({ [`Deployment/${ns}/web`]: "unchanged" });
    expect(client.stats.byVerb.apply ?? 0).toBe(writes);
    expect(await ours()).toEqual(before);
    expect((await client.get(ref))?.metadata.annotations?.["flotilla.dev/autoscaled-path"]).toBeUndefined();
    expect((await client.get(ref))?.spec).toMatchObject({ replicas: 2 });
    // An autoscaler scales it (another field manager): not drift, left as it is.
    const autoscaler = new KubeClient({ kubeConfig: memberConfig, fieldManager: "autoscaler-stand-in" });
    try {
      await autoscaler.apply({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: ns }, spec: { replicas: 5 } } as Manifest);
    } finally {
      autoscaler.close();
    }
    const scaled = await syncCluster({ client, desired: { commit: "c2", objects: [step2] }, previous: [step2] });
    expect(actions(scaled)).toEqual({ [`Deployment/${ns}/web`]: "unchanged" });
    expect((await client.get(ref))?.spec).toMatchObject({ replicas: 5 });
    // Without the mark the same count is drift and goes back to what Git says.
    const corrected = await syncCluster({ client, desired: { commit: "c3", objects: [step1] }, previous: [step2] });
    expect(corrected.changes[0]?.drift).toEqual(["spec.replicas: want 2, found 5"]);
    expect((await client.get(ref))?.spec).toMatchObject({ replicas: 2 });
  });

  it("reports a changed object as configured", async () => {
    const ns = uniqueNamespace("sync-change");
    await syncCluster({ client, desired: { commit: "c1", objects: [configMap(ns, "settings")] } });
    const result = await syncCluster({ client, desired: { commit: "c2", objects: [configMap(ns, "settings", { a: "2" })] } });
    expect(actions(result)).toEqual({ [`ConfigMap/${ns}/settings`]: "configured" });
    const live = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" });
    expect(live?.data).toEqual({ a: "2" });
  });

  it("prunes an owned object whose file disappeared, but never the namespace", async () => {
    const ns = uniqueNamespace("sync-prune");
    const v1 = [configMap(ns, "keep"), configMap(ns, "gone"), deployment(ns, "web-v1")];
    await syncCluster({ client, desired: { commit: "c1", objects: v1 } });
    const v2 = [configMap(ns, "keep")];
    const result = await syncCluster({ client, desired: { commit: "c2", objects: v2 }, previous: v1 });
    expect(actions(result)).toEqual({
      [`ConfigMap/${ns}/keep`]: "unchanged",
      [`ConfigMap/${ns}/gone`]: "deleted",
      [`Deployment/${ns}/web-v1`]: "deleted",
    });
    expect(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "gone" })).toBeUndefined();
    // Removing every file of the namespace leaves the namespace itself in place.
    await syncCluster({ client, desired: { commit: "c3", objects: [] }, previous: v2 });
    expect(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "keep" })).toBeUndefined();
    expect(await client.get({ apiVersion: "v1", kind: "Namespace", name: ns })).toBeDefined();
  });

  it("prunes leftovers of a known deployment without the previous commit (the safety net)", async () => {
    const ns = uniqueNamespace("sync-net");
    await syncCluster({ client, desired: { commit: "c1", objects: [configMap(ns, "a"), configMap(ns, "b")] } });
    // A restarted worker knows no previous commit; the list of ConfigMaps it makes anyway shows "b".
    const result = await syncCluster({ client, desired: { commit: "c2", objects: [configMap(ns, "a")] } });
    expect(actions(result)[`ConfigMap/${ns}/b`]).toBe("deleted");
  });

  it("leaves an unowned object with a desired name untouched, reports it skipped and never prunes it", async () => {
    const ns = uniqueNamespace("sync-unowned");
    await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    await run(KUBECTL, ["--kubeconfig", kubeconfigPath, "-n", ns, "create", "configmap", "theirs", "--from-literal=owner=someone"]);
    const before = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "theirs" });
    const desired = [configMap(ns, "theirs", { owner: "flotilla" }), configMap(ns, "mine")];
    const result = await syncCluster({ client, desired: { commit: "c1", objects: desired } });
    expect(actions(result)).toEqual({ [`ConfigMap/${ns}/theirs`]: "skipped", [`ConfigMap/${ns}/mine`]: "created" });
    expect(result.changes.find((c) => c.action === "skipped")?.message).toMatch(/not owned by Flotilla/);
    await syncCluster({ client, desired: { commit: "c2", objects: [configMap(ns, "mine")] }, previous: desired });
    const after = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "theirs" });
    expect(after?.data).toEqual({ owner: "someone" });
    expect(after?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
  });

  it("fails an invalid object alone while the others apply", async () => {
    const ns = uniqueNamespace("sync-invalid");
    const broken = deployment(ns, "broken");
    (broken.spec as { selector: unknown }).selector = { matchLabels: { app: "does-not-match-the-template" } };
    const result = await syncCluster({ client, desired: { commit: "c1", objects: [configMap(ns, "ok"), broken, deployment(ns, "good")] } });
    expect(actions(result)).toEqual({
      [`Namespace/${ns}`]: "created",
      [`ConfigMap/${ns}/ok`]: "created",
      [`Deployment/${ns}/broken`]: "failed",
      [`Deployment/${ns}/good`]: "created",
    });
    const failed = result.changes.find((c) => c.action === "failed");
    expect(failed?.error?.status).toBe(422);
    expect(failed?.error?.retryable).toBe(false);
    expect(failed?.error?.object).toBe(`Deployment/${ns}/broken`);
    expect(result.failed).toBe(1);
  });

  it("applies a CRD, waits until it is Established, then applies an object of its new kind in the same sync", async () => {
    const ns = uniqueNamespace("sync-crd");
    const group = `${randomBytes(3).toString("hex")}.sync.flotilla.test`;
    const crd: Manifest = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `widgets.${group}`, labels: owned(ns), annotations: { "flotilla.dev/cluster-scoped": "true" } },
      spec: {
        group,
        scope: "Namespaced",
        names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
      },
    };
    crds.push(crd.metadata.name);
    // Discovery learns the group before the CRD exists, so the kind is unknown to its cache.
    await expect(client.resource(`${group}/v1`, "Widget")).rejects.toMatchObject({ status: 404, retryable: false });
    const widget: Manifest = { apiVersion: `${group}/v1`, kind: "Widget", metadata: { name: "w", namespace: ns, labels: owned(ns) }, spec: { size: 3 } };
    const result = await syncCluster({ client, desired: { commit: "c1", objects: [widget, configMap(ns, "a"), crd] } });
    expect(actions(result)).toMatchObject({ [`CustomResourceDefinition/widgets.${group}`]: "created", [`Widget/${ns}/w`]: "created" });
    expect((await client.get({ apiVersion: `${group}/v1`, kind: "Widget", namespace: ns, name: "w" }))?.spec).toEqual({ size: 3 });
    const live = await client.get({ apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name: crd.metadata.name });
    const conditions = (live?.status as { conditions: { type: string; status: string }[] } | undefined)?.conditions;
    expect(conditions).toContainEqual(expect.objectContaining({ type: "Established", status: "True" }));
    expect(await client.resource(`${group}/v1`, "Widget")).toMatchObject({ plural: "widgets", namespaced: true });
  });
});

describe("drift as the API server's merge sees it", () => {
  /** A Deployment with an init container, an env value that looks like a number, and args. */
  function workload(ns: string, extra: { env?: string; args?: string[] } = {}): Manifest {
    const d = deployment(ns, "web");
    const pod = (d.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    pod.initContainers = [{ name: "setup", image: "busybox:1.36", command: ["true"] }];
    const [app] = pod.containers as Array<Record<string, unknown>>;
    if (app) {
      app.env = [{ name: "RATIO", value: extra.env ?? "1.0" }];
      app.args = extra.args ?? ["--mode", "fast"];
    }
    return d;
  }
  const kubectlPatch = (ns: string, patch: unknown, type = "json") =>
    run(KUBECTL, ["--kubeconfig", kubeconfigPath, "-n", ns, "patch", "deployment", "web", "--type", type, "-p", JSON.stringify(patch)]);
  type PodSpec = { containers: Array<{ name: string; env?: unknown; args?: unknown }>; initContainers?: Array<{ name: string }> };
  const livePod = async (ns: string): Promise<PodSpec> => {
    const live = await client.get({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "web" });
    if (!live) throw new Error(`Deployment ${ns}/web is missing`);
    return (live.spec as { template: { spec: PodSpec } }).template.spec;
  };

  it("reports no drift in three resyncs when another manager prepends an init container and appends a sidecar", async () => {
    const ns = uniqueNamespace("drift-webhook");
    const desired: DesiredState = { commit: "c1", objects: [workload(ns)] };
    expect(actions(await syncCluster({ client, desired }))).toMatchObject({ [`Deployment/${ns}/web`]: "created" });
    // What a Vault agent injector and an Istio webhook do: an init container first, a container last.
    await kubectlPatch(ns, [
      { op: "add", path: "/spec/template/spec/initContainers/0", value: { name: "vault-agent-init", image: "vault:1.15" } },
      { op: "add", path: "/spec/template/spec/containers/-", value: { name: "istio-proxy", image: "istio/proxyv2:1.22" } },
    ]);
    for (let i = 0; i < 3; i++) {
      const result = await syncCluster({ client, desired, previous: desired.objects });
      expect(result.changes.find((c) => c.kind === "Deployment")).toMatchObject({
        action: "unchanged",
        message: "in sync (the API server's merge keeps what others added)",
      });
      expect(result.drifted).toBe(0);
    }
    const pod = await livePod(ns);
    expect(pod.initContainers?.map((c) => c.name)).toEqual(["vault-agent-init", "setup"]);
    expect(pod.containers.map((c) => c.name)).toEqual(["app", "istio-proxy"]);
  });

  it('corrects an env value edited from "1.0" to "1" and a changed or lengthened args list', async () => {
    const ns = uniqueNamespace("drift-strings");
    const desired: DesiredState = { commit: "c1", objects: [workload(ns)] };
    await syncCluster({ client, desired });
    for (const [what, patch] of [
      ["env", { spec: { template: { spec: { containers: [{ name: "app", env: [{ name: "RATIO", value: "1" }] }] } } } }],
      ["args", { spec: { template: { spec: { containers: [{ name: "app", args: ["--mode", "slow"] }] } } } }],
      ["args", { spec: { template: { spec: { containers: [{ name: "app", args: ["--mode", "fast", "--debug"] }] } } } }],
    ] as const) {
      await kubectlPatch(ns, patch, "strategic");
      const result = await syncCluster({ client, desired, previous: desired.objects });
      const change = result.changes.find((c) => c.kind === "Deployment");
      expect(change?.action, `${what}: ${JSON.stringify(patch)}`).toBe("configured");
      expect(
        change?.drift?.some((d) => d.includes(`containers[0].${what}`)),
        JSON.stringify(change?.drift),
      ).toBe(true);
      const app = (await livePod(ns)).containers.find((c) => c.name === "app");
      expect({ env: app?.env, args: app?.args }).toEqual({ env: [{ name: "RATIO", value: "1.0" }], args: ["--mode", "fast"] });
    }
  });
});

describe("the cluster-scope rule at apply time", () => {
  const MARK = { "flotilla.dev/cluster-scoped": "true" };

  it("refuses what discovery says is cluster-scoped unless it carries the platform's mark, including a kind whose CRD the same sync creates", async () => {
    const ns = uniqueNamespace("sync-scope");
    const group = `${randomBytes(3).toString("hex")}.scope.flotilla.test`;
    const crd: Manifest = {
      apiVersion: "apiextensions.k8s.io/v1",
      kind: "CustomResourceDefinition",
      metadata: { name: `gadgets.${group}`, labels: owned(ns), annotations: MARK },
      spec: {
        group,
        scope: "Cluster",
        names: { plural: "gadgets", singular: "gadget", kind: "Gadget", listKind: "GadgetList" },
        versions: [{ name: "v1", served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
      },
    };
    crds.push(crd.metadata.name);
    // As the renderer writes a kind it does not know: in the deployment's namespace; marked only from a marked definition.
    const tenants: Manifest = {
      apiVersion: `${group}/v1`,
      kind: "Gadget",
      metadata: { name: `${ns}-tenant`, namespace: ns, labels: owned(ns) },
      spec: { deny: "everything" },
    };
    const platforms: Manifest = {
      apiVersion: `${group}/v1`,
      kind: "Gadget",
      metadata: { name: `${ns}-platform`, namespace: ns, labels: owned(ns), annotations: MARK },
      spec: { size: 1 },
    };
    const role: Manifest = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: `${ns}-role`, labels: owned(ns) }, rules: [] };
    const desired: DesiredState = { commit: "c1", objects: [crd, tenants, platforms, role, configMap(ns, "a")] };

    const first = await syncCluster({ client, desired });
    expect(actions(first)).toEqual({
      [`CustomResourceDefinition/gadgets.${group}`]: "created",
      [`Gadget/${ns}/${ns}-tenant`]: "failed",
      [`Gadget/${ns}-platform`]: "created",
      [`ClusterRole/${ns}-role`]: "failed",
      [`ConfigMap/${ns}/a`]: "created",
      [`Namespace/${ns}`]: "created",
    });
    expect(first.changes.find((c) => c.name === `${ns}-tenant`)?.message).toContain("the cluster serves Gadget");
    expect(first.changes.find((c) => c.name === `${ns}-role`)?.message).toContain('only definitions marked flotilla.dev/cluster-scoped: "true"');
    expect(await client.get({ apiVersion: `${group}/v1`, kind: "Gadget", name: `${ns}-tenant` })).toBeUndefined();
    expect(await client.get({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", name: `${ns}-role` })).toBeUndefined();
    const live = await client.get({ apiVersion: `${group}/v1`, kind: "Gadget", name: `${ns}-platform` });
    expect(live?.metadata.namespace).toBeUndefined();
    expect(live?.spec).toEqual({ size: 1 });

    // The same commit again: the marked object is found where the cluster keeps it (unchanged, not pruned).
    const second = await syncCluster({ client, desired, previous: desired.objects });
    expect(actions(second)).toMatchObject({ [`Gadget/${ns}-platform`]: "unchanged", [`Gadget/${ns}/${ns}-tenant`]: "failed" });
    expect(second.changes.filter((c) => c.action === "deleted")).toEqual([]);
    expect(await client.get({ apiVersion: `${group}/v1`, kind: "Gadget", name: `${ns}-platform` })).toBeDefined();
    await client.delete({ apiVersion: `${group}/v1`, kind: "Gadget", name: `${ns}-platform` });
  });
});

describe("ClusterSyncWorker on a member cluster", () => {
  it("lets a newer commit supersede a failing one at once", async () => {
    const ns = uniqueNamespace("sync-worker");
    const broken = deployment(ns, "web");
    (broken.spec as { selector: unknown }).selector = { matchLabels: { app: "nope" } };
    const commits: Record<string, DesiredState> = {
      c1: { commit: "c1", objects: [configMap(ns, "settings"), broken] },
      c2: { commit: "c2", objects: [configMap(ns, "settings"), deployment(ns, "web")] },
    };
    const events: SyncEvent[] = [];
    const worker = new ClusterSyncWorker({
      cluster: "member",
      client,
      source: async (commit) => commits[commit]!,
      // A long backoff: only supersession can make c2 land within the test's patience.
      backoff: { initialMs: 60_000 },
      healthInterval: 0,
      onEvent: (e) => events.push(e),
    });
    try {
      worker.setDesired("c1");
      await waitFor(() => worker.status.failures > 0, { message: "c1 to fail" });
      expect(worker.status.appliedCommit).toBeUndefined();
      expect(worker.status.nextRetryAt).toBeDefined();
      expect(events.some((e) => e.type === "SyncFailed" && e.deployment === `${ns}/shop`)).toBe(true);
      worker.setDesired("c2");
      await waitFor(() => worker.status.appliedCommit === "c2", { message: "c2 to be applied", timeoutMs: 10_000 });
      expect(worker.status.error).toBeUndefined();
      expect(worker.status.failures).toBe(0);
      expect(actions(worker.status.lastResult!)[`Deployment/${ns}/web`]).toBe("created");
    } finally {
      await worker.stop();
    }
  });

  it("restores a `kubectl set image` within the resync interval and reports the drift", async () => {
    const ns = uniqueNamespace("sync-drift");
    const desired: DesiredState = { commit: "c1", objects: [deployment(ns, "web", "nginx:1.27"), configMap(ns, "settings")] };
    const events: SyncEvent[] = [];
    const worker = new ClusterSyncWorker({
      cluster: "member",
      client,
      source: async () => desired,
      resyncInterval: 2_000,
      healthInterval: 0,
      onEvent: (e) => events.push(e),
    });
    try {
      worker.setDesired("c1");
      await waitFor(() => worker.status.appliedCommit === "c1", { message: "c1 to be applied" });
      await run(KUBECTL, ["--kubeconfig", kubeconfigPath, "-n", ns, "set", "image", "deployment/web", "app=nginx:hacked"]);
      const image = async () => {
        const live = await client.get({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: "web" });
        return (live?.spec as { template: { spec: { containers: { image: string }[] } } } | undefined)?.template.spec.containers[0]?.image;
      };
      expect(await image()).toBe("nginx:hacked");
      await waitFor(async () => ((await image()) === "nginx:1.27" ? true : undefined), { message: "the image to be restored", timeoutMs: 10_000 });
      const drift = events.find((e) => e.type === "DriftCorrected");
      expect(drift?.object).toBe(`Deployment/${ns}/web`);
      expect(drift?.message).toContain("nginx:hacked");
      expect(worker.status.counters.driftCorrections).toBeGreaterThanOrEqual(1);
    } finally {
      await worker.stop();
    }
  });

  it("has recorded the applied commit and health when its listeners hear of a sync", async () => {
    const ns = uniqueNamespace("sync-order");
    const seen: Array<{ type: string; applied: string | undefined; health: number }> = [];
    const worker: ClusterSyncWorker = new ClusterSyncWorker({
      cluster: "member",
      client,
      source: async (commit) => ({ commit, objects: [configMap(ns, "settings")] }),
      healthInterval: 0,
      // The controller reconciles synchronously from here: what it reads must be current.
      onEvent: (e) => seen.push({ type: e.type, applied: worker.status.appliedCommit, health: worker.status.health.length }),
    });
    try {
      worker.setDesired("c1");
      await waitFor(() => seen.some((e) => e.type === "Synced"), { message: "a Synced event" });
      expect(seen.find((e) => e.type === "Synced")).toEqual({ type: "Synced", applied: "c1", health: 1 });
    } finally {
      await worker.stop();
    }
  });

  it("applies nothing while paused", async () => {
    const ns = uniqueNamespace("sync-paused");
    const worker = new ClusterSyncWorker({
      cluster: "member",
      client,
      source: async (commit) => ({ commit, objects: [configMap(ns, "settings")] }),
      paused: true,
      healthInterval: 0,
    });
    try {
      worker.setDesired("c1");
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" })).toBeUndefined();
      expect(worker.status.attemptedCommit).toBeUndefined();
      worker.setPaused(false);
      await waitFor(() => worker.status.appliedCommit === "c1", { message: "c1 to be applied" });
      expect(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" })).toBeDefined();
    } finally {
      await worker.stop();
    }
  });

  it("follows the env repository: applies a commit's folder, then prunes what the next commit removed", async () => {
    const ns = uniqueNamespace("sync-git");
    const dir = await mkdtemp(join(tmpdir(), "flotilla-sync-env-"));
    const repo = await EnvRepo.open({ dir });
    const files = (objs: Manifest[]) => Object.fromEntries(objs.map((o) => [manifestFileName(o), toYaml(o)]));
    const commit = async (objs: Manifest[], what: string) => {
      const result = await repo.commitDeployments([{ namespace: ns, name: "shop", clusters: { "prod-eu": files(objs) } }], `${ns}/shop: ${what}`);
      if (!result) throw new Error("nothing committed");
      return result.oid;
    };
    const worker = new ClusterSyncWorker({ cluster: "prod-eu", client, source: envRepoSource(repo, "prod-eu"), healthInterval: 0 });
    try {
      const c1 = await commit([configMap(ns, "a"), configMap(ns, "b"), service(ns, "web")], "v1");
      worker.setDesired(c1);
      await waitFor(() => worker.status.appliedCommit === c1, { message: "the first commit to be applied" });
      expect(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "b" })).toBeDefined();
      const c2 = await commit([configMap(ns, "a"), service(ns, "web")], "drop b");
      worker.setDesired(c2);
      await waitFor(() => worker.status.appliedCommit === c2, { message: "the second commit to be applied" });
      expect(actions(worker.status.lastResult!)).toEqual({
        [`ConfigMap/${ns}/a`]: "unchanged",
        [`Service/${ns}/web`]: "unchanged",
        [`ConfigMap/${ns}/b`]: "deleted",
      });
      expect(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "b" })).toBeUndefined();
      expect(worker.status.health.map((h) => [h.deployment, h.health])).toEqual([[`${ns}/shop`, "Healthy"]]);
      expect(worker.healthOf(`${ns}/shop`)).toEqual(worker.status.health[0]);
      expect(worker.healthOf(`${ns}/cart`)).toBeUndefined();
    } finally {
      await worker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
  it("syncs only the deployments a new commit touched; a resync compares all of them again", async () => {
    const ns = uniqueNamespace("sync-partial");
    const dir = await mkdtemp(join(tmpdir(), "flotilla-sync-env-"));
    const repo = await EnvRepo.open({ dir });
    const ofApp = (app: string, o: Manifest): Manifest => ({ ...o, metadata: { ...o.metadata, labels: owned(ns, app) } });
    const folder = (objs: Manifest[]) => ({ "prod-eu": Object.fromEntries(objs.map((o) => [manifestFileName(o), toYaml(o)])) });
    const shop = [ofApp("shop", configMap(ns, "shop-settings")), ofApp("shop", service(ns, "shop"))];
    const cart = (value: string) => [ofApp("cart", configMap(ns, "cart-settings", { a: value }))];
    const commit = async (changes: { name: string; objects: Manifest[] }[], what: string) => {
      const result = await repo.commitDeployments(
        changes.map((c) => ({ namespace: ns, name: c.name, clusters: folder(c.objects) })),
        what,
      );
      if (!result) throw new Error("nothing committed");
      return result.oid;
    };
    const worker = new ClusterSyncWorker({ cluster: "prod-eu", client, source: envRepoSource(repo, "prod-eu"), healthInterval: 0, resyncInterval: 3_600_000 });
    try {
      const c1 = await commit(
        [
          { name: "shop", objects: shop },
          { name: "cart", objects: cart("1") },
        ],
        "both",
      );
      worker.setDesired(c1);
      await waitFor(() => worker.status.appliedCommit === c1, { message: "the first commit to be applied" });
      expect(Object.keys(actions(worker.status.lastResult!)).sort()).toEqual([
        `ConfigMap/${ns}/cart-settings`,
        `ConfigMap/${ns}/shop-settings`,
        `Namespace/${ns}`,
        `Service/${ns}/shop`,
      ]);

      // Someone deletes one of shop's objects; the next commit touches cart only.
      await client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "shop-settings" });
      const before = { ...client.stats.byVerb };
      const c2 = await commit([{ name: "cart", objects: cart("2") }], "cart only");
      worker.setDesired(c2);
      await waitFor(() => worker.status.appliedCommit === c2, { message: "the second commit to be applied" });
      expect(actions(worker.status.lastResult!)).toEqual({ [`ConfigMap/${ns}/cart-settings`]: "configured" });
      const requests = Object.fromEntries(
        Object.entries(client.stats.byVerb)
          .map(([verb, n]) => [verb, n - (before[verb] ?? 0)])
          .filter(([, n]) => n !== 0),
      );
      // The namespace checked (GET), cart's object read (GET) and applied, one Pod list narrowed to
      // cart: nothing of shop is read.
      expect(requests).toEqual({ get: 2, apply: 1, list: 1 });
      expect(worker.status.health.map((h) => h.deployment)).toEqual([`${ns}/cart`, `${ns}/shop`]);
      expect(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "shop-settings" })).toBeUndefined();

      // A resync (the drift check) compares every deployment with the cluster and restores it.
      const syncs = worker.status.counters.syncs;
      worker.resync();
      await waitFor(() => worker.status.counters.syncs > syncs, { message: "the resync" });
      expect(actions(worker.status.lastResult!)).toMatchObject({
        [`ConfigMap/${ns}/shop-settings`]: "created",
        [`ConfigMap/${ns}/cart-settings`]: "unchanged",
      });
      expect(await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "shop-settings" })).toBeDefined();
    } finally {
      await worker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("syncs a commit touching more deployments than a step in steps, reporting each step's deployments as it ends", async () => {
    const ns = uniqueNamespace("sync-steps");
    const dir = await mkdtemp(join(tmpdir(), "flotilla-sync-env-"));
    const repo = await EnvRepo.open({ dir });
    const apps = ["a1", "a2", "a3", "a4", "a5"];
    const objectsOf = (app: string, value: string) => [
      { ...configMap(ns, `${app}-settings`, { v: value }), metadata: { name: `${app}-settings`, namespace: ns, labels: owned(ns, app) } },
    ];
    const commitAll = async (value: string) => {
      const result = await repo.commitDeployments(
        apps.map((app) => ({
          namespace: ns,
          name: app,
          clusters: { "prod-eu": Object.fromEntries(objectsOf(app, value).map((o) => [manifestFileName(o), toYaml(o)])) },
        })),
        `all at ${value}`,
      );
      if (!result) throw new Error("nothing committed");
      return result.oid;
    };
    // What the worker showed at the moment it reported each deployment synced (events are synchronous).
    const seen: Array<{ deployment: string; commit: string | undefined; applied: string | undefined; stepped: Record<string, string> }> = [];
    const worker: ClusterSyncWorker = new ClusterSyncWorker({
      cluster: "prod-eu",
      client,
      source: envRepoSource(repo, "prod-eu"),
      healthInterval: 0,
      resyncInterval: 3_600_000,
      deploymentsPerStep: 2,
      onEvent: (e) => {
        if (e.type === "Synced" && e.deployment)
          seen.push({ deployment: e.deployment, commit: e.commit, applied: worker.status.appliedCommit, stepped: worker.status.deploymentCommits });
      },
    });
    try {
      const c1 = await commitAll("1");
      worker.setDesired(c1); // the first sync is full: no steps
      await waitFor(() => worker.status.appliedCommit === c1, { message: "the first commit to be applied" });
      expect(seen.length).toBeGreaterThanOrEqual(apps.length);
      expect(seen.every((s) => s.applied === c1)).toBe(true); // one run, reported after it applied the commit
      seen.length = 0;
      const c2 = await commitAll("2");
      worker.setDesired(c2);
      await waitFor(() => worker.status.appliedCommit === c2, { message: "the second commit to be applied" });
      // Five deployments, two per step: two steps report before the commit is applied, the last run after.
      expect(seen.every((s) => s.commit === c2)).toBe(true);
      expect(seen.map((s) => s.deployment).sort()).toEqual(apps.map((a) => `${ns}/${a}`));
      const early = seen.filter((s) => s.applied === c1);
      expect(early.map((s) => s.deployment)).toEqual([`${ns}/a1`, `${ns}/a2`, `${ns}/a3`, `${ns}/a4`]);
      for (const s of early) expect(s.stepped[s.deployment]).toBe(c2);
      expect(worker.status.deploymentCommits).toEqual({});
      for (const app of apps) {
        const live = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: `${app}-settings` });
        expect(live?.data).toEqual({ v: "2" });
      }
    } finally {
      await worker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("finishes a stepped sync whose failing deployments outnumber a step: each is tried once in the steps, then in the last run", async () => {
    const ns = uniqueNamespace("sync-steps-fail");
    const dir = await mkdtemp(join(tmpdir(), "flotilla-sync-env-"));
    const repo = await EnvRepo.open({ dir });
    const apps = ["a1", "a2", "a3", "a4", "a5"];
    const broken = new Set(["a1", "a2", "a3"]);
    const objectOf = (app: string, bad: boolean): Manifest => {
      const d = deployment(ns, `${app}-web`);
      d.metadata.labels = owned(ns, app);
      if (bad) (d.spec as { selector: unknown }).selector = { matchLabels: { app: "does-not-match-the-template" } };
      return d;
    };
    const commitAll = async (image: string, breakSome: boolean) => {
      const result = await repo.commitDeployments(
        apps.map((app) => {
          const o = objectOf(app, breakSome && broken.has(app));
          ((o.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0] as { image: string }).image = image;
          return { namespace: ns, name: app, clusters: { "prod-eu": { [manifestFileName(o)]: toYaml(o) } } };
        }),
        image,
      );
      if (!result) throw new Error("nothing committed");
      return result.oid;
    };
    const steps: string[][] = [];
    const worker: ClusterSyncWorker = new ClusterSyncWorker({
      cluster: "prod-eu",
      client,
      source: envRepoSource(repo, "prod-eu"),
      healthInterval: 0,
      resyncInterval: 3_600_000,
      deploymentsPerStep: 2,
      backoff: { initialMs: 60_000 },
      onEvent: (e) => {
        if (e.type === "SyncFailed" && e.deployment) steps.push([e.deployment]);
      },
    });
    try {
      const c1 = await commitAll("nginx:1.27", false);
      worker.setDesired(c1);
      await waitFor(() => worker.status.appliedCommit === c1, { message: "the first commit to be applied" });
      const c2 = await commitAll("nginx:1.28", true);
      worker.setDesired(c2);
      // The last run tries every failing deployment again, records the commit as attempted and backs off.
      await waitFor(() => worker.status.attemptedCommit === c2, { message: "the stepped sync to finish", timeoutMs: 30_000 });
      expect(worker.status.appliedCommit).toBe(c1);
      expect(worker.status.failures).toBe(1);
      expect(new Set(worker.status.lastResult?.changes.filter((c) => c.action === "failed").map((c) => c.deployment))).toEqual(
        new Set([...broken].map((a) => `${ns}/${a}`)),
      );
      // The good ones were applied: a4 by a step (recorded per deployment), a5 by the last run.
      expect(worker.status.deploymentCommits[`${ns}/a4`]).toBe(c2);
      for (const app of ["a4", "a5"]) {
        const live = (await client.get({ apiVersion: "apps/v1", kind: "Deployment", namespace: ns, name: `${app}-web` })) as
          | { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } }
          | undefined;
        expect(live?.spec?.template?.spec?.containers?.[0]?.image).toBe("nginx:1.28");
      }
      // Steps report only what they synced; each broken deployment is reported failed once, by the last run.
      const failures = steps.flat().filter((d) => d.startsWith(`${ns}/`));
      for (const app of broken) expect(failures.filter((d) => d === `${ns}/${app}`)).toHaveLength(1);
    } finally {
      await worker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("names the deployment whose watched objects change, and nothing unowned", async () => {
    const ns = uniqueNamespace("sync-watch");
    await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
    const changes: string[] = [];
    let missed = 0;
    const watch = new ChangeWatch({ client, onChange: (c) => changes.push(c.deployment), onMissed: () => missed++ });
    const ours = () => changes.filter((d) => d.startsWith(`${ns}/`));
    try {
      watch.setKinds(["v1|ConfigMap"]);
      // The first list is reported as "changes may have been missed" (nothing was watched before it).
      await waitFor(() => missed === 1 && watch.complete, { message: "the watch to start" });
      await client.apply({ ...configMap(ns, "shop-settings"), metadata: { name: "shop-settings", namespace: ns, labels: owned(ns, "shop") } });
      await client.apply({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "not-ours", namespace: ns }, data: { a: "1" } });
      await client.apply({ ...configMap(ns, "cart-settings"), metadata: { name: "cart-settings", namespace: ns, labels: owned(ns, "cart") } });
      await waitFor(() => ours().length === 2, { message: "two changes" });
      expect(ours()).toEqual([`${ns}/shop`, `${ns}/cart`]);
      await client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "shop-settings" });
      await waitFor(() => ours().length === 3, { message: "the deletion" });
      expect(ours()[2]).toBe(`${ns}/shop`);
      expect(missed).toBe(1);
      await watch.stop();
      await client.apply({ ...configMap(ns, "late"), metadata: { name: "late", namespace: ns, labels: owned(ns, "late") } });
      await new Promise((r) => setTimeout(r, 500));
      expect(ours()).toHaveLength(3);
    } finally {
      await watch.stop();
    }
  });

  it("compares on the resync timer only what the watch saw change: nothing read while settled, an edit restored", async () => {
    const ns = uniqueNamespace("sync-suspects");
    const cart = (o: Manifest): Manifest => ({ ...o, metadata: { ...o.metadata, labels: owned(ns, "cart") } });
    const desired: DesiredState = { commit: "c1", objects: [deployment(ns, "web"), configMap(ns, "settings"), cart(configMap(ns, "cart-settings"))] };
    const events: SyncEvent[] = [];
    // No full resync in the test's time: what is corrected was found by the watch.
    const worker = new ClusterSyncWorker({
      cluster: "member",
      client,
      source: async () => desired,
      resyncInterval: 1_000,
      fullResyncEvery: 1_000,
      healthInterval: 200,
      onEvent: (e) => events.push(e),
    });
    const reads = () => (client.stats.byVerb.get ?? 0) + (client.stats.byVerb.list ?? 0);
    try {
      worker.setDesired("c1");
      await waitFor(() => worker.status.appliedCommit === "c1" && worker.status.health.every((h) => h.health === "Healthy"), {
        message: "c1 applied and Healthy",
      });
      // The watch's first list makes everything a suspect once (changes before it are unknown);
      // the Deployment's rollout makes only status changes after that.
      await untilQuiet(reads, 1_500, "the suspects of the start to be compared");
      const syncs = worker.status.counters.syncs;
      const before = reads();
      await new Promise((r) => setTimeout(r, 4_000));
      // Three or more resyncs ran, and none read the cluster: a full one lists every kind and the Pods.
      expect(worker.status.counters.syncs - syncs).toBeGreaterThanOrEqual(3);
      expect(reads() - before).toBe(0);
      expect(events.filter((e) => e.type === "DriftCorrected")).toEqual([]);

      await run(KUBECTL, ["--kubeconfig", kubeconfigPath, "-n", ns, "set", "image", "deployment/web", "app=nginx:hacked"]);
      await run(KUBECTL, ["--kubeconfig", kubeconfigPath, "-n", ns, "patch", "configmap", "cart-settings", "-p", '{"data":{"a":"hacked"}}']);
      await waitFor(() => events.filter((e) => e.type === "DriftCorrected").length === 2, { timeoutMs: 10_000, message: "both edits corrected" });
      expect(new Set(events.filter((e) => e.type === "DriftCorrected").map((e) => `${e.deployment} ${e.object}`))).toEqual(
        new Set([`${ns}/shop Deployment/${ns}/web`, `${ns}/cart ConfigMap/${ns}/cart-settings`]),
      );
      const live = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "cart-settings" });
      expect(live?.data).toEqual({ a: "1" });
    } finally {
      await worker.stop();
    }
  });

  it("reads a settled deployment again only when the watch sees one of its objects change", async () => {
    const ns = uniqueNamespace("sync-settled");
    const dir = await mkdtemp(join(tmpdir(), "flotilla-sync-env-"));
    const repo = await EnvRepo.open({ dir });
    const objects = [configMap(ns, "settings"), service(ns, "web")];
    const result = await repo.commitDeployments(
      [{ namespace: ns, name: "shop", clusters: { "prod-eu": Object.fromEntries(objects.map((o) => [manifestFileName(o), toYaml(o)])) } }],
      `${ns}/shop: v1`,
    );
    if (!result) throw new Error("nothing committed");
    const events: SyncEvent[] = [];
    // Health every 200 ms; without the watch, everything would be read every 12 intervals (2.4 s).
    const worker = new ClusterSyncWorker({
      cluster: "prod-eu",
      client,
      source: envRepoSource(repo, "prod-eu"),
      healthInterval: 200,
      resyncInterval: 3_600_000,
      onEvent: (e) => events.push(e),
    });
    const reads = () => (client.stats.byVerb.get ?? 0) + (client.stats.byVerb.list ?? 0);
    try {
      worker.setDesired(result.oid);
      await waitFor(() => worker.status.appliedCommit === result.oid && worker.status.health[0]?.health === "Healthy", {
        message: "the commit applied and Healthy",
      });
      // Once the watch has started (its first list asks for one pass over everything), nothing is
      // read while nothing changes: 6 s is 30 health intervals and 2.5 periods of the pass over
      // everything that runs when changes are not watched.
      await untilQuiet(reads, 1_000, "the first pass to end");
      const before = reads();
      await new Promise((r) => setTimeout(r, 6_000));
      expect(reads() - before).toBe(0);
      // Someone deletes an object: the watch tells, and health says so within a few intervals.
      await client.delete({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" });
      await waitFor(() => worker.status.health[0]?.health === "Missing", { timeoutMs: 5_000, message: "health to turn Missing" });
      expect(events.find((e) => e.type === "HealthChanged")?.message).toMatch(/^Healthy → Missing: ConfigMap\/.+\/settings: Missing/);
    } finally {
      await worker.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
