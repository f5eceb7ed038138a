// The web UI's server over real HTTP on a loopback port, with plain objects for the controller's
// caches and a fake of the hub's reviews: authentication and refusals, the views, actions (the
// patch the CLI sends too), the session cookie, the static bundle and the live stream's fan-out.

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import type { AccessReviews } from "../../../src/controller/token-access.js";
import { rolloutActionPatch } from "../../../src/rollout/actions.js";
import { startUiServer, type UiServer } from "../../../src/ui/server/server.js";
import type { UiSource } from "../../../src/ui/server/source.js";
import { aCluster, canary, scaler, worker } from "./fixtures.js";

const VIEWER = "system:serviceaccount:flotilla-ui:viewer";
const OPERATOR = "system:serviceaccount:flotilla-ui:operator";

/** viewer: get/list in team-a; operator: also patch there; both list clusters and definitions. */
const reviews: AccessReviews = {
  async reviewToken(token) {
    if (token === "viewer-token") return { authenticated: true, user: { username: VIEWER, groups: ["system:serviceaccounts"] } };
    if (token === "operator-token") return { authenticated: true, user: { username: OPERATOR } };
    return { authenticated: false };
  },
  async reviewAccess(user, a) {
    if ("path" in a) return { allowed: false };
    if (a.resource !== "applicationdeployments") return { allowed: a.verb === "list" };
    if (a.namespace !== "team-a") return { allowed: false, reason: "no RBAC policy matched" };
    if (a.verb === "patch") return user.username === OPERATOR ? { allowed: true } : { allowed: false, reason: "RBAC: no rule allows patch" };
    return { allowed: a.verb === "get" || a.verb === "list" };
  },
};

let deployments: ApplicationDeployment[];
const patches: Array<{ namespace: string; name: string; body: object }> = [];
const source: UiSource = {
  ready: () => true,
  deployments: () => deployments,
  deployment: (ns, name) => deployments.find((d) => d.metadata.namespace === ns && d.metadata.name === name),
  clusters: () => [aCluster("staging", { usage: "staging" }), aCluster("prod-eu", { usage: "production" })],
  componentDefinitions: () => [worker()],
  traitDefinitions: () => [scaler()],
  events: async () => [{ type: "Normal", reason: "Committed", message: "v2 batch 1/2", time: "2026-12-03T10:00:00Z", count: 1 }],
  patchDeployment: async (namespace, name, body) => void patches.push({ namespace, name, body }),
  history: () => undefined,
};

let dir: string;
let ui: UiServer;
let base: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "flotilla-ui-"));
  await mkdir(join(dir, "bundle", "assets"), { recursive: true });
  await writeFile(join(dir, "bundle", "index.html"), "<!doctype html><title>Flotilla</title>");
  await writeFile(join(dir, "bundle", "assets", "index-4f3a9c1b.js"), "console.log(1)");
  await writeFile(join(dir, "secret.txt"), "outside");
  ui = await startUiServer({ host: "127.0.0.1", port: 0, source, reviews, bundleDir: join(dir, "bundle"), streams: { heartbeatMs: 50 } });
  base = `http://127.0.0.1:${ui.port}`;
});

afterAll(async () => {
  await ui?.close();
  await rm(dir, { recursive: true, force: true });
});

afterEach(() => {
  deployments = [canary("team-a", "web"), canary("team-b", "api")];
  patches.length = 0;
});
deployments = [canary("team-a", "web"), canary("team-b", "api")];

const as = (token: string, init: RequestInit = {}) => ({ ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });

