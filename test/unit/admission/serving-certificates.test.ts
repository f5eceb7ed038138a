import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type CertificatePolicy, type KeyPairPem, servingIdentity, splitPemBundle, type TlsMaterial } from "../../../src/admission/certificates.js";
import { ServingCertificates } from "../../../src/admission/serving-certificates.js";
import { materialOf, secretOf, secretStore, type TlsStore } from "../../../src/admission/tls-secret.js";
import { webhookConfiguration } from "../../../src/admission/webhook-config.js";

const identity = servingIdentity("flotilla-webhook", "flotilla-system");
const DAY = 24 * 3600_000;
const POLICY: CertificatePolicy = { caValidityMs: 90 * DAY, servingValidityMs: 9 * DAY, renewAfter: 2 / 3, propagationMs: 60_000 };

/** A Secret in memory with resourceVersions, as the API server keeps one. */
function memoryStore(): TlsStore & { version: number; material: TlsMaterial | undefined; writes: number } {
  const store = {
    version: 0,
    material: undefined as TlsMaterial | undefined,
    writes: 0,
    async read() {
      return { material: store.material, resourceVersion: store.material ? String(store.version) : undefined };
    },
    async write(material: TlsMaterial, resourceVersion: string | undefined) {
      if ((resourceVersion ?? undefined) !== (store.material ? String(store.version) : undefined)) return false;
      store.material = material;
      store.version++;
      store.writes++;
      return true;
    },
  };
  return store;
}

/** Events in order: what was published and what was served. */
function loop(store: TlsStore, clock: { now: Date }) {
  const events: string[] = [];
  const served: KeyPairPem[] = [];
  let bundle = "";
  const certs = new ServingCertificates({
    store,
    identity,
    policy: POLICY,
    now: () => clock.now,
    publish: async (caBundle) => {
      if (caBundle !== bundle) events.push(`publish ${splitPemBundle(caBundle).length}`);
      bundle = caBundle;
    },
    serve: (pair) => {
      // Whatever is served must verify against the bundle published before it.
      const leaf = new X509Certificate(pair.cert);
      const trusted = splitPemBundle(bundle).some((pem) => leaf.verify(new X509Certificate(pem).publicKey));
      events.push(trusted ? "serve" : "serve UNTRUSTED");
      served.push(pair);
    },
  });
  return { certs, events, served };
}

