// The web UI's JSON API under /api/ (docs/ui.md has the contract): every request is authenticated
// (TokenReview) and authorized for what it reads or does (SubjectAccessReview) before anything is
// read; answers come from the controller's caches. A refusal names the user, the verb and the
// namespace. Tokens never reach a log line or an answer.

import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ReviewedUser } from "../../controller/token-access.js";
import { isRolloutAction, ROLLOUT_ACTIONS, rolloutActionPatch } from "../../rollout/actions.js";
import { readRequestBody } from "../../support/request-body.js";
import { type Permission, refusal, requestToken, SESSION_COOKIE, type TokenSource, type UiAuth } from "./auth.js";
import { commitDiff, deploymentHistory, UnknownCommitError } from "./history.js";
import type { UiSource } from "./source.js";
import type { EventStreams, StreamAccess } from "./streams.js";
import type { Can } from "../contract.js";
import {
  clustersView,
  definitionsView,
  deploymentDetail,
  type DeploymentSummary,
  deploymentSummary,
  matchesFilter,
  parseSelector,
  recentEvents,
} from "./views.js";

export interface ApiOptions {
  source: UiSource;
  auth: UiAuth;
  streams: EventStreams;
  logger?: Logger;
  /** Largest request body (a session's token), bytes. Default 64 KiB. */
  maxBodyBytes?: number;
}

/** An answer other than 200: the status and the `{error, reason?}` body. */
class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly reason?: string,
  ) {
    super(message);
  }
}

interface Caller {
  token: string;
  source: TokenSource;
  user: ReviewedUser;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": String(Buffer.byteLength(text)),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

const DNS = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

function segment(value: string, what: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value);
  } catch {
    throw new ApiError(400, `${what}: "${value}" is not a valid URL segment`);
  }
  if (!DNS.test(decoded) || decoded.length > 253) throw new ApiError(400, `${what}: "${decoded}" is not a Kubernetes name`);
  return decoded;
}

function sessionCookie(token: string, req: IncomingMessage, maxAge?: number): string {
  const https = (req.socket as { encrypted?: boolean }).encrypted === true || req.headers["x-forwarded-proto"] === "https";
  return [
    `${SESSION_COOKIE}=${encodeURIComponent(token)}`,
    "HttpOnly",
    "SameSite=Strict",
    "Path=/",
    ...(maxAge === undefined ? [] : [`Max-Age=${maxAge}`]),
    ...(https ? ["Secure"] : []),
  ].join("; ");
}

/**
 * A state-changing request riding on the cookie must come from this page: SameSite=Strict keeps
 * other sites' requests from carrying it, and a browser's Origin header, when sent, must be ours.
 */
function checkOrigin(req: IncomingMessage): void {
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new ApiError(403, `origin ${origin} may not change anything here`);
  }
  const own = req.headers["x-forwarded-host"] ?? req.headers.host;
  if (host !== own) throw new ApiError(403, `a page from ${origin} may not change anything here`);
}

