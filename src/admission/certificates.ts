// The admission webhook's TLS: a self-signed CA and a serving certificate it signs (ECDSA P-256,
// WebCrypto through @peculiar/x509), and the pure decision of what to renew when. It never lets a
// serving certificate be served before the API server trusts the CA that signed it, and never
// drops from the CA bundle a CA whose serving certificate may still be served.

import { X509Certificate as NodeX509Certificate, webcrypto } from "node:crypto";
// tsyringe, a dependency of @peculiar/x509, needs the Reflect metadata API at load time.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type KeyPair = webcrypto.CryptoKeyPair;
/** The key type @peculiar/x509 declares (the DOM's CryptoKey), which Node's webcrypto keys are. */
type X509Key = x509.X509CertificateCreateWithKeyParams["signingKey"];

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;

/** A certificate and its private key, both PEM. */
export interface KeyPairPem {
  cert: string;
  key: string;
}

/** What the TLS Secret holds. */
export interface TlsMaterial {
  /** The CA that signs new serving certificates. */
  ca: KeyPairPem;
  /** The certificate the webhook serves. */
  serving: KeyPairPem;
  /** PEM bundle of every CA the API server must trust (the webhook configuration's caBundle): the current CA first. */
  caBundle: string;
  /** When a CA last joined caBundle: a serving certificate it signed is served only some time later. */
  bundleChangedAt: Date;
}

/** How long certificates live and when they are renewed. */
export interface CertificatePolicy {
  /** Lifetime of the CA, ms. Default 10 years. */
  caValidityMs: number;
  /** Lifetime of a serving certificate, ms. Default 90 days. */
  servingValidityMs: number;
  /** Renew a certificate once this fraction of its life has passed. Default 2/3. */
  renewAfter: number;
  /**
   * How long a new CA sits in caBundle before a serving certificate it signed is served, ms: the
   * API server must have read the new bundle first. Default 60 000.
   */
  propagationMs: number;
}

export const DEFAULT_POLICY: CertificatePolicy = {
  caValidityMs: 10 * 365 * 24 * 3600_000,
  servingValidityMs: 90 * 24 * 3600_000,
  renewAfter: 2 / 3,
  propagationMs: 60_000,
};

/** The names a serving certificate must be valid for. */
export interface ServingIdentity {
  dnsNames: string[];
  ips: string[];
}

/**
 * The Service's DNS names as the API server dials them (`<service>.<namespace>.svc`), and loopback
 * (the local fleet registers a URL on 127.0.0.1).
 */
export function servingIdentity(service: string, namespace: string): ServingIdentity {
  const svc = `${service}.${namespace}.svc`;
  return { dnsNames: [service, `${service}.${namespace}`, svc, `${svc}.cluster.local`, "localhost"], ips: ["127.0.0.1"] };
}

/**
 * Issued certificates start a little in the past, for clocks that disagree by seconds; at most a
 * tenth of the lifetime, so a short test lifetime is not used up by it.
 */
function backdateMs(validityMs: number): number {
  return Math.min(60_000, Math.floor(validityMs / 10));
}

