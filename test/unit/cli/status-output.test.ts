// `flotilla status -o table|wide|json|yaml`, the compiled CLI against a fake hub: a plain HTTP
// server on 127.0.0.1 that answers the three reads status makes (a deployment, the deployments of
// a namespace, of every namespace) from fixtures, so no cluster is started.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream } from "../../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import { aDeployment } from "../builders.js";
import { buildCli, flotilla } from "./compiled-cli.js";

const COMMIT = "0123456789abcdef0123456789abcdef01234567";

function deployed(namespace: string, name: string, status: ApplicationDeployment["status"]): ApplicationDeployment {
  const ad = aDeployment(name).inNamespace(namespace).build();
  ad.metadata.generation = 2;
  ad.metadata.managedFields = [{ manager: "flotilla", operation: "Apply", apiVersion: "flotilla.dev/v1alpha1", fieldsV1: { "f:status": {} } }];
  if (status) ad.status = status;
  return ad;
}

const web = deployed("shop", "web", {
  observedGeneration: 2,
  phase: "Progressing",
  targetRevision: "v2",
  stableRevision: "v1",
  progress: "wave-1 1/2",
  commit: COMMIT,
  conditions: [
    { type: "Ready", status: "False", reason: "Progressing", message: "v2: prod-eu progressing at batch 1/2", lastTransitionTime: "2025-01-02T03:04:05Z" },
  ],
  clusters: [
    {
      name: "prod-eu",
      health: "Progressing",
      appliedCommit: COMMIT,
      lastSyncTime: "2025-01-02T03:04:06Z",
      message: "waiting for backend-v2",
      revisions: [
        { name: "v1", replicas: 5, readyReplicas: 5 },
        { name: "v2", replicas: 5, readyReplicas: 2 },
      ],
    },
    { name: "prod-us", health: "Healthy", appliedCommit: COMMIT, revisions: [{ name: "v1", replicas: 10, readyReplicas: 10 }] },
  ],
});
const api = deployed("shop", "api", { phase: "Healthy", targetRevision: "v7", stableRevision: "v7" });
const db = deployed("team-b", "db", { phase: "Healthy", targetRevision: "v1", stableRevision: "v1" });
const ALL = [web, api, db];

let tmp: string;
let hub: Server;
let kubeconfig: string;

/** The hub's answers: the API server's paths for ApplicationDeployments, a 404 Status otherwise. */
function answer(path: string): { code: number; body: unknown } {
  const base = "/apis/flotilla.dev/v1alpha1";
  const list = (items: ApplicationDeployment[]) => ({
    code: 200,
    body: { apiVersion: "flotilla.dev/v1alpha1", kind: "ApplicationDeploymentList", metadata: { resourceVersion: "7" }, items },
  });
  if (path === `${base}/applicationdeployments`) return list(ALL);
  const m = new RegExp(`^${base}/namespaces/([^/]+)/applicationdeployments(?:/([^/]+))?$`).exec(path);
  if (m) {
    const inNamespace = ALL.filter((ad) => ad.metadata.namespace === m[1]);
    if (m[2] === undefined) return list(inNamespace);
    const found = inNamespace.find((ad) => ad.metadata.name === m[2]);
    if (found) return { code: 200, body: found };
  }
  return { code: 404, body: { apiVersion: "v1", kind: "Status", status: "Failure", reason: "NotFound", code: 404, message: `${path} not found` } };
}

