// Sealed Secrets in the sync loop, on a fake cluster: the worker opens each value with the
// cluster's identity just before the apply, one Secret the key cannot open fails alone (naming the
// Secret, the key and the missing recipient), drift on the opened data is corrected, and no
// plaintext (nor its base64) reaches the worker's events, status or results.

import { afterEach, describe, expect, it } from "vitest";
import { LABEL_APP, LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../../../src/api/labels.js";
import type { Manifest } from "../../../src/api/types.js";
import { generateKeyPair, seal } from "../../../src/secrets/age.js";
import { ANNOTATION_APPLIED_HASH, prepareForApply } from "../../../src/sync/hash.js";
import { syncRules } from "../../../src/sync/member-access.js";
import { redactSecretDrift, SecretOpener, UnsealFailure } from "../../../src/sync/sealed.js";
import type { DesiredState } from "../../../src/sync/types.js";
import { ClusterSyncWorker, type SyncEvent } from "../../../src/sync/worker.js";
import { FakeCluster } from "../fake-cluster.js";

const NS = "team-a";
const PASSWORD = "correct-horse-battery-staple";
const TOKEN = "tok-0123456789-plain";
const labels = { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_APP]: `${NS}.web` };
const b64 = (s: string) => Buffer.from(s).toString("base64");

const member = await generateKeyPair();
const stranger = await generateKeyPair();
const sealedPassword = await seal(PASSWORD, [member.recipient]);

function sealedSecret(name: string, data: Record<string, string>, recipients: string[]): Manifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace: NS,
      labels,
      annotations: { "flotilla.dev/sealed": "age", "flotilla.dev/sealed-recipients": recipients.join(",") },
    },
    type: "Opaque",
    data,
  } as Manifest;
}

const configMap: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings", namespace: NS, labels }, data: { mode: "fast" } } as Manifest;

interface Harness {
  cluster: FakeCluster;
  worker: ClusterSyncWorker;
  events: SyncEvent[];
}

const workers: ClusterSyncWorker[] = [];
afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
});

function harness(objects: (commit: string) => Manifest[], identity: string | undefined): Harness {
  const cluster = new FakeCluster();
  const events: SyncEvent[] = [];
  const worker = new ClusterSyncWorker({
    cluster: "prod-eu",
    client: cluster,
    source: async (commit): Promise<DesiredState> => ({ commit, objects: objects(commit) }),
    healthInterval: 0,
    resyncInterval: 3_600_000,
    backoff: { initialMs: 3_600_000, maxMs: 3_600_000 },
    identity: async () => identity,
    onEvent: (e) => events.push(e),
  });
  workers.push(worker);
  return { cluster, worker, events };
}

/** Everything the worker says about itself: status (with the last result) and events. */
function everythingSaid(h: Harness): string {
  return JSON.stringify({ status: h.worker.status, events: h.events });
}

function expectNoPlaintext(text: string): void {
  for (const v of [PASSWORD, TOKEN, b64(PASSWORD), b64(TOKEN)]) expect(text).not.toContain(v);
}

