// The GitSource loop: per source, at its interval (with jitter) or when a webhook calls, fetch →
// read → plan → check ownership → apply (server-side, field manager flotilla-source, forced, so a
// hand edit of a field the source owns is put back) → prune → one status write. It never applies
// from a commit with a problem, never touches an object another source or a person created, and
// never writes a credential to a log, an event or status.

import { rm } from "node:fs/promises";
import { join } from "node:path";
import { type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type FieldProblem, GitError } from "../api/errors.js";
import {
  DEFAULT_WEBHOOK_KEY,
  describeRef,
  LABEL_SOURCE,
  SOURCE_FIELD_MANAGER,
  SOURCE_FINALIZER,
  sourceIntervalMs,
  sourceLabelValue,
  sourcePath,
  sourcePrunes,
  sourceRef,
} from "../api/git-source.js";
import { GROUP, VERSION } from "../api/labels.js";
import type { ApplicationDeployment, Condition, GitSource, GitSourceInventoryEntry, GitSourceStatus, Manifest } from "../api/types.js";
import { fetchSource, type SourceCredentials, type SourceFetchOptions, type FetchedSource } from "../gitops/source-fetch.js";
import { KubeClient } from "../kube/client.js";
import { formatRef } from "../kube/refs.js";
import { backoffDelay } from "../support/backoff.js";
import { EventRecorder } from "./events.js";
import { type Hub, PLURALS, type SupervisedInformer } from "./hub.js";
import { formatSourceProblem, inventoryKey, type PlannedObject, parseSourceFiles, planSource, problemsReason, type SourceProblem } from "./source-documents.js";

/** The hub as the loop uses it: a small interface, so the logic is tested with a fake. */
export interface SourceObjects {
  /** The live object, or undefined when it does not exist. */
  get(ref: GitSourceInventoryEntry): Promise<Manifest | undefined>;
  /** Server-side apply with field manager flotilla-source, forced. */
  apply(object: PlannedObject["object"]): Promise<void>;
  /** Delete the object if its uid is still `uid`; false when it was gone. */
  delete(ref: GitSourceInventoryEntry, uid: string | undefined): Promise<boolean>;
}

export interface SourceHubWrites {
  writeStatus(namespace: string, name: string, status: GitSourceStatus): Promise<void>;
  setFinalizers(namespace: string, name: string, finalizers: string[], resourceVersion: string | undefined): Promise<void>;
  /** A Secret's data (decoded), or undefined when it does not exist. */
  readSecret(namespace: string, name: string): Promise<Record<string, Buffer> | undefined>;
}

export interface GitSourceLoopOptions {
  hub: Hub;
  kubeConfig: KubeConfig;
  /** Mirrors of remote repositories go to `<dataDir>/sources/<namespace>/<name>`. */
  dataDir: string;
  /** The controller's namespace: its GitSources may carry definitions and Clusters, and read local paths. */
  controllerNamespace: string;
  logger: Logger;
  /**
   * What the definitions say is wrong with a deployment (unknown types, settings their schemas
   * refuse, templates that fail): a commit with any is not applied. Default: none checked here
   * (the controller still reports them in the deployment's status).
   */
  definitionProblems?: (deployment: ApplicationDeployment) => Promise<FieldProblem[]>;
  /** Sources fetched and applied at once. Default 4. */
  concurrency?: number;
  /** Longest wait between attempts of a failing source, ms. Default 600 000, or the interval if longer. */
  maxBackoffMs?: number;
  /** Test seams. */
  objects?: SourceObjects;
  writes?: SourceHubWrites;
  fetch?: (o: SourceFetchOptions) => Promise<FetchedSource>;
  events?: Pick<EventRecorder, "record">;
  random?: () => number;
  now?: () => Date;
}

interface SourceState {
  timer?: NodeJS.Timeout | undefined;
  running?: Promise<void> | undefined;
  /** Asked to run again while running (a webhook, a spec change). */
  again: boolean;
  /** Consecutive failed attempts (fetch or apply). */
  failures: number;
  /** What a reconcile reacts to: generation, finalizers, deletion. */
  shape: string;
}

type Key = string;

function keyOf(s: { metadata: { namespace?: string; name: string } }): Key {
  return `${s.metadata.namespace ?? "default"}/${s.metadata.name}`;
}

