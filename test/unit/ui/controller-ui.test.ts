// The web UI as the controller starts it: served on --ui-addr by every replica (a standby answers
// the API with 503: it has no caches), a taken port is an error naming the flag, unless the
// address is only the default (then the controller runs without the UI and says so).
// The hub is an address that never answers: nothing here needs one.

import { createServer } from "node:net";
import { Writable } from "node:stream";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Controller } from "../../../src/controller/controller.js";
import type { AccessReviews } from "../../../src/controller/token-access.js";
import { tempDir } from "../gitops/support.js";

function unreachableHub(): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "hub", server: "https://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u", token: "controller-token" }],
    contexts: [{ name: "hub", cluster: "hub", user: "u" }],
    currentContext: "hub",
  });
  return kc;
}

const reviews: AccessReviews = {
  reviewToken: async (token) => (token === "good" ? { authenticated: true, user: { username: "alice" } } : { authenticated: false }),
  reviewAccess: async () => ({ allowed: true }),
};

async function takenPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  return { port: (taken.address() as { port: number }).port, close: () => new Promise((resolve) => taken.close(() => resolve())) };
}

describe("the controller's web UI", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    dir = await tempDir("flotilla-controller-ui-");
  });
  afterAll(() => dir.cleanup());

  it("serves on --ui-addr even as a standby, answering the API with 503 until it has caches", async () => {
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/data`,
      uiAddr: "127.0.0.1:0",
      uiReviews: reviews,
      uiBundleDir: `${dir.path}/no-bundle`,
      leaderElection: true,
      logger: pino({ level: "silent" }),
    });
    try {
      await controller.start();
      const base = `http://127.0.0.1:${controller.uiPort}`;
      expect((await fetch(`${base}/api/deployments`)).status).toBe(401);
      const res = await fetch(`${base}/api/deployments`, { headers: { authorization: "Bearer good" } });
      expect(res.status).toBe(503);
      expect(((await res.json()) as { error: string }).error).toMatch(/caches are not filled yet/);
      expect((await fetch(`${base}/`)).status).toBe(503);
    } finally {
      await controller.stop();
    }
  });

  it("names --ui-addr when its port is taken", async () => {
    const taken = await takenPort();
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/data`,
      uiAddr: `127.0.0.1:${taken.port}`,
      uiReviews: reviews,
      leaderElection: true,
      logger: pino({ level: "silent" }),
    });
    try {
      await expect(controller.start()).rejects.toThrow(`--ui-addr: cannot listen on "127.0.0.1:${taken.port}" (EADDRINUSE). Choose a free address, or "off"`);
    } finally {
      await controller.stop();
      await taken.close();
    }
  });

  it("runs without the UI, saying why, when only the default address is taken", async () => {
    const taken = await takenPort();
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString("utf8"));
        cb();
      },
    });
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/data`,
      uiAddr: `127.0.0.1:${taken.port}`,
      uiAddrIsDefault: true,
      uiReviews: reviews,
      leaderElection: true,
      logger: pino({ level: "info" }, sink),
    });
    try {
      await controller.start();
      expect(controller.uiPort).toBeUndefined();
      expect(lines.join("")).toContain("not serving the web UI: its default address is taken");
    } finally {
      await controller.stop();
      await taken.close();
    }
  });
});
