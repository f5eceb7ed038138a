// The controller's Git server, tried with real clients: stock `git` (clone, fetch, push) and the
// isomorphic-git remote the agent uses, against stock `git http-backend` over a repository that
// EnvRepo wrote. Backend limits (concurrency, timeout, a client that leaves) use a stand-in
// `git` script that records its pid and environment.

import { execFile } from "node:child_process";
import { chmod, readdir, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import type { Server } from "node:http";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { type Logger, pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { AnswerCache } from "../../../src/gitops/serve-cache.js";
import { type AccessDecision, parseCgiHeaders, routeOf, startGitServer, tokenOf } from "../../../src/gitops/serve.js";
import { configMaps, stockGit, tempDir } from "./support.js";

const run = promisify(execFile);
const AGENT = "system:serviceaccount:flotilla-cluster-prod-eu:flotilla-agent";

async function authorize(token: string): Promise<AccessDecision> {
  if (token === "good") return { outcome: "allowed", user: AGENT };
  if (token === "other") return { outcome: "denied", user: "system:serviceaccount:team-a:builder", reason: "no RBAC rule" };
  if (token === "hub-down") return { outcome: "unavailable", reason: "connect ECONNREFUSED" };
  return { outcome: "unauthenticated", reason: "token not found" };
}

/** Stock git in a clean environment: no credential helper, no prompt, no user config. */
async function git(cwd: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run("git", args, {
      cwd,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0", LC_ALL: "C" },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: typeof e.code === "number" ? e.code : 1 };
  }
}

/** A raw request: the path goes out exactly as written (fetch() would normalize `..`). */
function raw(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer | Buffer[] } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    // The server may answer (413) and close before the whole body is sent.
    req.on("error", (e: NodeJS.ErrnoException) => (e.code === "EPIPE" || e.code === "ECONNRESET" ? undefined : reject(e)));
    const body = options.body;
    if (Array.isArray(body)) {
      for (const b of body) req.write(b);
      req.end();
    } else {
      req.end(body);
    }
  });
}

function logCapture(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString("utf8"));
      cb();
    },
  });
  return { logger: pino({ level: "debug" }, sink), text: () => lines.join("") };
}

const bearer = (token: string) => `Authorization: Bearer ${token}`;

