// The controller's Git server as the controller starts it: every replica serves its embedded
// repository (a standby too), with the injected authorizer; with --git-url it does not serve.
// With webhooks, the same server also answers /hooks/ (alone with --git-url).
// The hub is an address that never answers: nothing here needs one.

import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { createServer } from "node:net";
import { Writable } from "node:stream";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Controller } from "../../../src/controller/controller.js";
import { readPortsFile } from "../../../src/controller/ports-file.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import type { WebhookTarget } from "../../../src/controller/webhook-receiver.js";
import type { AccessDecision } from "../../../src/gitops/serve.js";
import { configMaps, tempDir } from "../gitops/support.js";

const run = promisify(execFile);

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

async function authorize(token: string): Promise<AccessDecision> {
  return token === "good" ? { outcome: "allowed", user: "agent" } : { outcome: "unauthenticated", reason: "unknown token" };
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString("utf8").split("\n").filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: "info" }, sink), lines };
}

describe("the controller's Git server", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let head: string | null;

  beforeAll(async () => {
    dir = await tempDir("flotilla-controller-serve-");
    const repo = await EnvRepo.open({ dir: `${dir.path}/data/env.git` });
    await repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { staging: configMaps("team-a", { web: "1" }) } }], "v1");
    head = await repo.head();
  });
  afterAll(() => dir.cleanup());

  it("serves <data-dir>/env.git on --git-serve-addr even as a standby, and stops with the controller", async () => {
    const log = capture();
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/data`,
      gitServeAddr: "127.0.0.1:0",
      gitServeAuthorize: authorize,
      leaderElection: true,
      logger: log.logger,
    });
    await controller.start();
    try {
      expect(controller.isLeader).toBe(false);
      const port = controller.gitServePort;
      expect(port).toBeGreaterThan(0);
      const { stdout } = await run(
        "git",
        ["-c", "http.extraHeader=Authorization: Bearer good", "ls-remote", `http://127.0.0.1:${port}/env.git`, "refs/heads/main"],
        {
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir.path, GIT_CONFIG_NOSYSTEM: "1", GIT_TERMINAL_PROMPT: "0" },
        },
      );
      expect(stdout).toBe(`${head}\trefs/heads/main\n`);
      const refused = await fetch(`http://127.0.0.1:${port}/env.git/info/refs?service=git-upload-pack`, { headers: { authorization: "Bearer bad" } });
      expect(refused.status).toBe(401);
      expect(log.lines.some((l) => l.msg === "serving the environment repository read-only at /env.git" && l.port === port)).toBe(true);
      // Webhooks by default, for this controller's own GitSources: an unsigned call is refused.
      expect((await fetch(`http://127.0.0.1:${port}/hooks/team-a/web`, { method: "POST", body: "{}" })).status).toBe(401);
    } finally {
      await controller.stop();
    }
    await expect(fetch(`http://127.0.0.1:${controller.gitServePort}/env.git/info/refs?service=git-upload-pack`)).rejects.toThrow();
  });

  it("does not serve the repository with --git-url, and says why (nor anything, with webhooks off)", async () => {
    const log = capture();
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/remote-data`,
      gitUrl: "https://git.example.com/platform/env.git",
      gitServeAddr: "127.0.0.1:0",
      gitServeAuthorize: authorize,
      webhooks: false,
      leaderElection: true,
      logger: log.logger,
    });
    await controller.start();
    await controller.stop();
    expect(controller.gitServePort).toBeUndefined();
    expect(log.lines.map((l) => l.msg)).toContain("not serving the environment repository: it lives on --git-url, which pull-mode agents read");
  });

  it("writes the ports its servers listen on to portsFile once they listen (its folder made), a standby too", async () => {
    const portsFile = `${dir.path}/ports/run-1/ports.json`;
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/data`,
      metricsAddr: "127.0.0.1:0",
      gitServeAddr: "127.0.0.1:0",
      gitServeAuthorize: authorize,
      leaderElection: true,
      portsFile,
      logger: capture().logger,
    });
    await controller.start();
    try {
      const ports = await readPortsFile(portsFile);
      expect(ports).toEqual({ metrics: controller.opsPort, git: controller.gitServePort });
      expect(ports?.git).not.toBe(ports?.metrics);
      expect((await fetch(`http://127.0.0.1:${ports?.git}/env.git/info/refs?service=git-upload-pack`)).status).toBe(401);
      expect((await fetch(`http://127.0.0.1:${ports?.metrics}/healthz`)).status).toBe(200);
    } finally {
      await controller.stop();
    }
  });

  /** A webhook target whose only source is team-a/web, recording its triggers. */
  function hookTarget(): WebhookTarget & { triggers: string[] } {
    const triggers: string[] = [];
    return {
      triggers,
      secretOf: async (namespace, name) => (`${namespace}/${name}` === "team-a/web" ? Buffer.from("hook-secret") : undefined),
      trigger: (namespace, name) => triggers.push(`${namespace}/${name}`) > 0,
    };
  }
  const signedPush = (port: number | undefined) => {
    const body = '{"ref":"refs/heads/main"}';
    return fetch(`http://127.0.0.1:${port}/hooks/team-a/web`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${createHmac("sha256", "hook-secret").update(body).digest("hex")}` },
      body,
    });
  };

  it("serves webhooks at /hooks/ next to /env.git when given a webhook target", async () => {
    const log = capture();
    const target = hookTarget();
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/data`,
      gitServeAddr: "127.0.0.1:0",
      gitServeAuthorize: authorize,
      webhooks: target,
      leaderElection: true,
      logger: log.logger,
    });
    await controller.start();
    try {
      const port = controller.gitServePort;
      const pushed = await signedPush(port);
      expect(pushed.status).toBe(202);
      expect(await pushed.json()).toEqual({ triggered: "team-a/web" });
      expect(target.triggers).toEqual(["team-a/web"]);
      const unsigned = await fetch(`http://127.0.0.1:${port}/hooks/team-a/web`, { method: "POST", body: "{}" });
      expect(unsigned.status).toBe(401);
      const refs = await fetch(`http://127.0.0.1:${port}/env.git/info/refs?service=git-upload-pack`, { headers: { authorization: "Bearer good" } });
      expect(refs.status).toBe(200);
      expect(await refs.text()).toContain(head);
      const msgs = log.lines.map((l) => l.msg);
      expect(msgs).toContain("serving the environment repository read-only at /env.git");
      expect(msgs).toContain("receiving GitSource webhooks at /hooks/<namespace>/<name>");
    } finally {
      await controller.stop();
    }
    expect(target.triggers).toEqual(["team-a/web"]);
  });

  it("with --git-url and a webhook target, serves only the webhooks", async () => {
    const log = capture();
    const target = hookTarget();
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/remote-data`,
      gitUrl: "https://git.example.com/platform/env.git",
      gitServeAddr: "127.0.0.1:0",
      gitServeAuthorize: authorize,
      webhooks: target,
      leaderElection: true,
      logger: log.logger,
    });
    await controller.start();
    try {
      const port = controller.gitServePort;
      expect(port).toBeGreaterThan(0);
      expect((await signedPush(port)).status).toBe(202);
      expect(target.triggers).toEqual(["team-a/web"]);
      const refs = await fetch(`http://127.0.0.1:${port}/env.git/info/refs?service=git-upload-pack`, { headers: { authorization: "Bearer good" } });
      expect(refs.status).toBe(404);
      const msgs = log.lines.map((l) => l.msg);
      expect(msgs).toContain("receiving GitSource webhooks at /hooks/<namespace>/<name>");
      expect(msgs).not.toContain("serving the environment repository read-only at /env.git");
    } finally {
      await controller.stop();
    }
  });

  it("names --git-serve-addr when its port is taken", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/data`,
      gitServeAddr: `127.0.0.1:${port}`,
      gitServeAuthorize: authorize,
      leaderElection: true,
      logger: pino({ level: "silent" }),
    });
    try {
      await expect(controller.start()).rejects.toThrow(`--git-serve-addr: cannot listen on "127.0.0.1:${port}" (EADDRINUSE). Choose a free address, or "off"`);
    } finally {
      await controller.stop();
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("names --git-serve-addr when the address is malformed", async () => {
    const controller = new Controller({
      kubeConfig: unreachableHub(),
      dataDir: `${dir.path}/data`,
      gitServeAddr: "localhost",
      leaderElection: true,
      logger: pino({ level: "silent" }),
    });
    await expect(controller.start()).rejects.toThrow(/--git-serve-addr: "localhost" is not host:port/);
    await controller.stop();
  });
});
