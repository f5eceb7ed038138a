// The webhook receiver: the pure checks (signatures of each provider, paths, token buckets), then
// the handler on a real node:http server on loopback, driven over raw sockets so that a request
// goes out exactly as written (paths with `..`, lying Content-Length, bodies cut short), and
// fuzzed with fast-check (fixed seed, so that a failure reproduces).

import { createHmac } from "node:crypto";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { Writable } from "node:stream";
import fc from "fast-check";
import { type Logger, pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import {
  credentialOf,
  hookTarget,
  isHookPath,
  type RequestHandler,
  routeHooks,
  signatureOf,
  TokenBucket,
  verifyRequest,
  type WebhookReceiverOptions,
  webhookReceiver,
} from "../../../src/controller/webhook-receiver.js";

const SECRET = Buffer.from("It's a Secret to Everybody");
const BODY = Buffer.from('{"ref":"refs/heads/main","after":"0123456789abcdef"}');
const hmacHex = (secret: Buffer | string, body: Buffer | string) => createHmac("sha256", secret).update(body).digest("hex");

describe("verifying a signature", () => {
  const good = hmacHex(SECRET, BODY);
  const cases: Array<[string, Record<string, string>, boolean]> = [
    ["GitHub: a good signature", { "x-hub-signature-256": `sha256=${good}` }, true],
    ["GitHub: a good signature in uppercase hex", { "x-hub-signature-256": `sha256=${good.toUpperCase()}` }, true],
    ["GitHub: the signature of another body", { "x-hub-signature-256": `sha256=${hmacHex(SECRET, "{}")}` }, false],
    ["GitHub: signed with another secret", { "x-hub-signature-256": `sha256=${hmacHex("other", BODY)}` }, false],
    ["GitHub: no algorithm prefix", { "x-hub-signature-256": good }, false],
    ["GitHub: the sha1 prefix", { "x-hub-signature-256": `sha1=${good}` }, false],
    ["GitHub: an uppercase prefix", { "x-hub-signature-256": `SHA256=${good}` }, false],
    ["GitHub: hex one digit short", { "x-hub-signature-256": `sha256=${good.slice(1)}` }, false],
    ["GitHub: hex one byte long", { "x-hub-signature-256": `sha256=${good}00` }, false],
    ["GitHub: not hex", { "x-hub-signature-256": `sha256=${"z".repeat(64)}` }, false],
    [
      "GitHub: both headers, as GitHub sends them",
      { "x-hub-signature": `sha1=${createHmac("sha1", SECRET).update(BODY).digest("hex")}`, "x-hub-signature-256": `sha256=${good}` },
      true,
    ],
    ["GitHub: the SHA-1 header alone", { "x-hub-signature": `sha1=${createHmac("sha1", SECRET).update(BODY).digest("hex")}` }, false],
    ["GitLab: the token", { "x-gitlab-token": SECRET.toString("latin1") }, true],
    ["GitLab: another token", { "x-gitlab-token": "It's a Secret to Everybodz" }, false],
    ["GitLab: a prefix of the token", { "x-gitlab-token": "It's a Secret" }, false],
    ["GitLab: the token and more", { "x-gitlab-token": `${SECRET.toString("latin1")} ` }, false],
    ["GitLab: an empty token", { "x-gitlab-token": "" }, false],
    ["GitLab: the HMAC instead of the token", { "x-gitlab-token": `sha256=${good}` }, false],
    ["generic: a good signature", { "x-flotilla-signature": `sha256=${good}` }, true],
    ["generic: a good signature in uppercase hex", { "x-flotilla-signature": `sha256=${good.toUpperCase()}` }, true],
    ["generic: a bad signature", { "x-flotilla-signature": `sha256=${hmacHex(SECRET, `${BODY.toString()} `)}` }, false],
    ["generic: the sha512 prefix", { "x-flotilla-signature": `sha512=${good}` }, false],
    ["generic: hex of the wrong length", { "x-flotilla-signature": `sha256=${good}${good}` }, false],
    ["generic: the secret itself", { "x-flotilla-signature": SECRET.toString("latin1") }, false],
    ["two schemes at once, both good", { "x-hub-signature-256": `sha256=${good}`, "x-flotilla-signature": `sha256=${good}` }, false],
    ["no signature", {}, false],
  ];
  it.each(cases)("%s → %s", (_name, headers, ok) => {
    expect(verifyRequest(headers, BODY, SECRET)).toBe(ok);
  });

  it.each([
    ["GitHub", { "x-hub-signature-256": `sha256=${hmacHex("", BODY)}` }],
    ["GitLab", { "x-gitlab-token": "x" }],
    ["generic", { "x-flotilla-signature": `sha256=${hmacHex("", BODY)}` }],
  ])("refuses %s when the source has no secret, or an empty one", (_name, headers) => {
    expect(verifyRequest(headers, BODY, undefined)).toBe(false);
    expect(verifyRequest(headers, BODY, Buffer.alloc(0))).toBe(false);
  });

  it("reads a repeated header (which node joins with a comma) as no signature", () => {
    const good = `sha256=${hmacHex(SECRET, BODY)}`;
    expect(credentialOf({ "x-hub-signature-256": `${good}, ${good}` })).toBeUndefined();
    expect(credentialOf({ "x-hub-signature-256": [good, good] as unknown as string })).toBeUndefined();
  });

  it("signatureOf gives the header value a sender puts on the request", () => {
    expect(signatureOf(SECRET, BODY)).toBe(`sha256=${hmacHex(SECRET, BODY)}`);
    expect(verifyRequest({ "x-flotilla-signature": signatureOf(SECRET, BODY) }, BODY, SECRET)).toBe(true);
  });
});

describe("hookTarget", () => {
  it.each([
    ["/hooks/team-a/web", { namespace: "team-a", name: "web" }],
    ["/hooks/team-a/web.v2?x=1", { namespace: "team-a", name: "web.v2" }],
    [`/hooks/${"n".repeat(63)}/${"a".repeat(253)}`, { namespace: "n".repeat(63), name: "a".repeat(253) }],
    ["/hooks/team-a/web/", undefined],
    ["/hooks/team-a", undefined],
    ["/hooks/", undefined],
    ["/hooks/team-a/../web", undefined],
    ["/hooks/../web", undefined],
    ["/hooks/team-a/..", undefined],
    ["/hooks/team-a%2Fweb/x", undefined],
    ["/hooks/team-a/web%2F..", undefined],
    ["/hooks/Team-A/web", undefined],
    ["/hooks/team.a/web", undefined],
    [`/hooks/${"n".repeat(64)}/web`, undefined],
    [`/hooks/team-a/${"a".repeat(254)}`, undefined],
    ["/hooks//web", undefined],
    ["/HOOKS/team-a/web", undefined],
    ["//hooks/team-a/web", undefined],
  ])("%s names %j", (url, target) => {
    expect(hookTarget(url)).toEqual(target);
  });

  it.each([
    ["/hooks", true],
    ["/hooks/x", true],
    ["/hooks?x", true],
    ["/hooksx", false],
    ["/env.git/info/refs", false],
  ])("isHookPath(%s) is %s", (url, yes) => {
    expect(isHookPath(url)).toBe(yes);
  });
});

describe("TokenBucket", () => {
  it("lets a burst through, then one per refill interval, and says how long to wait", () => {
    const bucket = new TokenBucket({ burst: 2, perSecond: 2 }, 0);
    expect([bucket.take(0), bucket.take(0)]).toEqual([0, 0]);
    expect(bucket.take(0)).toBe(500);
    expect(bucket.take(250)).toBe(250);
    expect(bucket.take(500)).toBe(0);
    expect(bucket.idle(500)).toBe(false);
    expect(bucket.idle(1500)).toBe(true);
  });

  it("announces at most an hour's wait, even with no refill", () => {
    const bucket = new TokenBucket({ burst: 1, perSecond: 0 }, 0);
    expect(bucket.take(0)).toBe(0);
    expect(bucket.take(0)).toBe(3_600_000);
  });
});

// --- over HTTP -------------------------------------------------------------------------------

type Answer = { status: number; headers: Record<string, string>; body: string; closed: boolean };

interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
  /** Send this as Content-Length instead of the body's length. */
  declaredLength?: number;
  /** Send the body in chunked encoding. */
  chunked?: boolean;
  /** Send only this many bytes of the body, then half-close. */
  cutAfter?: number;
  /** Send the body, then wait for the answer without ending (a slow sender). */
  hold?: boolean;
  keepAlive?: boolean;
}

