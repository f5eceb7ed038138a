// The optional remote of the environment repository: fetch and push over HTTP(S) with a token.
// The token is handed to isomorphic-git through `onAuth` only; it is never stored in the
// repository config, never put in a URL, and scrubbed from every error message we raise.

import { gitFs } from "./git-fs.js";
import * as git from "isomorphic-git";
import nodeHttp from "isomorphic-git/http/node";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { GitError } from "../api/errors.js";
import type { ObjectStore } from "./store.js";

export type HttpClient = git.HttpClient;

export interface RemoteOptions {
  /** `https://` (or `http://`, for loopback and tests) URL of the repository; no credentials in it. */
  url: string;
  /** Access token, e.g. from a Secret or an environment variable. Omit for an open server. */
  token?: string;
  /** How the token is sent: HTTP basic auth with {@link username} (default), or `Authorization: Bearer`. */
  authScheme?: "basic" | "bearer";
  /** User name for basic auth. Default: `x-access-token` (accepted by GitHub, GitLab and Gitea). */
  username?: string;
  /** Remote branch to fetch and push. Default: `main`. */
  branch?: string;
  /** How long to wait for the server to answer one request. Default: 30,000 ms. */
  timeoutMs?: number;
  /** Push attempts before giving up on a remote that keeps moving. Default: 5. */
  maxPushAttempts?: number;
  /** HTTP client; default isomorphic-git's Node client. */
  http?: HttpClient;
}

/** Name of the remote in the local repository's config (URL only, never the token). */
export const REMOTE_NAME = "origin";

// Node error codes that mean "no answer from the server": worth retrying later.
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
]);

/** The URL as safe to print: no user info, no query string. */
export function displayUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return "<invalid URL>";
  }
}

export function validateRemoteUrl(url: string): void {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new GitError(`remote URL ${displayUrl(url)} is not a valid URL. Use https://host/path/repo.git`);
  }
  if (u.protocol !== "https:" && u.protocol !== "http:") {
    throw new GitError(`remote URL ${displayUrl(url)} must use https:// (or http:// on a trusted network)`);
  }
  if (u.username || u.password) {
    throw new GitError(`remote URL ${displayUrl(url)} must not contain credentials. Pass the token as remote.token instead`);
  }
}

/** Replace every form in which the token could travel (raw, basic-auth base64) with `***`. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join("***");
  return out;
}

interface ErrorLike {
  code?: string;
  message?: string;
  data?: { statusCode?: number; reason?: string };
  cause?: unknown;
}

/** The network error code of an error or of one of its causes: the server gave no answer. */
export function networkCode(err: unknown): string | undefined {
  for (let e = err as ErrorLike | undefined, depth = 0; e && depth < 5; e = e.cause as ErrorLike, depth++) {
    if (e.code && NETWORK_CODES.has(e.code)) return e.code;
  }
  return undefined;
}

/** A rejected push because the remote moved, as opposed to a refused or failed one. */
export function isNonFastForward(err: unknown): boolean {
  const e = err as ErrorLike;
  return e.code === "PushRejectedError" || e.code === "GitPushError";
}

/**
 * One typed error for a failed remote operation, classified by error code and HTTP status (never
 * by message text), with a message that says what to do and contains no secret.
 */
export class RemoteSession {
  readonly url: string;
  readonly branch: string;
  readonly maxPushAttempts: number;
  private readonly http: HttpClient;
  private readonly secrets: string[];
  private readonly onAuth: git.AuthCallback | undefined;
  private readonly bearer: string | undefined;

