// A stand-in for the controller's UI server (src/ui/server) that follows the JSON API contract of
// src/ui/contract.ts exactly: the built app from dist/ui/, the /api/ endpoints served from the
// fixtures of ui-fixtures.ts, the session cookie, 401/403/404 answers with `{error}` bodies, and
// the SSE stream. For developing the app (`npm run ui:mock`, then `npx vite`) and for the browser
// test, which drives it through `emit…`, `setPhase` and `revoke`. It holds no real credentials:
// its tokens are fixed strings that only this mock knows.

import { readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { packageRoot } from "../../src/cli/package-root.js";
import { ACTIONS, type ActionName, type ClusterItem, type DeploymentSummary, type User } from "../../src/ui/contract.js";
import { CANARY, canaryDeployment, fakeCommit, fixtureClusters, fixtureDefinitions, generatedDeployment, type MockDeployment } from "./ui-fixtures.js";

export interface MockUser extends User {
  token: string;
  /** Whether the user may `patch applicationdeployments` (the actions); `can` in details follows it. */
  mayPatch: boolean;
}

/** The mock's two identities, as `flotilla up` creates them on the local fleet. */
export const OPERATOR: MockUser = {
  token: "mock-operator-token",
  username: "system:serviceaccount:flotilla-system:ui-operator",
  groups: ["system:serviceaccounts", "system:authenticated"],
  mayPatch: true,
};
export const VIEWER: MockUser = {
  token: "mock-viewer-token",
  username: "system:serviceaccount:flotilla-system:ui-viewer",
  groups: ["system:serviceaccounts", "system:authenticated"],
  mayPatch: false,
};

export interface UiMockOptions {
  /** The built app to serve (default: `<package>/dist/ui`). */
  root?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Generated deployments served besides the canary (default 0). */
  extraDeployments?: number;
  /** Default: OPERATOR and VIEWER. */
  users?: MockUser[];
  /** SSE heartbeat comment period (default 15 s, as the contract says). */
  heartbeatMs?: number;
}

export interface UiMock {
  /** `http://host:port` with no trailing slash. */
  url: string;
  /** The deployments the mock serves, by `<ns>/<name>`; change them through the methods below. */
  deployments: Map<string, MockDeployment>;
  /** Every action request that reached the mock, refused or not. */
  actions: Array<{ user: string; namespace: string; name: string; action: string; status: number }>;
  /** Sends a `deployment` event with the deployment's current summary to every open stream. */
  emitDeployment(namespace: string, name: string): void;
  /** Sets a deployment's phase (summary and rollout state) and sends the event. */
  setPhase(namespace: string, name: string, phase: string): void;
  /** Sends a `cluster` event. */
  emitCluster(cluster: ClusterItem): void;
  /** From now on the user may no longer patch: actions are refused with 403 (details still say what they said). */
  revoke(username: string): void;
  /** Open SSE streams. */
  streams(): number;
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
};

const key = (namespace: string, name: string) => `${namespace}/${name}`;

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store", ...headers });
  res.end(text);
}

const fail = (res: ServerResponse, status: number, error: string, reason?: string) =>
  sendJson(res, status, reason === undefined ? { error } : { error, reason });

function cookieToken(req: IncomingMessage): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [k, ...v] = part.trim().split("=");
    if (k === "flotilla_token") return decodeURIComponent(v.join("="));
  }
  return undefined;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error("body too large");
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString("utf8") || "null");
}

/** What the actions are allowed to do right now: the detail's `can`, for a user who may patch. */
function canFor(d: MockDeployment, user: MockUser) {
  const can = d.detail.can;
  return user.mayPatch ? { ...can } : { promote: false, abort: false, retry: false, pause: false, resume: false };
}

/** The canary's promote: staging finishes and production's first cluster starts, as the controller would show it. */
function promote(d: MockDeployment, now: number): void {
  const { detail } = d;
  const commit = fakeCommit(`promote-${now}`);
  const at = new Date(now).toISOString();
  detail.rollout = {
    ...detail.rollout,
    state: "Progressing",
    wave: "production",
    batch: 1,
    batches: 3,
    waitingFor: "healthy replicas",
    message: "prod-eu: batch 1/3 applied, waiting for Deployment shop/storefront-v2 to be ready (0/1)",
    since: at,
  };
  const staging = detail.waves[0]?.clusters[0];
  if (staging) {
    staging.revisions = [{ revision: "v2", ready: 4, desired: 4 }];
    staging.message = "completed";
  }
  const eu = detail.waves[1]?.clusters[0];
  if (eu) {
    eu.health = "Progressing";
    eu.revisions = [
      { revision: "v1", ready: 3, desired: 3 },
      { revision: "v2", ready: 0, desired: 1 },
    ];
    eu.message = "batch 1/3: waiting for Deployment shop/storefront-v2 (0/1 ready)";
  }
  detail.summary = {
    ...detail.summary,
    phase: "Progressing",
    progress: "production 1/3",
    waitingFor: "healthy replicas",
    clusters: detail.summary.clusters.map((c) =>
      c.name === "staging" ? { ...c, phase: "Completed" } : c.name === "prod-eu" ? { ...c, health: "Progressing", phase: "Progressing" } : c,
    ),
  };
  detail.can = { ...detail.can, promote: false };
  detail.events.unshift({ type: "Normal", reason: "Promoted", message: "promote requested: v2 continues in wave production", time: at, count: 1 });
  const ns = key(CANARY.namespace, CANARY.name);
  d.history.unshift({
    commit,
    time: at,
    message: `${ns}: v2 completed in wave staging (staging); v2 batch 1/3 in wave production (prod-eu)`,
    revision: "v2",
    wave: "production",
    batch: "1/3",
    clusters: ["prod-eu", "staging"],
  });
  d.diffs[commit] = {
    clusters: [
      { cluster: "prod-eu", diff: "--- a/Deployment.storefront-v1.yaml\n+++ b/Deployment.storefront-v1.yaml\n@@ -9 +9 @@\n-  replicas: 4\n+  replicas: 3\n" },
      { cluster: "staging", diff: "--- a/Deployment.storefront-v2.yaml\n+++ b/Deployment.storefront-v2.yaml\n@@ -9 +9 @@\n-  replicas: 2\n+  replicas: 4\n" },
    ],
  };
}

