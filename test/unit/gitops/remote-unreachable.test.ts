// Opening the environment repository while its remote is down: a repository that already has
// history keeps working (commits queue locally), an empty one refuses to start, because it cannot
// know the remote's history and a first commit would begin a second, unpushable one.

import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GitError } from "../../../src/api/errors.js";
import { EnvRepo } from "../../../src/gitops/repo.js";
import { configMaps, tempDir } from "./support.js";

/** A loopback URL nobody listens on: the port was free a moment ago. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/env.git`;
}

describe("opening with an unreachable remote", () => {
  let dir: { path: string; cleanup: () => Promise<void> };
  let url: string;

  beforeEach(async () => {
    dir = await tempDir();
    url = await closedPortUrl();
  });
  afterEach(() => dir.cleanup());

  it("refuses to start an empty repository, with a retryable error that says why", async () => {
    const opened = EnvRepo.open({ dir: `${dir.path}/env.git`, remote: { url, timeoutMs: 2_000 } });
    await expect(opened).rejects.toBeInstanceOf(GitError);
    const err = (await opened.catch((e: unknown) => e)) as GitError;
    expect(err.retryable).toBe(true);
    expect(err.message).toContain("is empty");
    expect(err.message).toContain("127.0.0.1");
    expect(err.message).toMatch(/unreachable \(ECONNREFUSED\)/);
  });

  it("opens a repository that has history and queues its next commit", async () => {
    const embedded = await EnvRepo.open({ dir: `${dir.path}/env.git` });
    const first = await embedded.commitDeployments([{ namespace: "team-a", name: "shop", clusters: { c1: configMaps("team-a", { a: "1" }) } }], "v1");
    const repo = await EnvRepo.open({ dir: `${dir.path}/env.git`, remote: { url, timeoutMs: 2_000 } });
    expect(await repo.head()).toBe(first?.oid);
    const next = await repo.commitDeployments([{ namespace: "team-a", name: "shop", clusters: { c1: configMaps("team-a", { a: "2" }) } }], "v2");
    expect(next?.state).toBe("queued");
  });
});