  constructor(
    private readonly store: ObjectStore,
    options: RemoteOptions,
  ) {
    validateRemoteUrl(options.url);
    this.url = options.url;
    this.branch = options.branch ?? "main";
    this.maxPushAttempts = Math.max(1, options.maxPushAttempts ?? 5);
    const base = options.http ?? nodeHttp;
    const timeoutMs = options.timeoutMs ?? 30_000;
    this.http = remoteHttp(base, timeoutMs);
    const token = options.token;
    const username = options.username ?? "x-access-token";
    this.secrets = token ? [token, Buffer.from(`${username}:${token}`).toString("base64"), encodeURIComponent(token)] : [];
    this.bearer = token && options.authScheme === "bearer" ? token : undefined;
    if (token) {
      const scheme = options.authScheme ?? "basic";
      this.onAuth = () => (scheme === "bearer" ? { headers: { Authorization: `Bearer ${token}` } } : { username, password: token });
    } else {
      this.onAuth = undefined;
    }
  }

  get trackingRef(): string {
    return `refs/remotes/${REMOTE_NAME}/${this.branch}`;
  }

  /** Record the remote (URL only) in the config so stock git users see where it pushes. */
  async configure(): Promise<void> {
    await git.addRemote({ fs: gitFs, gitdir: this.store.gitdir, remote: REMOTE_NAME, url: this.url, force: true });
  }

  /** Fetch the branch; returns the remote head, or null when the remote branch does not exist yet. */
  async fetch(): Promise<string | null> {
    // Whether the branch exists is asked only until it was fetched once: the question costs a
    // request (and the server a git process) on every fetch of a repository polled all day.
    const exists =
      (await this.store.readRef(this.trackingRef)) !== null ||
      (await this.call("fetch from", async () => {
        const refs = await git.listServerRefs({
          http: this.http,
          url: this.url,
          prefix: `refs/heads/${this.branch}`,
          ...this.auth(),
        });
        return refs.some((r) => r.ref === `refs/heads/${this.branch}`);
      }));
    if (!exists) return null;
    await this.call("fetch from", () =>
      git.fetch({
        fs: gitFs,
        http: this.http,
        gitdir: this.store.gitdir,
        url: this.url,
        remote: REMOTE_NAME,
        ref: this.branch,
        remoteRef: this.branch,
        singleBranch: true,
        tags: false,
        cache: this.store.cache,
        ...this.auth(),
      }),
    );
    return this.store.readRef(this.trackingRef);
  }

  /**
   * Push the local branch. Returns "pushed", or "rejected" when the remote moved on (fetch and
   * re-apply, then try again). Throws a {@link GitError} for anything else.
   */
  async push(localRef: string, oid: string): Promise<"pushed" | "rejected"> {
    try {
      const result = await git.push({
        fs: gitFs,
        http: this.http,
        gitdir: this.store.gitdir,
        url: this.url,
        ref: localRef,
        remoteRef: `refs/heads/${this.branch}`,
        cache: this.store.cache,
        ...this.auth(),
      });
      if (!result.ok) return "rejected";
      await this.store.writeRef(this.trackingRef, oid);
      return "pushed";
    } catch (err) {
      if (isNonFastForward(err)) return "rejected";
      throw this.toGitError("push to", err);
    }
  }

  private auth(): { onAuth?: git.AuthCallback; headers?: Record<string, string> } {
    // A bearer token goes with the first request: waiting for the 401 challenge doubled every
    // fetch's requests (an agent polls). Basic auth stays on the challenge, as stock git does.
    return this.onAuth ? { onAuth: this.onAuth, ...(this.bearer ? { headers: { Authorization: `Bearer ${this.bearer}` } } : {}) } : {};
  }

  private async call<T>(action: string, op: () => Promise<T>): Promise<T> {
    try {
      return await op();
    } catch (err) {
      throw this.toGitError(action, err);
    }
  }