function parseAnswer(raw: Buffer): Omit<Answer, "closed"> | undefined {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = headers["content-length"] === undefined ? raw.length : Number(headers["content-length"]);
  return { status: Number(statusLine?.split(" ")[1]), headers, body: raw.subarray(end + 4, end + 4 + length).toString("utf8") };
}

/**
 * One request over a fresh socket, written byte for byte; resolves with the answer (status 0 when
 * the server closed without one) once the answer is complete and, unless keep-alive, the socket closed.
 * Stops sending the body as soon as an answer arrives.
 */
function send(port: number, r: RawRequest): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const body = r.body ?? Buffer.alloc(0);
    const headers: Record<string, string> = { host: "127.0.0.1", ...(r.headers ?? {}) };
    if (r.chunked) headers["transfer-encoding"] = "chunked";
    else headers["content-length"] = String(r.declaredLength ?? body.length);
    headers.connection = r.keepAlive ? "keep-alive" : "close";
    const head = `${r.method ?? "POST"} ${r.path} HTTP/1.1\r\n${Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("")}\r\n`;
    let received = Buffer.alloc(0);
    let answered = false;
    let settled = false;
    const settle = (closed: boolean) => {
      if (settled) return;
      settled = true;
      const parsed = parseAnswer(received);
      socket.destroy();
      resolve(parsed ? { ...parsed, closed } : { status: 0, headers: {}, body: "", closed: true });
    };
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const parsed = parseAnswer(received);
      if (parsed) {
        answered = true;
        // Keep-alive: the answer is complete once its body is; wait a moment to see whether the server closes.
        const expected = r.method === "HEAD" ? 0 : Number(parsed.headers["content-length"] ?? 0);
        if (r.keepAlive && Buffer.byteLength(parsed.body) >= expected) setTimeout(() => settle(false), 50);
      }
    });
    socket.on("error", () => undefined);
    socket.on("close", () => settle(true));
    socket.on("connect", async () => {
      socket.write(head);
      const toSend = r.cutAfter === undefined ? body : body.subarray(0, r.cutAfter);
      const piece = 64 * 1024;
      for (let at = 0; at < toSend.length && !answered && !socket.destroyed; at += piece) {
        const chunk = toSend.subarray(at, at + piece);
        const ok = socket.write(r.chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n")]) : chunk);
        if (!ok) await new Promise((next) => socket.once("drain", next));
      }
      if (r.chunked && r.cutAfter === undefined && !answered) socket.write("0\r\n\r\n");
      if (r.cutAfter !== undefined) socket.end();
      else if (!r.hold && !r.keepAlive) socket.end();
    });
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

interface Fixture {
  port: number;
  triggers: string[];
  lookups: string[];
  logs: () => string;
}

const servers: Array<{ server: Server; close: () => void }> = [];
afterEach(async () => {
  for (const { server, close } of servers.splice(0)) {
    close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A receiver on 127.0.0.1:0 whose only GitSource with a webhook secret is team-a/web (team-a/plain exists without one). */
async function receiver(options: Partial<WebhookReceiverOptions> = {}, other?: RequestHandler): Promise<Fixture> {
  const triggers: string[] = [];
  const lookups: string[] = [];
  const log = logCapture();
  const hooks = webhookReceiver({
    secretOf: async (namespace, name) => {
      lookups.push(`${namespace}/${name}`);
      return `${namespace}/${name}` === "team-a/web" ? SECRET : undefined;
    },
    trigger: (namespace, name) => {
      triggers.push(`${namespace}/${name}`);
      return true;
    },
    logger: log.logger,
    ...options,
  });
  const server = createServer(routeHooks(hooks.handle, other));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  servers.push({ server, close: hooks.close });
  return { port: (server.address() as { port: number }).port, triggers, lookups, logs: log.text };
}

const github = (body: Buffer, secret = SECRET) => ({ "x-hub-signature-256": `sha256=${hmacHex(secret, body)}`, "x-github-event": "push" });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the receiver over HTTP", () => {
  it("answers a signed push with 202 and triggers exactly one fetch of that source", async () => {
    const f = await receiver();
    const r = await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY });
    expect(r.status).toBe(202);
    expect(JSON.parse(r.body)).toEqual({ triggered: "team-a/web" });
    await sleep(50);
    expect(f.triggers).toEqual(["team-a/web"]);
  });

  it.each([
    ["GitLab", { "x-gitlab-token": SECRET.toString("latin1"), "x-gitlab-event": "Push Hook" }],
    ["generic", { "x-flotilla-signature": `sha256=${hmacHex(SECRET, BODY)}` }],
  ])("accepts a %s request", async (_name, headers) => {
    const f = await receiver();
    const r = await send(f.port, { path: "/hooks/team-a/web", headers, body: BODY });
    expect(r.status).toBe(202);
    expect(f.triggers).toEqual(["team-a/web"]);
  });

  it("answers an unknown source and a known one without a signature alike, and triggers nothing", async () => {
    const f = await receiver();
    const answers = await Promise.all([
      send(f.port, { path: "/hooks/team-a/web", body: BODY }),
      send(f.port, { path: "/hooks/team-a/nothing", body: BODY }),
      send(f.port, { path: "/hooks/team-a/plain", headers: github(BODY, Buffer.alloc(0)), body: BODY }),
      send(f.port, { path: "/hooks/team-a/nothing", headers: github(BODY), body: BODY }),
      send(f.port, { path: "/hooks/team-a/web", headers: github(BODY, Buffer.from("guess")), body: BODY }),
    ]);
    const strip = (a: Answer) => ({ ...a, headers: { ...a.headers, date: "" } });
    for (const a of answers) {
      expect(a.status).toBe(401);
      expect(strip(a)).toEqual(strip(answers[0] as Answer));
    }
    expect(JSON.parse(answers[0]?.body ?? "").error).toMatch(/signed with the webhook secret/);
    // The same work for each: the secret is looked up whether the request is signed or not.
    expect(f.lookups.sort()).toEqual(["team-a/nothing", "team-a/nothing", "team-a/plain", "team-a/web", "team-a/web"]);
    expect(f.triggers).toEqual([]);
  });

  it("refuses a signature made for another source's path, and a body changed after signing", async () => {
    const f = await receiver();
    expect((await send(f.port, { path: "/hooks/team-b/web", headers: github(BODY), body: BODY })).status).toBe(401);
    const changed = Buffer.from(BODY);
    changed[3] = (changed[3] as number) ^ 1;
    expect((await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: changed })).status).toBe(401);
    expect(f.triggers).toEqual([]);
  });

  it("answers malformed paths with the same 401, without looking anything up", async () => {
    const f = await receiver();
    const reference = await send(f.port, { path: "/hooks/team-a/nothing", body: BODY });
    for (const path of ["/hooks/team-a/../web", "/hooks/team-a%2Fweb", "/hooks/Team-A/web", "/hooks/team-a/web/", "/hooks", `/hooks/a/${"b".repeat(300)}`]) {
      const r = await send(f.port, { path, headers: github(BODY), body: BODY });
      expect(r.status, path).toBe(401);
      expect(r.body, path).toBe(reference.body);
    }
    expect(f.lookups).toEqual(["team-a/nothing"]);
    expect(f.triggers).toEqual([]);
  });

  it("answers 405 to other methods whether or not the source exists", async () => {
    const f = await receiver();
    for (const path of ["/hooks/team-a/web", "/hooks/team-a/nothing"]) {
      const r = await send(f.port, { method: "GET", path, headers: github(BODY) });
      expect(r.status).toBe(405);
      expect(r.headers.allow).toBe("POST");
    }
    expect((await send(f.port, { method: "PUT", path: "/hooks/team-a/web", headers: github(BODY), body: BODY })).status).toBe(405);
    expect(f.triggers).toEqual([]);
  });

  it("answers GitHub's ping with 200 and fetches nothing", async () => {
    const f = await receiver();
    const r = await send(f.port, { path: "/hooks/team-a/web", headers: { ...github(BODY), "x-github-event": "ping" }, body: BODY });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual({ pong: "team-a/web" });
    const unsigned = await send(f.port, { path: "/hooks/team-a/web", headers: { "x-github-event": "ping" }, body: BODY });
    expect(unsigned.status).toBe(401);
    expect(f.triggers).toEqual([]);
  });

  it("refuses a declared Content-Length over the limit with 413 before the body is sent, and closes the connection", async () => {
    const f = await receiver({ maxBodyBytes: 1024 });
    // hold: the body never comes; the answer must come anyway.
    const r = await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), declaredLength: 1025, hold: true, keepAlive: true });
    expect(r.status).toBe(413);
    expect(r.closed).toBe(true);
    expect(f.lookups).toEqual([]);
    expect(f.triggers).toEqual([]);
  });

  it("refuses a streamed body over the limit (default 1 MiB) with 413 and closes the connection", async () => {
    const f = await receiver();
    const big = Buffer.alloc(1024 * 1024 + 1, 0x7b);
    const chunked = await send(f.port, { path: "/hooks/team-a/web", headers: github(big), body: big, chunked: true, keepAlive: true });
    expect(chunked.status).toBe(413);
    expect(chunked.closed).toBe(true);
    const exact = Buffer.alloc(1024 * 1024, 0x7b);
    expect((await send(f.port, { path: "/hooks/team-a/web", headers: github(exact), body: exact })).status).toBe(202);
    expect(f.triggers).toEqual(["team-a/web"]);
  });

  it("answers 408 and closes the connection when the body is slower than the timeout", async () => {
    const f = await receiver({ bodyTimeoutMs: 200 });
    const r = await send(f.port, {
      path: "/hooks/team-a/web",
      headers: github(BODY),
      body: BODY,
      declaredLength: BODY.length + 10,
      hold: true,
      keepAlive: true,
    });
    expect(r.status).toBe(408);
    expect(r.closed).toBe(true);
    expect(f.triggers).toEqual([]);
  });

  it("does nothing with a body cut short", async () => {
    const f = await receiver();
    const r = await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY, cutAfter: 10 });
    // Node's HTTP parser answers 400 to a request that ends inside its body, or the socket just closes.
    expect([0, 400]).toContain(r.status);
    expect(f.lookups).toEqual([]);
    expect(f.triggers).toEqual([]);
  });

  it("answers 429 with Retry-After beyond the global limit, signed or not, before reading the body", async () => {
    const f = await receiver({ globalLimit: { burst: 3, perSecond: 0.5 } });
    const statuses: number[] = [];
    let retryAfter: string | undefined;
    for (let i = 0; i < 5; i++) {
      const r = await send(f.port, { path: i === 4 ? "/hooks/team-a/web" : "/hooks/team-a/nothing", headers: github(BODY), body: BODY });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers["retry-after"];
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(f.lookups).toHaveLength(3);
    expect(f.triggers).toEqual([]);
  });

  it("answers 429 beyond a source's limit, counting only signed requests, so unsigned ones cannot starve a source", async () => {
    const f = await receiver({ sourceLimit: { burst: 2, perSecond: 0.1 }, coalesceMs: 0 });
    for (let i = 0; i < 5; i++) expect((await send(f.port, { path: "/hooks/team-a/web", body: BODY })).status).toBe(401);
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY })).status);
    expect(statuses).toEqual([202, 202, 429]);
    expect(f.triggers).toEqual(["team-a/web", "team-a/web"]);
  });

  it("coalesces signed pushes within the window into one fetch now and one at the window's end", async () => {
    const f = await receiver({ coalesceMs: 300 });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY })).status);
    expect(statuses).toEqual([202, 202, 202, 202]);
    expect(f.triggers).toEqual(["team-a/web"]);
    await sleep(450);
    expect(f.triggers).toEqual(["team-a/web", "team-a/web"]);
    await sleep(350);
    expect(f.triggers).toHaveLength(2);
  });

  it("answers 503 with Retry-After when the fetch cannot be queued (a signed caller only)", async () => {
    const f = await receiver({ trigger: () => false });
    const r = await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY });
    expect(r.status).toBe(503);
    expect(r.headers["retry-after"]).toBe("5");
  });

  it("answers 503 when queuing the fetch throws, and a throwing trailing trigger does not end the process", async () => {
    let calls = 0;
    const f = await receiver({
      coalesceMs: 100,
      trigger: () => {
        calls++;
        if (calls === 1) return true;
        throw new Error("queue gone");
      },
    });
    const push = () => send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY });
    expect((await push()).status).toBe(202);
    expect((await push()).status).toBe(202); // coalesced: the trailing trigger throws in its timer
    await sleep(200);
    expect(calls).toBe(2);
    expect((await push()).status).toBe(503);
    expect(calls).toBe(3);
    expect(f.logs()).toContain("the fetch could not be queued");
  });

  it("answers 401 when the secret cannot be read", async () => {
    const f = await receiver({
      secretOf: async () => {
        throw new Error("hub down");
      },
    });
    expect((await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY })).status).toBe(401);
    expect(f.triggers).toEqual([]);
  });

  it("passes other paths on, or answers 404 without another handler", async () => {
    const f = await receiver({}, (_req, res) => {
      res.writeHead(418);
      res.end();
    });
    expect((await send(f.port, { method: "GET", path: "/env.git/info/refs?service=git-upload-pack" })).status).toBe(418);
    const alone = await receiver();
    const r = await send(alone.port, { method: "GET", path: "/env.git/info/refs" });
    expect(r.status).toBe(404);
    expect(r.body).toContain("/hooks/<namespace>/<name>");
  });

  it("logs method, path and outcome at debug, never the secret, a signature or the body", async () => {
    const f = await receiver();
    const signature = github(BODY)["x-hub-signature-256"];
    await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY });
    await send(f.port, { path: "/hooks/team-a/web?token=query-secret", headers: { "x-gitlab-token": "wrong-token" }, body: BODY });
    const text = f.logs();
    expect(text).toContain('"status":202');
    expect(text).toContain('"status":401');
    expect(text).toContain('"path":"/hooks/team-a/web"');
    expect(text).toContain('"outcome":"not verified"');
    for (const secret of [SECRET.toString(), signature.slice(7), "wrong-token", "query-secret", "refs/heads/main"]) expect(text).not.toContain(secret);
  });
});