export async function startUiMock(options: UiMockOptions = {}): Promise<UiMock> {
  const root = options.root ?? join(packageRoot(), "dist", "ui");
  const users = options.users ?? [OPERATOR, VIEWER];
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const now = Date.now();
  const deployments = new Map<string, MockDeployment>();
  deployments.set(key(CANARY.namespace, CANARY.name), canaryDeployment(now));
  for (let i = 1; i <= (options.extraDeployments ?? 0); i++) {
    const d = generatedDeployment(i, now);
    deployments.set(key(d.detail.summary.namespace, d.detail.summary.name), d);
  }
  const clusters = new Map(
    fixtureClusters(
      [...deployments.values()].map((d) => d.detail.summary),
      now,
    ).map((c) => [c.name, c]),
  );
  const revoked = new Set<string>();
  const actions: UiMock["actions"] = [];
  const streams = new Set<ServerResponse>();

  const userOf = (req: IncomingMessage, url: URL): MockUser | undefined => {
    const header = req.headers.authorization;
    const token = header?.startsWith("Bearer ") ? header.slice(7).trim() : (cookieToken(req) ?? url.searchParams.get("token") ?? undefined);
    const user = users.find((u) => u.token === token);
    return user && revoked.has(user.username) ? { ...user, mayPatch: false } : user;
  };

  const broadcast = (event: string, data: unknown) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of streams) s.write(frame);
  };

  async function serveStatic(res: ServerResponse, path: string): Promise<void> {
    const rel = path === "/" ? "index.html" : path.slice(1);
    const file = normalize(join(root, rel));
    if (!file.startsWith(root + sep) || !(rel === "index.html" || rel.startsWith("assets/"))) return fail(res, 404, `${path} not found`);
    try {
      const body = await readFile(file);
      res.writeHead(200, {
        "content-type": TYPES[extname(file)] ?? "application/octet-stream",
        "cache-control": rel === "index.html" ? "no-cache" : "public, max-age=31536000, immutable",
        "x-content-type-options": "nosniff",
      });
      res.end(body);
    } catch {
      fail(res, 404, rel === "index.html" ? `${root}/index.html is missing: run \`vite build\` (npm run build)` : `${path} not found`);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://mock");
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (!path.startsWith("/api/")) {
      if (method !== "GET" && method !== "HEAD") return fail(res, 405, `${method} is not allowed on ${path}`);
      return serveStatic(res, path);
    }

    if (path === "/api/session" && method === "POST") {
      let body: unknown;
      try {
        body = await readJson(req);
      } catch {
        return fail(res, 400, 'the body must be JSON: {"token": "<bearer token>"}');
      }
      const token = (body as { token?: unknown } | null)?.token;
      if (typeof token !== "string" || token === "")
        return fail(res, 400, 'token: must be a non-empty string (a Kubernetes bearer token), e.g. {"token": "eyJ…"}');
      const user = users.find((u) => u.token === token);
      if (!user) return fail(res, 401, "the token was not accepted by the hub's TokenReview: sign in with a valid Kubernetes bearer token");
      return sendJson(
        res,
        200,
        { user: { username: user.username, groups: user.groups } },
        { "set-cookie": `flotilla_token=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/` },
      );
    }
    if (path === "/api/session" && method === "DELETE") {
      return sendJson(res, 200, { ok: true }, { "set-cookie": "flotilla_token=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0" });
    }

    const user = userOf(req, url);
    if (!user) return fail(res, 401, "sign in: no valid bearer token (Authorization header or session cookie)");

    if (path === "/api/whoami" && method === "GET") return sendJson(res, 200, { user: { username: user.username, groups: user.groups } });

    if (path === "/api/events" && method === "GET") {
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-store", connection: "keep-alive" });
      res.write(": connected\n\n");
      streams.add(res);
      const beat = setInterval(() => res.write(": heartbeat\n\n"), heartbeatMs);
      req.on("close", () => {
        clearInterval(beat);
        streams.delete(res);
      });
      return;
    }

    if (path === "/api/deployments" && method === "GET") {
      const namespace = url.searchParams.get("namespace");
      const phase = url.searchParams.get("phase");
      const selector = (url.searchParams.get("selector") ?? "")
        .split(",")
        .filter((t) => t.includes("="))
        .map((t) => t.split("=") as [string, string]);
      const items = [...deployments.values()]
        .map((d) => d.detail.summary)
        .filter((s) => (!namespace || s.namespace === namespace) && (!phase || s.phase === phase) && selector.every(([k, v]) => s.labels[k] === v));
      return sendJson(res, 200, { items });
    }

    const m = /^\/api\/deployments\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    if (m) {
      const namespace = decodeURIComponent(m[1] ?? "");
      const name = decodeURIComponent(m[2] ?? "");
      const rest = m[3] ?? "";
      const d = deployments.get(key(namespace, name));
      if (!d) return fail(res, 404, `applicationdeployment ${namespace}/${name} not found`);
      if (rest === "" && method === "GET") return sendJson(res, 200, { ...d.detail, can: canFor(d, user) });
      if (rest === "/history" && method === "GET") return sendJson(res, 200, { items: d.history });
      const diff = /^\/history\/([0-9a-f]{4,40})\/diff$/.exec(rest);
      if (diff && method === "GET") {
        const commit = Object.keys(d.diffs).find((c) => c.startsWith(diff[1] ?? ""));
        return commit ? sendJson(res, 200, d.diffs[commit]) : fail(res, 404, `commit ${diff[1]} is not in the history of ${namespace}/${name}`);
      }
      const action = /^\/actions\/([a-z]+)$/.exec(rest)?.[1];
      if (action !== undefined && method === "POST") {
        if (!ACTIONS.includes(action as ActionName)) return fail(res, 400, `action: must be one of ${ACTIONS.join(", ")} (got "${action}")`);
        if (!user.mayPatch) {
          actions.push({ user: user.username, namespace, name, action, status: 403 });
          return fail(
            res,
            403,
            `${user.username} may not patch applicationdeployments in ${namespace}`,
            `RBAC: no Role or ClusterRole bound to ${user.username} allows "patch" on applicationdeployments.flotilla.dev in namespace "${namespace}"`,
          );
        }
        if (!d.detail.can[action as ActionName]) {
          actions.push({ user: user.username, namespace, name, action, status: 400 });
          return fail(
            res,
            400,
            `${action}: not possible now (the rollout is ${d.detail.rollout.state}, waiting for ${d.detail.rollout.waitingFor || "nothing"})`,
          );
        }
        actions.push({ user: user.username, namespace, name, action, status: 200 });
        if (action === "promote" && namespace === CANARY.namespace && name === CANARY.name) promote(d, Date.now());
        setTimeout(() => broadcast("deployment", d.detail.summary), 20);
        return sendJson(res, 200, { ok: true, message: `${action} requested for ${namespace}/${name}` });
      }
      return fail(res, 404, `${method} ${path} is not part of the API`);
    }

    if (path === "/api/clusters" && method === "GET") return sendJson(res, 200, { items: [...clusters.values()] });
    if (path === "/api/definitions" && method === "GET") return sendJson(res, 200, fixtureDefinitions());
    return fail(res, 404, `${method} ${path} is not part of the API`);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) fail(res, 500, `mock: ${(err as Error).message}`);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;

  const summaryOf = (namespace: string, name: string): DeploymentSummary => {
    const d = deployments.get(key(namespace, name));
    if (!d) throw new Error(`mock: no deployment ${namespace}/${name}`);
    return d.detail.summary;
  };

  return {
    url: `http://${options.host ?? "127.0.0.1"}:${address.port}`,
    deployments,
    actions,
    emitDeployment: (namespace, name) => broadcast("deployment", summaryOf(namespace, name)),
    setPhase(namespace, name, phase) {
      const d = deployments.get(key(namespace, name));
      if (!d) throw new Error(`mock: no deployment ${namespace}/${name}`);
      d.detail.summary = { ...d.detail.summary, phase };
      d.detail.rollout = { ...d.detail.rollout, state: phase };
      broadcast("deployment", d.detail.summary);
    },
    emitCluster(cluster) {
      clusters.set(cluster.name, cluster);
      broadcast("cluster", cluster);
    },
    revoke: (username) => revoked.add(username),
    streams: () => streams.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.end();
        streams.clear();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// `npm run ui:mock` (or `node dist/test/support/ui-mock-api.js [port] [deployments]`): the mock on
// :8081 with 1,000 deployments, for `npx vite` (which proxies /api there) or the built app.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? 8081);
  const extra = Number(process.argv[3] ?? 999);
  const mock = await startUiMock({ port, extraDeployments: extra });
  process.stdout.write(
    `UI mock on ${mock.url} (${extra + 1} deployments)\n` +
      `  operator: ${mock.url}/#/signin?token=${OPERATOR.token}\n` +
      `  viewer:   ${mock.url}/#/signin?token=${VIEWER.token}\n`,
  );
}
