// The member's sealing key in pull mode: an age key pair the agent makes on its member, in the
// Secret flotilla-sealing of its own namespace, whose identity never leaves the member (the agent
// reports only the recipient). Made once: replicas racing end with one key, an existing Secret is
// never overwritten. Nothing here logs, and no error carries the key.

import { KubeApiError } from "../api/errors.js";
import { AGENT_KEY_SECRET, ensureKeySecret, type KeyObjects } from "../secrets/keys.js";

export interface AgentSealingKey {
  /** Make sure the key exists (creating it when missing); returns its recipient. */
  ensure(): Promise<string>;
  /** The identity that opens values sealed to this cluster, for the sync loop (made when missing). */
  identity(): Promise<string | undefined>;
  /** The recipient last read or made; undefined before the first ensure succeeded. */
  readonly recipient: string | undefined;
}

export interface AgentSealingKeyOptions {
  /** The key is read from its Secret again after this long, ms (a Secret deleted to rotate the key). Default 60 000. */
  cacheMs?: number;
  now?: () => number;
  /** Create the namespace when the Secret cannot be created because it is missing (a local fleet has no deploy/agent). */
  createNamespace?: () => Promise<void>;
}

/** The key in the Secret flotilla-sealing of `namespace` on the member. */
export function agentSealingKey(objects: KeyObjects, namespace: string, options: AgentSealingKeyOptions = {}): AgentSealingKey {
  const cacheMs = options.cacheMs ?? 60_000;
  const now = options.now ?? Date.now;
  let held: { identity: string; recipient: string; at: number } | undefined;
  const load = async () => {
    if (held && now() - held.at < cacheMs) return held;
    const where = { namespace, name: AGENT_KEY_SECRET, owner: "agent" };
    let key: Awaited<ReturnType<typeof ensureKeySecret>>;
    try {
      key = await ensureKeySecret(objects, where);
    } catch (e) {
      if (!(e instanceof KubeApiError && e.status === 404 && options.createNamespace)) throw e;
      await options.createNamespace();
      key = await ensureKeySecret(objects, where);
    }
    held = { identity: key.identity, recipient: key.recipient, at: now() };
    return held;
  };
  return {
    ensure: async () => (await load()).recipient,
    identity: async () => (await load()).identity,
    get recipient() {
      return held?.recipient;
    },
  };
}