describe("fuzzing the receiver", () => {
  const hex64 = fc.stringMatching(/^[0-9a-fA-F]{64}$/);
  const printable = (max: number) => fc.stringMatching(new RegExp(`^[\\x20-\\x7e]{0,${max}}$`)).map((v) => v.trim());
  const segment = fc.oneof(
    fc.constantFrom("hooks", "team-a", "web", "plain", "nothing", "..", ".", "", "%2F", "%2e%2e", "web%2F..", "HOOKS", "web%00", "a".repeat(300)),
    fc.stringMatching(/^[a-z0-9.-]{0,20}$/),
  );
  const path = fc.oneof(
    fc.array(segment, { maxLength: 4 }).map((s) => `/hooks/${s.join("/")}`),
    fc.array(segment, { maxLength: 5 }).map((s) => `/${s.join("/")}`),
    fc.stringMatching(/^\/[\x21-\x7e]{0,200}$/),
    fc.constantFrom("/hooks/team-a/web", "/hooks/team-a/web?x=1", "/hooks/team-a/web/", "/hooks/team-a/./web", `/hooks/team-a/${"w".repeat(20_000)}`, "*"),
  );
  const method = fc.oneof(fc.constantFrom("POST", "POST", "POST", "GET", "PUT", "HEAD", "OPTIONS", "DELETE", "post"), fc.stringMatching(/^[A-Z]{1,12}$/));
  const body = fc.oneof(
    { weight: 10, arbitrary: fc.uint8Array({ maxLength: 4096 }).map((a) => Buffer.from(a)) },
    { weight: 3, arbitrary: fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? "")) },
    { weight: 1, arbitrary: fc.integer({ min: 1024 * 1024 - 16, max: 1536 * 1024 }).map((n) => Buffer.alloc(n, 0x61)) },
  );
  /** Signature headers none of which is valid: random MACs, wrong tokens, garbage. */
  const forged = fc.oneof(
    fc.constant({}),
    hex64.map((h) => ({ "x-hub-signature-256": `sha256=${h}` })),
    hex64.map((h) => ({ "x-flotilla-signature": `sha256=${h}` })),
    printable(80)
      .filter((t) => t !== SECRET.toString("latin1"))
      .map((t) => ({ "x-gitlab-token": t })),
    fc
      .record({ name: fc.constantFrom("x-hub-signature-256", "x-flotilla-signature", "x-gitlab-token", "x-hub-signature"), value: printable(100) })
      .map((h) => ({ [h.name]: h.value })),
  );
  const extraHeaders = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/), printable(60), { maxKeys: 4 });
  const event = fc.option(fc.constantFrom("ping", "push", "Push Hook", "issues"), { nil: undefined });
  // "slow" waits out the body timeout: rare, to keep the run short.
  const shape = fc.oneof(
    { weight: 12, arbitrary: fc.constantFrom("whole", "whole", "chunked", "cut", "longer", "shorter") },
    { weight: 1, arbitrary: fc.constant("slow") },
  );
  /** A valid GitHub signature of the body, then one change that must void it. */
  const tamper = fc.constantFrom("body", "path", "method", "cut", "secret");

  const request = fc.record({
    method,
    path,
    body,
    forged,
    extraHeaders,
    event,
    shape,
    tamper: fc.option(tamper, { nil: undefined }),
    cut: fc.nat(),
  });

  it("never answers 5xx, never triggers without a valid signature, and still serves a valid request afterwards", async () => {
    const f = await receiver({ globalLimit: { burst: 1e9, perSecond: 1e9 }, bodyTimeoutMs: 50 });
    let cases = 0;
    let triggered = 0;
    await fc.assert(
      fc.asyncProperty(request, async (c) => {
        cases++;
        f.triggers.length = 0; // so that a shrunk counterexample is the request that triggered
        let { method, path, body } = c;
        let headers: Record<string, string> = { ...c.extraHeaders, ...c.forged };
        let cutAfter: number | undefined = c.shape === "cut" ? c.cut % (body.length + 1) : undefined;
        if (c.tamper !== undefined) {
          if (body.length === 0) body = Buffer.from("{}"); // something to change or cut
          headers = { ...c.extraHeaders, ...github(body) };
          method = "POST";
          path = "/hooks/team-a/web";
          if (c.tamper === "body") body = body.length === 0 ? Buffer.from("x") : Buffer.concat([body.subarray(1), Buffer.from([(body[0] as number) ^ 1])]);
          if (c.tamper === "path") path = "/hooks/team-a/plain";
          if (c.tamper === "method") method = "PUT";
          if (c.tamper === "cut") cutAfter = c.cut % body.length;
          if (c.tamper === "secret") headers = { ...c.extraHeaders, ...github(body, Buffer.from("guess")) };
        }
        if (c.event !== undefined) headers["x-github-event"] = c.event;
        const r = await send(f.port, {
          method,
          path,
          headers,
          body,
          ...(cutAfter === undefined ? {} : { cutAfter }),
          ...(c.shape === "chunked" ? { chunked: true } : {}),
          ...(c.shape === "longer" || c.shape === "slow" ? { declaredLength: body.length + 1 + (c.cut % 100) } : {}),
          ...(c.shape === "shorter" ? { declaredLength: c.cut % (body.length + 1) } : {}),
          ...(c.shape === "slow" ? { hold: true, keepAlive: true } : {}),
        });
        // 0: the server closed the connection without an answer (a request cut short).
        expect(r.status === 0 || (r.status >= 400 && r.status < 500), `status ${r.status} for ${method} ${path.slice(0, 80)}`).toBe(true);
        expect(f.triggers).toEqual([]);
        triggered += f.triggers.length;
      }),
      { seed: 20_261_203, numRuns: 300 },
    );
    expect(cases).toBe(300);
    expect(triggered).toBe(0);
    const ok = await send(f.port, { path: "/hooks/team-a/web", headers: github(BODY), body: BODY });
    expect(ok.status).toBe(202);
    expect(f.triggers).toEqual(["team-a/web"]);
  }, 30_000);
});
