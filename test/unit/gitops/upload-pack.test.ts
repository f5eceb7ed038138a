// The controller's own answer to an agent's incremental fetch, checked against stock git: the pack
// must hold exactly what `git rev-list --objects HAVE..WANT` lists, the agent's copy must stay
// fsck-clean, and every request it does not fully understand must reach the real backend.

import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { request, type Server } from "node:http";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { type AccessDecision, type AnsweredBy, startGitServer } from "../../../src/gitops/serve.js";
import { parseUploadPackRequest } from "../../../src/gitops/upload-pack.js";
import { configMaps, stockGit, tempDir } from "./support.js";

const run = promisify(execFile);
const allowAll = async (): Promise<AccessDecision> => ({ outcome: "allowed", user: "agent" });

function pkt(text: string): string {
  return `${(Buffer.byteLength(text) + 4).toString(16).padStart(4, "0")}${text}`;
}

/** The request isomorphic-git's fetch sends: one want with its capabilities, a flush, haves, done. */
function agentRequest(want: string, haves: string[], caps = "multi_ack_detailed no-done side-band-64k ofs-delta agent=git/isomorphic-git@1.44.17"): Buffer {
  return Buffer.from(`${pkt(`want ${want} ${caps}\n`)}0000${haves.map((h) => pkt(`have ${h}\n`)).join("")}${pkt("done\n")}`);
}

