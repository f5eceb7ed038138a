// The hub's sealing keys: one age key pair per push-mode cluster (Secret flotilla-sealing-<cluster>
// in the controller's namespace), whose identity the hub's sync loop uses to open that cluster's
// sealed values, and the rekey pair (Secret flotilla-sealing-rekey, its recipient published in the
// ConfigMap flotilla-sealing) that `flotilla secret rekey` opens values with. Identities are read
// from their Secrets and kept in memory only; nothing here logs or puts a key in an error.

import {
  ensureKeySecret,
  hubKeySecretName,
  type KeyObjects,
  readKeySecret,
  REKEY_RECIPIENT_KEY,
  REKEY_SECRET,
  SEALING_CONFIGMAP,
  SEALING_KEY_LABEL,
} from "../secrets/keys.js";

export interface HubSealingKeys {
  /** The cluster's key, created when its Secret is missing (never replaced); its recipient and since when it exists. */
  ensure(cluster: string): Promise<{ recipient: string; since: string }>;
  /** The cluster's identity for its sync loop; undefined when its Secret does not exist (yet). */
  identity(cluster: string): Promise<string | undefined>;
  /** The cluster's recipient; undefined when its Secret does not exist (yet). */
  recipient(cluster: string): Promise<string | undefined>;
  /** Delete the cluster's key Secret (the Cluster is gone); false when there was none. */
  remove(cluster: string): Promise<boolean>;
  /** The rekey pair: its Secret created when missing, and the ConfigMap publishing its recipient. Returns the recipient. */
  ensureRekey(): Promise<string>;
}

export interface HubSealingKeysOptions {
  /** An identity read from its Secret is used this long before it is read again, ms. Default 60 000. */
  cacheMs?: number;
  now?: () => number;
}

/** The hub's keys in `namespace` (the controller's). */
export function hubSealingKeys(objects: KeyObjects, namespace: string, options: HubSealingKeysOptions = {}): HubSealingKeys {
  const cacheMs = options.cacheMs ?? 60_000;
  const now = options.now ?? Date.now;
  // Read again after cacheMs: a key Secret deleted to rotate it is replaced by a new one.
  const cache = new Map<string, { identity: string; recipient: string; at: number }>();
  const read = async (cluster: string) => {
    const hit = cache.get(cluster);
    if (hit && now() - hit.at < cacheMs) return hit;
    const key = await readKeySecret(objects, namespace, hubKeySecretName(cluster));
    if (!key) {
      cache.delete(cluster);
      return undefined;
    }
    const entry = { identity: key.identity, recipient: key.recipient, at: now() };
    cache.set(cluster, entry);
    return entry;
  };
  return {
    async ensure(cluster) {
      const key = await ensureKeySecret(objects, { namespace, name: hubKeySecretName(cluster), owner: cluster });
      cache.set(cluster, { identity: key.identity, recipient: key.recipient, at: now() });
      return { recipient: key.recipient, since: key.since ?? new Date(now()).toISOString() };
    },
    identity: async (cluster) => (await read(cluster))?.identity,
    recipient: async (cluster) => (await read(cluster))?.recipient,
    async remove(cluster) {
      cache.delete(cluster);
      return objects.delete("Secret", namespace, hubKeySecretName(cluster));
    },
    async ensureRekey() {
      const key = await ensureKeySecret(objects, { namespace, name: REKEY_SECRET, owner: "rekey" });
      const map = await objects.get("ConfigMap", namespace, SEALING_CONFIGMAP);
      const published = (map?.data as Record<string, unknown> | undefined)?.[REKEY_RECIPIENT_KEY];
      if (map && published !== key.recipient)
        throw new Error(
          `ConfigMap ${namespace}/${SEALING_CONFIGMAP} publishes ${REKEY_RECIPIENT_KEY} ${String(published)}, which is not the recipient of Secret ${namespace}/${REKEY_SECRET}; delete the ConfigMap and the controller publishes the right one`,
        );
      if (!map) {
        await objects.create({
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: SEALING_CONFIGMAP, namespace, labels: { [SEALING_KEY_LABEL]: "rekey" } },
          data: { [REKEY_RECIPIENT_KEY]: key.recipient },
        });
      }
      return key.recipient;
    },
  };
}
