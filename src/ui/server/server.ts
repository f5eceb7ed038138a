// The web UI's HTTP server, started by the controller on --ui-addr: the built bundle (static.ts)
// and the JSON API with its live stream (api.ts, streams.ts), every answer with headers that keep
// the page from loading anything but its own files or being framed. It owns no data: the
// controller's caches feed it through UiSource and UiFeed.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import type { Logger } from "pino";
import { packageRoot } from "../../cli/package-root.js";
import type { AccessReviews } from "../../controller/token-access.js";
import { apiHandler, sendJson } from "./api.js";
import { UiAuth } from "./auth.js";
import type { UiFeed, UiSource } from "./source.js";
import { staticHandler } from "./static.js";
import { EventStreams, type StreamOptions } from "./streams.js";
import { clusterItem, deploymentSummary, deploymentsByCluster, lastSyncByCluster } from "./views.js";

export interface UiServerOptions {
  host: string;
  port: number;
  source: UiSource;
  /** TokenReview and SubjectAccessReview on the hub (hubAccessReviews), or a fake in tests. */
  reviews: AccessReviews;
  /** The built bundle. Default `<package root>/dist/ui`. */
  bundleDir?: string;
  /** How long review answers are kept, ms. Default 10,000. */
  reviewTtlMs?: number;
  streams?: StreamOptions;
  logger?: Logger;
}

export interface UiServer {
  server: Server;
  port: number;
  /** For the controller's informer handlers: changes go to the open streams. */
  feed: UiFeed;
  auth: UiAuth;
  streams: EventStreams;
  close(): Promise<void>;
}

/** The bundle `npm run build` makes. */
export function defaultBundleDir(): string {
  return join(packageRoot(), "dist", "ui");
}

/**
 * CSP: only this origin's scripts, styles, images and connections (the API and the stream); no
 * plugin, no base rewrite, no framing (clickjacking a Promote button), no form posting elsewhere.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
};

export async function startUiServer(o: UiServerOptions): Promise<UiServer> {
  const log = o.logger;
  const auth = new UiAuth({ reviews: o.reviews, ...(o.reviewTtlMs === undefined ? {} : { ttlMs: o.reviewTtlMs }) });
  const streams = new EventStreams(o.streams);
  const api = apiHandler({ source: o.source, auth, streams, ...(log ? { logger: log } : {}) });
  const files = staticHandler(o.bundleDir ?? defaultBundleDir());

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
    let url: URL;
    try {
      url = new URL(req.url ?? "/", "http://ui.invalid");
    } catch {
      return sendJson(res, 400, { error: "malformed request URL" });
    }
    const done = (p: Promise<void>) =>
      p.catch((e: unknown) => {
        log?.error({ path: url.pathname, err: e instanceof Error ? e.message : String(e) }, "ui: request failed");
        if (!res.headersSent) sendJson(res, 500, { error: "internal error; see the controller's log" });
        else res.destroy();
      });
    if (url.pathname === "/api" || url.pathname.startsWith("/api/")) return void done(api(req, res, url));
    return void done(files(req, res, url.pathname));
  };

  const server = createServer(handler);
  // A slow client may not hold a socket for long; the event stream sets its own (none).
  server.headersTimeout = 20_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const addr = server.address();
  const port = typeof addr === "object" && addr ? addr.port : o.port;

  const clusterView = (name: string) => {
    const cluster = o.source.clusters().find((c) => c.metadata.name === name);
    if (!cluster) return undefined;
    const deployments = o.source.deployments();
    return clusterItem(cluster, deploymentsByCluster(deployments).get(name) ?? [], lastSyncByCluster(deployments).get(name));
  };
  const feed: UiFeed = {
    deploymentChanged: (ad) => {
      // Without a browser listening, nothing is serialized (the dedupe entry is dropped instead).
      if (streams.size > 0) streams.deployment(deploymentSummary(ad));
      else streams.forget("deployment", `${ad.metadata.namespace ?? "default"}/${ad.metadata.name}`);
    },
    deploymentDeleted: (ad) => streams.deploymentDeleted(ad.metadata.namespace ?? "default", ad.metadata.name),
    clusterChanged: (c) => {
      if (streams.size === 0) return streams.forget("cluster", c.metadata.name);
      const item = clusterView(c.metadata.name);
      if (item) streams.cluster(item);
    },
    clusterDeleted: (c) => streams.clusterDeleted(c.metadata.name),
  };

  return {
    server,
    port,
    feed,
    auth,
    streams,
    close: async () => {
      streams.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
