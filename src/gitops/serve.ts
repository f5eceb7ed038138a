// Serves the embedded environment repository read-only over Git smart HTTP, at /env.git, by
// running stock `git http-backend` as a CGI per request. It must never accept a push, serve any
// other path, or let the caller's token reach a log, an error message or the backend's environment.

import { type ChildProcess, spawn } from "node:child_process";
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { constants, existsSync, readdirSync } from "node:fs";
import { access } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Logger } from "pino";
import { GIT_SERVE_PATH, GIT_SERVE_RBAC_PATH } from "../api/pull.js";
import { type BodyRead, readRequestBody } from "../support/request-body.js";
import { AnswerCache, type CachedAnswer, refsFingerprint, requestKey } from "./serve-cache.js";
import { type AdvertisementTemplate, advertise, learnAdvertisement, readBranches } from "./advertise.js";
import { ObjectStore } from "./store.js";
import { advertisedOids, answerUploadPack, parseUploadPackRequest } from "./upload-pack.js";

/** What the authorizer says of a token: a result for every expected outcome, with a reason for every "no". */
export type AccessDecision =
  | { outcome: "allowed"; user: string }
  /** The token is valid but its user may not read the repository (HTTP 403). */
  | { outcome: "denied"; user: string; reason: string }
  /** The token is not valid (HTTP 401). */
  | { outcome: "unauthenticated"; reason: string }
  /** The token could not be checked now (the hub is unreachable): the caller should try again (HTTP 503). */
  | { outcome: "unavailable"; reason: string };

/** Checks a caller's bearer token; must not throw for the outcomes above. */
export type Authorize = (token: string) => Promise<AccessDecision>;

export interface GitServeOptions {
  /** The bare repository served at /env.git (the controller's `<data-dir>/env.git`). */
  repoDir: string;
  authorize: Authorize;
  /** Request lines (never headers or tokens) at debug, backend failures at warn. Default: none. */
  logger?: Logger;
  /** Largest request body accepted (an upload-pack negotiation), bytes. Default 10 MiB. */
  maxBodyBytes?: number;
  /** Backends running at once; one more request gets 503 with Retry-After. Default 8. */
  maxConcurrent?: number;
  /** A backend still running after this long is killed, ms. Default 300,000. */
  timeoutMs?: number;
  /** The git executable. Default `git` on the PATH. */
  gitCommand?: string;
  /**
   * Answers kept for identical requests while the refs are unchanged (serve-cache.ts): agents
   * fetching the same commit, and polls with nothing new, start no backend. Default: a cache with
   * its default limits; false: every request runs a backend.
   */
  answerCache?: AnswerCache | false;
  /**
   * Answer an agent's requests in this process instead of running a backend: the ref
   * advertisement once a backend's showed the capabilities (advertise.ts), and an incremental
   * fetch (upload-pack.ts); anything else still goes to the backend. Default true.
   */
  answerInProcess?: boolean;
  /** Called once per request answered, with who answered it and what it asked: the refs or a pack. */
  onAnswer?: (by: AnsweredBy, asked: "refs" | "pack") => void;
}

/** Who answered a fetch request. */
export type AnsweredBy = "cache" | "controller" | "backend";

const MiB = 1024 * 1024;
/** Tree entries the in-process answers keep parsed: the trees of the last few fetches. */
const SERVED_TREE_ENTRIES = 50_000;
/** Without a cache, the largest backend answer kept for what this process learns from it. */
const ANSWER_KEPT_BYTES = 1 * MiB;
/** The CGI header block of http-backend is a few lines; more than this is a broken backend. */
const MAX_CGI_HEADER_BYTES = 64 * 1024;

type Route = { kind: "upload-pack"; method: "GET" | "POST"; suffix: string; query: string } | { kind: "push" } | { kind: "not-found" };

/**
 * Which request this is, from the raw URL: exact paths only, nothing decoded or normalized, so no
 * spelling of `..` or of an encoded slash can reach another file.
 */
