// Secrets of a fleet cluster: bearer tokens for the static token file and the RSA key pair that
// signs service-account tokens. Generated fresh for every fleet; never reused between clusters, so
// a hub token is not accepted by a member (as with real, separate clusters).
import { generateKeyPair, randomBytes } from "node:crypto";
import { promisify } from "node:util";

const generateKeyPairAsync = promisify(generateKeyPair);

/** A random bearer token (URL-safe, 32 bytes of entropy). */
export function newToken(): string {
  return randomBytes(32).toString("base64url");
}

/** RSA 2048 key pair in PEM: `privateKey` (PKCS#1, as kube-controller-manager expects) and `publicKey` (SPKI). */
export async function serviceAccountKeyPair(): Promise<{ privateKey: string; publicKey: string }> {
  const { privateKey, publicKey } = await generateKeyPairAsync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  return { privateKey, publicKey };
}

/** One user of kube-apiserver's `--token-auth-file`. */
export interface StaticTokenUser {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

/** The CSV kube-apiserver reads: `token,user,uid,"group1,group2"` — one line per user. */
export function renderTokenFile(users: readonly StaticTokenUser[]): string {
  return users
    .map((u) => {
      for (const field of [u.token, u.user, u.uid, ...u.groups]) {
        if (/[",\n]/.test(field)) throw new Error(`token file field ${JSON.stringify(field)} contains , " or newline`);
      }
      const groups = u.groups.length > 0 ? `,"${u.groups.join(",")}"` : "";
      return `${u.token},${u.user},${u.uid}${groups}\n`;
    })
    .join("");
}