describe("serving the environment repository with stock git http-backend", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let repo: EnvRepo;
  let server: Server;
  let port: number;
  let url: string;
  const logs = logCapture();

  beforeAll(async () => {
    dir = await tempDir("flotilla-serve-");
    repo = await EnvRepo.open({ dir: `${dir.path}/data/env.git` });
    await repo.commitDeployments(
      [
        {
          namespace: "team-a",
          name: "web",
          clusters: { "prod-eu": configMaps("team-a", { web: "1", worker: "1" }), staging: configMaps("team-a", { web: "1" }) },
        },
      ],
      "v1",
    );
    // A sibling repository in the same data directory: it must stay out of reach.
    await run("git", ["init", "-q", "--bare", `${dir.path}/data/other.git`]);
    ({ server, port } = await startGitServer({ host: "127.0.0.1", port: 0, repoDir: `${dir.path}/data/env.git`, authorize, logger: logs.logger }));
    url = `http://127.0.0.1:${port}/env.git`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await dir.cleanup();
  });

  it("lets stock git clone with a bearer token; the clone is fsck-clean and at the served head", async () => {
    const clone = await git(dir.path, ["-c", `http.extraHeader=${bearer("good")}`, "clone", "-q", url, "bearer-clone"]);
    expect(clone.stderr).toBe("");
    expect(clone.code).toBe(0);
    const fsck = await git(`${dir.path}/bearer-clone`, ["fsck", "--strict", "--no-dangling"]);
    expect(fsck.code).toBe(0);
    expect(fsck.stderr).toBe("");
    const head = await git(`${dir.path}/bearer-clone`, ["rev-parse", "HEAD"]);
    expect(head.stdout.trim()).toBe(await repo.head());
    const files = await readdir(`${dir.path}/bearer-clone/clusters/prod-eu/team-a/web`);
    expect(files).toHaveLength(2);
  });

  it("fetches only the objects of a new commit", async () => {
    const before = await repo.head();
    await repo.commitDeployments(
      [
        {
          namespace: "team-a",
          name: "web",
          clusters: { "prod-eu": configMaps("team-a", { web: "2", worker: "1" }), staging: configMaps("team-a", { web: "1" }) },
        },
      ],
      "v2",
    );
    const after = await repo.head();
    expect(after).not.toBe(before);
    const cwd = `${dir.path}/bearer-clone`;
    // Every received object is written loose, so what arrived can be counted.
    const fetch = await git(cwd, ["-c", `http.extraHeader=${bearer("good")}`, "-c", "fetch.unpackLimit=1000000", "fetch", "-q", "origin"]);
    expect(fetch.code).toBe(0);
    expect((await git(cwd, ["rev-parse", "origin/main"])).stdout.trim()).toBe(after);
    const newObjects = await stockGit(`${dir.path}/data/env.git`, ["rev-list", "--objects", `${before}..${after}`]);
    const expected = newObjects.stdout.trim().split("\n").length;
    const loose = await git(cwd, ["count-objects", "-v"]);
    const count = Number(/^count: (\d+)$/m.exec(loose.stdout)?.[1]);
    // The commit, the root tree, clusters/, prod-eu/, team-a/, web/ and the changed file.
    expect(expected).toBe(7);
    expect(count).toBe(expected);
  });

  it("takes the token as the password of basic auth, with any user name (stock git answers the 401 challenge)", async () => {
    const clone = await git(dir.path, ["clone", "-q", `http://anyone:good@127.0.0.1:${port}/env.git`, "basic-clone"]);
    expect(clone.code).toBe(0);
    expect((await git(`${dir.path}/basic-clone`, ["rev-parse", "HEAD"])).stdout.trim()).toBe(await repo.head());
  });

  it("refuses a push with 403, and the served head does not move", async () => {
    const cwd = `${dir.path}/bearer-clone`;
    const head = await repo.head();
    await writeFile(`${cwd}/pushed.txt`, "x\n");
    await git(cwd, ["add", "pushed.txt"]);
    const commit = await git(cwd, ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "push me"]);
    expect(commit.code).toBe(0);
    const push = await git(cwd, ["-c", `http.extraHeader=${bearer("good")}`, "push", "origin", "HEAD:main"]);
    expect(push.code).not.toBe(0);
    expect(push.stderr).toContain("403");
    expect(await repo.head()).toBe(head);
    const r = await raw(port, "/env.git/git-receive-pack", { method: "POST", headers: { authorization: "Bearer good" }, body: Buffer.from("0000") });
    expect(r.status).toBe(403);
  });

  it("lets the agent's isomorphic-git remote fetch the served repository, with a bearer token or basic auth", async () => {
    for (const authScheme of ["bearer", "basic"] as const) {
      const agent = await EnvRepo.open({ dir: `${dir.path}/agent-${authScheme}.git`, remote: { url, token: "good", authScheme } });
      expect(await agent.head()).toBe(await repo.head());
      const files = await agent.readCluster("prod-eu", (await agent.head()) as string);
      expect([...files.keys()]).toHaveLength(2);
    }
  });

  it("the agent's remote reports a refused token as a credentials error", async () => {
    await expect(EnvRepo.open({ dir: `${dir.path}/agent-refused.git`, remote: { url, token: "other", authScheme: "bearer" } })).rejects.toThrow(/HTTP 403/);
  });

  it.each([
    ["no token", {}, 401],
    ["an invalid token", { authorization: "Bearer wrong" }, 401],
    ["basic auth without a password", { authorization: `Basic ${Buffer.from("good:").toString("base64")}` }, 401],
    ["a token whose user may not read", { authorization: "Bearer other" }, 403],
  ])("answers %s with %i", async (_what, headers: Record<string, string>, status) => {
    const r = await raw(port, "/env.git/info/refs?service=git-upload-pack", { headers });
    expect(r.status).toBe(status);
    if (status === 401) expect(r.headers["www-authenticate"]).toBe('Basic realm="flotilla"');
    if (status === 403) expect(r.body).toContain("/flotilla/env.git");
  });

  it("asks to try again (503, Retry-After) when the token cannot be checked, instead of calling it invalid", async () => {
    const r = await raw(port, "/env.git/info/refs?service=git-upload-pack", { headers: { authorization: "Bearer hub-down" } });
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("5");
  });

  it.each([
    "/other.git/info/refs?service=git-upload-pack",
    "/env.git/../other.git/info/refs?service=git-upload-pack",
    "/env.git/%2e%2e/other.git/info/refs?service=git-upload-pack",
    "/env.git/info/refs/../../../other.git/info/refs?service=git-upload-pack",
    "//env.git/info/refs?service=git-upload-pack",
    "/env.git/info/refs",
    "/env.git/HEAD",
    "/env.git/config",
    "/env.git/objects/info/packs",
    "/",
  ])("answers 404 to %s, even with a good token", async (path) => {
    const r = await raw(port, path, { headers: { authorization: "Bearer good" } });
    expect(r.status).toBe(404);
    expect(r.body).not.toContain("[core]");
  });

  it("answers 404 to a GET of git-upload-pack and a POST of info/refs", async () => {
    expect((await raw(port, "/env.git/git-upload-pack", { headers: { authorization: "Bearer good" } })).status).toBe(404);
    expect((await raw(port, "/env.git/info/refs?service=git-upload-pack", { method: "POST", headers: { authorization: "Bearer good" } })).status).toBe(404);
  });

  it("refuses a body over 10 MiB with 413, whether its length is declared or chunked", async () => {
    const big = Buffer.alloc(10 * 1024 * 1024 + 1, 0x30);
    const headers = { authorization: "Bearer good", "content-type": "application/x-git-upload-pack-request" };
    expect((await raw(port, "/env.git/git-upload-pack", { method: "POST", headers, body: big })).status).toBe(413);
    const chunks = Array.from({ length: 11 }, () => Buffer.alloc(1024 * 1024, 0x30));
    expect(
      (await raw(port, "/env.git/git-upload-pack", { method: "POST", headers: { ...headers, "transfer-encoding": "chunked" }, body: chunks })).status,
    ).toBe(413);
  });

  it("never logs a token", () => {
    const text = logs.text();
    expect(text).toContain('"status":401');
    expect(text).toContain(AGENT);
    expect(text).not.toMatch(/good|wrong|hub-down|Bearer/);
    expect(text).not.toContain(Buffer.from("anyone:good").toString("base64"));
  });
});

