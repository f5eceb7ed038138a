import { describe, expect, it } from "vitest";
import { AnswerCache, requestKey } from "../../../src/gitops/serve-cache.js";

const answer = (bytes: number) => ({ status: 200, headers: [["Content-Type", "x"]] as const, body: Buffer.alloc(bytes, 1) });

describe("AnswerCache", () => {
  it("drops the least recently used answers past its total, counting a hit as a use", () => {
    const cache = new AnswerCache({ maxAnswerBytes: 10, maxTotalBytes: 25 });
    cache.set("a", answer(10));
    cache.set("b", answer(10));
    expect(cache.get("a")?.body.length).toBe(10);
    cache.set("c", answer(10));
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBeDefined();
    expect(cache.get("c")).toBeDefined();
    cache.set("d", answer(11));
    expect(cache.get("d")).toBeUndefined();
  });

  it("lets a second caller of a running key wait for the first instead of producing again", async () => {
    const cache = new AnswerCache();
    let produced = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const first = cache.once("k", async () => {
      produced++;
      await gate;
    });
    const second = cache.once("k", async () => {
      produced++;
    });
    release();
    expect(await Promise.all([first, second])).toEqual(["produced", "waited"]);
    expect(produced).toBe(1);
    // Done: the next caller produces again (and would find the cache filled by the first).
    expect(await cache.once("k", async () => void produced++)).toBe("produced");
    expect(produced).toBe(2);
  });

  it("a waiter is released when the producer fails", async () => {
    const cache = new AnswerCache();
    const first = cache.once("k", async () => {
      throw new Error("backend failed");
    });
    const second = cache.once("k", async () => undefined);
    await expect(first).rejects.toThrow("backend failed");
    expect(await second).toBe("waited");
  });
});

describe("requestKey", () => {
  const base = {
    refs: "HEAD ref: refs/heads/main\nrefs/heads/main 1111",
    suffix: "/git-upload-pack",
    query: "",
    method: "POST",
    protocol: undefined,
    contentType: "application/x-git-upload-pack-request",
    contentEncoding: undefined,
    body: Buffer.from("0032want 1111\n00000009done\n"),
  };

  it("differs when the refs, the protocol or the body differ, and not otherwise", () => {
    expect(requestKey(base)).toBe(requestKey({ ...base, body: Buffer.from(base.body) }));
    expect(requestKey({ ...base, refs: `${base.refs}2` })).not.toBe(requestKey(base));
    expect(requestKey({ ...base, protocol: "version=2" })).not.toBe(requestKey(base));
    expect(requestKey({ ...base, body: Buffer.from("0032want 2222\n00000009done\n") })).not.toBe(requestKey(base));
    // Field boundaries count: moving text from one field to the next is another request.
    expect(requestKey({ ...base, suffix: "/git-upload-packP", method: "OST" })).not.toBe(requestKey(base));
  });
});
