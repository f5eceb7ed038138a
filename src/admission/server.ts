// The webhook's HTTPS server: `POST /validate` with an AdmissionReview v1, answered with the
// validator's verdict. Bodies are bounded in size and time; the certificate is swapped in place
// (setSecureContext) when it rotates, without a restart or a dropped connection.

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { Logger } from "pino";
import { readRequestBody } from "../support/request-body.js";
import type { KeyPairPem } from "./certificates.js";
import { type AdmissionRequest, parseReview, reviewResponse, type Verdict } from "./review.js";
import { VALIDATE_PATH } from "./webhook-config.js";

export interface AdmissionServerOptions {
  host: string;
  /** 0 picks a free port (see AdmissionServer.port). */
  port: number;
  admit: (request: AdmissionRequest) => Promise<Verdict>;
  logger?: Logger;
  /**
   * Largest body accepted, bytes; a larger one gets 413. Default 8 MiB: an AdmissionReview of an
   * UPDATE carries the object twice, and etcd takes objects of up to about 1.5 MiB.
   */
  maxBodyBytes?: number;
  /** A body not complete this long after the headers gets 408, ms. Default 5 000. */
  bodyTimeoutMs?: number;
  /** Told of every review answered: how long it took (ms) and the verdict. */
  onReview?: (ms: number, request: AdmissionRequest, verdict: Verdict) => void;
}

export interface AdmissionServer {
  readonly server: Server;
  readonly port: number;
  /** Serve this certificate for new connections from now on. */
  setCertificate(pair: KeyPairPem): void;
  close(): Promise<void>;
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Start listening; handshakes fail until the first setCertificate. */
export async function startAdmissionServer(o: AdmissionServerOptions): Promise<AdmissionServer> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== VALIDATE_PATH) return answer(res, 404, { error: `not found: the webhook answers POST ${VALIDATE_PATH}` });
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return answer(res, 405, { error: "use POST" });
    }
    const started = process.hrtime.bigint();
    const read = await readRequestBody(req, o.maxBodyBytes ?? 8 * 1024 * 1024, o.bodyTimeoutMs ?? 5_000);
    if ("failed" in read) {
      if (read.failed === "aborted") return;
      res.setHeader("connection", "close");
      return answer(res, read.failed === "too-large" ? 413 : 408, {
        error: read.failed === "too-large" ? "the body is too large" : "the body did not arrive in time",
      });
    }
    let body: unknown;
    try {
      body = JSON.parse(read.body.toString("utf8"));
    } catch {
      return answer(res, 400, { error: "the body is not JSON" });
    }
    const parsed = parseReview(body);
    if ("error" in parsed) return answer(res, 400, { error: parsed.error });
    const { request } = parsed;
    const verdict = await o
      .admit(request)
      .catch((e: unknown): Verdict => ({ allowed: true, warnings: [`flotilla: could not check this object (${e instanceof Error ? e.message : String(e)})`] }));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    o.onReview?.(ms, request, verdict);
    o.logger?.debug(
      {
        kind: request.kind.kind,
        namespace: request.namespace,
        name: request.name,
        operation: request.operation,
        allowed: verdict.allowed,
        ms: Math.round(ms * 10) / 10,
      },
      "admission review",
    );
    answer(res, 200, reviewResponse(request.uid, verdict));
  };
  const server = createServer({}, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      o.logger?.warn({ err: e instanceof Error ? e.message : String(e) }, "admission request failed");
      if (!res.headersSent) answer(res, 500, { error: "internal error" });
    });
  });
  // The API server keeps connections alive; a connection idle longer than its own pool keeps it is closed.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  server.on("tlsClientError", (e) => o.logger?.debug({ err: e.message }, "admission webhook: TLS handshake failed"));
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;
  return {
    server,
    port,
    setCertificate: (pair) => server.setSecureContext({ cert: pair.cert, key: pair.key }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