describe("before the controller has created the repository", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: Server;
  let port: number;

  beforeAll(async () => {
    dir = await tempDir("flotilla-serve-early-");
    // The server listens before the controller works (a standby, or a controller still starting).
    ({ server, port } = await startGitServer({ host: "127.0.0.1", port: 0, repoDir: `${dir.path}/data/env.git`, authorize }));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await dir.cleanup();
  });

  it("asks agents to try again (503, Retry-After) instead of calling the repository missing, and serves it once it exists", async () => {
    const early = await raw(port, "/env.git/info/refs?service=git-upload-pack", { headers: { authorization: "Bearer good" } });
    expect(early.status).toBe(503);
    expect(early.headers["retry-after"]).toBe("1");
    expect(early.body).toContain("not created yet");
    const url = `http://127.0.0.1:${port}/env.git`;
    const refused = await EnvRepo.open({ dir: `${dir.path}/agent.git`, remote: { url, token: "good", authScheme: "bearer" } }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ retryable: true });

    const repo = await EnvRepo.open({ dir: `${dir.path}/data/env.git` });
    await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { staging: configMaps("team-a", { web: "1" }) } }], "v1");
    const agent = await EnvRepo.open({ dir: `${dir.path}/agent.git`, remote: { url, token: "good", authScheme: "bearer" } });
    expect(await agent.head()).toBe(await repo.head());
  });

  it("still answers 401 to a request without a token", async () => {
    const r = await raw(port, "/env.git/info/refs?service=git-upload-pack");
    expect(r.status).toBe(401);
  });
});