describe("the API", () => {
  it("answers 401 without a token or with an invalid one, with the way to sign in", async () => {
    const none = await fetch(`${base}/api/deployments`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: string }).error).toMatch(/Authorization: Bearer/);
    expect((await fetch(`${base}/api/deployments`, as("nope"))).status).toBe(401);
  });

  it("lists only the deployments of namespaces the user may list, filtered by phase and label", async () => {
    const res = await fetch(`${base}/api/deployments?phase=Paused&selector=team%3Dpayments`, as("viewer-token"));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { items: Array<{ namespace: string; name: string; waitingFor?: string }> };
    expect(body.items.map((i) => `${i.namespace}/${i.name}`)).toEqual(["team-a/web"]);
    expect(body.items[0]?.waitingFor).toBe("promote");
    expect(((await (await fetch(`${base}/api/deployments?selector=team%3Dsearch`, as("viewer-token"))).json()) as { items: unknown[] }).items).toEqual([]);
    const other = await fetch(`${base}/api/deployments?namespace=team-b`, as("viewer-token"));
    expect(other.status).toBe(403);
  });

  it("gives a deployment's detail with its events and what the user may do", async () => {
    const viewer = (await (await fetch(`${base}/api/deployments/team-a/web`, as("viewer-token"))).json()) as Record<string, unknown>;
    expect(viewer.can).toEqual({ promote: false, abort: false, retry: false, pause: false, resume: false });
    expect((viewer.rollout as { waitingFor: string }).waitingFor).toBe("promote");
    expect(viewer.events).toEqual([{ type: "Normal", reason: "Committed", message: "v2 batch 1/2", time: "2026-12-03T10:00:00Z", count: 1 }]);
    const operator = (await (await fetch(`${base}/api/deployments/team-a/web`, as("operator-token"))).json()) as Record<string, unknown>;
    expect(operator.can).toEqual({ promote: true, abort: true, retry: true, pause: true, resume: true });
    expect((await fetch(`${base}/api/deployments/team-b/api`, as("viewer-token"))).status).toBe(403);
    expect((await fetch(`${base}/api/deployments/team-a/gone`, as("viewer-token"))).status).toBe(404);
    expect((await fetch(`${base}/api/deployments/team-a/Bad_Name`, as("viewer-token"))).status).toBe(400);
  });

  it("refuses a viewer's promote naming the user and the verb, and sends the operator's as the CLI's patch", async () => {
    const refused = await fetch(`${base}/api/deployments/team-a/web/actions/promote`, as("viewer-token", { method: "POST" }));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: `${VIEWER} may not patch applicationdeployments in team-a`, reason: "RBAC: no rule allows patch" });
    expect(patches).toEqual([]);
    const done = await fetch(`${base}/api/deployments/team-a/web/actions/promote`, as("operator-token", { method: "POST" }));
    expect(done.status).toBe(200);
    expect(await done.json()).toEqual({ ok: true, message: "team-a/web: flotilla.dev/promote=true set; the controller acts on it and removes it" });
    const paused = await fetch(`${base}/api/deployments/team-a/web/actions/pause`, as("operator-token", { method: "POST" }));
    expect(paused.status).toBe(200);
    expect(patches).toEqual([
      { namespace: "team-a", name: "web", body: rolloutActionPatch("promote").body },
      { namespace: "team-a", name: "web", body: { spec: { suspend: true } } },
    ]);
    expect((await fetch(`${base}/api/deployments/team-a/web/actions/explode`, as("operator-token", { method: "POST" }))).status).toBe(404);
    expect((await fetch(`${base}/api/deployments/team-a/web/actions/promote`, as("operator-token"))).status).toBe(405);
  });

  it("serves the clusters and the definitions views", async () => {
    const clusters = (await (await fetch(`${base}/api/clusters`, as("viewer-token"))).json()) as { items: Array<{ name: string; deployments: string[] }> };
    // team-b's deployment is on the clusters too, but the viewer may not list team-b.
    expect(clusters.items.map((c) => [c.name, c.deployments])).toEqual([
      ["prod-eu", ["team-a/web"]],
      ["staging", ["team-a/web"]],
    ]);
    const defs = (await (await fetch(`${base}/api/definitions`, as("viewer-token"))).json()) as { components: Array<{ name: string }>; traits: unknown[] };
    expect(defs.components.map((c) => c.name)).toEqual(["worker"]);
    expect(defs.traits).toHaveLength(1);
  });

  it("signs in with a session cookie (HttpOnly, SameSite=Strict) that later requests use, and refuses another site's POST", async () => {
    const signin = await fetch(`${base}/api/session`, {
      method: "POST",
      body: JSON.stringify({ token: "viewer-token" }),
      headers: { "content-type": "application/json" },
    });
    expect(signin.status).toBe(200);
    expect(await signin.json()).toEqual({ user: { username: VIEWER, groups: ["system:serviceaccounts"] } });
    const cookie = signin.headers.get("set-cookie") ?? "";
    expect(cookie).toBe("flotilla_token=viewer-token; HttpOnly; SameSite=Strict; Path=/");
    const who = await fetch(`${base}/api/whoami`, { headers: { cookie: "flotilla_token=viewer-token" } });
    expect(await who.json()).toEqual({ user: { username: VIEWER, groups: ["system:serviceaccounts"] } });
    const foreign = await fetch(`${base}/api/deployments/team-a/web/actions/promote`, {
      method: "POST",
      headers: { cookie: "flotilla_token=operator-token", origin: "https://evil.example" },
    });
    expect(foreign.status).toBe(403);
    expect(patches).toEqual([]);
    const bad = await fetch(`${base}/api/session`, { method: "POST", body: JSON.stringify({ token: "nope" }) });
    expect(bad.status).toBe(401);
    const out = await fetch(`${base}/api/session`, { method: "DELETE" });
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
  });

  it("refuses a session body over the limit", async () => {
    const res = await fetch(`${base}/api/session`, { method: "POST", body: JSON.stringify({ token: "x".repeat(70 * 1024) }) });
    expect(res.status).toBe(413);
  });
});

