// Receives webhooks from Git hosts at `POST /hooks/<namespace>/<name>` and asks the GitSource loop
// for an immediate fetch of that GitSource. It must never trigger without a valid signature, never
// let an unsigned caller tell whether a GitSource exists, and never log a secret, a signature or a body.

import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import { readRequestBody } from "../support/request-body.js";

/** Every webhook path starts with this; the server routes it to the receiver. */
export const HOOKS_PREFIX = "/hooks/";
/** GitHub: `sha256=<hex HMAC-SHA256 of the raw body>`. */
export const GITHUB_SIGNATURE_HEADER = "x-hub-signature-256";
/** GitLab: the secret token itself. */
export const GITLAB_TOKEN_HEADER = "x-gitlab-token";
/** Any other sender (and Flotilla's own notifications): `sha256=<hex HMAC-SHA256 of the raw body>`, as GitHub's. */
export const FLOTILLA_SIGNATURE_HEADER = "x-flotilla-signature";

/** What the receiver needs of the GitSource loop. */
export interface WebhookTarget {
  /**
   * The webhook secret of a GitSource (the bytes of the key its `spec.webhook.secretRef` names);
   * undefined when the GitSource, its webhook or its Secret does not exist. It should take about
   * as long either way (read from a cache): the receiver does the same work for both answers.
   */
  secretOf(namespace: string, name: string): Promise<Buffer | undefined>;
  /** Queue an immediate fetch of the GitSource; false when it cannot be queued now (not known, or not leading). */
  trigger(namespace: string, name: string): boolean;
}

/** A token bucket: `burst` requests at once, refilled at `perSecond`. */
export interface RateLimit {
  burst: number;
  perSecond: number;
}

