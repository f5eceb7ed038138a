// How long a fetch waits for a slow server: through a proxy in front of a real Git server that
// holds an answer back. A server silent for longer than Node's default socket timeout (5 s) but
// within `timeoutMs` is waited for; one that stops sending in the middle of a pack is given up on
// after `timeoutMs`, with an error that says the remote is unreachable and may be retried.

import { globalAgent, request, type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { type AccessDecision, startGitServer } from "../../../src/gitops/serve.js";
import { configMaps, tempDir } from "./support.js";

type Hold = { kind: "delay"; ms: number } | { kind: "stall" } | { kind: "reset"; times: number; seen: number } | { kind: "none" };

/** Forwards to `target`; the answer to the pack request (POST …/git-upload-pack) is held as `hold` says. */
function holdingProxy(target: number, hold: () => Hold): Server {
  return createServer((req, res) => {
    const h = req.url?.endsWith("/git-upload-pack") ? hold() : undefined;
    if (h?.kind === "reset") {
      h.seen++;
      // The connection dies under the request, as a kept-alive one the server just closed does.
      if (h.times-- > 0) return void req.socket.destroy();
    }
    const body: Buffer[] = [];
    req.on("data", (c: Buffer) => body.push(c));
    req.on("end", () => {
      const upstream = request({ host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        const forward = () => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          if (h?.kind !== "stall") return void answer.pipe(res);
          // The headers and the first chunk, then nothing: a server that stopped in mid-pack.
          answer.once("data", (chunk: Buffer) => res.write(chunk));
        };
        if (h?.kind === "delay") setTimeout(forward, h.ms);
        else forward();
      });
      upstream.end(Buffer.concat(body));
    });
  });
}

const allowAll = async (): Promise<AccessDecision> => ({ outcome: "allowed", user: "agent" });

describe("a fetch from a slow server", { timeout: 30_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let served: EnvRepo;
  let gitServer: Server;
  let proxy: Server;
  let proxyUrl: string;
  let hold: Hold = { kind: "none" };
  let version = 0;
  const commit = () =>
    served.commitDeployments([{ namespace: "team-a", name: "web", clusters: { "prod-eu": configMaps("team-a", { web: String(++version) }) } }], `v${version}`);

  beforeAll(async () => {
    dir = await tempDir("flotilla-remote-timeout-");
    served = await EnvRepo.open({ dir: `${dir.path}/served.git` });
    await commit();
    const started = await startGitServer({ host: "127.0.0.1", port: 0, repoDir: `${dir.path}/served.git`, authorize: allowAll });
    gitServer = started.server;
    proxy = holdingProxy(started.port, () => hold);
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/env.git`;
  });
  afterAll(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
    await new Promise((resolve) => gitServer.close(resolve));
    await dir.cleanup();
  });

  it("waits for a server that says nothing for longer than Node's default socket timeout", async () => {
    const nodeDefault = (globalAgent as unknown as { options: { timeout?: number } }).options.timeout ?? 5_000;
    const agent = await EnvRepo.open({ dir: `${dir.path}/patient.git`, remote: { url: proxyUrl, token: "agent-token", authScheme: "bearer" } });
    await commit();
    hold = { kind: "delay", ms: nodeDefault + 1_000 };
    const synced = await agent.sync().finally(() => {
      hold = { kind: "none" };
    });
    expect(synced.error).toBeUndefined();
    expect(synced.head).toBe(await served.head());
  });

  it("gives up on a server that stops sending in the middle of a pack after timeoutMs, as an unreachable remote", async () => {
    const agent = await EnvRepo.open({
      dir: `${dir.path}/stalled.git`,
      remote: { url: proxyUrl, token: "agent-token", authScheme: "bearer", timeoutMs: 1_000 },
    });
    const before = await agent.head();
    await commit();
    hold = { kind: "stall" };
    const startedAt = Date.now();
    const synced = await agent.sync().finally(() => {
      hold = { kind: "none" };
    });
    expect(Date.now() - startedAt).toBeLessThan(10_000);
    expect(synced.state).toBe("queued");
    expect(synced.error?.retryable).toBe(true);
    expect(synced.error?.message).toContain("unreachable (ETIMEDOUT)");
    expect(synced.head).toBe(before);
    // The server answering again, the next fetch brings the commit.
    expect((await agent.sync()).head).toBe(await served.head());
  });

  it("sends a fetch's request once more when its connection dies under it, and only once", async () => {
    const agent = await EnvRepo.open({ dir: `${dir.path}/reset.git`, remote: { url: proxyUrl, token: "agent-token", authScheme: "bearer" } });
    await commit();
    const once = { kind: "reset" as const, times: 1, seen: 0 };
    hold = once;
    const synced = await agent.sync();
    expect(synced.error).toBeUndefined();
    expect(synced.head).toBe(await served.head());
    expect(once.seen).toBe(2);

    await commit();
    const always = { kind: "reset" as const, times: 100, seen: 0 };
    hold = always;
    const failed = await agent.sync().finally(() => {
      hold = { kind: "none" };
    });
    expect(failed.error?.retryable).toBe(true);
    expect(failed.error?.message).toContain("unreachable (ECONNRESET)");
    expect(always.seen).toBe(2);
  });
});
