// Sealing values with age (age-encryption.org, through the `age-encryption` package): a value is
// encrypted to the public keys ("recipients", `age1…`) of every cluster it goes to, armored as
// text so it can sit in YAML and Git, and opened only where a cluster's private key ("identity",
// `AGE-SECRET-KEY-1…`) is. Nothing here logs, and no error carries a value or a key.

import * as age from "age-encryption";

/** The annotation that marks a rendered Secret whose `data` values are age ciphertexts. */
export const ANNOTATION_SEALED = "flotilla.dev/sealed";
/** Its value: the scheme, so another one can be added without guessing. */
export const SEALED_SCHEME = "age";

const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const ARMOR_END = "-----END AGE ENCRYPTED FILE-----";

/** Why a value could not be opened; carries no part of the value or of the key. */
export class UnsealError extends Error {
  constructor(
    message: string,
    /** "not-a-recipient": the key is not among the value's recipients; "malformed": not an armored age file, or tampered with. */
    readonly reason: "not-a-recipient" | "malformed",
  ) {
    super(message);
    this.name = "UnsealError";
  }
}

/** A new key pair: the identity stays where it was made, the recipient is published. */
export async function generateKeyPair(): Promise<{ identity: string; recipient: string }> {
  const identity = await age.generateIdentity();
  return { identity, recipient: await age.identityToRecipient(identity) };
}

/** The public key of an identity. */
export function recipientOf(identity: string): Promise<string> {
  return age.identityToRecipient(identity);
}

/** Whether `text` looks like a recipient this module can encrypt to (an X25519 `age1…` key). */
export function isRecipient(text: string): boolean {
  return /^age1[02-9ac-hj-np-z]{58}$/.test(text);
}

/** Whether `text` is an armored age file (the shape only: opening it is what proves it). */
export function isSealedValue(text: string): boolean {
  const t = text.trim();
  return t.startsWith(ARMOR_BEGIN) && t.endsWith(ARMOR_END);
}

/** Encrypt `plaintext` to every recipient (any one of their identities opens it); armored. */
export async function seal(plaintext: string | Uint8Array, recipients: readonly string[]): Promise<string> {
  if (recipients.length === 0) throw new Error("sealing needs at least one recipient (a cluster's public key, age1…)");
  const e = new age.Encrypter();
  for (const r of recipients) e.addRecipient(r);
  return age.armor.encode(await e.encrypt(plaintext));
}

/** Decrypt an armored value with one identity; an {@link UnsealError} when it cannot. */
export async function unseal(armored: string, identity: string): Promise<Uint8Array> {
  let binary: Uint8Array;
  try {
    binary = age.armor.decode(armored.trim());
  } catch {
    throw new UnsealError("the value is not an armored age file", "malformed");
  }
  const d = new age.Decrypter();
  d.addIdentity(identity);
  try {
    return await d.decrypt(binary);
  } catch (err) {
    const message = err instanceof Error ? err.message : "";
    if (/no identity matched/i.test(message)) throw new UnsealError("the key is not one of the value's recipients", "not-a-recipient");
    throw new UnsealError("the value is damaged or was tampered with (its header or payload does not authenticate)", "malformed");
  }
}