export function routeOf(method: string, rawUrl: string): Route {
  const q = rawUrl.indexOf("?");
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = q < 0 ? "" : rawUrl.slice(q + 1);
  const service = new URLSearchParams(query).get("service");
  if (path === `${GIT_SERVE_PATH}/info/refs`) {
    if (service === "git-receive-pack") return { kind: "push" };
    if (service === "git-upload-pack" && method === "GET") return { kind: "upload-pack", method, suffix: "/info/refs", query: "service=git-upload-pack" };
    return { kind: "not-found" };
  }
  if (path === `${GIT_SERVE_PATH}/git-receive-pack`) return { kind: "push" };
  if (path === `${GIT_SERVE_PATH}/git-upload-pack` && method === "POST") return { kind: "upload-pack", method, suffix: "/git-upload-pack", query: "" };
  return { kind: "not-found" };
}

/** The token of an `Authorization` header: `Bearer <token>`, or basic auth with the token as the password (any user). */
export function tokenOf(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (bearer) return bearer[1];
  const basic = /^Basic[ \t]+([A-Za-z0-9+/=]+)[ \t]*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1] as string, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const password = colon < 0 ? "" : decoded.slice(colon + 1);
  return password === "" ? undefined : password;
}

const asked = (route: Extract<Route, { kind: "upload-pack" }>) => (route.method === "GET" ? "refs" : "pack");

/** Send a complete answer; returns its status. */
function send(res: ServerResponse, answer: CachedAnswer): number {
  if (res.destroyed) return answer.status;
  for (const [name, value] of answer.headers) res.setHeader(name, value);
  res.writeHead(answer.status);
  res.end(answer.body);
  return answer.status;
}

function reply(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache", ...headers });
  res.end(`${message}\n`);
}

