// The web UI's built bundle (`dist/ui/`, made by `npm run build`) served read-only: index.html at
// `/`, files by exact name below the bundle directory with their content type, hashed assets
// cached for good. It must never serve a file outside the bundle directory, list a folder, or
// follow a spelling of `..`.

import { createReadStream } from "node:fs";
import { realpath, stat } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, sep } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".jpg": "image/jpeg",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".txt": "text/plain; charset=utf-8",
  ".webmanifest": "application/manifest+json",
};

/** Vite's file names carry a content hash (`index-4f3a9c1b.js`): such a file never changes. */
const HASHED = /[-.][A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

export function contentTypeOf(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
}

/**
 * The bundle-relative file a URL path names, or undefined when it names none we may serve: `/`
 * is index.html; a segment that is empty, `.`, `..`, hidden, or holds a backslash or NUL is refused.
 */
export function bundlePath(urlPath: string): string | undefined {
  if (urlPath === "/" || urlPath === "/index.html") return "index.html";
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (!decoded.startsWith("/")) return undefined;
  const segments = decoded.slice(1).split("/");
  if (segments.some((s) => s === "" || s.startsWith(".") || s.includes("\\") || s.includes("\0"))) return undefined;
  return segments.join("/");
}

export function cacheControlOf(relative: string): string {
  if (relative.startsWith("assets/") && HASHED.test(relative)) return "public, max-age=31536000, immutable";
  return "no-cache";
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-cache" });
  res.end(`${body}\n`);
}

/** A handler for GET/HEAD of the bundle's files (see the module comment). */
export function staticHandler(bundleDir: string): (req: IncomingMessage, res: ServerResponse, urlPath: string) => Promise<void> {
  let root: string | undefined;
  return async (req, res, urlPath) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
      res.end("method not allowed\n");
      return;
    }
    const relative = bundlePath(urlPath);
    if (relative === undefined) return text(res, 404, "not found");
    try {
      root ??= await realpath(bundleDir);
    } catch {
      if (relative === "index.html")
        return text(
          res,
          503,
          `The web UI is not built: ${bundleDir} does not exist. Run \`npm run build\`, then reload this page. The API under /api/ works meanwhile.`,
        );
      return text(res, 404, "not found");
    }
    let file: string;
    let size: number;
    try {
      // Through realpath: a symbolic link inside the bundle may not lead out of it.
      file = await realpath(join(root, relative));
      if (!file.startsWith(root + sep)) return text(res, 404, "not found");
      const info = await stat(file);
      if (!info.isFile()) return text(res, 404, "not found");
      size = info.size;
    } catch {
      if (relative === "index.html")
        return text(res, 503, `The web UI is not built: ${join(bundleDir, "index.html")} is missing. Run \`npm run build\`, then reload this page.`);
      return text(res, 404, "not found");
    }
    res.writeHead(200, { "content-type": contentTypeOf(file), "content-length": String(size), "cache-control": cacheControlOf(relative) });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    createReadStream(file)
      .on("error", () => res.destroy())
      .pipe(res);
  };
}
