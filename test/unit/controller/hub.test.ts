// The supervised informer against a small fake API server on loopback: it is not synced before a
// list succeeded, it says it is not watching while the server is away, it restarts by itself with
// backoff, and what changed while it was away reaches the handlers once it is back.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { type SupervisedInformer, supervisedInformer } from "../../../src/controller/hub.js";

const PATH = "/apis/example.dev/v1/things";

/** Lists and watches `things`; a watch replays what is newer than its resourceVersion, then streams. */
class FakeApi {
  private readonly objects = new Map<string, KubernetesObject>();
  private readonly watchers = new Set<http.ServerResponse>();
  private server: http.Server | undefined;
  private rv = 1;
  port = 0;

  async start(): Promise<void> {
    const server = http.createServer((req, res) => this.serve(req, res));
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", () => resolve()));
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const w of this.watchers) w.destroy();
    this.watchers.clear();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  }

  put(name: string): void {
    const type = this.objects.has(name) ? "MODIFIED" : "ADDED";
    const object = { apiVersion: "example.dev/v1", kind: "Thing", metadata: { name, resourceVersion: String(++this.rv) } };
    this.objects.set(name, object);
    for (const w of this.watchers) w.write(`${JSON.stringify({ type, object })}\n`);
  }

  list(): { items: KubernetesObject[]; metadata: { resourceVersion: string } } {
    return { items: [...this.objects.values()], metadata: { resourceVersion: String(this.rv) } };
  }

  private serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    const url = new URL(req.url ?? "/", "http://localhost");
    res.writeHead(200, { "content-type": "application/json" });
    if (url.searchParams.get("watch") !== "true") {
      res.end(JSON.stringify(this.list()));
      return;
    }
    res.flushHeaders(); // as an API server does: the watch is established before any event
    const since = Number(url.searchParams.get("resourceVersion") ?? 0);
    for (const object of this.objects.values()) {
      if (Number(object.metadata?.resourceVersion) > since) res.write(`${JSON.stringify({ type: "ADDED", object })}\n`);
    }
    this.watchers.add(res);
    res.on("close", () => this.watchers.delete(res));
  }
}

async function until(predicate: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("supervisedInformer", () => {
  let api: FakeApi;
  let informer: SupervisedInformer<KubernetesObject> | undefined;

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    await api?.stop();
  });

  function watch(onRecovered: () => void = () => {}) {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${api.port}`, skipTLSVerify: true }],
      users: [{ name: "nobody" }],
      contexts: [{ name: "fake", cluster: "fake", user: "nobody" }],
      currentContext: "fake",
    });
    const seen: string[] = [];
    const list = async () => {
      const res = await fetch(`http://127.0.0.1:${api.port}${PATH}`);
      return (await res.json()) as ReturnType<FakeApi["list"]>;
    };
    informer = supervisedInformer(
      kc,
      PATH,
      list,
      { onChange: (o) => seen.push(o.metadata?.name ?? ""), onDelete: () => {} },
      {
        name: "Thing",
        restartDelayMs: 20,
        maxRestartDelayMs: 100,
        onRecovered,
      },
    );
    return { informer, seen };
  }

  it("is not synced until a list succeeded, even though the library's start resolves after a failed one", async () => {
    api = new FakeApi();
    await api.start();
    await api.stop(); // the port is known, and nothing answers on it
    const { informer, seen } = watch();
    await sleep(300);
    expect(informer.synced).toBe(false);
    expect(informer.watching).toBe(false);
    api.put("a");
    await api.start();
    await until(() => informer.synced && informer.watching, "the first list");
    expect(seen).toEqual(["a"]);
  });

  it("says it is not watching while the server is away, restarts by itself and misses nothing that changed meanwhile", async () => {
    api = new FakeApi();
    await api.start();
    api.put("a");
    let recovered = 0;
    const { informer, seen } = watch(() => recovered++);
    await until(() => informer.watching, "the watch");
    expect(recovered).toBe(0);

    await api.stop();
    await until(() => !informer.watching, "the watch to be reported down");
    await sleep(300); // several failed restarts
    expect(informer.watching).toBe(false);
    expect(informer.synced).toBe(true); // the cache is kept meanwhile
    expect(recovered).toBe(0);

    await api.start();
    api.put("b"); // before the informer is back
    api.put("a");
    await until(() => informer.watching && seen.includes("b"), "the watch to recover");
    expect(recovered).toBe(1);
    expect(
      informer
        .list()
        .map((o) => o.metadata?.name)
        .sort(),
    ).toEqual(["a", "b"]);
    expect(informer.get("a")?.metadata?.resourceVersion).toBe(api.list().items.find((o) => o.metadata?.name === "a")?.metadata?.resourceVersion);
    api.put("c");
    await until(() => seen.includes("c"), "a change on the restored watch");
  });
});
