// Sends a pull-mode agent's SyncReports to the hub: only those whose content changed since they
// were last written, deployment reports before the agent's own (so a controller that sees a new
// applied commit has already seen the health that goes with it), reports of deployments gone from
// the cluster deleted. Level-based: while the hub is unreachable the latest wanted state waits
// and is retried with backoff; nothing older is ever sent after something newer.

import { CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/labels.js";
import { AGENT_REPORT_NAME, pullNamespace } from "../api/pull.js";
import type { SyncReport } from "../api/types.js";
import { backoffDelay } from "../support/backoff.js";

export const AGENT_FIELD_MANAGER = "flotilla-agent";
const PLURAL = "syncreports";
const apply = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);

export interface ReportWriterOptions {
  hub: KubeConfig;
  cluster: string;
  /** Writes in flight at once. Default 4. */
  concurrency?: number;
  /** Changes within this window go out together, ms. Default 100. */
  debounceMs?: number;
  onError?: (error: unknown) => void;
  /** Told after every flush that wrote something: how many writes, and whether all went through. */
  onFlushed?: (written: number, ok: boolean) => void;
}

/** contentOf by report object: the agent hands over the same object while a report is unchanged. */
const contents = new WeakMap<Pick<SyncReport, "spec" | "status">, string>();

/** What makes two reports the same for the writer: spec and status, not metadata. Reports are not changed once made. */
function contentOf(r: Pick<SyncReport, "spec" | "status">): string {
  let content = contents.get(r);
  if (content === undefined) {
    content = JSON.stringify([r.spec, r.status ?? null]);
    contents.set(r, content);
  }
  return content;
}

function httpStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

export class ReportWriter {
  private readonly api: CustomObjectsApi;
  private readonly namespace: string;
  /** Report name → content last known to be on the hub. */
  private readonly written = new Map<string, string>();
  private wanted = new Map<string, SyncReport>();
  private agent: SyncReport | undefined;
  private listed = false;
  private flushing: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private stopped = false;

  constructor(private readonly o: ReportWriterOptions) {
    this.api = o.hub.makeApiClient(CustomObjectsApi);
    this.namespace = pullNamespace(o.cluster);
  }

  /** Reports waiting to be written (changed, or to be deleted). */
  get pending(): number {
    let n = 0;
    for (const [name, r] of this.wanted) if (this.written.get(name) !== contentOf(r)) n++;
    for (const name of this.written.keys()) if (name !== AGENT_REPORT_NAME && !this.wanted.has(name)) n++;
    if (this.agent && this.written.get(AGENT_REPORT_NAME) !== contentOf(this.agent)) n++;
    return n;
  }

  /** The reports the hub should hold now; what differs is written soon. */
  set(deployments: Map<string, SyncReport>, agent: SyncReport): void {
    this.wanted = deployments;
    this.agent = agent;
    this.schedule(this.o.debounceMs ?? 100);
  }

  /** Write what is pending now and wait for it (tests, shutdown). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.run();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delay: number): void {
    if (this.stopped || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, delay);
  }

  private run(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    this.flushing = this.write()
      .then(
        (count) => {
          this.failures = 0;
          if (count) this.o.onFlushed?.(count, true);
        },
        (e: unknown) => {
          this.failures++;
          this.o.onError?.(e);
          this.o.onFlushed?.(0, false);
          this.schedule(backoffDelay(this.failures, { initialMs: 500, maxMs: 10_000 }));
        },
      )
      .finally(() => {
        this.flushing = undefined;
        if (this.again) {
          this.again = false;
          this.schedule(0);
        }
      });
    return this.flushing;
  }

  /** One pass; throws after trying everything when any write failed. */
  private async write(): Promise<number> {
    if (!this.listed) await this.listExisting();
    const upserts = [...this.wanted].filter(([name, r]) => this.written.get(name) !== contentOf(r)).map(([, r]) => r);
    const deletes = [...this.written.keys()].filter((name) => name !== AGENT_REPORT_NAME && !this.wanted.has(name));
    let failed: unknown;
    let count = 0;
    await this.pool(
      [...upserts.map((r) => () => this.upsert(r)), ...deletes.map((name) => () => this.remove(name))],
      (e) => {
        failed ??= e;
      },
      () => count++,
    );
    if (failed) throw failed;
    const agent = this.agent;
    if (agent && this.written.get(AGENT_REPORT_NAME) !== contentOf(agent)) {
      await this.upsert(agent);
      count++;
    }
    return count;
  }

  private async pool(tasks: Array<() => Promise<void>>, onError: (e: unknown) => void, onDone: () => void): Promise<void> {
    let next = 0;
    const lane = async () => {
      while (next < tasks.length) {
        const task = tasks[next++] as () => Promise<void>;
        await task().then(onDone, onError);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency ?? 4, tasks.length) }, lane));
  }

  /** What a previous run of the agent left on the hub: unchanged reports are not written again. */
  private async listExisting(): Promise<void> {
    const list = (await this.api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL })) as {
      items: SyncReport[];
    };
    for (const r of list.items) this.written.set(r.metadata.name, contentOf(r));
    this.listed = true;
  }

  private async upsert(r: SyncReport): Promise<void> {
    const content = contentOf(r);
    await this.api.patchNamespacedCustomObject(
      {
        group: GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: PLURAL,
        name: r.metadata.name,
        body: r,
        fieldManager: AGENT_FIELD_MANAGER,
        force: true,
      },
      apply,
    );
    this.written.set(r.metadata.name, content);
  }

  private async remove(name: string): Promise<void> {
    try {
      await this.api.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: this.namespace, plural: PLURAL, name });
    } catch (e) {
      if (httpStatus(e) !== 404) throw e;
    }
    this.written.delete(name);
  }
}
