// A minimal HTTPS client for one API server: JSON requests and a streaming watch, bearer-token
// auth, keep-alive with a bounded socket pool. The node simulator uses it instead of the
// generated client so it controls retries, watch restarts and connection reuse itself.
// It never throws for an HTTP status: callers classify statuses (by code, not message text).
import https from "node:https";
import { FleetError } from "./errors.js";

export interface KubeClientOptions {
  /** `https://127.0.0.1:<port>` */
  server: string;
  token: string;
  /** CA that signed the serving certificate; when absent the certificate is not verified (loopback only). */
  caPem?: string;
  /** Concurrent connections to the server. Default 32. */
  maxSockets?: number;
  /** Per-request timeout in ms (not for watches). Default 30 s. */
  timeoutMs?: number;
}

export interface KubeResponse<T = unknown> {
  status: number;
  body: T | undefined;
}

export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  // biome-ignore lint/suspicious/noExplicitAny: raw JSON from the API server, narrowed by callers
  object: any;
}

/** The API server answered a watch with an HTTP error (e.g. 410 Gone: relist). */
export class WatchError extends FleetError {
  override name = "WatchError";
  readonly status: number;
  constructor(status: number, message: string) {
    super(`watch failed with HTTP ${status}: ${message}`);
    this.status = status;
  }
}

export class KubeClient {
  private readonly agent: https.Agent;
  private readonly url: URL;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(options: KubeClientOptions) {
    this.url = new URL(options.server);
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.agent = new https.Agent({
      keepAlive: true,
      maxSockets: options.maxSockets ?? 32,
      ...(options.caPem ? { ca: options.caPem } : { rejectUnauthorized: false }),
    });
  }

  /** One JSON request. `contentType` defaults to application/json (use merge-patch for PATCH). */
  request<T = unknown>(
    method: string,
    path: string,
    options: { body?: unknown; contentType?: string } = {},
  ): Promise<KubeResponse<T>> {
    const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method,
          path,
          timeout: this.timeoutMs,
          headers: {
            authorization: `Bearer ${this.token}`,
            accept: "application/json",
            ...(payload === undefined
              ? {}
              : { "content-type": options.contentType ?? "application/json", "content-length": Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            let body: T | undefined;
            try {
              body = text ? (JSON.parse(text) as T) : undefined;
            } catch {
              body = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body });
          });
        },
      );
      req.on("timeout", () => req.destroy(new FleetError(`${method} ${path}: no answer in ${this.timeoutMs} ms`)));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /**
   * Watch `path` from `resourceVersion` until the server ends the stream (after `timeoutSeconds`),
   * `signal` aborts it (resolves), or an error occurs (rejects; WatchError for an HTTP status).
   */
  watch(
    path: string,
    options: { resourceVersion: string; timeoutSeconds?: number; signal: AbortSignal; onEvent: (e: WatchEvent) => void },
  ): Promise<void> {
    const query = new URLSearchParams({
      watch: "true",
      allowWatchBookmarks: "true",
      resourceVersion: options.resourceVersion,
      timeoutSeconds: String(options.timeoutSeconds ?? 300),
    });
    return new Promise((resolve, reject) => {
      if (options.signal.aborted) return resolve();
      const req = https.request(
        {
          agent: this.agent,
          host: this.url.hostname,
          port: this.url.port,
          method: "GET",
          path: `${path}?${query}`,
          headers: { authorization: `Bearer ${this.token}`, accept: "application/json" },
        },
        (res) => {
          if (res.statusCode !== 200) {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("end", () =>
              reject(new WatchError(res.statusCode ?? 0, Buffer.concat(chunks).toString("utf8").slice(0, 300))),
            );
            return;
          }
          let buffered = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => {
            buffered += chunk;
            let nl = buffered.indexOf("\n");
            while (nl >= 0) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (line) {
                try {
                  options.onEvent(JSON.parse(line) as WatchEvent);
                } catch (err) {
                  req.destroy(err as Error);
                  return;
                }
              }
              nl = buffered.indexOf("\n");
            }
          });
          res.on("end", () => resolve());
          res.on("error", (err) => (options.signal.aborted ? resolve() : reject(err)));
        },
      );
      const onAbort = () => req.destroy();
      options.signal.addEventListener("abort", onAbort, { once: true });
      req.on("error", (err) => (options.signal.aborted ? resolve() : reject(err)));
      req.on("close", () => options.signal.removeEventListener("abort", onAbort));
      req.end();
    });
  }

  /** Close idle connections (in-flight requests finish). */
  close(): void {
    this.agent.destroy();
  }
}