/** Parse a CGI header block: the `Status:` line and the other headers. */
export function parseCgiHeaders(block: string): { status: number; headers: Array<[string, string]> } {
  let status = 200;
  const headers: Array<[string, string]> = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    if (colon <= 0) throw new Error(`git http-backend printed a malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === "status") {
      const code = Number.parseInt(value, 10);
      if (!Number.isInteger(code) || code < 100 || code > 599) throw new Error(`git http-backend printed a malformed Status line: ${JSON.stringify(value)}`);
      status = code;
    } else {
      headers.push([name, value]);
    }
  }
  return { status, headers };
}

/** The end of the CGI header block in `buf` (index of the blank line and its length), if it arrived. */
function headerEnd(buf: Buffer): { at: number; length: number } | undefined {
  const crlf = buf.indexOf("\r\n\r\n");
  const lf = buf.indexOf("\n\n");
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return { at: crlf, length: 4 };
  if (lf >= 0) return { at: lf, length: 2 };
  return undefined;
}

/** A request handler serving `repoDir` read-only at /env.git (see the module comment). */
export function gitServeHandler(options: GitServeOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBody = options.maxBodyBytes ?? 10 * MiB;
  const maxConcurrent = options.maxConcurrent ?? 8;
  const timeoutMs = options.timeoutMs ?? 300_000;
  const git = options.gitCommand ?? "git";
  const log = options.logger;
  const cache = options.answerCache === false ? undefined : (options.answerCache ?? new AnswerCache());
  const inProcess = options.answerInProcess ?? true;
  /** The served objects for the in-process answers; what its library cache holds of packs merged away is let go. */
  const store = new ObjectStore({ gitdir: options.repoDir, treeCacheEntries: SERVED_TREE_ENTRIES });
  let packsSeen: string[] = [];
  /** The capabilities of the backend's last protocol v0/v1 advertisement, to advertise new refs under. */
  let advertisement: AdvertisementTemplate | undefined;
  let active = 0;
  // The server listens before the controller creates the repository (at start, or while a
  // standby waits to lead); http-backend would call it missing (404), which clients take as final.
  // isomorphic-git's init writes HEAD last, and the repository is never removed once made.
  let created = false;
  const repositoryExists = () => (created ||= existsSync(join(options.repoDir, "HEAD")));

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedAt = performance.now();
    const method = req.method ?? "GET";
    const route = routeOf(method, req.url ?? "/");
    const path = (req.url ?? "/").split("?")[0];
    if (route.kind === "not-found") {
      log?.debug({ method, path, status: 404 }, "git request");
      return reply(res, 404, `not found: this server serves only fetches and clones of ${GIT_SERVE_PATH} over Git smart HTTP`);
    }
    if (route.kind === "push") {
      log?.debug({ method, path, status: 403 }, "git request");
      return reply(res, 403, `${GIT_SERVE_PATH} is read-only: the controller writes the environment repository, nobody pushes to it`, {
        connection: "close",
      });
    }
    const token = tokenOf(req.headers.authorization);
    const challenge = { "www-authenticate": 'Basic realm="flotilla"', connection: "close" };
    if (token === undefined) {
      log?.debug({ method, path, status: 401 }, "git request");
      return reply(res, 401, "a hub token is required: send Authorization: Bearer <token>, or basic auth with the token as the password", challenge);
    }
    const decision = await options.authorize(token);
    switch (decision.outcome) {
      case "unauthenticated":
        log?.info({ method, path, status: 401, reason: decision.reason }, "git request refused: the token is not valid");
        return reply(res, 401, "the token is not valid on the hub (expired, revoked or from another cluster)", challenge);
      case "denied":
        log?.info({ method, path, status: 403, user: decision.user, reason: decision.reason }, "git request refused: not allowed");
        return reply(
          res,
          403,
          `${decision.user} may not read the environment repository: it needs "get" on the non-resource URL ${GIT_SERVE_RBAC_PATH} on the hub (flotilla cluster add --mode pull grants it to an agent)`,
          { connection: "close" },
        );
      case "unavailable":
        log?.warn({ method, path, status: 503, reason: decision.reason }, "git request: cannot check the token now");
        return reply(res, 503, "the token cannot be checked right now (the hub does not answer); try again", { "retry-after": "5", connection: "close" });
      case "allowed":
        break;
    }
    if (!repositoryExists()) {
      log?.info({ method, path, status: 503 }, "git request: the environment repository is not created yet");
      return reply(res, 503, "the environment repository is not created yet (the controller is starting, or waits to lead); try again", {
        "retry-after": "1",
        connection: "close",
      });
    }
    if (active >= maxConcurrent) {
      log?.info({ method, path, status: 503, active }, "git request: too many backends running");
      return reply(res, 503, `${maxConcurrent} fetches are running; try again`, { "retry-after": "1", connection: "close" });
    }
    active++;
    try {
      let body: Buffer = Buffer.alloc(0);
      if (route.method === "POST") {
        const declared = Number(req.headers["content-length"]);
        const read: BodyRead = Number.isFinite(declared) && declared > maxBody ? { failed: "too-large" } : await readRequestBody(req, maxBody, timeoutMs);
        if ("failed" in read) {
          if (read.failed === "aborted") return;
          const status = read.failed === "too-large" ? 413 : 408;
          log?.info({ method, path, status, user: decision.user }, `git request: body ${read.failed}`);
          return reply(res, status, status === 413 ? `the request body is larger than ${maxBody} bytes` : "the request body did not arrive in time", {
            connection: "close",
          });
        }
        body = read.body;
      }
      const status = cache ? await answerFromCache(cache, req, res, route, body) : await produce(req, res, route, body);
      log?.debug({ method, path, status, user: decision.user, ms: Math.round(performance.now() - startedAt) }, "git request");
    } finally {
      active--;
    }
  };

  /**
   * The cached answer to this very request, or the answer of a backend run now (and kept). The
   * same request arriving while its backend runs waits for that one rather than starting another.
   */
  const answerFromCache = async (
    cache: AnswerCache,
    req: IncomingMessage,
    res: ServerResponse,
    route: Extract<Route, { kind: "upload-pack" }>,
    body: Buffer,
  ): Promise<number> => {
    const header = (name: string) => {
      const value = req.headers[name];
      return typeof value === "string" ? value : undefined;
    };
    const refs = refsFingerprint(options.repoDir);
    const key = requestKey({
      refs,
      suffix: route.suffix,
      query: route.query,
      method: route.method,
      protocol: header("git-protocol"),
      contentType: header("content-type"),
      contentEncoding: header("content-encoding"),
      body,
    });
    const keep = (answer: CachedAnswer) => cache.set(key, answer);
    let answer = cache.get(key);
    if (answer === undefined) {
      let status = 0;
      const outcome = await cache.once(key, async () => {
        cache.misses++;
        status = await produce(req, res, route, body, keep, refs);
      });
      if (outcome === "produced") return status;
      answer = cache.get(key);
      // The run waited for failed or was too large to keep: this request gets its own.
      if (answer === undefined) return produce(req, res, route, body, keep);
    }
    cache.hits++;
    options.onAnswer?.("cache", asked(route));
    return send(res, answer);
  };

  /** This process's answer when it has one (an agent's ref advertisement or incremental fetch), else a backend's. */
  const produce = async (
    req: IncomingMessage,
    res: ServerResponse,
    route: Extract<Route, { kind: "upload-pack" }>,
    body: Buffer,
    keep?: (answer: CachedAnswer) => void,
    /** The refs fingerprint the caller already read, if any. */
    refs?: string,
  ): Promise<number> => {
    const answer = inProcess ? await answerHere(req, route, body, refs) : undefined;
    if (answer) {
      keep?.(answer);
      options.onAnswer?.("controller", asked(route));
      return send(res, answer);
    }
    options.onAnswer?.("backend", asked(route));
    if (!isV0Advertisement(req, route)) return runBackend(req, res, route, body, keep);
    return runBackend(req, res, route, body, (answer) => {
      keep?.(answer);
      advertisement = learnAdvertisement(answer);
    });
  };

  /** A ref advertisement of protocol v0/v1 (v2's lists capabilities only, and its commands are POSTs). */
  const isV0Advertisement = (req: IncomingMessage, route: Extract<Route, { kind: "upload-pack" }>) =>
    route.method === "GET" && req.headers["git-protocol"] === undefined;

  const answerHere = async (
    req: IncomingMessage,
    route: Extract<Route, { kind: "upload-pack" }>,
    body: Buffer,
    refs: string | undefined,
  ): Promise<CachedAnswer | undefined> => {
    if (isV0Advertisement(req, route)) {
      const refs = advertisement && readBranches(options.repoDir);
      return refs && advertisement ? advertise(advertisement, refs) : undefined;
    }
    if (route.method !== "POST" || route.suffix !== "/git-upload-pack") return undefined;
    // Protocol v2, a compressed body or another content type: the backend's.
    if (req.headers["git-protocol"] !== undefined || req.headers["content-encoding"] !== undefined) return undefined;
    if (req.headers["content-type"] !== "application/x-git-upload-pack-request") return undefined;
    // Packs merged away would stay in the library's cache (their indexes and contents) for good.
    let packs: string[] = [];
    try {
      packs = readdirSync(join(options.repoDir, "objects", "pack"))
        .filter((f) => f.endsWith(".idx"))
        .map((f) => f.slice(0, -4));
    } catch {
      // no pack folder yet: nothing cached to let go
    }
    const live = new Set(packs);
    store.forgetPacks(packsSeen.filter((p) => !live.has(p)));
    packsSeen = packs;
    const request = parseUploadPackRequest(body);
    const answer =
      "unanswered" in request ? request : await answerUploadPack(request, { store, tips: advertisedOids(refs ?? refsFingerprint(options.repoDir)) });
    if ("unanswered" in answer) {
      log?.debug({ why: answer.unanswered }, "git request left to the backend");
      return undefined;
    }
    return answer;
  };

  /**
   * Run http-backend for one request and stream its answer; resolves with the HTTP status sent.
   * `keep` receives the complete answer of a backend that succeeded, unless it was larger than the
   * cache keeps.
   */
  const runBackend = (
    req: IncomingMessage,
    res: ServerResponse,
    route: Extract<Route, { kind: "upload-pack" }>,
    body: Buffer,
    keep?: (answer: CachedAnswer) => void,
  ): Promise<number> =>
    new Promise((resolve) => {
      // A fresh environment: nothing of this process (its Git token, its hub credentials) reaches
      // the backend, and no user or system Git config changes what it does.
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        GIT_CONFIG_NOSYSTEM: "1",
        GIT_CONFIG_GLOBAL: "/dev/null",
        GIT_CONFIG_COUNT: "2",
        GIT_CONFIG_KEY_0: "http.receivepack",
        GIT_CONFIG_VALUE_0: "false",
        GIT_CONFIG_KEY_1: "http.getanyfile",
        GIT_CONFIG_VALUE_1: "false",
        GIT_PROJECT_ROOT: dirname(options.repoDir),
        GIT_HTTP_EXPORT_ALL: "1",
        GIT_HTTP_MAX_REQUEST_BUFFER: String(maxBody),
        PATH_INFO: `/${basename(options.repoDir)}${route.suffix}`,
        QUERY_STRING: route.query,
        REQUEST_METHOD: route.method,
        REMOTE_ADDR: req.socket.remoteAddress ?? "",
      };
      if (route.method === "POST") {
        env.CONTENT_LENGTH = String(body.length);
        const type = req.headers["content-type"];
        if (type) env.CONTENT_TYPE = type;
        const encoding = req.headers["content-encoding"];
        if (encoding === "gzip" || encoding === "x-gzip") env.HTTP_CONTENT_ENCODING = encoding;
      }
      const protocol = req.headers["git-protocol"];
      if (typeof protocol === "string" && /^[A-Za-z0-9=:._,-]{1,100}$/.test(protocol)) env.HTTP_GIT_PROTOCOL = protocol;

      let child: ChildProcess;
      try {
        // detached: its own process group, so a kill reaches the upload-pack it starts too.
        child = spawn(git, ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
      } catch (err) {
        log?.warn({ err: String(err) }, "cannot start git http-backend");
        reply(res, 500, "cannot start git http-backend on the server");
        resolve(500);
        return;
      }
      let finished = false;
      let sentStatus = 0;
      let stderr = "";
      const kill = (why: string) => {
        if (finished || child.exitCode !== null || child.signalCode !== null) return;
        log?.info({ pid: child.pid, why }, "stopping git http-backend");
        try {
          if (child.pid) process.kill(-child.pid, "SIGKILL");
        } catch {
          child.kill("SIGKILL");
        }
      };
      const timer = setTimeout(() => kill(`still running after ${timeoutMs} ms`), timeoutMs);
      res.on("close", () => {
        if (!res.writableFinished) kill("the client went away");
      });
      // It may have gone while the body was read, before this listener.
      if (res.destroyed) setImmediate(() => kill("the client went away"));
      const done = (status: number) => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        resolve(status);
      };

      child.on("error", (err) => {
        log?.warn({ err: err.message }, "git http-backend failed to start; is git installed?");
        reply(res, 500, "git http-backend failed on the server");
        sentStatus = 500;
        done(500);
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString("utf8");
      });
      child.stdin?.on("error", () => undefined); // the backend may exit before reading all of it
      child.stdin?.end(body);

      let head = Buffer.alloc(0);
      let kept: { headers: Array<[string, string]>; chunks: Buffer[]; bytes: number } | undefined;
      const stdout = child.stdout;
      if (!stdout) return;
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = headerEnd(head);
        if (!end) {
          if (head.length > MAX_CGI_HEADER_BYTES) {
            stdout.off("data", onData);
            kill("no end of its CGI headers");
            reply(res, 502, "git http-backend answered with no headers");
            sentStatus = 502;
          }
          return;
        }
        stdout.off("data", onData);
        let parsed: ReturnType<typeof parseCgiHeaders>;
        try {
          parsed = parseCgiHeaders(head.subarray(0, end.at).toString("latin1"));
        } catch (err) {
          log?.warn({ err: (err as Error).message }, "git http-backend");
          kill("malformed headers");
          reply(res, 502, "git http-backend answered with malformed headers");
          sentStatus = 502;
          return;
        }
        for (const [name, value] of parsed.headers) res.setHeader(name, value);
        res.writeHead(parsed.status);
        sentStatus = parsed.status;
        const rest = head.subarray(end.at + end.length);
        if (rest.length > 0) res.write(rest);
        if (keep && parsed.status === 200) {
          const copy: NonNullable<typeof kept> = { headers: parsed.headers, chunks: rest.length > 0 ? [rest] : [], bytes: rest.length };
          kept = copy;
          const limit = cache?.maxAnswerBytes ?? ANSWER_KEPT_BYTES;
          // Beside the pipe: it sees the same chunks and leaves the back-pressure to the pipe.
          stdout.on("data", (chunk: Buffer) => {
            if (kept === undefined) return;
            copy.bytes += chunk.length;
            if (copy.bytes > limit) kept = undefined;
            else copy.chunks.push(chunk);
          });
        }
        stdout.pipe(res);
      };
      stdout.on("data", onData);
      child.on("close", (code, signal) => {
        if (sentStatus === 0) {
          reply(res, 502, "git http-backend ended without an answer");
          sentStatus = 502;
        }
        if (code !== 0) {
          log?.warn({ code, signal, stderr: stderr.trim().slice(0, 1000) }, "git http-backend failed");
          // A partial pack must not look complete to the client.
          if (!res.writableEnded) res.destroy();
        } else {
          if (!res.writableEnded) res.end();
          if (keep && kept && kept.bytes <= (cache?.maxAnswerBytes ?? ANSWER_KEPT_BYTES))
            keep({ status: sentStatus, headers: kept.headers, body: Buffer.concat(kept.chunks) });
        }
        done(sentStatus);
      });
    });

  return (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log?.error({ err: err instanceof Error ? err.message : String(err) }, "git request failed");
      reply(res, 500, "internal error");
    });
  };
}

/** Undefined when `git http-backend` can be run; else why not (git is not installed, for example). */
export function gitAvailable(gitCommand = "git"): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn(gitCommand, ["--exec-path"], {
      env: { PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" },
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
    child.on("error", (err) => resolve(`${gitCommand}: ${err.message}`));
    child.on("close", (code) => {
      if (code !== 0) return resolve(`${gitCommand} --exec-path exited with ${code}`);
      const backend = join(out.trim(), "git-http-backend");
      access(backend, constants.X_OK).then(
        () => resolve(undefined),
        () => resolve(`${backend} is missing`),
      );
    });
  });
}

/** Where an HTTP(S) server listens. */
export interface ListenOptions {
  /** Host and port to listen on (port 0 picks a free one). */
  host: string;
  port: number;
  /** PEM certificate and key: serve HTTPS instead of HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

export interface GitServerOptions extends GitServeOptions, ListenOptions {}

/**
 * Start an HTTP(S) server with `handler` (the controller's server: {@link gitServeHandler}, and the
 * webhook receiver when GitSources are served); resolves with the server and the port it listens on.
 */
export async function startHttpServer(
  options: ListenOptions & { handler: (req: IncomingMessage, res: ServerResponse) => void },
): Promise<{ server: Server; port: number }> {
  const { handler } = options;
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handler) : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  return { server, port: typeof addr === "object" && addr ? addr.port : options.port };
}

/** Start an HTTP(S) server with {@link gitServeHandler} alone; resolves with the server and the port it listens on. */
export function startGitServer(options: GitServerOptions): Promise<{ server: Server; port: number }> {
  return startHttpServer({ host: options.host, port: options.port, ...(options.tls ? { tls: options.tls } : {}), handler: gitServeHandler(options) });
}