function post(port: number, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/env.git/git-upload-pack",
        method: "POST",
        headers: { authorization: "Bearer t", "content-type": "application/x-git-upload-pack-request", ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** Split an upload-pack result into its pkt-lines before the pack and the pack (side-band 1). */
function demux(body: Buffer): { lines: string[]; pack: Buffer } {
  const lines: string[] = [];
  const pack: Buffer[] = [];
  for (let at = 0; at < body.length; ) {
    const length = Number.parseInt(body.toString("latin1", at, at + 4), 16);
    if (length === 0) {
      at += 4;
      continue;
    }
    const data = body.subarray(at + 4, at + length);
    at += length;
    if (pack.length > 0 || data[0] === 1) {
      if (data[0] === 1) pack.push(data.subarray(1));
    } else {
      lines.push(data.toString("utf8"));
    }
  }
  return { lines, pack: Buffer.concat(pack) };
}

describe("parseUploadPackRequest", () => {
  const want = "a".repeat(40);
  const have = "b".repeat(40);

  it("reads the wants, the capabilities of the first, the haves and done", () => {
    expect(parseUploadPackRequest(agentRequest(want, [have, have]))).toEqual({
      wants: [want],
      haves: [have, have],
      capabilities: ["multi_ack_detailed", "no-done", "side-band-64k", "ofs-delta", "agent=git/isomorphic-git@1.44.17"],
      done: true,
    });
  });

  it.each([
    ["a shallow line", `${pkt(`want ${want} side-band-64k\n`)}${pkt(`shallow ${have}\n`)}0000${pkt("done\n")}`, /shallow/],
    ["a deepen line", `${pkt(`want ${want} side-band-64k\n`)}${pkt("deepen 1\n")}0000${pkt("done\n")}`, /deepen/],
    ["a protocol v2 command (its delimiter packet)", `${pkt("command=fetch\n")}0001${pkt(`want ${want}\n`)}0000`, /length of 1$/],
    ["a protocol v2 command alone", `${pkt("command=fetch\n")}0000`, /command=fetch/],
    ["a line after done", `${pkt(`want ${want} x\n`)}0000${pkt("done\n")}${pkt(`have ${have}\n`)}`, /after done/],
    ["a truncated pkt-line", `${pkt(`want ${want} x\n`)}00ff`, /255 bytes with 4 left/],
    ["a length that is not hex", `${pkt(`want ${want} x\n`)}zzzz`, /"zzzz"/],
    ["a want that is not an object id", `${pkt("want main x\n")}0000${pkt("done\n")}`, /want main/],
  ])("leaves a request with %s to the backend", (_what, body, why) => {
    const parsed = parseUploadPackRequest(Buffer.from(body));
    expect(parsed).toHaveProperty("unanswered");
    expect((parsed as { unanswered: string }).unanswered).toMatch(why);
  });

  it("reports a round without done as not done", () => {
    const parsed = parseUploadPackRequest(Buffer.from(`${pkt(`want ${want} x\n`)}0000${pkt(`have ${have}\n`)}0000`));
    expect(parsed).toMatchObject({ done: false, haves: [have] });
  });
});

// Stock git and isomorphic-git run for real here: seconds on a busy machine.
describe("answering an agent's fetch in the controller", { timeout: 30_000 }, () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let repo: EnvRepo;
  let server: Server;
  let port: number;
  let url: string;
  let served: AnsweredBy[] = [];
  const served_ = (since: number) => served.slice(since);
  const envGit = () => `${dir.path}/data/env.git`;
  const revList = async (range: string) =>
    (await stockGit(envGit(), ["rev-list", "--objects", range])).stdout
      .trim()
      .split("\n")
      .map((l) => l.slice(0, 40))
      .sort();

  beforeAll(async () => {
    dir = await tempDir("flotilla-upload-pack-");
    repo = await EnvRepo.open({ dir: envGit() });
    await repo.commitDeployments(
      [
        {
          namespace: "team-a",
          name: "web",
          clusters: { "prod-eu": configMaps("team-a", { web: "1", worker: "1" }), staging: configMaps("team-a", { web: "1" }) },
        },
        { namespace: "team-b", name: "api", clusters: { "prod-eu": configMaps("team-b", { api: "1" }) } },
      ],
      "v1",
    );
    ({ server, port } = await startGitServer({
      host: "127.0.0.1",
      port: 0,
      repoDir: envGit(),
      authorize: allowAll,
      answerCache: false,
      onAnswer: (by, asked) => {
        if (asked === "pack") served.push(by);
      },
    }));
    url = `http://127.0.0.1:${port}/env.git`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await dir.cleanup();
  });

  it("leaves the agent's first clone to the backend and answers its later fetches itself; the agent's copy stays fsck-clean", async () => {
    served = [];
    const agent = await EnvRepo.open({ dir: `${dir.path}/agent.git`, remote: { url, token: "t", authScheme: "bearer" } });
    // Its first fetch asks which refs exist (a protocol v2 ls-refs) and clones: no have to start from.
    expect(served).toEqual(["backend", "backend"]);
    const before = (await repo.head()) as string;
    // Three commits: a changed file, a new deployment, a removed cluster folder.
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
    await repo.commitDeployments([{ namespace: "team-c", name: "jobs", clusters: { "prod-us": configMaps("team-c", { jobs: "1" }) } }], "jobs");
    await repo.commitDeployments([{ namespace: "team-b", name: "api", clusters: {} }], "api removed");
    const after = (await repo.head()) as string;

    const synced = await agent.sync();
    expect(synced.head).toBe(after);
    expect(served_(2)).toEqual(["controller"]);
    const fsck = await stockGit(`${dir.path}/agent.git`, ["fsck", "--strict", "--no-dangling"]);
    expect(fsck.code, fsck.stderr).toBe(0);
    expect(await stockGit(`${dir.path}/agent.git`, ["ls-tree", "-r", after]).then((r) => r.stdout)).toBe(
      await stockGit(envGit(), ["ls-tree", "-r", after]).then((r) => r.stdout),
    );
    // What it sent is what stock git counts as new between the two heads: no more, no less.
    const packs = (await run("sh", ["-c", `ls -t ${dir.path}/agent.git/objects/pack/*.idx | head -1`])).stdout.trim();
    const index = await run("sh", ["-c", `git show-index < ${packs}`]);
    const inPack = index.stdout
      .trim()
      .split("\n")
      .map((l) => l.split(" ")[1] as string)
      .sort();
    expect(inPack).toEqual(await revList(`${before}..${after}`));
  });

  it("serves a want the branch has moved past since the client read the refs", async () => {
    const older = (await repo.head()) as string;
    await repo.commitDeployments([{ namespace: "team-c", name: "jobs", clusters: { "prod-us": configMaps("team-c", { jobs: "2" }) } }], "jobs 2");
    const wanted = (await repo.head()) as string;
    await repo.commitDeployments([{ namespace: "team-c", name: "jobs", clusters: { "prod-us": configMaps("team-c", { jobs: "3" }) } }], "jobs 3");
    const since = served.length;
    const answer = await post(port, agentRequest(wanted, [older, "f".repeat(40)]));
    expect(answer.status).toBe(200);
    expect(served_(since)).toEqual(["controller"]);
    const { lines, pack } = demux(answer.body);
    // Only the have it knows is acknowledged, as upload-pack does with multi_ack_detailed.
    expect(lines).toEqual([`ACK ${older} common\n`, `ACK ${older}\n`]);
    await writeFile(`${dir.path}/moved.pack`, pack);
    const verify = await run("sh", ["-c", `cd ${dir.path} && git index-pack moved.pack >/dev/null && git verify-pack -v moved.idx`]);
    const inPack = verify.stdout
      .split("\n")
      .filter((l) => /^[0-9a-f]{40} (commit|tree|blob)/.test(l))
      .map((l) => l.slice(0, 40))
      .sort();
    expect(inPack).toEqual(await revList(`${older}..${wanted}`));
  });

  it("answers a fetch with nothing new with an empty pack that stock git accepts", async () => {
    const head = (await repo.head()) as string;
    const since = served.length;
    const answer = await post(port, agentRequest(head, [head]));
    expect(served_(since)).toEqual(["controller"]);
    const { lines, pack } = demux(answer.body);
    expect(lines).toEqual([`ACK ${head} common\n`, `ACK ${head}\n`]);
    expect(pack.subarray(0, 12)).toEqual(Buffer.from([0x50, 0x41, 0x43, 0x4b, 0, 0, 0, 2, 0, 0, 0, 0]));
    await writeFile(`${dir.path}/empty.pack`, pack);
    const verify = await run("sh", ["-c", `cd ${dir.path} && git index-pack empty.pack >/dev/null && git verify-pack -v empty.idx`]);
    // verify-pack lists each object and ends with the pack's name and "ok": here only that.
    expect(verify.stdout).toBe("empty.pack: ok\n");
  });

  it.each([
    ["a want that is not in the repository", () => agentRequest("e".repeat(40), [])],
    ["no have the repository knows", async () => agentRequest((await repo.head()) as string, ["f".repeat(40)])],
    ["include-tag asked", async () => agentRequest((await repo.head()) as string, ["f".repeat(40)], "multi_ack_detailed side-band-64k include-tag")],
    ["no side-band", async () => agentRequest((await repo.head()) as string, [(await repo.head()) as string], "multi_ack_detailed")],
  ])("leaves %s to the backend", async (_what, body) => {
    const since = served.length;
    await post(port, await body());
    expect(served_(since)).toEqual(["backend"]);
  });

  it("leaves stock git's fetches to the backend, over protocol v2 and v0, and they succeed", async () => {
    const clone = `${dir.path}/stock`;
    await run("git", ["-c", "http.extraHeader=Authorization: Bearer t", "clone", "-q", "--bare", url, clone]);
    await repo.commitDeployments([{ namespace: "team-c", name: "jobs", clusters: { "prod-us": configMaps("team-c", { jobs: "4" }) } }], "jobs 4");
    for (const version of ["2", "0"]) {
      const since = served.length;
      await run("git", [
        "--git-dir",
        clone,
        "-c",
        `protocol.version=${version}`,
        "-c",
        "http.extraHeader=Authorization: Bearer t",
        "fetch",
        "-q",
        url,
        "+main:main",
      ]);
      expect(served_(since).length).toBeGreaterThan(0);
      expect(served_(since).every((by) => by === "backend")).toBe(true);
      await repo.commitDeployments([{ namespace: "team-c", name: "jobs", clusters: { "prod-us": configMaps("team-c", { jobs: `5${version}` }) } }], "jobs 5");
    }
    const fsck = await stockGit(clone, ["fsck", "--strict", "--no-dangling"]);
    expect(fsck.code, fsck.stderr).toBe(0);
  });
});