/** The `/api/` request handler. */
export function apiHandler(o: ApiOptions): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  const { source, auth, streams } = o;
  const log = o.logger;
  const maxBody = o.maxBodyBytes ?? 64 * 1024;
  // The informer replaces an object on every change, so a summary kept per object is never stale.
  const summaries = new WeakMap<object, DeploymentSummary>();
  const summaryOf = (ad: Parameters<typeof deploymentSummary>[0]) => {
    let s = summaries.get(ad);
    if (!s) {
      s = deploymentSummary(ad);
      summaries.set(ad, s);
    }
    return s;
  };

  const authenticate = async (req: IncomingMessage, url: URL): Promise<Caller> => {
    const found = requestToken(req, url);
    if (!found) throw new ApiError(401, "sign in: send a Kubernetes token as `Authorization: Bearer <token>`, or POST it to /api/session");
    const identity = await auth.identify(found.token);
    if (identity.outcome === "unavailable") throw new ApiError(503, "the hub cannot check the token now; try again", identity.reason);
    if (identity.outcome === "unauthenticated") throw new ApiError(401, identity.reason);
    if (found.source === "cookie" && req.method !== "GET" && req.method !== "HEAD") checkOrigin(req);
    return { token: found.token, source: found.source, user: identity.user };
  };

  const require = async (caller: Caller, p: Permission): Promise<void> => {
    const answer = await auth.may(caller.token, caller.user, p);
    if ("unavailable" in answer) throw new ApiError(503, "the hub cannot check access now; try again", answer.unavailable);
    if (!answer.allowed) throw new ApiError(403, refusal(caller.user.username, p), answer.reason);
  };

  const ready = () => {
    if (!source.ready())
      throw new ApiError(503, "the controller's caches are not filled yet (it is starting, or this replica does not lead); try again in a few seconds");
  };

  const deploymentScope = async (caller: Caller) => {
    const namespaces = source.deployments().map((d) => d.metadata.namespace ?? "default");
    const scope = await auth.listScope(caller.token, caller.user, namespaces);
    if ("unavailable" in scope) throw new ApiError(503, "the hub cannot check access now; try again", scope.unavailable);
    return scope;
  };

  const streamAccess = async (caller: Caller): Promise<StreamAccess> => {
    const clusters = await auth.may(caller.token, caller.user, { verb: "list", resource: "clusters" });
    return { deployments: await deploymentScope(caller), clusters: "allowed" in clusters && clusters.allowed };
  };

  const routes = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const method = req.method ?? "GET";
    const parts = url.pathname.split("/").slice(2); // ["deployments", ns, name, ...]
    const [first, ...rest] = parts;

    if (first === "session" && rest.length === 0) {
      if (method === "DELETE") return sendJson(res, 200, { ok: true }, { "set-cookie": sessionCookie("", req, 0) });
      if (method !== "POST") throw new ApiError(405, "/api/session takes POST {token} (sign in) or DELETE (sign out)");
      checkOrigin(req);
      const read = await readRequestBody(req, maxBody, 10_000);
      if ("failed" in read)
        throw new ApiError(
          read.failed === "too-large" ? 413 : 400,
          `the request body ${read.failed === "too-large" ? `is larger than ${maxBody} bytes` : "did not arrive"}`,
        );
      let token: unknown;
      try {
        token = (JSON.parse(read.body.toString("utf8")) as { token?: unknown }).token;
      } catch {
        throw new ApiError(400, 'body: not JSON; send {"token": "<Kubernetes token>"}');
      }
      if (typeof token !== "string" || token.trim() === "") throw new ApiError(400, 'token: missing; send {"token": "<Kubernetes token>"}');
      const identity = await auth.identify(token.trim());
      if (identity.outcome === "unavailable") throw new ApiError(503, "the hub cannot check the token now; try again", identity.reason);
      if (identity.outcome === "unauthenticated") throw new ApiError(401, identity.reason);
      log?.info({ user: identity.user.username }, "ui: signed in");
      return sendJson(res, 200, { user: userView(identity.user) }, { "set-cookie": sessionCookie(token.trim(), req) });
    }

    const caller = await authenticate(req, url);
    const get = () => {
      if (method !== "GET" && method !== "HEAD") throw new ApiError(405, `${url.pathname} takes GET`);
    };

    if (first === "whoami" && rest.length === 0) {
      get();
      return sendJson(res, 200, { user: userView(caller.user) });
    }

    if (first === "events" && rest.length === 0) {
      get();
      ready();
      const access = await streamAccess(caller);
      const opened = streams.open(res, {
        access,
        ttlMs: auth.ttlMs,
        refresh: async () => {
          try {
            const identity = await auth.identify(caller.token);
            if (identity.outcome === "unauthenticated") return undefined;
            return await streamAccess(caller);
          } catch {
            return access; // the hub is away: keep what was allowed until it answers
          }
        },
      });
      if (!opened) throw new ApiError(503, "too many live streams are open; try again later");
      return;
    }

    if (first === "clusters" && rest.length === 0) {
      get();
      await require(caller, { verb: "list", resource: "clusters" });
      ready();
      const scope = await deploymentScope(caller);
      const visible = source.deployments().filter((d) => scope.all || scope.namespaces.has(d.metadata.namespace ?? "default"));
      return sendJson(res, 200, { items: clustersView(source.clusters(), visible) });
    }

    if (first === "definitions" && rest.length === 0) {
      get();
      await require(caller, { verb: "list", resource: "componentdefinitions" });
      ready();
      return sendJson(res, 200, definitionsView(source.componentDefinitions(), source.traitDefinitions()));
    }

    if (first === "deployments" && rest.length === 0) {
      get();
      ready();
      const selector = parseSelector(url.searchParams.get("selector") ?? "");
      if ("error" in selector) throw new ApiError(400, selector.error);
      const filter = {
        ...(url.searchParams.get("namespace") ? { namespace: url.searchParams.get("namespace") as string } : {}),
        ...(url.searchParams.get("phase") ? { phase: url.searchParams.get("phase") as string } : {}),
      };
      if (filter.namespace) await require(caller, { verb: "list", resource: "applicationdeployments", namespace: filter.namespace });
      const scope = filter.namespace ? { all: true as const } : await deploymentScope(caller);
      const items = source
        .deployments()
        .filter((d) => scope.all || scope.namespaces.has(d.metadata.namespace ?? "default"))
        .map(summaryOf)
        .filter((s) => matchesFilter(s, filter, selector.terms))
        .sort((a, b) => (a.namespace === b.namespace ? (a.name < b.name ? -1 : 1) : a.namespace < b.namespace ? -1 : 1));
      return sendJson(res, 200, { items });
    }

    if (first === "deployments" && rest.length >= 2) {
      const namespace = segment(rest[0] as string, "namespace");
      const name = segment(rest[1] as string, "name");
      const tail = rest.slice(2);
      const target = { resource: "applicationdeployments", namespace, name };

      if (tail.length === 2 && tail[0] === "actions") {
        if (method !== "POST") throw new ApiError(405, `${url.pathname} takes POST`);
        const action = tail[1] as string;
        if (!isRolloutAction(action)) throw new ApiError(404, `no action "${action}": one of ${ROLLOUT_ACTIONS.join(", ")}`);
        await require(caller, { verb: "patch", ...target });
        ready();
        if (!source.deployment(namespace, name)) throw new ApiError(404, `ApplicationDeployment ${namespace}/${name} does not exist`);
        const patch = rolloutActionPatch(action);
        try {
          await source.patchDeployment(namespace, name, patch.body);
        } catch (e) {
          const code = (e as { code?: unknown }).code;
          if (code === 404) throw new ApiError(404, `ApplicationDeployment ${namespace}/${name} does not exist`);
          throw new ApiError(502, `the hub refused the ${action} patch${typeof code === "number" ? ` (HTTP ${code})` : ""}`);
        }
        log?.info({ user: caller.user.username, deployment: `${namespace}/${name}`, action }, "ui: rollout action");
        return sendJson(res, 200, { ok: true, message: `${namespace}/${name}: ${patch.done}` });
      }

      get();
      await require(caller, { verb: "get", ...target });
      ready();

      if (tail.length === 0) {
        const ad = source.deployment(namespace, name);
        if (!ad) throw new ApiError(404, `ApplicationDeployment ${namespace}/${name} does not exist`);
        const [events, patchAllowed] = await Promise.all([
          source.events(namespace, name).catch((e: unknown) => {
            log?.debug({ deployment: `${namespace}/${name}`, err: e instanceof Error ? e.message : String(e) }, "ui: events not listed");
            return [];
          }),
          auth.may(caller.token, caller.user, { verb: "patch", ...target }),
        ]);
        const may = "allowed" in patchAllowed && patchAllowed.allowed;
        const can: Can = { promote: may, abort: may, retry: may, pause: may, resume: may };
        return sendJson(res, 200, deploymentDetail(ad, recentEvents(events), can));
      }

      const repo = source.history();
      if (!repo) throw new ApiError(503, "the environment repository is not open yet; try again");
      if (tail.length === 1 && tail[0] === "history") {
        return sendJson(res, 200, { items: await deploymentHistory(repo, namespace, name) });
      }
      if (tail.length === 3 && tail[0] === "history" && tail[2] === "diff") {
        try {
          return sendJson(res, 200, await commitDiff(repo, namespace, name, tail[1] as string));
        } catch (e) {
          if (e instanceof UnknownCommitError) throw new ApiError(404, e.message);
          throw e;
        }
      }
    }
    throw new ApiError(404, `no such API: ${method} ${url.pathname} (see docs/ui.md)`);
  };

  return async (req, res, url) => {
    try {
      await routes(req, res, url);
    } catch (e) {
      if (e instanceof ApiError) {
        if (e.status >= 500) log?.warn({ path: url.pathname, status: e.status, reason: e.reason ?? e.message }, "ui: request failed");
        return sendJson(res, e.status, { error: e.message, ...(e.reason ? { reason: e.reason } : {}) });
      }
      log?.error({ path: url.pathname, err: e instanceof Error ? e.message : String(e) }, "ui: request failed");
      if (res.headersSent) return void res.destroy();
      sendJson(res, 500, { error: "internal error; see the controller's log" });
    }
  };
}

function userView(user: ReviewedUser): { username: string; groups: string[] } {
  return { username: user.username, groups: user.groups ?? [] };
}
