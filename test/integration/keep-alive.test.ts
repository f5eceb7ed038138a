// The controller's hub client keeps connections alive: client-node alone opens a new TLS
// connection for every API call (measured here as the control), ours opens one and reuses it.

import tls from "node:tls";
import { CoreV1Api } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { keepAliveKubeConfig } from "../../src/kube/keep-alive.js";
import { kubeConfig } from "./support/fleet.js";

const CALLS = 10;
const realConnect = tls.connect;
let connections = 0;

/** How many TLS connections `calls` opens: https.Agent dials through tls.connect. */
async function countConnections(calls: () => Promise<unknown>): Promise<number> {
  connections = 0;
  tls.connect = ((...args: Parameters<typeof tls.connect>) => {
    connections++;
    return realConnect(...args);
  }) as typeof tls.connect;
  try {
    await calls();
  } finally {
    tls.connect = realConnect;
  }
  return connections;
}

describe("the hub kubeconfig", () => {
  afterEach(() => {
    tls.connect = realConnect;
  });

  it("reuses one TLS connection for sequential API calls where client-node alone opens one per call", async () => {
    const plain = kubeConfig("hub").makeApiClient(CoreV1Api);
    const kept = keepAliveKubeConfig(kubeConfig("hub"));
    const reusing = kept.makeApiClient(CoreV1Api);
    const sequential = (api: CoreV1Api) => async () => {
      for (let i = 0; i < CALLS; i++) expect((await api.readNamespace({ name: "default" })).metadata?.name).toBe("default");
    };
    expect(await countConnections(sequential(plain))).toBe(CALLS);
    expect(await countConnections(sequential(reusing))).toBe(1);
    kept.destroyAgents();
  });

  it("opens a bounded set of connections for bursts of concurrent calls and reuses them for the next burst", async () => {
    const kept = keepAliveKubeConfig(kubeConfig("hub"));
    const api = kept.makeApiClient(CoreV1Api);
    const burst = async () => {
      const names = await Promise.all(Array.from({ length: 100 }, () => api.readNamespace({ name: "default" }).then((n) => n.metadata?.name)));
      expect(names.filter((n) => n === "default")).toHaveLength(100);
    };
    const first = await countConnections(burst);
    expect(first).toBeGreaterThan(1);
    expect(first).toBeLessThanOrEqual(32);
    // Every connection of the first burst stayed open: the next two bursts dial nothing new.
    expect(
      await countConnections(async () => {
        await burst();
        await burst();
      }),
    ).toBe(0);
    kept.destroyAgents();
  });

  it("still authenticates each call as the kubeconfig's user", async () => {
    const kept = keepAliveKubeConfig(kubeConfig("hub"));
    const api = kept.makeApiClient(CoreV1Api);
    const list = await api.listNamespace();
    expect(list.items.map((n) => n.metadata?.name)).toContain("kube-system");
    kept.destroyAgents();
  });
});
