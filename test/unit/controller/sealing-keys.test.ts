// The hub's sealing keys: one Secret per push cluster in the controller's namespace, the rekey
// pair with its recipient published in a ConfigMap, identities re-read after the cache period.

import { describe, expect, it } from "vitest";
import { hubSealingKeys } from "../../../src/controller/sealing-keys.js";
import { generateKeyPair, recipientOf } from "../../../src/secrets/age.js";
import { FakeKeyObjects, identityIn } from "../secrets/fake-key-objects.js";

const NS = "flotilla-system";

describe("hubSealingKeys", () => {
  it("makes one Secret flotilla-sealing-<cluster> per cluster and answers its identity and recipient", async () => {
    const objects = new FakeKeyObjects("2026-12-03T10:00:00Z");
    const keys = hubSealingKeys(objects, NS);
    const eu = await keys.ensure("eu");
    const us = await keys.ensure("us");
    expect(eu.recipient).not.toBe(us.recipient);
    expect(eu.since).toBe("2026-12-03T10:00:00Z");
    const euIdentity = identityIn(objects.secret(NS, "flotilla-sealing-eu"));
    expect(await keys.identity("eu")).toBe(euIdentity);
    expect(await recipientOf(euIdentity ?? "")).toBe(eu.recipient);
    expect(await keys.recipient("us")).toBe(us.recipient);
    expect(await keys.identity("asia")).toBeUndefined();
    // ensure again: the same key, no new Secret.
    expect((await keys.ensure("eu")).recipient).toBe(eu.recipient);
  });

  it("deletes a cluster's Secret on remove, and reads the Secret again once the cache period is over", async () => {
    const objects = new FakeKeyObjects();
    let now = 0;
    const keys = hubSealingKeys(objects, NS, { cacheMs: 1_000, now: () => now });
    await keys.ensure("eu");
    expect(await keys.remove("eu")).toBe(true);
    expect(objects.secret(NS, "flotilla-sealing-eu")).toBeUndefined();
    expect(await keys.identity("eu")).toBeUndefined();
    // Rotated behind the cache's back: a new Secret is seen after cacheMs.
    const first = await keys.ensure("us");
    await objects.delete("Secret", NS, "flotilla-sealing-us");
    const rotated = await generateKeyPair();
    objects.put({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "flotilla-sealing-us", namespace: NS },
      data: { identity: Buffer.from(rotated.identity).toString("base64") },
    });
    expect(await keys.recipient("us")).toBe(first.recipient);
    now = 1_000;
    expect(await keys.recipient("us")).toBe(rotated.recipient);
  });

  it("makes the rekey Secret and publishes its recipient in ConfigMap flotilla-sealing, once", async () => {
    const objects = new FakeKeyObjects();
    const keys = hubSealingKeys(objects, NS);
    const recipient = await keys.ensureRekey();
    const identity = identityIn(objects.secret(NS, "flotilla-sealing-rekey"));
    expect(await recipientOf(identity ?? "")).toBe(recipient);
    const map = await objects.get("ConfigMap", NS, "flotilla-sealing");
    expect(map?.data).toEqual({ rekeyRecipient: recipient });
    const creates = objects.creates;
    expect(await keys.ensureRekey()).toBe(recipient);
    expect(objects.creates).toBe(creates);
  });

  it("refuses a ConfigMap that publishes another recipient than the rekey Secret's, naming both objects", async () => {
    const objects = new FakeKeyObjects();
    objects.put({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "flotilla-sealing", namespace: NS }, data: { rekeyRecipient: "age1stale" } });
    await expect(hubSealingKeys(objects, NS).ensureRekey()).rejects.toThrow(
      /ConfigMap flotilla-system\/flotilla-sealing .* not the recipient of Secret flotilla-system\/flotilla-sealing-rekey; delete the ConfigMap/,
    );
  });
});