beforeAll(async () => {
  buildCli();
  tmp = await mkdtemp(join(tmpdir(), "flotilla-status-"));
  hub = createServer((req, res) => {
    const { code, body } = answer(new URL(req.url ?? "/", "http://hub").pathname);
    res.writeHead(code, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => hub.listen(0, "127.0.0.1", resolve));
  const { port } = hub.address() as AddressInfo;
  kubeconfig = join(tmp, "hub.kubeconfig");
  await writeFile(
    kubeconfig,
    [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      // client-node speaks plain HTTP only to a cluster marked insecure.
      `- {name: fake, cluster: {server: "http://127.0.0.1:${port}", insecure-skip-tls-verify: true}}`,
      "users:",
      "- {name: someone, user: {token: not-a-secret}}",
      "contexts:",
      "- {name: shop, context: {cluster: fake, user: someone, namespace: shop}}",
      "current-context: shop",
      "",
    ].join("\n"),
  );
}, 180_000);

afterAll(async () => {
  await new Promise((resolve) => hub?.close(resolve));
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const status = (...args: string[]) => flotilla(["status", ...args, "--kubeconfig", kubeconfig]);

/** What -o json|yaml prints of a deployment: the object, without managedFields. */
function printed(ad: ApplicationDeployment): ApplicationDeployment {
  const { managedFields: _, ...metadata } = ad.metadata;
  return { ...ad, metadata };
}

describe("flotilla status NAME", { timeout: 60_000 }, () => {
  it("prints the view by default, and -o table says the same", async () => {
    const run = await status("web");
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(run.stdout.split("\n")[0]).toBe("shop/web  phase: Progressing  target: v2  commit: 0123456789ab");
    expect((await status("web", "-o", "table")).stdout).toBe(run.stdout);
  });

  it("adds the generations, the conditions and each cluster's commit, sync and message with -o wide", async () => {
    const run = await status("web", "-o", "wide");
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith((await status("web")).stdout)).toBe(true);
    const extra = run.stdout.split("\n");
    expect(extra).toContain("generation: 2  observed: 2  stable: v1");
    expect(extra.join("\n")).toContain(
      [
        "clusters:",
        "  NAME      HEALTH        APPLIED        LAST SYNC              MESSAGE",
        "  prod-eu   Progressing   0123456789ab   2025-01-02T03:04:06Z   waiting for backend-v2",
        "  prod-us   Healthy       0123456789ab",
      ].join("\n"),
    );
    expect(extra.join("\n")).toMatch(/conditions:\n {2}TYPE +STATUS +REASON +SINCE +MESSAGE\n {2}Ready +False +Progressing +2025-01-02T03:04:05Z +v2: prod-eu/);
  });

  it("prints the object itself with -o json, as kubectl get ad NAME -o json does, without managedFields", async () => {
    const run = await status("web", "-o", "json");
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(run.stdout)).toEqual(printed(web));
    expect(run.stdout).toMatch(/^\{\n {2}"apiVersion": "flotilla.dev\/v1alpha1",\n {2}"kind": "ApplicationDeployment",\n/);
    expect(run.stdout.endsWith("}\n")).toBe(true);
  });

  it("prints the same object with -o yaml", async () => {
    const run = await status("web", "-o", "yaml");
    expect(run.code).toBe(0);
    expect(parseYamlStream(run.stdout)).toEqual([printed(web)]);
    expect(run.stdout.startsWith("apiVersion: flotilla.dev/v1alpha1\nkind: ApplicationDeployment\n")).toBe(true);
  });

  it("exits 1 naming the deployment that does not exist, printing nothing on stdout", async () => {
    const run = await status("nope", "-o", "json");
    expect({ code: run.code, stdout: run.stdout }).toEqual({ code: 1, stdout: "" });
    expect(run.stderr).toContain("ApplicationDeployment shop/nope does not exist");
  });
});

describe("flotilla status (the list)", { timeout: 60_000 }, () => {
  it("prints the table of the context's namespace by default", async () => {
    const run = await status();
    expect(run.stdout.split("\n")).toEqual([
      "NAME   PHASE         TARGET   STABLE   PROGRESS     READY   MESSAGE",
      "api    Healthy       v7       v7",
      "web    Progressing   v2       v1       wave-1 1/2   False   v2: prod-eu progressing at batch 1/2",
      "",
    ]);
  });

  it("adds CLUSTERS, REPLICAS and COMMIT before MESSAGE with -o wide", async () => {
    const run = await status("-A", "-o", "wide");
    expect(run.stdout.split("\n")).toEqual([
      "NAMESPACE   NAME   PHASE         TARGET   STABLE   PROGRESS     READY   CLUSTERS   REPLICAS   COMMIT         MESSAGE",
      "shop        api    Healthy       v7       v7",
      "shop        web    Progressing   v2       v1       wave-1 1/2   False   1/2        17/20      0123456789ab   v2: prod-eu progressing at batch 1/2",
      "team-b      db     Healthy       v1       v1",
      "",
    ]);
  });

  it("prints a List of the deployments with -o json, in the table's order, without managedFields", async () => {
    const run = await status("-A", "-o", "json");
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
    expect(JSON.parse(run.stdout)).toEqual({ apiVersion: "v1", kind: "List", items: [api, web, db].map(printed) });
  });

  it("prints the namespace's List with -o yaml, and an empty List for a namespace with none", async () => {
    expect(parseYamlStream((await status("-o", "yaml")).stdout)).toEqual([{ apiVersion: "v1", kind: "List", items: [api, web].map(printed) }]);
    expect(await status("-n", "empty", "-o", "yaml")).toEqual({ code: 0, stdout: "apiVersion: v1\nkind: List\nitems: []\n", stderr: "" });
  });
});
