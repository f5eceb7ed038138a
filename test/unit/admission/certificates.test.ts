import { createPrivateKey, createPublicKey, X509Certificate } from "node:crypto";
import { createSecureContext } from "node:tls";
import { beforeAll, describe, expect, it } from "vitest";
import {
  applyRotation,
  type CertificatePolicy,
  createCa,
  DEFAULT_POLICY,
  issueServing,
  type KeyPairPem,
  renewalTime,
  rotationStep,
  servingIdentity,
  splitPemBundle,
  type TlsMaterial,
} from "../../../src/admission/certificates.js";

const identity = servingIdentity("flotilla-webhook", "flotilla-system");
const T0 = new Date("2026-01-01T00:00:00Z");
const DAY = 24 * 3600_000;
/** Short lifetimes, as the rotation test runs them. */
const SHORT: CertificatePolicy = { caValidityMs: 90 * DAY, servingValidityMs: 9 * DAY, renewAfter: 2 / 3, propagationMs: 60_000 };

let ca: KeyPairPem;
let serving: KeyPairPem;
let material: TlsMaterial;

beforeAll(async () => {
  ca = await createCa(T0, SHORT);
  serving = await issueServing(ca, identity, T0, SHORT);
  material = { ca, serving, caBundle: ca.cert, bundleChangedAt: T0 };
});

const at = (ms: number) => new Date(T0.getTime() + ms);