describe("limits on the backends", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let fakeGit: string;

  beforeAll(async () => {
    dir = await tempDir("flotilla-serve-limits-");
    // The server hands requests to a backend only once the repository exists.
    await run("git", ["init", "-q", "--bare", `${dir.path}/data/env.git`]);
    // Stands in for `git http-backend`: records its environment and pid, then either answers at
    // once (FAST in the data dir) or hangs.
    fakeGit = `${dir.path}/fake-git`;
    await writeFile(
      fakeGit,
      [
        "#!/bin/sh",
        `env > "${dir.path}/env.$$"`,
        `echo $$ >> "${dir.path}/pids"`,
        `if [ -e "${dir.path}/FAST" ]; then printf 'Content-Type: text/plain\\r\\n\\r\\nhello'; exit 0; fi`,
        "exec sleep 60",
        "",
      ].join("\n"),
    );
    await chmod(fakeGit, 0o755);
  });
  afterAll(() => dir.cleanup());

  async function pids(): Promise<number[]> {
    const text = await readFile(`${dir.path}/pids`, "utf8").catch(() => "");
    return text.trim().split("\n").filter(Boolean).map(Number);
  }

  function alive(pid: number): boolean {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  async function until(check: () => Promise<boolean> | boolean): Promise<void> {
    for (let i = 0; i < 500; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error("condition not reached");
  }

  it("passes the backend a clean environment: the CGI variables, no token, nothing of the controller's", async () => {
    await writeFile(`${dir.path}/FAST`, "");
    process.env.FLOTILLA_GIT_TOKEN = "controller-secret";
    const { server, port } = await startGitServer({ host: "127.0.0.1", port: 0, repoDir: `${dir.path}/data/env.git`, authorize, gitCommand: fakeGit });
    try {
      const r = await raw(port, "/env.git/git-upload-pack", {
        method: "POST",
        headers: { authorization: "Bearer good", "content-type": "application/x-git-upload-pack-request", "git-protocol": "version=2" },
        body: Buffer.from("0000"),
      });
      expect(r.status).toBe(200);
      expect(r.body).toBe("hello");
      const [pid] = (await pids()).slice(-1);
      const env = await readFile(`${dir.path}/env.${pid}`, "utf8");
      expect(env).toContain(`GIT_PROJECT_ROOT=${dir.path}/data\n`);
      expect(env).toContain("PATH_INFO=/env.git/git-upload-pack\n");
      expect(env).toContain("REQUEST_METHOD=POST\n");
      expect(env).toContain("CONTENT_LENGTH=4\n");
      expect(env).toContain("CONTENT_TYPE=application/x-git-upload-pack-request\n");
      expect(env).toContain("HTTP_GIT_PROTOCOL=version=2\n");
      expect(env).toContain("GIT_HTTP_EXPORT_ALL=1\n");
      expect(env).not.toContain("good");
      expect(env).not.toContain("controller-secret");
      expect(env).not.toContain("FLOTILLA");
    } finally {
      delete process.env.FLOTILLA_GIT_TOKEN;
      await import("node:fs/promises").then((fs) => fs.rm(`${dir.path}/FAST`));
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("answers 503 with Retry-After beyond the concurrent backends, and kills a backend whose client went away", async () => {
    const { server, port } = await startGitServer({
      host: "127.0.0.1",
      port: 0,
      repoDir: `${dir.path}/data/env.git`,
      authorize,
      gitCommand: fakeGit,
      maxConcurrent: 1,
    });
    try {
      const known = (await pids()).length;
      const first = request({ host: "127.0.0.1", port, path: "/env.git/info/refs?service=git-upload-pack", headers: { authorization: "Bearer good" } });
      first.on("error", () => undefined);
      first.end();
      await until(async () => (await pids()).length > known);
      const pid = (await pids())[known] as number;
      expect(alive(pid)).toBe(true);
      const second = await raw(port, "/env.git/info/refs?service=git-upload-pack", { headers: { authorization: "Bearer good" } });
      expect(second.status).toBe(503);
      expect(second.headers["retry-after"]).toBe("1");
      first.destroy();
      await until(() => !alive(pid));
      // The slot is free again.
      await writeFile(`${dir.path}/FAST`, "");
      const third = await raw(port, "/env.git/info/refs?service=git-upload-pack", { headers: { authorization: "Bearer good" } });
      expect(third.status).toBe(200);
    } finally {
      await import("node:fs/promises").then((fs) => fs.rm(`${dir.path}/FAST`, { force: true }));
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("kills a backend that runs past its timeout and answers 502", async () => {
    const { server, port } = await startGitServer({
      host: "127.0.0.1",
      port: 0,
      repoDir: `${dir.path}/data/env.git`,
      authorize,
      gitCommand: fakeGit,
      timeoutMs: 100,
    });
    try {
      const known = (await pids()).length;
      const r = await raw(port, "/env.git/info/refs?service=git-upload-pack", { headers: { authorization: "Bearer good" } });
      expect(r.status).toBe(502);
      const pid = (await pids())[known] as number;
      await until(() => !alive(pid));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("tokenOf", () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString("base64")}`;
  it.each([
    [undefined, undefined],
    ["Bearer abc.def", "abc.def"],
    ["bearer abc", "abc"],
    ["Bearer", undefined],
    [basic("x-access-token:tok"), "tok"],
    [basic("anyone:to:k"), "to:k"],
    [basic("tok"), undefined],
    [basic("user:"), undefined],
    ["Digest abc", undefined],
  ])("reads %s as %s", (header, token) => {
    expect(tokenOf(header)).toBe(token);
  });
});

describe("routeOf", () => {
  it.each([
    ["GET", "/env.git/info/refs?service=git-upload-pack", "upload-pack"],
    ["POST", "/env.git/git-upload-pack", "upload-pack"],
    ["GET", "/env.git/info/refs?service=git-receive-pack", "push"],
    ["POST", "/env.git/git-receive-pack", "push"],
    ["GET", "/env.git/info/refs", "not-found"],
    ["HEAD", "/env.git/info/refs?service=git-upload-pack", "not-found"],
    ["GET", "/ENV.git/info/refs?service=git-upload-pack", "not-found"],
    ["GET", "/env.git/info/refs/?service=git-upload-pack", "not-found"],
  ])("%s %s is %s", (method, url, kind) => {
    expect(routeOf(method, url).kind).toBe(kind);
  });
});

describe("parseCgiHeaders", () => {
  it("reads the Status line and keeps the other headers", () => {
    expect(parseCgiHeaders("Status: 404 Not Found\r\nExpires: Fri, 01 Jan 1980 00:00:00 GMT\r\nContent-Type: text/plain")).toEqual({
      status: 404,
      headers: [
        ["Expires", "Fri, 01 Jan 1980 00:00:00 GMT"],
        ["Content-Type", "text/plain"],
      ],
    });
  });
  it("defaults to 200 and refuses a malformed line", () => {
    expect(parseCgiHeaders("Content-Type: x").status).toBe(200);
    expect(() => parseCgiHeaders("garbage")).toThrow(/malformed header line/);
    expect(() => parseCgiHeaders("Status: abc")).toThrow(/malformed Status/);
  });
});

describe("over HTTPS", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let server: Server;
  let port: number;
  let head: string | null;

  beforeAll(async () => {
    dir = await tempDir("flotilla-serve-tls-");
    const repo = await EnvRepo.open({ dir: `${dir.path}/data/env.git` });
    await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { staging: configMaps("team-a", { web: "1" }) } }], "v1");
    head = await repo.head();
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      `${dir.path}/tls.key`,
      "-out",
      `${dir.path}/tls.crt`,
    ]);
    const tls = { cert: await readFile(`${dir.path}/tls.crt`), key: await readFile(`${dir.path}/tls.key`) };
    ({ server, port } = await startGitServer({ host: "127.0.0.1", port: 0, repoDir: `${dir.path}/data/env.git`, authorize, tls }));
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await dir.cleanup();
  });

  it("lets stock git clone, verifying the server's certificate", async () => {
    const clone = await git(dir.path, [
      "-c",
      `http.sslCAInfo=${dir.path}/tls.crt`,
      "-c",
      `http.extraHeader=${bearer("good")}`,
      "clone",
      "-q",
      `https://127.0.0.1:${port}/env.git`,
      "tls-clone",
    ]);
    expect(clone.stderr).toBe("");
    expect(clone.code).toBe(0);
    expect((await git(`${dir.path}/tls-clone`, ["rev-parse", "HEAD"])).stdout.trim()).toBe(head);
  });

  it("does not answer plain HTTP", async () => {
    const clone = await git(dir.path, ["-c", `http.extraHeader=${bearer("good")}`, "clone", "-q", `http://127.0.0.1:${port}/env.git`, "plain-clone"]);
    expect(clone.code).not.toBe(0);
  });
});

describe("answers kept for identical requests", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let fakeGit: string;
  let gitdir: string;

  beforeAll(async () => {
    dir = await tempDir("flotilla-serve-cache-");
    gitdir = `${dir.path}/data/env.git`;
    await run("git", ["init", "-q", "--bare", gitdir]);
    // Answers with its own pid, so a client can tell which backend run answered it; takes 300 ms
    // while SLOW exists in the data dir, and fails while FAIL exists.
    fakeGit = `${dir.path}/fake-git`;
    await writeFile(
      fakeGit,
      [
        "#!/bin/sh",
        `echo $$ >> "${dir.path}/pids"`,
        `if [ -e "${dir.path}/SLOW" ]; then sleep 0.3; fi`,
        `if [ -e "${dir.path}/FAIL" ]; then exit 1; fi`,
        `printf 'Content-Type: text/plain\\r\\n\\r\\nanswer of %s' $$`,
        "",
      ].join("\n"),
    );
    await chmod(fakeGit, 0o755);
  });
  afterAll(() => dir.cleanup());

  const runs = async () => (await readFile(`${dir.path}/pids`, "utf8").catch(() => "")).trim().split("\n").filter(Boolean).length;
  const refs = (port: number, token = "good") => raw(port, "/env.git/info/refs?service=git-upload-pack", { headers: { authorization: `Bearer ${token}` } });
  const pack = (port: number, body: string) =>
    raw(port, "/env.git/git-upload-pack", {
      method: "POST",
      headers: { authorization: "Bearer good", "content-type": "application/x-git-upload-pack-request" },
      body: Buffer.from(body),
    });

  async function serve(cache: AnswerCache) {
    return startGitServer({ host: "127.0.0.1", port: 0, repoDir: gitdir, authorize, gitCommand: fakeGit, answerCache: cache });
  }

  it("answers a repeated ref advertisement without a backend until a ref moves", async () => {
    const cache = new AnswerCache();
    const { server, port } = await serve(cache);
    try {
      const before = await runs();
      const first = await refs(port);
      const second = await refs(port);
      expect(first.status).toBe(200);
      expect(second.body).toBe(first.body);
      expect(await runs()).toBe(before + 1);
      await run("git", ["--git-dir", gitdir, "update-ref", "refs/heads/main", await emptyCommit(gitdir)]);
      const third = await refs(port);
      expect(third.body).not.toBe(first.body);
      expect(await runs()).toBe(before + 2);
      // Still authorized per request: a cached answer is no way around the token check.
      expect((await refs(port, "nobody")).status).toBe(401);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("starts one backend for the same negotiation asked at once, and one per different negotiation", async () => {
    const cache = new AnswerCache();
    const { server, port } = await serve(cache);
    await writeFile(`${dir.path}/SLOW`, "");
    try {
      const before = await runs();
      const same = await Promise.all([pack(port, "want a\n"), pack(port, "want a\n"), pack(port, "want a\n")]);
      expect(same.map((r) => r.status)).toEqual([200, 200, 200]);
      expect(new Set(same.map((r) => r.body)).size).toBe(1);
      expect(await runs()).toBe(before + 1);
      const other = await pack(port, "want b\n");
      expect(other.body).not.toBe(same[0]?.body);
      expect(await runs()).toBe(before + 2);
    } finally {
      await import("node:fs/promises").then((fs) => fs.rm(`${dir.path}/SLOW`, { force: true }));
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("keeps no failed answer and none larger than its limit", async () => {
    const cache = new AnswerCache({ maxAnswerBytes: 8 });
    const { server, port } = await serve(cache);
    try {
      const before = await runs();
      await writeFile(`${dir.path}/FAIL`, "");
      expect((await pack(port, "want c\n")).status).toBe(502);
      await import("node:fs/promises").then((fs) => fs.rm(`${dir.path}/FAIL`));
      // "answer of <pid>" is over 8 bytes: streamed, not kept.
      expect((await pack(port, "want c\n")).status).toBe(200);
      expect((await pack(port, "want c\n")).status).toBe(200);
      expect(await runs()).toBe(before + 3);
      expect(cache.size).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("serves stock git and the agent's remote from kept answers as from the backend", async () => {
    const repoDir = `${dir.path}/real/env.git`;
    const repo = await EnvRepo.open({ dir: repoDir });
    await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { staging: configMaps("team-a", { web: "1" }) } }], "v1");
    const cache = new AnswerCache();
    const { server, port } = await startGitServer({ host: "127.0.0.1", port: 0, repoDir, authorize, answerCache: cache });
    try {
      const url = `http://127.0.0.1:${port}/env.git`;
      for (const name of ["one", "two"]) {
        const clone = await git(dir.path, ["-c", `http.extraHeader=${bearer("good")}`, "clone", "-q", url, name]);
        expect(clone.code).toBe(0);
        expect((await git(`${dir.path}/${name}`, ["fsck", "--strict", "--no-dangling"])).code).toBe(0);
        expect((await git(`${dir.path}/${name}`, ["rev-parse", "HEAD"])).stdout.trim()).toBe(await repo.head());
      }
      // The second clone asked exactly what the first asked: both requests answered from the cache.
      expect(cache.hits).toBeGreaterThanOrEqual(2);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

/** A commit with the empty tree in a bare repository, by stock git. */
async function emptyCommit(gitdir: string): Promise<string> {
  const tree = (await run("git", ["--git-dir", gitdir, "hash-object", "-t", "tree", "-w", "/dev/null"])).stdout.trim();
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@example.com", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@example.com" };
  return (await run("git", ["--git-dir", gitdir, "commit-tree", tree, "-m", "empty"], { env })).stdout.trim();
}
