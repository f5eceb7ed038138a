// Opens sealed Secrets at the last moment: the object sent to the cluster gets each data value
// replaced by base64 of its plaintext, opened with this cluster's key. Everything else the sync loop
// keeps (the desired objects, their hashes, drift lines, changes, events, reports) holds the
// sealed form; this module never logs, and its errors name the Secret, the key and the cause,
// never a value or a key's private half.

import { ApplyError } from "../api/errors.js";
import type { Manifest } from "../api/types.js";
import { formatRef, refOf } from "../kube/refs.js";
import { recipientOf, UnsealError, unseal } from "../secrets/age.js";
import { ANNOTATION_SEALED_RECIPIENTS, isMarkedSecret } from "../secrets/sealed-secret.js";

/**
 * This cluster's age identity (`AGE-SECRET-KEY-1…`), or undefined when it has none yet. In push mode
 * the hub reads it from its Secret `flotilla-sealing-<cluster>`; in pull mode the agent from the
 * member's Secret `flotilla-sealing`.
 */
export type IdentitySource = () => Promise<string | undefined>;

export { isMarkedSecret };

/** Why a sealed Secret could not be opened on this cluster; fails that object only. */
export class UnsealFailure extends ApplyError {
  override name = "UnsealFailure";
}

interface Key {
  identity: string;
  recipient: string | undefined;
}

/**
 * Opens the sealed Secrets of one sync. The identity is read once, when the first sealed Secret
 * needs it (a sync without one never reads it), and shared by the sync's Secrets.
 */
export class SecretOpener {
  private key: Promise<Key | undefined> | undefined;
  /** Base64 and plain forms of every value opened, to keep them out of any message (see scrub). */
  private readonly opened = new Set<string>();

  constructor(private readonly identity: IdentitySource | undefined) {}

  private loadKey(): Promise<Key | undefined> {
    this.key ??= (async () => {
      const identity = this.identity ? await this.identity() : undefined;
      if (!identity) return undefined;
      return { identity, recipient: await recipientOf(identity).catch(() => undefined) };
    })();
    return this.key;
  }

  /**
   * The object to send: `prepared` itself unless it is a sealed Secret, else a copy whose data
   * values are base64 of their plaintexts. Throws an {@link UnsealFailure} (not retryable unless
   * the key could not be read) naming the Secret, the key and the cause.
   */
  async open(prepared: Manifest): Promise<Manifest> {
    if (!isMarkedSecret(prepared)) return prepared;
    const object = formatRef(refOf(prepared));
    const data = (prepared.data ?? {}) as Record<string, unknown>;
    const keys = Object.keys(data).sort();
    if (keys.length === 0) return prepared;
    let key: Key | undefined;
    try {
      key = await this.loadKey();
    } catch (error) {
      this.key = undefined;
      const cause = error instanceof Error ? error.message : String(error);
      throw new UnsealFailure(`cannot open its sealed values: this cluster's sealing key could not be read (${cause}); retrying`, {
        object,
        retryable: true,
        cause: error,
      });
    }
    if (!key) {
      throw new UnsealFailure(
        `cannot open the sealed value of key "${keys[0]}": this cluster has no sealing key yet (the hub creates it in push mode, the agent in pull mode, and publishes its recipient in the Cluster's status.sealing); once it exists, run \`flotilla secret rekey\` to seal the values to it`,
        { object, retryable: true },
      );
    }
    const out: Record<string, string> = {};
    for (const k of keys) {
      const value = data[k];
      try {
        const plain = Buffer.from(await unseal(String(value), key.identity));
        const b64 = plain.toString("base64");
        if (plain.length >= 4) this.opened.add(plain.toString("utf8"));
        this.opened.add(b64);
        out[k] = b64;
      } catch (error) {
        if (!(error instanceof UnsealError)) throw error;
        throw new UnsealFailure(`cannot open the sealed value of key "${k}": ${causeOf(error, key, prepared)}`, { object, retryable: false });
      }
    }
    return { ...prepared, data: out };
  }

  /** `text` with any value this opener opened replaced by a placeholder (for messages from the server). */
  scrub(text: string): string {
    let out = text;
    for (const v of this.opened) if (v) out = out.split(v).join("<sealed value>");
    return out;
  }
}

function causeOf(error: UnsealError, key: Key, secret: Manifest): string {
  if (error.reason === "malformed") return `${error.message}; seal the value again with \`flotilla secret seal\``;
  const sealedTo = secret.metadata.annotations?.[ANNOTATION_SEALED_RECIPIENTS];
  const mine = key.recipient ? `this cluster's key ${key.recipient}` : "this cluster's key";
  return `${mine} is not among the value's recipients${sealedTo ? ` (sealed to ${sealedTo.split(",").join(", ")})` : ""}; run \`flotilla secret rekey\``;
}

/**
 * Drift lines of a sealed Secret with its data paths kept and their values dropped: the desired
 * side holds the plaintext (base64 is no disguise) and the live side may hold an old one.
 */
export function redactSecretDrift(desired: Manifest, lines: readonly string[]): string[] {
  if (!isMarkedSecret(desired)) return [...lines];
  return lines.map((line) => {
    const path = line.slice(0, line.indexOf(": ") < 0 ? line.length : line.indexOf(": "));
    return path === "data" || path.startsWith("data.") || path.startsWith("data[") ? `${path}: differs (a sealed Secret's values are not shown)` : line;
  });
}