function splitKey(key: Key): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class GitSourceLoop {
  private informer: SupervisedInformer<GitSource> | undefined;
  private readonly states = new Map<Key, SourceState>();
  /** Webhook secrets by source, with the `name/key` they were read from. */
  private readonly hookSecrets = new Map<Key, { ref: string; value: Buffer | undefined }>();
  private stopped = false;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  private readonly objects: SourceObjects;
  private readonly writes: SourceHubWrites;
  private readonly events: Pick<EventRecorder, "record">;
  private readonly log: Logger;

  constructor(private readonly o: GitSourceLoopOptions) {
    this.log = o.logger.child({ component: "git-sources" });
    this.objects = o.objects ?? hubObjects(o.kubeConfig);
    this.writes = o.writes ?? hubWrites(o.hub);
    this.events = o.events ?? new EventRecorder({ core: o.hub.core, onError: (e) => this.log.debug({ err: errorText(e) }, "event not recorded") });
  }

  /** Watch GitSources on the hub; each is reconciled at once, then at its interval. */
  start(): void {
    this.stopped = false;
    this.informer = this.o.hub.informer<GitSource>(
      "GitSource",
      { onChange: (s) => this.onChange(s), onDelete: (s) => this.forget(keyOf(s)) },
      { onError: (kind, e) => this.log.warn({ kind, err: errorText(e) }, "watch failed; restarting it") },
    );
  }

  /** Stop watching and wait for the reconciles in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.states.values()) if (s.timer) clearTimeout(s.timer);
    const running = [...this.states.values()].map((s) => s.running).filter((p) => p !== undefined);
    this.states.clear();
    for (const w of this.waiting.splice(0)) w();
    await this.informer?.stop();
    await Promise.allSettled(running);
  }

  /** Schedule an immediate fetch of a source (a webhook's call); false when no such source is known. */
  trigger(namespace: string, name: string): boolean {
    if (this.stopped || !this.informer?.get(name, namespace)) return false;
    this.schedule(`${namespace}/${name}`, 0);
    return true;
  }

  /**
   * The webhook's shared secret: the bytes of spec.webhook.secretRef's key; undefined when the
   * source, its webhook or the Secret does not exist. Answered from a cache that every pass over
   * the source refreshes (a rotated secret counts from the next interval), so a caller cannot
   * tell a known source from an unknown one by the time it takes; read at once only before the
   * source's first pass.
   */
  async webhookSecret(namespace: string, name: string): Promise<Buffer | undefined> {
    const source = this.informer?.get(name, namespace);
    if (!source?.spec.webhook) return undefined;
    const cached = this.hookSecrets.get(keyOf(source));
    if (cached && cached.ref === hookRef(source)) return cached.value;
    return this.refreshHookSecret(source);
  }

  private async refreshHookSecret(source: GitSource): Promise<Buffer | undefined> {
    const ref = source.spec.webhook?.secretRef;
    const key = keyOf(source);
    if (!ref) {
      this.hookSecrets.delete(key);
      return undefined;
    }
    const data = await this.writes.readSecret(source.metadata.namespace ?? "default", ref.name);
    const bytes = data?.[ref.key ?? DEFAULT_WEBHOOK_KEY];
    const value = bytes && bytes.length > 0 ? bytes : undefined;
    this.hookSecrets.set(key, { ref: hookRef(source), value });
    return value;
  }

  // ---------- scheduling ----------

  private onChange(source: GitSource): void {
    const key = keyOf(source);
    const m = source.metadata;
    const shape = JSON.stringify([m.generation, m.finalizers ?? [], m.deletionTimestamp ?? null]);
    const state = this.states.get(key);
    if (state?.shape === shape) return; // our own status write, or a change that asks nothing
    if (state) state.shape = shape;
    else this.states.set(key, { again: false, failures: 0, shape });
    this.schedule(key, 0);
  }

  /** A GitSource gone from the hub: its timer, cached secret and mirror go too. */
  private forget(key: Key): void {
    const { namespace, name } = splitKey(key);
    void rm(join(this.o.dataDir, "sources", namespace, name), { recursive: true, force: true }).catch((e: unknown) =>
      this.log.warn({ source: key, err: errorText(e) }, "cannot remove the mirror of a deleted GitSource"),
    );
    this.hookSecrets.delete(key);
    const state = this.states.get(key);
    if (state?.timer) clearTimeout(state.timer);
    this.states.delete(key);
  }

  private schedule(key: Key, delayMs: number): void {
    if (this.stopped) return;
    let state = this.states.get(key);
    if (!state) {
      state = { again: false, failures: 0, shape: "" };
      this.states.set(key, state);
    }
    if (state.timer) clearTimeout(state.timer);
    const s = state;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      this.run(key);
    }, delayMs);
    s.timer.unref?.();
  }

  private run(key: Key): void {
    const state = this.states.get(key);
    if (!state || this.stopped) return;
    if (state.running) {
      state.again = true;
      return;
    }
    state.running = this.withSlot(() => this.reconcile(key, state))
      .catch((e: unknown) => {
        if (this.stopped) return undefined;
        state.failures++;
        this.log.warn({ source: key, err: errorText(e) }, "GitSource reconcile failed; retrying with backoff");
        return backoffDelay(state.failures, { initialMs: 1_000, maxMs: 60_000 });
      })
      .then((next) => {
        state.running = undefined;
        if (this.states.get(key) !== state) return;
        if (state.again) {
          state.again = false;
          this.schedule(key, 0);
        } else if (next !== undefined) this.schedule(key, next);
      });
  }

  /** Run `work` when fewer than `concurrency` passes run; undefined when the loop stopped meanwhile. */
  private async withSlot<T>(work: () => Promise<T>): Promise<T | undefined> {
    while (this.active >= (this.o.concurrency ?? 4)) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
      if (this.stopped) return undefined;
    }
    if (this.stopped) return undefined;
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  /** The interval with up to ±10 % jitter, so sources created together do not fetch together forever. */
  private jittered(ms: number): number {
    return Math.round(ms * (0.9 + 0.2 * (this.o.random ?? Math.random)()));
  }

  private failureDelay(state: SourceState, intervalMs: number): number {
    const max = Math.max(intervalMs, this.o.maxBackoffMs ?? 600_000);
    return this.jittered(backoffDelay(state.failures, { initialMs: Math.min(intervalMs, 5_000), maxMs: max }));
  }

  // ---------- reconcile ----------

  /** One pass over a source; returns when to look again (ms), or undefined for "when it changes". */
  private async reconcile(key: Key, state: SourceState): Promise<number | undefined> {
    const { namespace, name } = splitKey(key);
    const source = this.informer?.get(name, namespace);
    if (!source) return undefined;
    if (source.metadata.deletionTimestamp) return this.finalize(source);
    const finalizers = source.metadata.finalizers ?? [];
    const prune = sourcePrunes(source);
    if (prune !== finalizers.includes(SOURCE_FINALIZER)) {
      const next = prune ? [...finalizers, SOURCE_FINALIZER] : finalizers.filter((f) => f !== SOURCE_FINALIZER);
      await this.writes.setFinalizers(namespace, name, next, source.metadata.resourceVersion);
    }
    const intervalMs = sourceIntervalMs(source);
    await this.refreshHookSecret(source).catch((e: unknown) => this.log.warn({ source: key, err: errorText(e) }, "cannot read the webhook's Secret"));
    if (source.spec.suspend) {
      await this.writeStatus(source, { ready: "False", reason: "Suspended", message: "spec.suspend is true: nothing is fetched, applied or pruned" });
      return undefined;
    }
    // fetch
    let fetched: FetchedSource;
    try {
      fetched = await this.fetch(source);
    } catch (e) {
      state.failures++;
      const message = e instanceof GitError ? e.message : `fetch failed: ${errorText(e)}`;
      await this.writeStatus(source, { ready: "False", reason: "FetchFailed", message });
      this.event(source, "Warning", "FetchFailed", message);
      const retryInMs = this.failureDelay(state, intervalMs);
      this.log.warn({ source: key, err: message, retryInMs }, "GitSource fetch failed");
      return retryInMs;
    }
    const commit = fetched.commit;
    const fetchedAt = { lastFetchedCommit: commit, lastFetchTime: this.now().toISOString() };
    // read → plan
    const { documents, problems: readProblems } = parseSourceFiles(fetched.files);
    const inventory = source.status?.inventory ?? [];
    const plan = planSource({
      source: { namespace, name },
      commit,
      documents,
      readProblems,
      inventory,
      controllerNamespace: this.o.controllerNamespace,
    });
    // Objects of the same name that another source applied are not taken over.
    const problems = plan.problems.length ? plan.problems : [...(await this.ownershipProblems(source, plan.apply)), ...(await this.specProblems(plan.apply))];
    if (problems.length) {
      state.failures = 0;
      const message = `commit ${commit.slice(0, 12)} is not applied (${problems.length} problem${problems.length > 1 ? "s" : ""}; ${appliedText(source)}): ${problems
        .slice(0, 5)
        .map(formatSourceProblem)
        .join("; ")}`;
      await this.writeStatus(source, { ready: "False", reason: problemsReason(problems), message }, fetchedAt);
      this.event(source, "Warning", problemsReason(problems), message);
      return this.jittered(intervalMs);
    }
    // apply
    const applied: GitSourceInventoryEntry[] = [];
    const failed: string[] = [];
    for (const p of plan.apply) {
      try {
        await this.objects.apply(p.object);
        applied.push(p.entry);
      } catch (e) {
        failed.push(`${p.entry.file}: ${formatRef(p.entry)}: ${errorText(e)}`);
      }
    }
    if (failed.length) {
      state.failures++;
      // What did get applied is now labelled: it joins the inventory, so pruning can find it later.
      const merged = mergeInventory(inventory, applied);
      const message = `commit ${commit.slice(0, 12)}: ${failed.length} object(s) not applied (${appliedText(source)}): ${failed.slice(0, 3).join("; ")}`;
      await this.writeStatus(source, { ready: "False", reason: "ApplyFailed", message }, { ...fetchedAt, inventory: merged });
      this.event(source, "Warning", "ApplyFailed", message);
      return this.failureDelay(state, intervalMs);
    }
    // prune
    const pruned: string[] = [];
    const kept: GitSourceInventoryEntry[] = [];
    if (prune) {
      for (const entry of plan.prune) {
        try {
          if (await this.pruneOne(source, entry)) pruned.push(formatRef(entry));
        } catch (e) {
          kept.push(entry);
          this.log.warn({ source: key, object: formatRef(entry), err: errorText(e) }, "prune failed; trying again at the next interval");
        }
      }
    }
    state.failures = 0;
    const previous = source.status?.appliedCommit;
    const where = `${describeRef(sourceRef(source.spec.ref))}, path ${sourcePath(source.spec.path) || "."}`;
    const message =
      `applied ${plan.apply.length} object(s) from commit ${commit.slice(0, 12)} (${where})` +
      (pruned.length ? `; pruned ${pruned.join(", ")}` : "") +
      (kept.length ? `; ${kept.length} object(s) could not be pruned yet` : "");
    await this.writeStatus(
      source,
      { ready: "True", reason: "Applied", message },
      { ...fetchedAt, appliedCommit: commit, inventory: mergeInventory(plan.inventory, kept) },
    );
    if (previous !== commit) {
      this.log.info({ source: key, commit, objects: plan.apply.length, pruned }, "GitSource applied");
      this.event(source, "Normal", "Applied", message);
    }
    return this.jittered(intervalMs);
  }

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  private async fetch(source: GitSource): Promise<FetchedSource> {
    const { namespace, name } = splitKey(keyOf(source));
    const credentials = await this.credentials(source);
    return (this.o.fetch ?? fetchSource)({
      url: source.spec.url,
      ref: sourceRef(source.spec.ref),
      path: sourcePath(source.spec.path),
      ...(credentials ? { credentials } : {}),
      mirrorDir: join(this.o.dataDir, "sources", namespace, name),
      ...(source.status?.appliedCommit ? { previousCommit: source.status.appliedCommit } : {}),
      allowLocal: namespace === this.o.controllerNamespace,
    });
  }

  /** spec.secretRef's credentials: `token`, or `username` and `password`. Errors name the Secret and keys, never a value. */
  private async credentials(source: GitSource): Promise<SourceCredentials | undefined> {
    const ref = source.spec.secretRef;
    if (!ref) return undefined;
    const namespace = source.metadata.namespace ?? "default";
    let data: Record<string, Buffer> | undefined;
    try {
      data = await this.writes.readSecret(namespace, ref.name);
    } catch (e) {
      const status = httpStatus(e);
      throw new GitError(`spec.secretRef: Secret ${namespace}/${ref.name} cannot be read (HTTP ${status ?? "error"})`, {
        retryable: status === undefined || status >= 500,
      });
    }
    if (!data) throw new GitError(`spec.secretRef: Secret ${namespace}/${ref.name} does not exist. Create it with the key token, or username and password`);
    const text = (k: string) => (data?.[k] && data[k].length > 0 ? data[k].toString("utf8").trim() : undefined);
    const token = text("token");
    if (token) return { username: text("username") ?? "x-access-token", password: token };
    const username = text("username");
    const password = text("password");
    if (username && password) return { username, password };
    throw new GitError(`spec.secretRef: Secret ${namespace}/${ref.name} has neither the key token nor the keys username and password. Add them`);
  }

  /**
   * The deployments' problems that need the definitions, each with its file. A commit that also
   * carries definitions (the platform team's source) is checked by the controller once applied:
   * the definitions it would check against are the ones being replaced.
   */
  private async specProblems(apply: PlannedObject[]): Promise<SourceProblem[]> {
    const check = this.o.definitionProblems;
    if (!check || apply.some((p) => p.object.kind === "ComponentDefinition" || p.object.kind === "TraitDefinition")) return [];
    const problems: SourceProblem[] = [];
    for (const p of apply) {
      if (p.object.kind !== "ApplicationDeployment") continue;
      for (const f of await check(p.object as unknown as ApplicationDeployment)) problems.push({ ...f, reason: "InvalidDocument", file: p.entry.file });
    }
    return problems;
  }

  /** Objects of the commit that exist on the hub labelled by another source: refused, since two sources would fight over them. */
  private async ownershipProblems(source: GitSource, apply: PlannedObject[]): Promise<SourceProblem[]> {
    const mine = sourceLabelValue(source.metadata.namespace ?? "default", source.metadata.name);
    const problems: SourceProblem[] = [];
    for (const p of apply) {
      const live = await this.objects.get(p.entry);
      const owner = live?.metadata.labels?.[LABEL_SOURCE];
      if (owner === undefined || owner === mine) continue;
      const [ns, ...rest] = owner.split(".");
      problems.push({
        reason: "Refused",
        file: p.entry.file,
        path: "metadata.name",
        message: `${formatRef(p.entry)} belongs to GitSource ${ns}/${rest.join(".")}: a source never takes over another source's objects`,
        fix: "Rename the object, or remove it from the other source first",
      });
    }
    return problems;
  }

  /** Delete one object of the inventory if it is still this source's (its label says so); false when it was already gone. */
  private async pruneOne(source: GitSource, entry: GitSourceInventoryEntry): Promise<boolean> {
    const live = await this.objects.get(entry);
    if (!live) return false;
    const mine = sourceLabelValue(source.metadata.namespace ?? "default", source.metadata.name);
    if (live.metadata.labels?.[LABEL_SOURCE] !== mine) {
      this.log.info({ source: keyOf(source), object: formatRef(entry) }, "not pruned: the object no longer carries this source's label");
      return false;
    }
    return this.objects.delete(entry, live.metadata.uid);
  }

  /** A GitSource being deleted: with prune, its objects go first; then its finalizer. */
  private async finalize(source: GitSource): Promise<number | undefined> {
    const finalizers = source.metadata.finalizers ?? [];
    if (!finalizers.includes(SOURCE_FINALIZER)) return undefined;
    const { namespace, name } = splitKey(keyOf(source));
    if (sourcePrunes(source)) {
      const deleted: string[] = [];
      for (const entry of source.status?.inventory ?? []) if (await this.pruneOne(source, entry)) deleted.push(formatRef(entry));
      if (deleted.length) this.log.info({ source: keyOf(source), deleted }, "GitSource deleted: pruned its objects");
    }
    await this.writes.setFinalizers(
      namespace,
      name,
      finalizers.filter((f) => f !== SOURCE_FINALIZER),
      source.metadata.resourceVersion,
    );
    return undefined;
  }

  private event(source: GitSource, type: "Normal" | "Warning", reason: string, message: string): void {
    this.events.record(
      {
        kind: "GitSource",
        namespace: source.metadata.namespace ?? "default",
        name: source.metadata.name,
        ...(source.metadata.uid ? { uid: source.metadata.uid } : {}),
      },
      type,
      reason,
      message,
    );
  }

  /** The one status write of a pass: the Ready condition and what changed; appliedCommit and inventory are kept unless given. */
  private async writeStatus(
    source: GitSource,
    ready: { ready: Condition["status"]; reason: string; message: string },
    fields: Partial<Pick<GitSourceStatus, "lastFetchedCommit" | "lastFetchTime" | "appliedCommit" | "inventory">> = {},
  ): Promise<void> {
    const before = source.status ?? {};
    const previous = before.conditions?.find((c) => c.type === "Ready");
    const generation = source.metadata.generation;
    const condition: Condition = {
      type: "Ready",
      status: ready.ready,
      reason: ready.reason,
      message: ready.message.slice(0, 4_000),
      lastTransitionTime: previous?.status === ready.ready && previous.lastTransitionTime ? previous.lastTransitionTime : this.now().toISOString(),
      ...(generation === undefined ? {} : { observedGeneration: generation }),
    };
    const status: GitSourceStatus = {
      ...before,
      ...fields,
      ...(generation === undefined ? {} : { observedGeneration: generation }),
      conditions: [...(before.conditions ?? []).filter((c) => c.type !== "Ready"), condition],
    };
    if (JSON.stringify(status) === JSON.stringify(before)) return;
    await this.writes.writeStatus(source.metadata.namespace ?? "default", source.metadata.name, status);
  }
}

