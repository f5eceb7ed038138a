// Where sealing keys live and how one is made exactly once: an age identity in a Secret (key
// `identity`), created when missing and never overwritten, so two processes racing end with one
// key (create-if-absent; the loser of the race reads the winner's). Used by the controller for
// push clusters and the rekey key on the hub, and by the agent on its member. Never logs, and no
// error carries a key.

import { FlotillaError, KubeApiError } from "../api/errors.js";
import type { Manifest } from "../api/types.js";
import type { KubeClient } from "../kube/client.js";
import { generateKeyPair, recipientOf } from "./age.js";

/** The Secret data key holding an age identity (`AGE-SECRET-KEY-1…`). */
export const IDENTITY_KEY = "identity";
/** Label on every Secret holding a sealing key: its value says whose key it is. */
export const SEALING_KEY_LABEL = "flotilla.dev/sealing-key";
/** The hub's rekey key: a Secret in the controller's namespace. */
export const REKEY_SECRET = "flotilla-sealing-rekey";
/** The ConfigMap in the controller's namespace that publishes the rekey recipient. */
export const SEALING_CONFIGMAP = "flotilla-sealing";
/** Its key holding the rekey recipient (`age1…`). */
export const REKEY_RECIPIENT_KEY = "rekeyRecipient";
/** Pull mode: the Secret in the agent's namespace on the member. */
export const AGENT_KEY_SECRET = "flotilla-sealing";

/** The hub Secret holding a push cluster's sealing identity. */
export function hubKeySecretName(cluster: string): string {
  return `flotilla-sealing-${cluster}`;
}

/** The few reads and writes the keys need; the real one is {@link kubeKeyObjects}. */
export interface KeyObjects {
  /** The object, or undefined when it does not exist. */
  get(kind: "Secret" | "ConfigMap", namespace: string, name: string): Promise<Manifest | undefined>;
  /** Create it; false when an object of that name already exists (AlreadyExists). */
  create(object: Manifest): Promise<boolean>;
  /** Delete it; false when it did not exist. */
  delete(kind: "Secret" | "ConfigMap", namespace: string, name: string): Promise<boolean>;
}

const PLURAL = { Secret: "secrets", ConfigMap: "configmaps" } as const;

/** {@link KeyObjects} through a KubeClient (core/v1, by path: no discovery needed). */
export function kubeKeyObjects(client: KubeClient): KeyObjects {
  return {
    get: (kind, namespace, name) => client.get({ apiVersion: "v1", kind, namespace, name }),
    async create(object) {
      const namespace = object.metadata.namespace ?? "default";
      const res = await client.send("POST", `/api/v1/namespaces/${namespace}/${PLURAL[object.kind as keyof typeof PLURAL]}`, { body: object });
      if (res.status === 409) return false;
      if (res.status >= 300) {
        const message = (res.body as { message?: unknown } | undefined)?.message;
        throw new KubeApiError(`create failed (HTTP ${res.status})${typeof message === "string" ? `: ${message}` : ""}`, {
          object: `${object.kind}/${namespace}/${object.metadata.name}`,
          status: res.status,
          retryable: res.status >= 500 || res.status === 429,
        });
      }
      return true;
    },
    delete: (kind, namespace, name) => client.delete({ apiVersion: "v1", kind, namespace, name }),
  };
}

/** A sealing key as read from its Secret. */
export interface SealingKey {
  identity: string;
  recipient: string;
  /** When the Secret was created (RFC 3339), or undefined when the server did not say. */
  since: string | undefined;
}

/** A Secret that exists but holds no usable identity: someone else's object, or damaged. */
export class SealingKeyError extends FlotillaError {
  override name = "SealingKeyError";
}

/** The key in a Secret object, or a {@link SealingKeyError} naming the Secret (never its content). */
export async function keyOfSecret(secret: Manifest): Promise<SealingKey> {
  const where = `Secret ${secret.metadata.namespace}/${secret.metadata.name}`;
  const encoded = (secret.data as Record<string, unknown> | undefined)?.[IDENTITY_KEY];
  if (typeof encoded !== "string")
    throw new SealingKeyError(
      `${where} has no data key "${IDENTITY_KEY}"; delete it and a new key is made (values sealed to the old one need flotilla secret rekey)`,
    );
  const identity = Buffer.from(encoded, "base64").toString("utf8").trim();
  let recipient: string;
  try {
    recipient = await recipientOf(identity);
  } catch {
    throw new SealingKeyError(
      `${where}: data key "${IDENTITY_KEY}" is not an age identity (AGE-SECRET-KEY-1…); delete the Secret and a new key is made (values sealed to the old one need flotilla secret rekey)`,
    );
  }
  return { identity, recipient, since: secret.metadata.creationTimestamp };
}

/** Read a key Secret; undefined when it does not exist. */
export async function readKeySecret(objects: KeyObjects, namespace: string, name: string): Promise<SealingKey | undefined> {
  const secret = await objects.get("Secret", namespace, name);
  return secret ? keyOfSecret(secret) : undefined;
}

/**
 * The key in the Secret `namespace/name`, made with a fresh pair when the Secret is missing. An
 * existing Secret is never overwritten: when another process created it first, its key is the one.
 */
export async function ensureKeySecret(objects: KeyObjects, o: { namespace: string; name: string; owner: string }): Promise<SealingKey> {
  const found = await readKeySecret(objects, o.namespace, o.name);
  if (found) return found;
  const pair = await generateKeyPair();
  const created = await objects.create({
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: o.name, namespace: o.namespace, labels: { [SEALING_KEY_LABEL]: o.owner } },
    type: "Opaque",
    data: { [IDENTITY_KEY]: Buffer.from(pair.identity, "utf8").toString("base64") },
  });
  if (created) {
    // The server's creationTimestamp, for status.sealing.since; now if it is not readable yet.
    const back = await objects.get("Secret", o.namespace, o.name).catch(() => undefined);
    return { ...pair, since: back?.metadata.creationTimestamp ?? new Date().toISOString() };
  }
  const winner = await readKeySecret(objects, o.namespace, o.name);
  if (!winner) throw new SealingKeyError(`Secret ${o.namespace}/${o.name} was created by another process and is gone again; retrying later`);
  return winner;
}
