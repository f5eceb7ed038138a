// The member's sealing key in pull mode: made once in the Secret flotilla-sealing of the agent's
// namespace, the same key for two replicas racing, the namespace created when it is missing, and
// the Secret read again after the cache period (a key rotated by deleting its Secret).

import { describe, expect, it } from "vitest";
import { agentSealingKey } from "../../../src/agent/sealing-key.js";
import { KubeApiError } from "../../../src/api/errors.js";
import type { Manifest } from "../../../src/api/types.js";
import { recipientOf } from "../../../src/secrets/age.js";
import { FakeKeyObjects, identityIn } from "../secrets/fake-key-objects.js";

describe("agentSealingKey", () => {
  it("makes the Secret flotilla-sealing in its namespace once and gives the sync loop its identity", async () => {
    const objects = new FakeKeyObjects();
    const key = agentSealingKey(objects, "flotilla-agent");
    expect(key.recipient).toBeUndefined();
    const recipient = await key.ensure();
    const identity = identityIn(objects.secret("flotilla-agent", "flotilla-sealing"));
    expect(await recipientOf(identity ?? "")).toBe(recipient);
    expect(await key.identity()).toBe(identity);
    expect(key.recipient).toBe(recipient);
    expect(objects.creates).toBe(1);
  });

  it("ends with one key when two replicas race for it", async () => {
    const objects = new FakeKeyObjects();
    let open = () => {};
    objects.gate = new Promise((r) => {
      open = r;
    });
    const a = agentSealingKey(objects, "flotilla-agent").ensure();
    const b = agentSealingKey(objects, "flotilla-agent").ensure();
    open();
    const [ra, rb] = await Promise.all([a, b]);
    expect(ra).toBe(rb);
    expect(await recipientOf(identityIn(objects.secret("flotilla-agent", "flotilla-sealing")) ?? "")).toBe(ra);
  });

  it("creates its namespace when the Secret cannot be created for want of it, then the Secret", async () => {
    const objects = new FakeKeyObjects();
    const namespaces: string[] = [];
    const create = objects.create.bind(objects);
    objects.create = async (o: Manifest) => {
      if (!namespaces.includes(o.metadata.namespace ?? ""))
        throw new KubeApiError("namespaces not found", { object: `Secret/${o.metadata.namespace}/${o.metadata.name}`, status: 404, retryable: false });
      return create(o);
    };
    const key = agentSealingKey(objects, "flotilla-agent", {
      createNamespace: async () => {
        namespaces.push("flotilla-agent");
      },
    });
    await key.ensure();
    expect(namespaces).toEqual(["flotilla-agent"]);
    expect(objects.secret("flotilla-agent", "flotilla-sealing")).toBeDefined();
  });

  it("reads the Secret again after the cache period: a deleted Secret means a new key", async () => {
    const objects = new FakeKeyObjects();
    let now = 0;
    const key = agentSealingKey(objects, "flotilla-agent", { cacheMs: 1_000, now: () => now });
    const first = await key.ensure();
    await objects.delete("Secret", "flotilla-agent", "flotilla-sealing");
    expect(await key.ensure()).toBe(first);
    now = 1_000;
    const second = await key.ensure();
    expect(second).not.toBe(first);
    expect(await recipientOf((await key.identity()) ?? "")).toBe(second);
  });
});