function hookRef(source: GitSource): string {
  const ref = source.spec.webhook?.secretRef;
  return ref ? `${ref.name}/${ref.key ?? DEFAULT_WEBHOOK_KEY}` : "";
}

function appliedText(source: GitSource): string {
  const at = source.status?.appliedCommit;
  return at ? `commit ${at.slice(0, 12)} stays applied` : "nothing was applied before";
}

/** `a` with the entries of `b` added or replaced (by object), sorted. */
function mergeInventory(a: GitSourceInventoryEntry[], b: GitSourceInventoryEntry[]): GitSourceInventoryEntry[] {
  const byKey = new Map(a.map((e) => [inventoryKey(e), e]));
  for (const e of b) byKey.set(inventoryKey(e), e);
  return [...byKey.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)).map(([, e]) => e);
}

function httpStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split("\n")[0] ?? e.message;
  const body = (e as { body?: unknown } | null)?.body;
  return typeof body === "string" ? body.slice(0, 200) : String(e);
}

// ---------- the real hub ----------

function hubObjects(kubeConfig: KubeConfig): SourceObjects {
  const client = new KubeClient({ kubeConfig, fieldManager: SOURCE_FIELD_MANAGER });
  const ref = (e: GitSourceInventoryEntry) => ({ apiVersion: e.apiVersion, kind: e.kind, name: e.name, ...(e.namespace ? { namespace: e.namespace } : {}) });
  return {
    get: (e) => client.get(ref(e)),
    apply: async (object) => {
      await client.apply(object as unknown as Manifest);
    },
    delete: (e, uid) => client.delete(ref(e), uid ? { uid } : {}),
  };
}

function hubWrites(hub: Hub): SourceHubWrites {
  const base = { group: GROUP, version: VERSION, plural: PLURALS.GitSource };
  return {
    async writeStatus(namespace, name, status) {
      await hub.custom.patchNamespacedCustomObjectStatus({ ...base, namespace, name, body: [{ op: "add", path: "/status", value: status }] }, jsonPatchOptions);
    },
    async setFinalizers(namespace, name, finalizers, resourceVersion) {
      const body = { metadata: { finalizers, ...(resourceVersion ? { resourceVersion } : {}) } };
      await hub.custom.patchNamespacedCustomObject({ ...base, namespace, name, body }, mergePatchOptions);
    },
    async readSecret(namespace, name) {
      try {
        const secret = await hub.core.readNamespacedSecret({ namespace, name });
        return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64")]));
      } catch (e) {
        if (httpStatus(e) === 404) return undefined;
        throw e;
      }
    },
  };
}

const jsonPatchOptions = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const mergePatchOptions = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