export interface WebhookReceiverOptions extends WebhookTarget {
  /** Method, path and outcome of each request at debug (never a header value or the body). Default: none. */
  logger?: Logger;
  /** Largest body accepted, bytes; a larger one gets 413. Default 1 MiB (GitHub sends at most 25 MiB, but a push event is a few KiB). */
  maxBodyBytes?: number;
  /** A body not complete this long after the request's headers gets 408 and the connection is closed (slow senders), ms. Default 10 000. */
  bodyTimeoutMs?: number;
  /** All requests to /hooks/, signed or not, before the body is read. Default 20 at once, 10 per second. */
  globalLimit?: RateLimit;
  /** Signed requests per GitSource, after verification. Default 10 at once, 1 per second. */
  sourceLimit?: RateLimit;
  /**
   * Triggers of one GitSource within this window make one more fetch at its end, ms: the first
   * triggers at once, the others within the window make a single trailing trigger, so the last
   * push of a burst is always fetched and at most one fetch per window is asked for. Default 1 000.
   */
  coalesceMs?: number;
  /** The clock, ms. Default Date.now. */
  now?: () => number;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

export interface WebhookReceiver {
  handle: RequestHandler;
  /** Cancel pending trailing triggers. */
  close(): void;
}

/** A signature as sent, before it is checked. */
export type Credential = { scheme: "github" | "generic"; mac: Buffer } | { scheme: "gitlab"; token: Buffer };

const SHA256_HEX = /^sha256=([0-9a-fA-F]{64})$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A GitLab secret token longer than this is not one (GitLab's field is far shorter). */
const MAX_TOKEN_BYTES = 1024;

/** Keys of this process only: the HMAC of a request for a source without a secret, and the comparison of GitLab tokens. */
const DUMMY_KEY = randomBytes(32);
const COMPARE_KEY = randomBytes(32);
/** Compared against when the request carries no signature, for the same work. */
const NO_MAC = Buffer.alloc(32);

const UNAUTHORIZED =
  "not accepted: the request must be a POST to /hooks/<namespace>/<name> signed with the webhook secret of that GitSource " +
  "(X-Hub-Signature-256, X-Gitlab-Token or X-Flotilla-Signature); see docs/webhooks.md";

/** The GitSource a raw request URL names, or undefined unless it is exactly `/hooks/<DNS-1123 label>/<DNS-1123 subdomain>` (a query string is ignored). */
export function hookTarget(rawUrl: string): { namespace: string; name: string } | undefined {
  const q = rawUrl.indexOf("?");
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  if (!path.startsWith(HOOKS_PREFIX)) return undefined;
  const parts = path.slice(HOOKS_PREFIX.length).split("/");
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts as [string, string];
  if (namespace.length > 63 || !DNS_LABEL.test(namespace)) return undefined;
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) return undefined;
  return { namespace, name };
}

function single(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/**
 * The signature a request carries: exactly one of the three headers, well formed. Two of them at
 * once, a repeated one, a `sha1=` or other prefix, or hex of the wrong length → undefined.
 */
export function credentialOf(headers: IncomingHttpHeaders): Credential | undefined {
  const present = [GITHUB_SIGNATURE_HEADER, GITLAB_TOKEN_HEADER, FLOTILLA_SIGNATURE_HEADER].filter((h) => headers[h] !== undefined);
  if (present.length !== 1) return undefined;
  const header = present[0] as string;
  const value = single(headers[header]);
  if (value === undefined) return undefined;
  if (header === GITLAB_TOKEN_HEADER) {
    // Header values arrive as latin1 strings: this gives back the bytes sent.
    const token = Buffer.from(value, "latin1");
    return token.length === 0 || token.length > MAX_TOKEN_BYTES ? undefined : { scheme: "gitlab", token };
  }
  const hex = SHA256_HEX.exec(value);
  if (!hex) return undefined;
  return { scheme: header === GITHUB_SIGNATURE_HEADER ? "github" : "generic", mac: Buffer.from(hex[1] as string, "hex") };
}

/** The `sha256=<hex>` value of the HMAC-SHA256 headers for `body` under `secret`. */
export function signatureOf(secret: Buffer | string, body: Buffer | string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

/**
 * Whether `credential` proves knowledge of `secret` for `body`. The same work whatever the input:
 * an HMAC of the body under the secret (or a dummy key when there is none) and one constant-time
 * comparison, so that the time taken does not tell whether a secret exists.
 */
export function verifySignature(credential: Credential | undefined, body: Buffer, secret: Buffer | undefined): boolean {
  const usable = secret !== undefined && secret.length > 0;
  const key = usable ? secret : DUMMY_KEY;
  const expected = createHmac("sha256", key).update(body).digest();
  let match: boolean;
  if (credential === undefined) {
    timingSafeEqual(expected, NO_MAC);
    match = false;
  } else if (credential.scheme === "gitlab") {
    // Compare HMACs of the two tokens: equal lengths, so neither the length nor the content leaks.
    const sent = createHmac("sha256", COMPARE_KEY).update(credential.token).digest();
    const wanted = createHmac("sha256", COMPARE_KEY).update(key).digest();
    match = timingSafeEqual(sent, wanted);
  } else {
    match = timingSafeEqual(expected, credential.mac);
  }
  return match && usable;
}

/** The whole check of a request: its headers carry a valid signature of `body` under `secret`. */
export function verifyRequest(headers: IncomingHttpHeaders, body: Buffer, secret: Buffer | undefined): boolean {
  return verifySignature(credentialOf(headers), body, secret);
}

/** The longest wait a bucket announces (an hour): Retry-After stays a sane number. */
const MAX_WAIT_MS = 3_600_000;

/** A token bucket on an injected clock; `take` answers 0 when a request may go, else the ms until it may. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(
    private readonly limit: RateLimit,
    now: number,
  ) {
    this.tokens = limit.burst;
    this.at = now;
  }

  private refill(now: number): void {
    if (now > this.at) this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.at) / 1000) * this.limit.perSecond);
    this.at = Math.max(this.at, now);
  }

  take(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    if (this.limit.perSecond <= 0) return MAX_WAIT_MS;
    return Math.min(MAX_WAIT_MS, Math.ceil(((1 - this.tokens) / this.limit.perSecond) * 1000));
  }

  /** Full, so that forgetting it changes nothing. */
  idle(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.limit.burst;
  }
}

interface SourceState {
  bucket: TokenBucket;
  /** When the last trigger was asked for (or is scheduled), ms. */
  last: number;
  pending: ReturnType<typeof setTimeout> | undefined;
}

/** Above this many remembered sources, idle ones are forgotten (deleted GitSources leave entries). */
const MAX_SOURCES = 10_000;

/** The receiver (see the module comment); `handle` serves any request under {@link HOOKS_PREFIX}. */
export function webhookReceiver(options: WebhookReceiverOptions): WebhookReceiver {
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? 10_000;
  const sourceLimit = options.sourceLimit ?? { burst: 10, perSecond: 1 };
  const coalesceMs = options.coalesceMs ?? 1_000;
  const now = options.now ?? Date.now;
  const log = options.logger;
  const global = new TokenBucket(options.globalLimit ?? { burst: 20, perSecond: 10 }, now());
  const sources = new Map<string, SourceState>();
  let closed = false;

  const stateOf = (key: string): SourceState => {
    let state = sources.get(key);
    if (!state) {
      if (sources.size >= MAX_SOURCES) {
        const t = now();
        for (const [k, s] of sources) if (s.pending === undefined && s.bucket.idle(t)) sources.delete(k);
      }
      state = { bucket: new TokenBucket(sourceLimit, now()), last: Number.NEGATIVE_INFINITY, pending: undefined };
      sources.set(key, state);
    }
    return state;
  };

  /** The loop's trigger; one that throws counts as refused (a trailing trigger runs in a timer, where a throw would end the process). */
  const trigger = (namespace: string, name: string): boolean => {
    try {
      return options.trigger(namespace, name);
    } catch (err) {
      log?.warn({ source: `${namespace}/${name}`, err: err instanceof Error ? err.message : String(err) }, "webhook: the fetch could not be queued");
      return false;
    }
  };

  /** Ask for a fetch now, or once at the end of the coalescing window. */
  const schedule = (namespace: string, name: string, state: SourceState): "triggered" | "coalesced" | "refused" => {
    const t = now();
    if (state.pending !== undefined) return "coalesced";
    if (t - state.last >= coalesceMs) {
      if (!trigger(namespace, name)) return "refused";
      state.last = t;
      return "triggered";
    }
    const at = state.last + coalesceMs;
    state.last = at;
    state.pending = setTimeout(() => {
      state.pending = undefined;
      if (closed) return;
      const ok = trigger(namespace, name);
      log?.debug({ source: `${namespace}/${name}`, outcome: ok ? "triggered" : "refused" }, "webhook: coalesced trigger");
    }, at - t);
    state.pending.unref?.();
    return "coalesced";
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? "GET";
    const rawUrl = req.url ?? "/";
    const path = (rawUrl.split("?")[0] ?? "").slice(0, 300);
    const answer = (status: number, outcome: string, body: Record<string, string>, headers: Record<string, string> = {}, close = false) => {
      log?.debug({ method, path, status, outcome }, "webhook");
      if (res.headersSent || res.destroyed) return;
      const text = `${JSON.stringify(body)}\n`;
      res.writeHead(status, {
        "content-type": "application/json",
        "cache-control": "no-store",
        "content-length": String(Buffer.byteLength(text)),
        ...(close ? { connection: "close" } : {}),
        ...headers,
      });
      // A body left unread is not drained: the connection ends with the answer.
      res.end(text, close ? () => req.destroy() : undefined);
    };
    const refuse = (outcome: string, close = false) => answer(401, outcome, { error: UNAUTHORIZED }, {}, close);

    if (method !== "POST") return answer(405, "method not allowed", { error: "webhooks are POST requests" }, { allow: "POST" }, true);
    const target = hookTarget(rawUrl);
    if (!target) return refuse("malformed path", true);
    const wait = global.take(now());
    if (wait > 0)
      return answer(
        429,
        "rate limited (all hooks)",
        { error: "too many webhook requests; try again later" },
        { "retry-after": String(Math.ceil(wait / 1000)) },
        true,
      );
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > maxBody)
      return answer(413, "body too large (declared)", { error: `the body is larger than ${maxBody} bytes` }, {}, true);

    const read = await readRequestBody(req, maxBody, bodyTimeoutMs);
    if ("failed" in read) {
      if (read.failed === "too-large") return answer(413, "body too large", { error: `the body is larger than ${maxBody} bytes` }, {}, true);
      if (read.failed === "timeout") return answer(408, "body timeout", { error: `the body did not arrive within ${bodyTimeoutMs} ms` }, {}, true);
      log?.debug({ method, path, outcome: "client went away" }, "webhook");
      req.destroy();
      return;
    }

    // Looked up for every well-formed request, signed or not: the same work either way.
    let secret: Buffer | undefined;
    try {
      secret = await options.secretOf(target.namespace, target.name);
    } catch (err) {
      log?.warn({ path, err: err instanceof Error ? err.message : String(err) }, "webhook: cannot read the GitSource's webhook secret");
      secret = undefined;
    }
    if (!verifyRequest(req.headers, read.body, secret)) return refuse("not verified");

    const source = `${target.namespace}/${target.name}`;
    const state = stateOf(source);
    const sourceWait = state.bucket.take(now());
    if (sourceWait > 0) {
      return answer(
        429,
        "rate limited (source)",
        { error: `too many webhook requests for ${source}; try again later` },
        { "retry-after": String(Math.ceil(sourceWait / 1000)) },
      );
    }
    if (single(req.headers["x-github-event"]) === "ping") return answer(200, "ping", { pong: source });
    const outcome = schedule(target.namespace, target.name, state);
    if (outcome === "refused") {
      return answer(503, "trigger refused", { error: `${source} cannot be fetched by this controller right now; try again` }, { "retry-after": "5" });
    }
    return answer(202, outcome, { triggered: source });
  };

  return {
    handle: (req, res) => {
      handle(req, res).catch((err: unknown) => {
        log?.error({ err: err instanceof Error ? err.message : String(err) }, "webhook request failed");
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json", connection: "close" });
          res.end(`${JSON.stringify({ error: "internal error" })}\n`);
        } else {
          res.destroy();
        }
      });
    },
    close: () => {
      closed = true;
      for (const state of sources.values()) if (state.pending !== undefined) clearTimeout(state.pending);
      sources.clear();
    },
  };
}

/** Whether a raw request URL is under {@link HOOKS_PREFIX} (or is `/hooks` itself). */
export function isHookPath(rawUrl: string): boolean {
  const q = rawUrl.indexOf("?");
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  return path === "/hooks" || path.startsWith(HOOKS_PREFIX);
}

/** One handler for the controller's HTTP server: /hooks/ to `hooks`, everything else to `other` (404 without it). */
export function routeHooks(hooks: RequestHandler, other?: RequestHandler): RequestHandler {
  return (req, res) => {
    if (isHookPath(req.url ?? "/")) return hooks(req, res);
    if (other) return other(req, res);
    const text = "not found: this server serves only GitSource webhooks, at POST /hooks/<namespace>/<name>\n";
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache", "content-length": String(Buffer.byteLength(text)) });
    res.end(text);
  };
}