describe("sealed Secrets in the sync loop", () => {
  it("applies the opened values, keeps the marker and recipients and the sealed form's hash, and says no plaintext", async () => {
    const password = await seal(PASSWORD, [member.recipient, stranger.recipient]);
    const desired = sealedSecret("db", { password }, [member.recipient, stranger.recipient]);
    const h = harness(() => [desired, configMap], member.identity);
    h.worker.setDesired("c1");
    await h.worker.idle();
    const live = h.cluster.peek("Secret", "db", NS) as Manifest;
    expect(live.data).toEqual({ password: b64(PASSWORD) });
    expect(live.metadata.annotations).toMatchObject({
      "flotilla.dev/sealed": "age",
      "flotilla.dev/sealed-recipients": `${member.recipient},${stranger.recipient}`,
      [ANNOTATION_APPLIED_HASH]: prepareForApply(desired).metadata.annotations?.[ANNOTATION_APPLIED_HASH],
    });
    expect(h.worker.status.appliedCommit).toBe("c1");
    expect(h.worker.status.lastResult?.changes.find((c) => c.name === "db")?.action).toBe("created");
    expectNoPlaintext(everythingSaid(h));
  });

  it("fails only the Secret this cluster's key cannot open, naming it, the key and the missing recipient", async () => {
    const ok = sealedSecret("db", { password: await seal(PASSWORD, [member.recipient]) }, [member.recipient]);
    const foreign = sealedSecret("api", { token: await seal(TOKEN, [stranger.recipient]) }, [stranger.recipient]);
    const h = harness(() => [ok, foreign, configMap], member.identity);
    h.worker.setDesired("c1");
    await h.worker.idle();
    const changes = h.worker.status.lastResult?.changes ?? [];
    const failed = changes.filter((c) => c.action === "failed");
    expect(failed.map((c) => c.object)).toEqual([`Secret/${NS}/api`]);
    expect(failed[0]?.message).toBe(
      `Secret/${NS}/api: cannot open the sealed value of key "token": this cluster's key ${member.recipient} is not among the value's recipients (sealed to ${stranger.recipient}); run \`flotilla secret rekey\``,
    );
    expect(h.cluster.peek("Secret", "api", NS)).toBeUndefined();
    expect((h.cluster.peek("Secret", "db", NS) as Manifest).data).toEqual({ password: b64(PASSWORD) });
    expect(h.cluster.peek("ConfigMap", "settings", NS)).toBeDefined();
    expect(h.events.find((e) => e.type === "SyncFailed")?.message).toContain(`Secret/${NS}/api`);
    expectNoPlaintext(everythingSaid(h));
  });

  it("fails every sealed Secret alone when the cluster has no key yet, and applies the rest", async () => {
    const h = harness(() => [sealedSecret("db", { password: sealedPassword }, [member.recipient]), configMap], undefined);
    h.worker.setDesired("c1");
    await h.worker.idle();
    const db = h.worker.status.lastResult?.changes.find((c) => c.name === "db");
    expect(db?.action).toBe("failed");
    expect(db?.message).toContain('cannot open the sealed value of key "password": this cluster has no sealing key yet');
    expect(h.cluster.peek("ConfigMap", "settings", NS)).toBeDefined();
  });

  it("corrects drift of the opened data without showing either value, and rolls out a rotated value", async () => {
    const v1 = sealedSecret("db", { password: await seal(PASSWORD, [member.recipient]) }, [member.recipient]);
    const rotated = sealedSecret("db", { password: await seal(TOKEN, [member.recipient]) }, [member.recipient]);
    const h = harness((commit) => [commit === "c2" ? rotated : v1], member.identity);
    h.worker.setDesired("c1");
    await h.worker.idle();
    // Someone edits the member's Secret by hand: same hash annotation, other data.
    const live = h.cluster.peek("Secret", "db", NS) as Manifest;
    h.cluster.seed({ ...live, data: { password: b64("edited-by-hand-value") } } as Manifest);
    h.worker.resync();
    await h.worker.idle();
    const corrected = h.worker.status.lastResult?.changes.find((c) => c.name === "db");
    expect(corrected?.action).toBe("configured");
    expect(corrected?.drift).toEqual(["data.password: differs (a sealed Secret's values are not shown)"]);
    expect((h.cluster.peek("Secret", "db", NS) as Manifest).data).toEqual({ password: b64(PASSWORD) });
    expect(h.events.some((e) => e.type === "DriftCorrected" && e.object === `Secret/${NS}/db`)).toBe(true);
    expect(everythingSaid(h)).not.toContain(b64("edited-by-hand-value"));
    // Rotation: a new ciphertext is a new hash, applied like any change.
    h.worker.setDesired("c2");
    await h.worker.idle();
    expect((h.cluster.peek("Secret", "db", NS) as Manifest).data).toEqual({ password: b64(TOKEN) });
    expect(h.worker.status.lastResult?.changes.find((c) => c.name === "db")?.action).toBe("configured");
    expectNoPlaintext(everythingSaid(h));
  });

  it("reads the identity once per sync, and not at all for a sync without a sealed Secret", async () => {
    let reads = 0;
    const cluster = new FakeCluster();
    const password = await seal(PASSWORD, [member.recipient]);
    const worker = new ClusterSyncWorker({
      cluster: "prod-eu",
      client: cluster,
      source: async (commit) => ({
        commit,
        objects: commit === "c1" ? [configMap] : [sealedSecret("a", { password }, []), sealedSecret("b", { password, again: password }, []), configMap],
      }),
      healthInterval: 0,
      identity: async () => {
        reads++;
        return member.identity;
      },
    });
    workers.push(worker);
    worker.setDesired("c1");
    await worker.idle();
    expect(reads).toBe(0);
    worker.setDesired("c2");
    await worker.idle();
    expect(reads).toBe(1);
    expect((cluster.peek("Secret", "b", NS) as Manifest).data).toEqual({ again: b64(PASSWORD), password: b64(PASSWORD) });
  });
});

