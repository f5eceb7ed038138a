// A real Git server on loopback for the remote-mode tests: stock `git http-backend` run as CGI
// behind a tiny Node HTTP server that demands a token (basic auth password or bearer) and answers
// 401 without it. Serves bare repositories under `root`, created with stock `git init --bare`.

import { execFile, spawn } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface GitHttpServerOptions {
  /** Folder holding the bare repositories (GIT_PROJECT_ROOT). */
  root: string;
  /** The token every request must carry. */
  token: string;
  /** Port to listen on; default a free one. Kept across stop()/start(). */
  port?: number;
}

export interface GitHttpServer {
  readonly port: number;
  /** `http://127.0.0.1:<port>/<repo>` */
  url(repo: string): string;
  /** Requests answered so far (any status). */
  readonly requests: number;
  stop(): Promise<void>;
  /** Listen again on the same port after stop(). */
  start(): Promise<void>;
}

/** Environment for stock git commands in tests: no user or system config leaks in. */
export function gitEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: home,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_TERMINAL_PROMPT: "0",
    LC_ALL: "C",
    GIT_AUTHOR_NAME: "Other Writer",
    GIT_AUTHOR_EMAIL: "other@example.com",
    GIT_COMMITTER_NAME: "Other Writer",
    GIT_COMMITTER_EMAIL: "other@example.com",
  };
}

/** Run stock git; throws with stderr on failure. */
export async function git(args: string[], options: { cwd?: string; home: string }): Promise<string> {
  const { stdout } = await run("git", args, { cwd: options.cwd, env: gitEnv(options.home), maxBuffer: 32 * 1024 * 1024 });
  return stdout;
}

/** `git init --bare` a repository under root that accepts pushes over HTTP. */
export async function createBareRepo(root: string, name: string): Promise<string> {
  const path = `${root}/${name}`;
  await git(["init", "--quiet", "--bare", "--initial-branch=main", path], { home: root });
  await git(["--git-dir", path, "config", "http.receivepack", "true"], { home: root });
  return path;
}

function authorized(req: IncomingMessage, token: string): string | null {
  const header = req.headers.authorization ?? "";
  if (header === `Bearer ${token}`) return "bearer";
  if (header.startsWith("Basic ")) {
    const decoded = Buffer.from(header.slice(6), "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon >= 0 && decoded.slice(colon + 1) === token) return decoded.slice(0, colon) || "token";
  }
  return null;
}

function serveCgi(req: IncomingMessage, res: ServerResponse, root: string, user: string): void {
  const url = new URL(req.url ?? "/", "http://localhost");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: root,
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    REMOTE_USER: user,
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    REQUEST_METHOD: req.method ?? "GET",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    GATEWAY_INTERFACE: "CGI/1.1",
    SERVER_PROTOCOL: "HTTP/1.1",
  };
  if (req.headers["content-length"]) env.CONTENT_LENGTH = req.headers["content-length"];
  if (req.headers["content-encoding"]) env.HTTP_CONTENT_ENCODING = req.headers["content-encoding"];
  if (req.headers["git-protocol"]) env.GIT_PROTOCOL = String(req.headers["git-protocol"]);
  const child = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
  req.pipe(child.stdin);
  child.stdin.on("error", () => undefined);
  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    let end = head.indexOf("\r\n\r\n");
    let sep = 4;
    if (end < 0) {
      end = head.indexOf("\n\n");
      sep = 2;
    }
    if (end < 0) return;
    headersDone = true;
    let status = 200;
    for (const line of head.subarray(0, end).toString("latin1").split(/\r?\n/)) {
      const colon = line.indexOf(":");
      if (colon < 0) continue;
      const key = line.slice(0, colon).trim();
      const value = line.slice(colon + 1).trim();
      if (key.toLowerCase() === "status") status = Number.parseInt(value, 10);
      else res.setHeader(key, value);
    }
    res.statusCode = status;
    res.write(head.subarray(end + sep));
  });
  child.on("close", () => {
    if (!headersDone) res.statusCode = 502;
    res.end();
  });
}

export async function startGitHttpServer(options: GitHttpServerOptions): Promise<GitHttpServer> {
  let requests = 0;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    requests++;
    const user = authorized(req, options.token);
    if (!user) {
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="flotilla-test"', "Content-Type": "text/plain" });
      res.end("authentication required\n");
      return;
    }
    serveCgi(req, res, options.root, user);
  };
  let server: Server | undefined;
  let port = options.port ?? 0;
  const listen = async () => {
    const s = createServer(handler);
    await new Promise<void>((resolve, reject) => {
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    get requests() {
      return requests;
    },
    url: (repo) => `http://127.0.0.1:${port}/${repo}`,
    async stop() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async start() {
      if (!server) await listen();
    },
  };
}
