// Applies desired objects to one cluster with server-side apply and reports one change per
// object. It never writes an object that is unchanged (same content hash, no drift), never
// overwrites an object Flotilla does not own, and lets one bad object fail alone. A sealed Secret
// is opened only for the request itself (sealed.ts): its hash, drift lines and messages stay sealed.

import { ApplyError, objectFailure } from "../api/errors.js";
import { copyJson } from "../api/json.js";
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/labels.js";
import { canonicalize } from "../api/serialize.js";
import type { Manifest } from "../api/types.js";
import { type Clock, systemClock } from "../support/clock.js";
import { findDrift } from "./drift.js";
import { appliedHash, ownedElsewhere, prepareForApply } from "./hash.js";
import { deploymentOf } from "./health.js";
import type { ClusterApi } from "../kube/cluster-api.js";
import { formatRef, refOf } from "../kube/refs.js";
import type { Observation } from "./observe.js";
import { redactSecretDrift, SecretOpener } from "./sealed.js";
import type { ChangeAction, ObjectChange } from "./types.js";

/** Label put on a namespace Flotilla created because a deployment needed it (never deleted by Flotilla). */
export const LABEL_CREATED_BY = "app.kubernetes.io/created-by";

export function isOwned(live: Manifest): boolean {
  return live.metadata.labels?.[LABEL_MANAGED_BY] === MANAGED_BY_VALUE;
}

export function changeOf(obj: Manifest, action: ChangeAction, message: string, extra: Partial<ObjectChange> = {}): ObjectChange {
  const change: ObjectChange = {
    object: formatRef({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name }),
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    name: obj.metadata.name,
    deployment: deploymentOf(obj),
    action,
    message,
    ...extra,
  };
  if (obj.metadata.namespace) change.namespace = obj.metadata.namespace;
  return change;
}

function failure(obj: Manifest, error: unknown, opener?: SecretOpener): ObjectChange {
  const object = formatRef({ kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name });
  let e = objectFailure(error, object);
  // A server's message about an opened Secret could quote a value: none leaves in a message.
  if (opener && opener.scrub(e.message) !== e.message) {
    const own = e.message.startsWith(`${e.object}: `) ? e.message.slice(e.object.length + 2) : e.message;
    e = new ApplyError(opener.scrub(own), { object: e.object, retryable: e.retryable, ...(e.status === undefined ? {} : { status: e.status }) });
  }
  return changeOf(obj, "failed", e.message, { error: e });
}

/** Problems that make an object impossible to apply, found before any request. */
export function invalidReason(obj: Manifest): string | undefined {
  if (typeof obj.apiVersion !== "string" || !obj.apiVersion) return "apiVersion is missing";
  if (typeof obj.kind !== "string" || !obj.kind) return "kind is missing";
  if (!obj.metadata || typeof obj.metadata.name !== "string" || !obj.metadata.name) return "metadata.name is missing";
  return undefined;
}

export interface AppliedObject {
  change: ObjectChange;
  /** The live object after this step (the apply response, or the observed object when no write). */
  live: Manifest | undefined;
}

/**
 * Apply one object given what is live. Decision table:
 * - read error → failed (the error of the read);
 * - live but not owned → skipped, never written;
 * - live, same applied hash and no drift → unchanged, no write;
 * - live, same hash but drifted → re-applied: configured, with the drifted fields;
 * - live with another hash → configured (or unchanged if the server kept the resourceVersion);
 * - absent → created.
 */
export async function applyOne(
  client: ClusterApi,
  desired: Manifest,
  observed: Observation,
  opener: SecretOpener = new SecretOpener(undefined),
): Promise<AppliedObject> {
  const invalid = invalidReason(desired);
  if (invalid) {
    return {
      change: failure(desired, new ApplyError(`${invalid}; fix the file in the env repo`, { object: formatRef(refOf(desired)), retryable: false })),
      live: undefined,
    };
  }
  if (observed.error) return { change: failure(desired, observed.error), live: undefined };
  const live = observed.live;
  if (live && !isOwned(live)) {
    const manager = live.metadata.labels?.[LABEL_MANAGED_BY];
    const why = manager ? `it is managed by "${manager}"` : `it has no ${LABEL_MANAGED_BY} label`;
    return {
      change: changeOf(
        desired,
        "skipped",
        `exists and is not owned by Flotilla (${why}); left untouched. Delete it, or label it ${LABEL_MANAGED_BY}=${MANAGED_BY_VALUE} to hand it over`,
      ),
      live,
    };
  }
  // The hash is of the sealed form (a rotated value is a new hash); what is compared with the live
  // object and sent is the opened one.
  const prepared = prepareForApply(desired);
  let sent: Manifest;
  try {
    sent = await opener.open(prepared);
  } catch (error) {
    return { change: failure(desired, error), live };
  }
  let drift: string[] = [];
  if (live && appliedHash(live) === appliedHash(prepared)) {
    const ignorePaths = ownedElsewhere(desired);
    const suspects = redactSecretDrift(desired, findDrift(sent, live, { ignorePaths }));
    if (suspects.length === 0) return { change: changeOf(desired, "unchanged", "in sync"), live };
    if (!(await applyWouldChange(client, sent, live, ignorePaths))) {
      return { change: changeOf(desired, "unchanged", "in sync (the API server's merge keeps what others added)"), live };
    }
    drift = suspects;
  }
  try {
    const after = await client.apply(sent);
    if (!live) return { change: changeOf(desired, "created", "created"), live: after };
    if (drift.length > 0) {
      return { change: changeOf(desired, "configured", `drift corrected: ${drift.join("; ")}`, { drift }), live: after };
    }
    const same = after.metadata.resourceVersion === live.metadata.resourceVersion;
    return { change: changeOf(desired, same ? "unchanged" : "configured", same ? "in sync (hash annotation refreshed)" : "configured"), live: after };
  } catch (error) {
    return { change: failure(desired, error, opener), live };
  }
}

