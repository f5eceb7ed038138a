// HTTP to one API server: keep-alive connections, authentication refreshed now and then, a bound
// on requests in flight (so a large sync cannot flood a member's API server), counts by verb, and
// long-lived streams for watches. It never throws for an HTTP status: callers classify answers
// (see status.ts); it throws a retryable KubeApiError when no answer came at all.

import http from "node:http";
import https from "node:https";
import { isRetryableStatus, KubeApiError } from "../api/errors.js";
import { type Clock, systemClock } from "../support/clock.js";
import type { Credentials } from "./credentials.js";
import { Limiter } from "./limiter.js";
import { type HttpResult, parseBody } from "./status.js";

export interface TransportOptions {
  credentials: Credentials;
  /** Requests in flight at once; more wait in a queue. Default 8. */
  maxInFlight?: number;
  /** Per-request timeout in milliseconds. Default 30 000. */
  timeoutMs?: number;
  /** How long authentication headers (tokens, exec plugins) are reused, in ms. Default 60 000. */
  authRefreshMs?: number;
  /** Told of every request sent, by verb (metrics). */
  onRequest?: (verb: string) => void;
  /** The clock authentication refreshes are timed by. Default: the system clock. */
  clock?: Clock;
}

/** Counts of requests sent, by verb; benchmarks and tests read them. */
export interface RequestStats {
  total: number;
  byVerb: Record<string, number>;
}

export interface RequestOptions {
  /** The verb counted in stats and metrics (`get`, `apply`, `discovery`…). */
  verb: string;
  body?: unknown;
  contentType?: string;
  accept?: string;
  signal?: AbortSignal;
}

export interface StreamOptions {
  verb: string;
  accept?: string;
  /** No byte for this long means the connection is dead. */
  idleTimeoutMs: number;
  signal?: AbortSignal;
}

/** What a stream hands its reader: the answer's status, then its text as it arrives. */
export interface StreamReader {
  /** An error status: the whole body, read before the stream ends. */
  onErrorStatus(res: HttpResult): void;
  onText(text: string): void;
}

export class Transport {
  readonly server: URL;
  readonly stats: RequestStats = { total: 0, byVerb: {} };
  private readonly credentials: Credentials;
  private readonly limiter: Limiter;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  private readonly authRefreshMs: number;
  private readonly onRequest: ((verb: string) => void) | undefined;
  private readonly clock: Clock;
  private agent: http.Agent | undefined;
  private tls: https.RequestOptions = {};
  private authAt = 0;

  constructor(options: TransportOptions) {
    this.credentials = options.credentials;
    this.server = options.credentials.server;
    this.maxInFlight = options.maxInFlight ?? 8;
    this.limiter = new Limiter(this.maxInFlight);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.authRefreshMs = options.authRefreshMs ?? 60_000;
    this.onRequest = options.onRequest;
    this.clock = options.clock ?? systemClock;
  }