  toGitError(action: string, err: unknown): GitError {
    const where = `${action} ${displayUrl(this.url)}`;
    const e = err as ErrorLike;
    const net = networkCode(err);
    const status = e.code === "HttpError" ? e.data?.statusCode : undefined;
    let message: string;
    let retryable: boolean;
    if (net) {
      message = `${where} failed: the remote is unreachable (${net}). Commits stay in the local repository and are pushed by the next sync`;
      retryable = true;
    } else if (status === 401 || status === 403) {
      message = `${where} failed: the server refused the credentials (HTTP ${status}). Check the token (remote.token) and that it may ${action.startsWith("push") ? "write to" : "read"} the repository`;
      retryable = false;
    } else if (status !== undefined) {
      message = `${where} failed with HTTP ${status}`;
      retryable = status === 429 || status >= 500;
    } else {
      message = `${where} failed: ${e.message ?? String(err)}`;
      retryable = false;
    }
    // The cause keeps the error code and status for callers, but only a scrubbed message.
    const cause = Object.assign(new Error(redact(e.message ?? String(err), this.secrets)), {
      code: e.code ?? net,
      statusCode: status,
    });
    return new GitError(redact(message, this.secrets), { retryable, cause });
  }
}

/**
 * Connections for isomorphic-git's Node client: kept alive, with no socket timeout of their own.
 * Node's global agents close a socket after 5 s without data, which isomorphic-git's client
 * reports as "Request timed out" with no error code: a server computing a large pack, or a hub
 * answering an agent during a ramp, failed the fetch as if it were a permanent error.
 */
const agents = { "http:": new HttpAgent({ keepAlive: true }), "https:": new HttpsAgent({ keepAlive: true }) };

/** How a connection that died under a request shows: the server closed or reset it. */
const DROPPED = new Set(["ECONNRESET", "EPIPE"]);

/** A fetch's request (ref advertisement or pack), whose body, if any, is in memory: safe to send twice. */
function isReplayableRead(req: git.GitHttpRequest): boolean {
  const read = req.method === "GET" || new URL(req.url).pathname.endsWith("/git-upload-pack");
  return read && (req.body === undefined || Array.isArray(req.body));
}

/**
 * The HTTP client every fetch and push goes through: its requests ride the kept-alive `agents`
 * above, a read whose connection dropped is sent once more, and a request is given up on when the
 * server sends nothing for `timeoutMs` — before the response headers, or between two chunks of
 * the body (code ETIMEDOUT, retryable).
 */
export function remoteHttp(http: HttpClient, timeoutMs: number): HttpClient {
  return {
    async request(req) {
      const controller = new AbortController();
      const silent = () => Object.assign(new Error(`no data from the server for ${timeoutMs} ms`), { code: "ETIMEDOUT" });
      const timer = setTimeout(() => controller.abort(), timeoutMs);
      timer.unref();
      // Settles only when the timer fires: raced against each step of the body, which an aborted
      // response may leave pending for good.
      const aborted = new Promise<never>((_, reject) => controller.signal.addEventListener("abort", () => reject(silent()), { once: true }));
      aborted.catch(() => undefined);
      const protocol = new URL(req.url).protocol;
      const agent = req.agent ?? agents[protocol as keyof typeof agents];
      const send = () => http.request({ ...req, ...(agent ? { agent } : {}), signal: req.signal ?? controller.signal });
      let res: git.GitHttpResponse;
      try {
        res = await send().catch((err: unknown) => {
          // A kept-alive connection the server closed just as it was reused: once more on a new
          // one, as curl (and so stock git) does, when the request only reads and can be replayed.
          if (controller.signal.aborted || !isReplayableRead(req) || !DROPPED.has((err as { code?: string }).code ?? "")) throw err;
          return send();
        });
      } catch (err) {
        clearTimeout(timer);
        if (controller.signal.aborted) throw silent();
        throw err;
      }
      if (!res.body) {
        clearTimeout(timer);
        return res;
      }
      const chunks = res.body[Symbol.asyncIterator]();
      async function* watched(): AsyncGenerator<Uint8Array> {
        try {
          for (;;) {
            timer.refresh();
            const step = await Promise.race([chunks.next(), aborted]);
            if (step.done) return;
            yield step.value;
          }
        } finally {
          clearTimeout(timer);
        }
      }
      return { ...res, body: watched() };
    },
  };
}