function toPem(der: ArrayBuffer, label: string): string {
  const base64 = Buffer.from(der).toString("base64");
  const lines = base64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

function withNewline(pem: string): string {
  return pem.endsWith("\n") ? pem : `${pem}\n`;
}

function fromPem(pem: string): ArrayBuffer {
  const base64 = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, "").replace(/\s+/g, "");
  const bytes = Buffer.from(base64, "base64");
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

async function newKeys(): Promise<KeyPair> {
  return (await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"])) as KeyPair;
}

async function privateKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  return toPem(await webcrypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

function serial(): string {
  // 16 random bytes, the top bit cleared so the DER integer stays positive.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString("hex");
}

/** A new self-signed CA, valid from `now` for `policy.caValidityMs`. */
export async function createCa(now: Date, policy: CertificatePolicy = DEFAULT_POLICY): Promise<KeyPairPem> {
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=flotilla-webhook-ca-${now.getTime()}`,
    notBefore: new Date(now.getTime() - backdateMs(policy.caValidityMs)),
    notAfter: new Date(now.getTime() + policy.caValidityMs),
    keys,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: withNewline(cert.toString("pem")), key: await privateKeyPem(keys.privateKey) };
}

/** A serving certificate for `identity`, signed by `ca`; it never outlives the CA. */
export async function issueServing(ca: KeyPairPem, identity: ServingIdentity, now: Date, policy: CertificatePolicy = DEFAULT_POLICY): Promise<KeyPairPem> {
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await webcrypto.subtle.importKey("pkcs8", fromPem(ca.key), ALGORITHM, false, ["sign"]);
  const keys = await newKeys();
  const notAfter = new Date(Math.min(now.getTime() + policy.servingValidityMs, caCert.notAfter.getTime()));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${identity.dnsNames.find((n) => n.endsWith(".svc")) ?? identity.dnsNames[0] ?? "flotilla-webhook"}`,
    issuer: caCert.subject,
    notBefore: new Date(now.getTime() - backdateMs(policy.servingValidityMs)),
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKey as unknown as X509Key,
    signingAlgorithm: SIGNING,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      // ECDSA signs the handshake: digitalSignature is the one usage a serving key needs.
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...identity.dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...identity.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: withNewline(cert.toString("pem")), key: await privateKeyPem(keys.privateKey) };
}

/** The PEM certificates of a bundle, in order. */
export function splitPemBundle(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)?.map((c) => (c.endsWith("\n") ? c : `${c}\n`)) ?? [];
}

/** What the rotation decision reads of a certificate. */
interface CertFacts {
  notBefore: number;
  notAfter: number;
  cert: NodeX509Certificate;
}

function facts(pem: string): CertFacts {
  const cert = new NodeX509Certificate(pem);
  return { cert, notBefore: Date.parse(cert.validFrom), notAfter: Date.parse(cert.validTo) };
}

/** When a certificate is due for renewal: `renewAfter` of the way through its life. */
export function renewalTime(pem: string, policy: CertificatePolicy = DEFAULT_POLICY): Date {
  const f = facts(pem);
  return new Date(f.notBefore + (f.notAfter - f.notBefore) * policy.renewAfter);
}

/** Does the certificate name every DNS name and IP of the identity? */
function covers(cert: NodeX509Certificate, identity: ServingIdentity): boolean {
  const names = new Set((cert.subjectAltName ?? "").split(", ").map((s) => s.trim()));
  return identity.dnsNames.every((n) => names.has(`DNS:${n}`)) && identity.ips.every((ip) => names.has(`IP Address:${ip}`));
}

function signedBy(cert: NodeX509Certificate, ca: NodeX509Certificate): boolean {
  return cert.checkIssued(ca) && cert.verify(ca.publicKey);
}

/** What to do with the TLS material now. */
export type RotationStep =
  | { action: "create"; reason: string }
  /** Make a new CA and add it to caBundle; keep serving the current certificate (the old CA stays trusted). */
  | { action: "new-ca"; reason: string }
  /** Sign a new serving certificate with the current CA and serve it. */
  | { action: "issue-serving"; reason: string }
  | { action: "none"; nextCheckAt: Date };

/**
 * The next step of the rotation, a pure function of the material and the clock. A CA is replaced
 * in two steps: first it joins caBundle (the old CA stays), and only `propagationMs` later is a
 * serving certificate it signed served, so the API server never sees a certificate it cannot verify.
 */
export function rotationStep(
  material: TlsMaterial | undefined,
  identity: ServingIdentity,
  now: Date,
  policy: CertificatePolicy = DEFAULT_POLICY,
): RotationStep {
  if (!material) return { action: "create", reason: "no certificate yet" };
  let ca: CertFacts;
  let serving: CertFacts;
  try {
    ca = facts(material.ca.cert);
    serving = facts(material.serving.cert);
  } catch {
    return { action: "create", reason: "the stored certificates cannot be read" };
  }
  const t = now.getTime();
  const bundle = splitPemBundle(material.caBundle);
  if (t >= ca.notAfter || !bundle.some((pem) => sameCert(pem, ca.cert))) return { action: "create", reason: "the CA expired or is not in caBundle" };
  const caRenewAt = ca.notBefore + (ca.notAfter - ca.notBefore) * policy.renewAfter;
  // A serving certificate lives at most as long as its CA: a CA whose remaining life is shorter
  // than a serving certificate's would make short-lived certificates; replace it first.
  if (t >= caRenewAt) return { action: "new-ca", reason: "the CA is due for renewal" };
  const servingRenewAt = serving.notBefore + (serving.notAfter - serving.notBefore) * policy.renewAfter;
  const trusted = bundle.some((pem) => {
    try {
      return signedBy(serving.cert, new NodeX509Certificate(pem));
    } catch {
      return false;
    }
  });
  if (!trusted || t >= serving.notAfter) return { action: "issue-serving", reason: "the serving certificate expired or no CA in caBundle signed it" };
  if (!covers(serving.cert, identity)) return { action: "issue-serving", reason: "the serving certificate does not name every address of the webhook" };
  if (!signedBy(serving.cert, ca.cert)) {
    // Signed by the previous CA: switch once the new CA has been in caBundle long enough.
    const switchAt = material.bundleChangedAt.getTime() + policy.propagationMs;
    if (t >= switchAt) return { action: "issue-serving", reason: "the serving certificate was signed by the previous CA" };
    return { action: "none", nextCheckAt: new Date(Math.min(switchAt, servingRenewAt)) };
  }
  if (t >= servingRenewAt) return { action: "issue-serving", reason: "the serving certificate is due for renewal" };
  return { action: "none", nextCheckAt: new Date(Math.min(servingRenewAt, caRenewAt)) };
}

function sameCert(pem: string, cert: NodeX509Certificate): boolean {
  try {
    return new NodeX509Certificate(pem).fingerprint256 === cert.fingerprint256;
  } catch {
    return false;
  }
}

/** The bundle without CAs that have expired (nothing they signed is valid any more). */
export function withoutExpired(bundle: string, now: Date): string {
  return splitPemBundle(bundle)
    .filter((pem) => {
      try {
        return Date.parse(new NodeX509Certificate(pem).validTo) > now.getTime();
      } catch {
        return false;
      }
    })
    .join("");
}

/**
 * Carry out a step: the material to store (unchanged for "none"). A new CA goes first in the
 * bundle; the CAs before it stay until they expire.
 */
export async function applyRotation(
  step: RotationStep,
  material: TlsMaterial | undefined,
  identity: ServingIdentity,
  now: Date,
  policy: CertificatePolicy = DEFAULT_POLICY,
): Promise<TlsMaterial | undefined> {
  switch (step.action) {
    case "none":
      return material;
    case "create": {
      const ca = await createCa(now, policy);
      return { ca, serving: await issueServing(ca, identity, now, policy), caBundle: ca.cert, bundleChangedAt: now };
    }
    case "new-ca": {
      const current = material as TlsMaterial;
      const ca = await createCa(now, policy);
      return { ca, serving: current.serving, caBundle: `${ca.cert}${withoutExpired(current.caBundle, now)}`, bundleChangedAt: now };
    }
    case "issue-serving": {
      const current = material as TlsMaterial;
      return { ...current, serving: await issueServing(current.ca, identity, now, policy), caBundle: withoutExpired(current.caBundle, now) || current.ca.cert };
    }
  }
}
