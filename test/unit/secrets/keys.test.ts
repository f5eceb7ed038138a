// A sealing key is made once: the Secret is created when missing, never overwritten, and two
// processes racing end with the same key; a damaged Secret is named, its content never shown.

import { describe, expect, it } from "vitest";
import { generateKeyPair, recipientOf } from "../../../src/secrets/age.js";
import { ensureKeySecret, readKeySecret, SEALING_KEY_LABEL, SealingKeyError } from "../../../src/secrets/keys.js";
import { FakeKeyObjects, identityIn } from "./fake-key-objects.js";

const where = { namespace: "flotilla-system", name: "flotilla-sealing-eu", owner: "eu" };

describe("ensureKeySecret", () => {
  it("creates the Secret with a fresh identity under data.identity, labelled with its owner, and returns its recipient and creation time", async () => {
    const objects = new FakeKeyObjects("2026-12-03T10:00:00Z");
    const key = await ensureKeySecret(objects, where);
    const secret = objects.secret("flotilla-system", "flotilla-sealing-eu");
    expect(identityIn(secret)).toBe(key.identity);
    expect(key.identity).toMatch(/^AGE-SECRET-KEY-1/);
    expect(key.recipient).toBe(await recipientOf(key.identity));
    expect(key.since).toBe("2026-12-03T10:00:00Z");
    expect(secret?.metadata.labels).toEqual({ [SEALING_KEY_LABEL]: "eu" });
    expect(secret?.type).toBe("Opaque");
  });

  it("never replaces an existing key", async () => {
    const objects = new FakeKeyObjects();
    const existing = await generateKeyPair();
    objects.put({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: where.name, namespace: where.namespace, creationTimestamp: "2026-01-01T00:00:00Z" },
      data: { identity: Buffer.from(existing.identity).toString("base64") },
    });
    const key = await ensureKeySecret(objects, where);
    expect(key).toEqual({ ...existing, since: "2026-01-01T00:00:00Z" });
    expect(objects.creates).toBe(0);
    expect(identityIn(objects.secret(where.namespace, where.name))).toBe(existing.identity);
  });

  it("ends with one key when two processes race: the one whose create lost reads the winner's", async () => {
    const objects = new FakeKeyObjects();
    let open = () => {};
    objects.gate = new Promise((r) => {
      open = r;
    });
    const a = ensureKeySecret(objects, where);
    const b = ensureKeySecret(objects, where);
    open();
    const [ka, kb] = await Promise.all([a, b]);
    expect(objects.creates).toBe(2);
    expect(ka.identity).toBe(kb.identity);
    expect(identityIn(objects.secret(where.namespace, where.name))).toBe(ka.identity);
  });

  it("names a Secret without a usable identity and how to fix it, without showing what it holds", async () => {
    const objects = new FakeKeyObjects();
    objects.put({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: where.name, namespace: where.namespace },
      data: { identity: Buffer.from("hunter2-not-a-key").toString("base64") },
    });
    const error = await readKeySecret(objects, where.namespace, where.name).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SealingKeyError);
    expect(String((error as Error).message)).toContain("Secret flotilla-system/flotilla-sealing-eu");
    expect(String((error as Error).message)).toContain("delete the Secret");
    expect(String((error as Error).message)).not.toContain("hunter2");
    objects.put({ apiVersion: "v1", kind: "Secret", metadata: { name: "other", namespace: where.namespace }, data: {} });
    await expect(readKeySecret(objects, where.namespace, "other")).rejects.toThrow(/has no data key "identity"/);
  });

  it("reads nothing when the Secret does not exist", async () => {
    expect(await readKeySecret(new FakeKeyObjects(), where.namespace, where.name)).toBeUndefined();
  });
});