  /** Close idle keep-alive connections; the transport stays usable (sockets reopen on demand). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private count(verb: string): void {
    this.stats.total++;
    this.stats.byVerb[verb] = (this.stats.byVerb[verb] ?? 0) + 1;
    this.onRequest?.(verb);
  }

  private async prepare(): Promise<void> {
    const now = this.clock.now();
    if (this.agent && now - this.authAt < this.authRefreshMs) return;
    const opts: https.RequestOptions = {};
    await this.credentials.applyTo(opts);
    const { ca, cert, key, rejectUnauthorized, servername, headers, auth } = opts;
    const tlsOnly = {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(key ? { key } : {}),
      ...(rejectUnauthorized === undefined ? {} : { rejectUnauthorized }),
      ...(servername ? { servername } : {}),
    };
    this.tls = { ...tlsOnly, ...(headers ? { headers } : {}), ...(auth ? { auth } : {}) };
    if (!this.agent) {
      const agentOptions = { keepAlive: true, maxSockets: Math.max(16, this.maxInFlight) };
      this.agent = this.server.protocol === "https:" ? new https.Agent({ ...agentOptions, ...tlsOnly }) : new http.Agent(agentOptions);
    }
    this.authAt = now;
  }

  private get module(): typeof http | typeof https {
    return this.server.protocol === "https:" ? https : http;
  }

  private fullPath(path: string): string {
    return this.server.pathname.replace(/\/$/, "") + path;
  }

  private unreachable(method: string, path: string, cause: Error): KubeApiError {
    return new KubeApiError(`cannot reach ${this.server.host}: ${cause.message}`, {
      object: `${method} ${path.split("?")[0]}`,
      retryable: isRetryableStatus(undefined),
      cause,
    });
  }

  /** One request within the in-flight bound; resolves with any answer, rejects only without one. */
  request(method: string, path: string, options: RequestOptions): Promise<HttpResult> {
    const { verb, body, contentType = "application/json", accept = "application/json", signal } = options;
    return this.limiter.run(async () => {
      await this.prepare();
      this.count(verb);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      return await new Promise<HttpResult>((resolve, reject) => {
        const req = this.module.request(
          {
            protocol: this.server.protocol,
            hostname: this.server.hostname,
            port: this.server.port,
            path: this.fullPath(path),
            method,
            agent: this.agent,
            timeout: this.timeoutMs,
            ...(signal ? { signal } : {}),
            ...(this.tls.auth ? { auth: this.tls.auth } : {}),
            headers: {
              ...(this.tls.headers ?? {}),
              Accept: accept,
              ...(payload === undefined ? {} : { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) }),
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks)) }));
            res.on("error", reject);
          },
        );
        req.on("timeout", () => req.destroy(new Error(`request timed out after ${this.timeoutMs} ms`)));
        req.on("error", (cause) => reject(this.unreachable(method, path, cause)));
        if (payload !== undefined) req.write(payload);
        req.end();
      });
    });
  }

  /**
   * A GET whose answer is read as it arrives (a watch), on a connection of its own outside the
   * in-flight bound. Resolves when the server ends the answer or the signal aborts; rejects with
   * a retryable KubeApiError when the connection fails, or with what `reader` throws.
   */
  async stream(path: string, options: StreamOptions, reader: StreamReader): Promise<void> {
    await this.prepare();
    this.count(options.verb);
    const { signal } = options;
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return resolve();
      const { headers, ...tls } = this.tls;
      const req = this.module.request({
        ...tls,
        protocol: this.server.protocol,
        hostname: this.server.hostname,
        port: this.server.port,
        path: this.fullPath(path),
        method: "GET",
        agent: false,
        timeout: options.idleTimeoutMs,
        headers: { ...(headers ?? {}), Accept: options.accept ?? "application/json" },
      });
      let failure: Error | undefined;
      const onAbort = () => req.destroy();
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = (error?: Error) => {
        signal?.removeEventListener("abort", onAbort);
        if (signal?.aborted) resolve();
        else if (error) reject(error);
        else resolve();
      };
      const fail = (error: unknown) => {
        failure = error instanceof Error ? error : new Error(String(error));
        req.destroy();
      };
      req.on("timeout", () => req.destroy(new Error(`no data for ${options.idleTimeoutMs / 1000} s`)));
      req.on("error", (cause) => done(failure ?? this.unreachable("GET", path, cause)));
      req.on("response", (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            try {
              reader.onErrorStatus({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks)) });
              done();
            } catch (error) {
              done(error as Error);
            }
          });
          return;
        }
        res.setEncoding("utf8");
        res.on("data", (text: string) => {
          if (failure) return;
          try {
            reader.onText(text);
          } catch (error) {
            fail(error);
          }
        });
        res.on("error", (error) => done(failure ?? error));
        res.on("close", () => done(failure));
      });
      req.end();
    });
  }
}