describe("certificate generation", () => {
  it("issues a serving certificate whose chain verifies against the CA with node:crypto", () => {
    const leaf = new X509Certificate(serving.cert);
    const root = new X509Certificate(ca.cert);
    expect(root.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(root.checkIssued(root)).toBe(true);
    expect(leaf.checkIssued(root)).toBe(true);
    expect(leaf.verify(root.publicKey)).toBe(true);
    expect(leaf.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]); // serverAuth
  });

  it("names the Service's DNS names and loopback, as the API server dials them", () => {
    const leaf = new X509Certificate(serving.cert);
    for (const name of ["flotilla-webhook.flotilla-system.svc", "flotilla-webhook.flotilla-system.svc.cluster.local", "localhost"]) {
      expect(leaf.checkHost(name)).toBe(name);
    }
    expect(leaf.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(leaf.checkHost("evil.example.com")).toBeUndefined();
  });

  it("uses ECDSA P-256 keys that match their certificates and load into a TLS context", () => {
    const key = createPrivateKey(serving.key);
    expect(key.asymmetricKeyType).toBe("ec");
    expect(key.asymmetricKeyDetails?.namedCurve).toBe("prime256v1");
    const fromKey = createPublicKey(key).export({ type: "spki", format: "der" });
    const fromCert = new X509Certificate(serving.cert).publicKey.export({ type: "spki", format: "der" });
    expect(Buffer.compare(fromKey, fromCert)).toBe(0);
    expect(() => createSecureContext({ cert: serving.cert, key: serving.key })).not.toThrow();
  });

  it("gives the serving certificate its lifetime, never beyond the CA's", async () => {
    const leaf = new X509Certificate(serving.cert);
    expect(Date.parse(leaf.validTo)).toBe(T0.getTime() + SHORT.servingValidityMs);
    const nearlyExpiredCa = await createCa(T0, { ...SHORT, caValidityMs: 2 * DAY });
    const capped = new X509Certificate((await issueServing(nearlyExpiredCa, identity, T0, SHORT)).cert);
    expect(Date.parse(capped.validTo)).toBe(T0.getTime() + 2 * DAY);
  });

  it("defaults to a 10-year CA and 90-day serving certificates renewed at two thirds of their life", () => {
    expect(DEFAULT_POLICY.caValidityMs).toBe(10 * 365 * DAY);
    expect(DEFAULT_POLICY.servingValidityMs).toBe(90 * DAY);
    const renewAt = renewalTime(serving.cert, SHORT).getTime();
    const leaf = new X509Certificate(serving.cert);
    const life = Date.parse(leaf.validTo) - Date.parse(leaf.validFrom);
    expect(renewAt - Date.parse(leaf.validFrom)).toBeCloseTo((life * 2) / 3, -3);
  });
});

describe("rotationStep", () => {
  it("creates everything when nothing is stored or what is stored cannot be read", () => {
    expect(rotationStep(undefined, identity, T0, SHORT).action).toBe("create");
    expect(rotationStep({ ...material, serving: { cert: "garbage", key: "" } }, identity, T0, SHORT).action).toBe("create");
  });

  it("does nothing while the serving certificate is young, and says when to look again", () => {
    const step = rotationStep(material, identity, at(DAY), SHORT);
    expect(step).toEqual({ action: "none", nextCheckAt: renewalTime(serving.cert, SHORT) });
  });

  it.each([
    ["at two thirds of its life", 6.1 * DAY],
    ["after it expired", 10 * DAY],
  ])("renews the serving certificate %s", (_when, ms) => {
    expect(rotationStep(material, identity, at(ms), SHORT).action).toBe("issue-serving");
  });

  it("renews a serving certificate that does not name an address the webhook is now reached at", () => {
    const other = servingIdentity("another-service", "flotilla-system");
    expect(rotationStep(material, other, at(DAY), SHORT)).toMatchObject({ action: "issue-serving", reason: expect.stringContaining("does not name") });
  });

  it("replaces a CA due for renewal first by adding a new CA to caBundle, keeping the old one and the served certificate", async () => {
    const now = at(61 * DAY);
    const current: TlsMaterial = { ...material, serving: await issueServing(ca, identity, at(60 * DAY), SHORT) };
    const step = rotationStep(current, identity, now, SHORT);
    expect(step.action).toBe("new-ca");
    const next = (await applyRotation(step, current, identity, now, SHORT)) as TlsMaterial;
    expect(next.serving).toBe(current.serving);
    const bundle = splitPemBundle(next.caBundle).map((pem) => new X509Certificate(pem).fingerprint256);
    expect(bundle).toEqual([new X509Certificate(next.ca.cert).fingerprint256, new X509Certificate(ca.cert).fingerprint256]);
    // The served certificate still verifies against a CA in the bundle during the switch.
    expect(splitPemBundle(next.caBundle).some((pem) => new X509Certificate(next.serving.cert).verify(new X509Certificate(pem).publicKey))).toBe(true);

    // Until the new bundle has had time to reach the API server, the old certificate stays served.
    const soon = new Date(now.getTime() + 10_000);
    expect(rotationStep(next, identity, soon, SHORT)).toEqual({ action: "none", nextCheckAt: new Date(now.getTime() + SHORT.propagationMs) });
    const later = new Date(now.getTime() + SHORT.propagationMs);
    const switchStep = rotationStep(next, identity, later, SHORT);
    expect(switchStep).toMatchObject({ action: "issue-serving", reason: expect.stringContaining("previous CA") });
    const switched = (await applyRotation(switchStep, next, identity, later, SHORT)) as TlsMaterial;
    expect(new X509Certificate(switched.serving.cert).verify(new X509Certificate(next.ca.cert).publicKey)).toBe(true);
    // The old CA stays trusted until it expires: a replica may still serve what it signed.
    expect(splitPemBundle(switched.caBundle)).toHaveLength(2);
    expect(rotationStep(switched, identity, new Date(later.getTime() + 1000), SHORT).action).toBe("none");
  });

  it("drops expired CAs from caBundle when it next writes", async () => {
    const expired = await createCa(new Date(T0.getTime() - 100 * DAY), SHORT);
    const withOld: TlsMaterial = { ...material, caBundle: `${ca.cert}${expired.cert}` };
    const now = at(7 * DAY);
    const next = (await applyRotation(rotationStep(withOld, identity, now, SHORT), withOld, identity, now, SHORT)) as TlsMaterial;
    expect(splitPemBundle(next.caBundle)).toEqual([ca.cert]);
  });

  it("starts over when the CA expired or is missing from caBundle", async () => {
    expect(rotationStep(material, identity, at(91 * DAY), SHORT).action).toBe("create");
    const other = await createCa(T0, SHORT);
    expect(rotationStep({ ...material, caBundle: other.cert }, identity, at(DAY), SHORT).action).toBe("create");
  });
});