describe("ServingCertificates", () => {
  it("creates the CA and certificate once, publishes the bundle, then serves; a second replica serves the same", async () => {
    const store = memoryStore();
    const clock = { now: new Date("2026-01-01T00:00:00Z") };
    const a = loop(store, clock);
    const next = await a.certs.pass();
    expect(a.events).toEqual(["publish 1", "serve"]);
    expect(next.getTime()).toBeGreaterThan(clock.now.getTime() + 5 * DAY);
    const b = loop(store, clock);
    await b.certs.pass();
    expect(b.served[0]?.cert).toBe(a.served[0]?.cert);
    expect(store.writes).toBe(1);
    await expect(a.certs.ready).resolves.toBeUndefined();
  });

  it("rotates through a CA renewal without ever serving a certificate the published bundle does not trust", async () => {
    const store = memoryStore();
    const clock = { now: new Date("2026-01-01T00:00:00Z") };
    const { certs, events } = loop(store, clock);
    // Look every 6 hours for 100 days: serving renewals, one CA renewal, and its switch.
    for (let t = 0; t < 100 * 4; t++) {
      await certs.pass();
      clock.now = new Date(clock.now.getTime() + 6 * 3600_000);
      // The fake store answers with settled promises: yield to the event loop now and then.
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(events.filter((e) => e === "serve UNTRUSTED")).toEqual([]);
    expect(events).toContain("publish 2");
    expect(events.filter((e) => e === "serve").length).toBeGreaterThanOrEqual(10);
    expect(new X509Certificate((store.material as TlsMaterial).serving.cert).verify(new X509Certificate(store.material?.ca.cert ?? "").publicKey)).toBe(true);
  });

  it("takes what another replica wrote when it loses the race to rotate", async () => {
    const store = memoryStore();
    const clock = { now: new Date("2026-01-01T00:00:00Z") };
    const first = loop(store, clock);
    await first.certs.pass();
    const winner = store.material as TlsMaterial;
    // The other replica read before this write landed: its create conflicts.
    let reads = 0;
    const racing: TlsStore = {
      read: async () => (reads++ === 0 ? { material: undefined, resourceVersion: undefined } : store.read()),
      write: (m, v) => store.write(m, v),
    };
    const second = loop(racing, clock);
    await second.certs.pass();
    expect(second.served[0]?.cert).toBe(winner.serving.cert);
    expect(store.writes).toBe(1);
  });
});

describe("the TLS Secret", () => {
  it("round-trips the material through the Secret's data", () => {
    const material: TlsMaterial = {
      ca: { cert: "C", key: "K" },
      serving: { cert: "S", key: "SK" },
      caBundle: "B",
      bundleChangedAt: new Date("2026-01-01T00:00:00Z"),
    };
    const secret = secretOf(material, "flotilla-webhook-tls", "flotilla-system", "12") as Parameters<typeof materialOf>[0];
    expect(materialOf(secret)).toEqual(material);
    expect((secret as { metadata: { resourceVersion?: string } }).metadata.resourceVersion).toBe("12");
    expect(materialOf({ data: {} })).toBeUndefined();
  });

  it("creates with POST, replaces with PUT at the version read, and reports a conflict as a lost race", async () => {
    const calls: string[] = [];
    const api = {
      send: async <T>(method: string, path: string) => {
        calls.push(`${method} ${path}`);
        return { status: method === "PUT" ? 409 : method === "GET" ? 404 : 201, body: undefined as T | undefined };
      },
    };
    const store = secretStore(api, "flotilla-system");
    const material: TlsMaterial = { ca: { cert: "C", key: "K" }, serving: { cert: "S", key: "SK" }, caBundle: "B", bundleChangedAt: new Date(0) };
    expect(await store.read()).toEqual({ material: undefined, resourceVersion: undefined });
    expect(await store.write(material, undefined)).toBe(true);
    expect(await store.write(material, "5")).toBe(false);
    expect(calls).toEqual([
      "GET /api/v1/namespaces/flotilla-system/secrets/flotilla-webhook-tls",
      "POST /api/v1/namespaces/flotilla-system/secrets",
      "PUT /api/v1/namespaces/flotilla-system/secrets/flotilla-webhook-tls",
    ]);
  });
});

describe("webhookConfiguration", () => {
  it("registers one webhook for Flotilla's kinds that never blocks the hub: Ignore, a short timeout, no side effects", () => {
    const config = webhookConfiguration(
      { clientConfig: { service: { namespace: "flotilla-system", name: "flotilla-webhook", port: 443 } } },
      "PEM",
    ) as unknown as {
      metadata: { name: string };
      webhooks: Array<Record<string, unknown>>;
    };
    expect(config.metadata.name).toBe("flotilla");
    expect(config.webhooks).toEqual([
      {
        name: "validate.flotilla.dev",
        admissionReviewVersions: ["v1"],
        sideEffects: "None",
        failurePolicy: "Ignore",
        matchPolicy: "Equivalent",
        timeoutSeconds: 2,
        clientConfig: {
          service: { namespace: "flotilla-system", name: "flotilla-webhook", port: 443, path: "/validate" },
          caBundle: Buffer.from("PEM").toString("base64"),
        },
        rules: [
          {
            apiGroups: ["flotilla.dev"],
            apiVersions: ["*"],
            operations: ["CREATE", "UPDATE"],
            resources: ["applicationdeployments", "componentdefinitions", "traitdefinitions", "clusters", "tenantpolicies"],
            scope: "*",
          },
        ],
      },
    ]);
  });

  it("registers a URL and an object selector when asked (the local fleet, a scoped test)", () => {
    const config = webhookConfiguration(
      { name: "t", clientConfig: { url: "https://127.0.0.1:9443/validate" }, objectSelector: { matchLabels: { a: "b" } }, timeoutSeconds: 1 },
      "PEM",
    ) as unknown as { webhooks: Array<{ clientConfig: unknown; objectSelector: unknown; timeoutSeconds: number }> };
    expect(config.webhooks[0]?.clientConfig).toEqual({ url: "https://127.0.0.1:9443/validate", caBundle: Buffer.from("PEM").toString("base64") });
    expect(config.webhooks[0]?.objectSelector).toEqual({ matchLabels: { a: "b" } });
    expect(config.webhooks[0]?.timeoutSeconds).toBe(1);
  });
});
