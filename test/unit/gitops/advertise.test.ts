// The controller's own ref advertisement, checked byte for byte against what stock
// `git http-backend` answers for the same repository at the same moment.

import { execFile } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { request, type Server } from "node:http";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { advertise, learnAdvertisement, readBranches } from "../../../src/gitops/advertise.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { type AccessDecision, type AnsweredBy, startGitServer } from "../../../src/gitops/serve.js";
import { configMaps, tempDir } from "./support.js";

const run = promisify(execFile);
const allowAll = async (): Promise<AccessDecision> => ({ outcome: "allowed", user: "agent" });

function getRefs(port: number): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path: "/env.git/info/refs?service=git-upload-pack", headers: { authorization: "Bearer t" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("the ref advertisement written by the controller", { timeout: 30_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let repo: EnvRepo;
  let servers: Server[] = [];
  let ours: number;
  let backendOnly: number;
  let served: AnsweredBy[] = [];
  const envGit = () => `${dir.path}/data/env.git`;
  const commit = (value: string) =>
    repo.commitDeployments([{ namespace: "team-a", name: "web", clusters: { "prod-eu": configMaps("team-a", { web: value }) } }], value);

  beforeAll(async () => {
    dir = await tempDir("flotilla-advertise-");
    repo = await EnvRepo.open({ dir: envGit() });
    await commit("1");
    const start = (answerInProcess: boolean) =>
      startGitServer({
        host: "127.0.0.1",
        port: 0,
        repoDir: envGit(),
        authorize: allowAll,
        answerCache: false,
        answerInProcess,
        onAnswer: (by, asked) => {
          if (asked === "refs" && answerInProcess) served.push(by);
        },
      });
    const a = await start(true);
    const b = await start(false);
    servers = [a.server, b.server];
    ours = a.port;
    backendOnly = b.port;
  });
  afterAll(async () => {
    for (const s of servers) await new Promise((resolve) => s.close(resolve));
    await dir.cleanup();
  });

  it("learns the capabilities from the backend's first answer, then answers new refs itself, byte for byte as the backend", async () => {
    served = [];
    const first = await getRefs(ours);
    expect(first.status).toBe(200);
    await commit("2");
    await run("git", ["--git-dir", envGit(), "branch", "second", "HEAD~1"]);
    const second = await getRefs(ours);
    expect(served).toEqual(["backend", "controller"]);
    const stock = await getRefs(backendOnly);
    expect(second.body.toString("utf8")).toBe(stock.body.toString("utf8"));
    expect(second.headers["content-type"]).toBe("application/x-git-upload-pack-advertisement");
    expect(second.body.toString("utf8")).toContain(`${await repo.head()} refs/heads/main\n`);
    expect(second.body.toString("utf8")).toContain(" refs/heads/second\n");
  });

  it("goes back to the backend while the repository has a tag, and answers itself again once it is gone", async () => {
    await run("git", ["--git-dir", envGit(), "tag", "v1"]);
    served = [];
    const tagged = await getRefs(ours);
    expect(tagged.body.toString("utf8")).toBe((await getRefs(backendOnly)).body.toString("utf8"));
    expect(tagged.body.toString("utf8")).toContain("refs/tags/v1");
    await run("git", ["--git-dir", envGit(), "tag", "-d", "v1"]);
    await commit("3");
    await getRefs(ours); // the backend again: a tagged answer taught nothing
    await commit("4");
    const again = await getRefs(ours);
    expect(again.body.toString("utf8")).toBe((await getRefs(backendOnly)).body.toString("utf8"));
    expect(served).toEqual(["backend", "backend", "controller"]);
  });
});

describe("readBranches", () => {
  it("reads packed and loose branches, a loose one over its packed line, and refuses other refs", async () => {
    const dir = await tempDir("flotilla-branches-");
    try {
      const a = "a".repeat(40);
      const b = "b".repeat(40);
      await mkdir(`${dir.path}/refs/heads/team`, { recursive: true });
      await writeFile(`${dir.path}/HEAD`, "ref: refs/heads/main\n");
      await writeFile(`${dir.path}/packed-refs`, `# pack-refs with: peeled fully-peeled sorted\n${a} refs/heads/main\n${a} refs/heads/team/x\n`);
      await writeFile(`${dir.path}/refs/heads/main`, `${b}\n`);
      await writeFile(`${dir.path}/refs/heads/main.lock`, "half written");
      expect(readBranches(dir.path)).toEqual({
        head: "refs/heads/main",
        branches: new Map([
          ["refs/heads/main", b],
          ["refs/heads/team/x", a],
        ]),
      });
      await mkdir(`${dir.path}/refs/notes`, { recursive: true });
      await writeFile(`${dir.path}/refs/notes/commits`, `${a}\n`);
      expect(readBranches(dir.path)).toBeUndefined();
    } finally {
      await dir.cleanup();
    }
  });
});

describe("learnAdvertisement and advertise", () => {
  const caps = "multi_ack side-band-64k symref=HEAD:refs/heads/main agent=git/2.39.5";
  const pkt = (t: string) => `${(Buffer.byteLength(t) + 4).toString(16).padStart(4, "0")}${t}`;
  const answer = (lines: string[]) => ({
    status: 200,
    headers: [["Content-Type", "application/x-git-upload-pack-advertisement"]] as const,
    body: Buffer.from(`${pkt("# service=git-upload-pack\n")}0000${lines.map(pkt).join("")}0000`),
  });
  const a = "a".repeat(40);

  it("keeps the capabilities and HEAD's target of an answer with HEAD and branches", () => {
    expect(learnAdvertisement(answer([`${a} HEAD\0${caps}\n`, `${a} refs/heads/main\n`]))).toMatchObject({ capabilities: caps, headTarget: "refs/heads/main" });
  });

  it.each([
    ["a tag", [`${a} HEAD\0${caps}\n`, `${a} refs/heads/main\n`, `${a} refs/tags/v1\n`]],
    ["a peeled tag", [`${a} HEAD\0${caps}\n`, `${a} refs/tags/v1^{}\n`]],
    ["no symref", [`${a} HEAD\0multi_ack\n`, `${a} refs/heads/main\n`]],
    ["an unborn HEAD", [`${"0".repeat(40)} capabilities^{}\0${caps}\n`]],
  ])("learns nothing from an answer with %s", (_what, lines) => {
    expect(learnAdvertisement(answer(lines))).toBeUndefined();
  });

  it("writes nothing when HEAD now points at another branch", () => {
    const template = learnAdvertisement(answer([`${a} HEAD\0${caps}\n`, `${a} refs/heads/main\n`]));
    expect(template).toBeDefined();
    if (!template) return;
    expect(advertise(template, { head: "refs/heads/other", branches: new Map([["refs/heads/other", a]]) })).toBeUndefined();
    expect(advertise(template, { head: "refs/heads/main", branches: new Map() })).toBeUndefined();
  });
});