describe("the static bundle", () => {
  it("serves index.html at / with the security headers, and hashed assets cached for good", async () => {
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(index.headers.get("cache-control")).toBe("no-cache");
    expect(index.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(index.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    expect(await index.text()).toContain("<title>Flotilla</title>");
    const asset = await fetch(`${base}/assets/index-4f3a9c1b.js`);
    expect(asset.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
  });

  it.each(["/../secret.txt", "/%2e%2e/secret.txt", "/assets/..%2f..%2fsecret.txt", "/assets/", "/assets", "/.hidden", "/nothing.js"])(
    "answers 404 for %s",
    async (path) => {
      const { request } = await import("node:http");
      // A raw request: fetch would normalize the `..` away before sending.
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: "127.0.0.1", port: ui.port, path, method: "GET" }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
      expect(status).toBe(404);
    },
  );

  it("answers / with 503 and how to build when the bundle is missing", async () => {
    const other = await startUiServer({ host: "127.0.0.1", port: 0, source, reviews, bundleDir: join(dir, "missing") });
    try {
      const res = await fetch(`http://127.0.0.1:${other.port}/`);
      expect(res.status).toBe(503);
      expect(await res.text()).toContain("npm run build");
    } finally {
      await other.close();
    }
  });
});

/** Reads server-sent events from a stream until `until` says enough. */
async function readEvents(res: Response, until: (text: string) => boolean, timeoutMs = 5_000): Promise<string> {
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  const deadline = Date.now() + timeoutMs;
  while (!until(text)) {
    if (Date.now() > deadline) throw new Error(`no matching event in: ${text}`);
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value);
  }
  await reader.cancel();
  return text;
}

describe("the live stream", () => {
  it("sends a change once serialized to every stream whose user may see it, with heartbeats", async () => {
    const a = await fetch(`${base}/api/events?token=viewer-token`);
    const b = await fetch(`${base}/api/events`, as("operator-token"));
    expect(a.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const before = ui.streams.serialized;
    const changed = canary("team-a", "web");
    changed.status = { ...changed.status, phase: "Progressing" };
    const hidden = canary("team-b", "api");
    ui.feed.deploymentChanged(hidden);
    ui.feed.deploymentChanged(changed);
    ui.feed.deploymentChanged(changed); // no change: nothing sent
    const [ta, tb] = await Promise.all([
      readEvents(a, (t) => t.includes('"phase":"Progressing"') && t.includes(": heartbeat")),
      readEvents(b, (t) => t.includes('"phase":"Progressing"')),
    ]);
    expect(ui.streams.serialized - before).toBe(2);
    expect(ta).not.toContain('"name":"api"');
    expect(tb).not.toContain('"name":"api"');
    expect(ta).toContain("event: deployment\ndata: {");
    await expect.poll(() => ui.streams.size).toBe(0);
  });

  it("refuses a stream without a valid token", async () => {
    expect((await fetch(`${base}/api/events?token=nope`)).status).toBe(401);
  });
});