describe("SecretOpener", () => {
  it("refuses a value that is not an age file, naming the key and asking to seal it again", async () => {
    const opener = new SecretOpener(async () => member.identity);
    const error = await opener
      .open(sealedSecret("db", { password: "-----BEGIN AGE ENCRYPTED FILE-----\nbm90IGFnZQ==\n-----END AGE ENCRYPTED FILE-----" }, []))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsealFailure);
    expect((error as UnsealFailure).retryable).toBe(false);
    expect((error as Error).message).toMatch(
      new RegExp(`^Secret/${NS}/db: cannot open the sealed value of key "password": .*seal the value again with \`flotilla secret seal\`$`),
    );
  });

  it("retries when the key cannot be read, and reads it again next time", async () => {
    let calls = 0;
    const opener = new SecretOpener(async () => {
      calls++;
      if (calls === 1) throw new Error("HTTP 503");
      return member.identity;
    });
    const secret = sealedSecret("db", { password: sealedPassword }, []);
    const error = await opener.open(secret).catch((e: unknown) => e);
    expect((error as UnsealFailure).retryable).toBe(true);
    expect((error as Error).message).toContain("this cluster's sealing key could not be read (HTTP 503)");
    expect((await opener.open(secret)).data).toEqual({ password: b64(PASSWORD) });
  });

  it("scrubs every value it opened, plain or base64, out of a text", async () => {
    const opener = new SecretOpener(async () => member.identity);
    await opener.open(sealedSecret("db", { password: sealedPassword }, []));
    expect(opener.scrub(`invalid: ${b64(PASSWORD)} and ${PASSWORD}`)).toBe("invalid: <sealed value> and <sealed value>");
  });

  it("leaves every object but a marked Secret as it is", async () => {
    const opener = new SecretOpener(undefined);
    expect(await opener.open(configMap)).toBe(configMap);
  });
});

describe("redactSecretDrift", () => {
  it("drops the values of a sealed Secret's data lines and keeps other lines and other kinds as they are", () => {
    const secret = sealedSecret("db", {}, []);
    const lines = ['data.password: want "c2VjcmV0", found <absent>', "data: want an object, found 3", 'metadata.labels.x: want "1", found "2"'];
    expect(redactSecretDrift(secret, lines)).toEqual([
      "data.password: differs (a sealed Secret's values are not shown)",
      "data: differs (a sealed Secret's values are not shown)",
      'metadata.labels.x: want "1", found "2"',
    ]);
    expect(redactSecretDrift(configMap, lines)).toEqual(lines);
  });
});

describe("the sync identity's rights on a member", () => {
  it("cover what applying, watching and pruning a sealed Secret takes (server-side apply: no update)", () => {
    const covers = (verb: string) =>
      syncRules().some(
        (r) =>
          (r.apiGroups ?? []).some((g) => g === "" || g === "*") &&
          (r.resources ?? []).some((x) => x === "secrets" || x === "*") &&
          (r.verbs ?? []).includes(verb),
      );
    expect(["get", "list", "watch", "create", "patch", "delete"].filter((v) => !covers(v))).toEqual([]);
  });
});