/** Metadata the server changes on every write, or that only records writes: never drift. */
const WRITE_RECORDS = ["managedFields", "resourceVersion", "generation", "uid", "creationTimestamp", "selfLink"];

/** The object as drift compares it: no status, no write records, no paths owned elsewhere. */
function comparable(obj: Manifest, ignorePaths: readonly string[]): string {
  const { status: _status, metadata, ...rest } = obj;
  const meta = Object.fromEntries(Object.entries(metadata).filter(([k]) => !WRITE_RECORDS.includes(k)));
  const copy = copyJson({ ...rest, metadata: meta }) as Record<string, unknown>;
  for (const path of ignorePaths) {
    const parts = path.split(".");
    const parent = parts
      .slice(0, -1)
      .reduce<unknown>((node, part) => (node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined), copy);
    if (parent && typeof parent === "object") delete (parent as Record<string, unknown>)[parts[parts.length - 1] as string];
  }
  return JSON.stringify(canonicalize(copy));
}

/**
 * Drift as the API server sees it: would a server-side apply of `prepared` change the live
 * object? A dry run answers with the object the apply would leave, merged by the server's own
 * rules (list merge keys, defaults, canonical quantities), so what another field manager or a
 * webhook added is kept and is not drift. A failed dry run counts as a change: the real apply
 * then reports the error.
 *
 * The live object may be older than the one the dry run merged into: another controller (the
 * Deployment controller's revision annotation, a webhook) can write between our read and the dry
 * run. A difference is therefore checked once more against a fresh read before it counts.
 */
async function applyWouldChange(client: ClusterApi, prepared: Manifest, live: Manifest, ignorePaths: readonly string[]): Promise<boolean> {
  let current = live;
  for (let attempt = 0; attempt < 2; attempt++) {
    let after: Manifest;
    try {
      after = await client.apply(prepared, { dryRun: true });
    } catch {
      return true;
    }
    if (comparable(after, ignorePaths) === comparable(current, ignorePaths)) return false;
    // A dry run answers with the stored object's resourceVersion: the same one means our read
    // was current and the difference is real.
    if (after.metadata.resourceVersion === current.metadata.resourceVersion) return true;
    const fresh = await client.get(refOf(current)).catch(() => undefined);
    if (!fresh || fresh.metadata.resourceVersion === current.metadata.resourceVersion) return true;
    current = fresh;
  }
  return true;
}

/** Apply a wave of objects concurrently (the client bounds requests in flight). */
export async function applyWave(
  client: ClusterApi,
  objects: readonly Manifest[],
  observed: Map<string, Observation>,
  keyOf: (o: Manifest) => string,
  opener?: SecretOpener,
): Promise<AppliedObject[]> {
  return Promise.all(objects.map((o) => applyOne(client, o, observed.get(keyOf(o)) ?? { live: undefined }, opener)));
}

/**
 * Create the namespaces that namespaced desired objects live in, when missing. A created
 * namespace is labelled `app.kubernetes.io/created-by: flotilla` but NOT managed-by, so it is
 * never pruned: deleting a namespace would delete everything in it, including what others put there.
 */
export async function ensureNamespaces(client: ClusterApi, namespaces: readonly string[]): Promise<{ changes: ObjectChange[]; failed: Map<string, string> }> {
  const changes: ObjectChange[] = [];
  /** Namespace → why it cannot be used, for the entries of the objects it blocks. */
  const failed = new Map<string, string>();
  await Promise.all(
    namespaces.map(async (name) => {
      const ns: Manifest = { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { [LABEL_CREATED_BY]: MANAGED_BY_VALUE } } };
      try {
        if (await client.get(refOf(ns))) return;
        await client.apply(ns);
        changes.push({ ...changeOf(ns, "created", "created for the deployments it holds; Flotilla never deletes it"), deployment: `${name}/-` });
      } catch (error) {
        const change = failure(ns, error);
        failed.set(name, change.message);
        changes.push({ ...change, deployment: `${name}/-` });
      }
    }),
  );
  return { changes, failed };
}

export function established(crd: Manifest | undefined): boolean {
  const conditions = (crd?.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === "Established" && c.status === "True");
}

/**
 * Wait until applied CRDs report Established, then forget discovery of their groups so the
 * kinds they define resolve. Returns the CRDs that did not become Established in time.
 */
export async function waitForCrds(
  client: ClusterApi,
  crds: readonly Manifest[],
  options: { timeoutMs: number; intervalMs?: number; signal?: AbortSignal; clock?: Clock },
): Promise<Manifest[]> {
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.timeoutMs;
  let pending = [...crds];
  while (pending.length > 0 && clock.now() < deadline && !options.signal?.aborted) {
    const states = await Promise.all(pending.map((c) => client.get(refOf(c)).catch(() => undefined)));
    pending = pending.filter((_, i) => !established(states[i]));
    if (pending.length > 0) await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
  for (const crd of crds) {
    const spec = crd.spec as { group?: string; versions?: { name: string }[] } | undefined;
    for (const v of spec?.versions ?? []) client.forgetDiscovery(`${spec?.group}/${v.name}`);
  }
  return pending;
}
