// Test support for the rollout planner: a fake clock, a fake fleet that "applies" planned
// targets and reports observations, and a harness that calls the planner the way the controller
// will (state round-tripped through the status schema, as the API server would prune it).
// Builders only make data and simulate clusters; they never decide anything the planner decides.

import type { ApplicationDeployment, Cluster, HealthState, RolloutSpec, RolloutStatus } from "../../../src/api/types.js";
import { parseDuration } from "../../../src/api/duration.js";
import { schemas } from "../../../src/api/schemas.js";
import { type Placement, place } from "../../../src/placement/select.js";
import { type ObservedCluster, type PlanInput, type PlannedTarget, planRollout, type RolloutPlan } from "../../../src/rollout/planner.js";
import { aCluster, aDeployment, aRevision, aWave } from "../builders.js";

export const T0 = Date.parse("2024-05-01T10:00:00.000Z");

export class FakeClock {
  private ms: number;
  constructor(start = T0) {
    this.ms = start;
  }
  now(): Date {
    return new Date(this.ms);
  }
  /** Advance by milliseconds or a duration such as `30s`. */
  advance(by: number | string): this {
    this.ms += typeof by === "number" ? by : parseDuration(by);
    return this;
  }
}

type Node = Record<string, unknown>;

/** Drop every field the schema does not declare, as the API server does for a structural CRD. */
export function pruneToSchema(value: unknown, schema: Node): unknown {
  if (Array.isArray(value)) return value.map((v) => pruneToSchema(v, (schema.items as Node) ?? {}));
  if (value === null || typeof value !== "object") return value;
  const props = schema.properties as Record<string, Node> | undefined;
  if (!props) return value;
  const out: Node = {};
  for (const [k, v] of Object.entries(value)) if (props[k]) out[k] = pruneToSchema(v, props[k]);
  return out;
}

const statusSchema = ((schemas.ApplicationDeployment as Node).properties as Record<string, Node>).status as Node;
const rolloutSchema = (statusSchema.properties as Record<string, Node>).rollout as Node;

/** status.rollout as it comes back from the API server after a write. */
export function persisted(state: RolloutStatus): RolloutStatus {
  return pruneToSchema(JSON.parse(JSON.stringify(state)), rolloutSchema) as RolloutStatus;
}

interface LiveRevision {
  replicas: number;
  readyReplicas: number;
  health: HealthState;
  restarts: number;
}

/**
 * A fleet of fake clusters. `apply` takes the planner's targets as a sync would; by default
 * every revision becomes ready at once. A broken revision never gets ready (Degraded); a lagging
 * cluster does not apply new targets (synced false) until it catches up.
 */
export class FakeFleet {
  private readonly live = new Map<string, Map<string, LiveRevision>>();
  private readonly synced = new Map<string, boolean>();
  readonly broken = new Set<string>();
  /** Renderings (see Harness.renderingOf) whose pods never get ready, whatever the revision. */
  readonly brokenRenderings = new Set<string>();
  /** The rendering each cluster's files hold, as last applied. */
  readonly files = new Map<string, string | undefined>();
  readonly lagging = new Set<string>();
  /** Clusters that do not answer: nothing is applied there and they are observed unreachable. */
  readonly unreachable = new Set<string>();
  /** Clusters a controller that just restarted has not synced yet: observed with no report at all. */
  readonly unobserved = new Set<string>();
  readonly restarts = new Map<string, number>();

  /** Pretend a cluster already runs revisions (e.g. v1 from an earlier rollout). */
  seed(cluster: string, revisions: Record<string, number>): this {
    const live = new Map<string, LiveRevision>();
    for (const [name, replicas] of Object.entries(revisions)) live.set(name, { replicas, readyReplicas: replicas, health: "Healthy", restarts: 0 });
    this.live.set(cluster, live);
    this.synced.set(cluster, true);
    return this;
  }

  /** Sync the targets; `files` says which rendering each cluster's files hold (when tracked). */
  apply(targets: PlannedTarget[], files?: ReadonlyMap<string, string | undefined>): void {
    for (const t of targets) {
      if (this.lagging.has(t.cluster) || this.unreachable.has(t.cluster)) {
        this.synced.set(t.cluster, false);
        continue;
      }
      const rendering = files?.get(t.cluster);
      this.files.set(t.cluster, rendering);
      const live = new Map<string, LiveRevision>();
      for (const r of t.revisions) {
        const broken = this.broken.has(r.name) || (rendering !== undefined && this.brokenRenderings.has(rendering));
        live.set(r.name, {
          replicas: r.replicas,
          readyReplicas: broken ? 0 : r.replicas,
          health: broken && r.replicas > 0 ? "Degraded" : "Healthy",
          restarts: this.restarts.get(r.name) ?? 0,
        });
      }
      this.live.set(t.cluster, live);
      this.synced.set(t.cluster, true);
    }
  }

  observe(clusters: string[]): ObservedCluster[] {
    return clusters.map((name) => {
      const live = this.live.get(name) ?? new Map<string, LiveRevision>();
      const revisions = [...live].map(([rev, l]) => ({ name: rev, ...l }));
      const health: HealthState = revisions.some((r) => r.health === "Degraded") ? "Degraded" : "Healthy";
      if (this.unreachable.has(name)) return { name, synced: false, reachable: false, health: "Unknown" as const, revisions: [] };
      if (this.unobserved.has(name)) return { name, synced: false, health: "Unknown" as const, revisions: [] };
      return { name, synced: this.synced.get(name) ?? true, health, revisions };
    });
  }
}

/** A cluster's planned revisions as `{v1: 9, v2: 1}` for short assertions. */
export function replicasOf(plan: RolloutPlan, cluster: string): Record<string, number> | undefined {
  const t = plan.targets.find((x) => x.cluster === cluster);
  return t ? Object.fromEntries(t.revisions.map((r) => [r.name, r.replicas])) : undefined;
}

export interface HarnessOptions {
  deployment: ApplicationDeployment;
  clusters: Cluster[];
  clock?: FakeClock;
  fleet?: FakeFleet;
  previous?: RolloutStatus;
  /**
   * What the deployment renders for a cluster, as a short string standing in for the controller's
   * fingerprint (e.g. the image). When given, the harness keeps an environment "repository": each
   * step whose files change is a commit, and a target kept at a commit gets that commit's files.
   */
  renderingOf?: (deployment: ApplicationDeployment, cluster: string) => string;
}

/** Calls the planner as the controller would: observe, plan, persist the state, sync the targets. */
export class Harness {
  deployment: ApplicationDeployment;
  clusters: Cluster[];
  readonly clock: FakeClock;
  readonly fleet: FakeFleet;
  previous: RolloutStatus | undefined;
  readonly plans: RolloutPlan[] = [];
  /** The inputs of every call, for replays. */
  readonly inputs: PlanInput[] = [];
  /**
   * true (default): the next call gets the state as the API server returns it (JSON, pruned to
   * the status schema) — what a restarted controller reads. false: the in-memory object as is.
   */
  throughStatus = true;
  readonly renderingOf: ((deployment: ApplicationDeployment, cluster: string) => string) | undefined;
  /** The environment repository: each commit's rendering per cluster. */
  readonly commits = new Map<string, Map<string, string | undefined>>();
  head: string | undefined;

  constructor(options: HarnessOptions) {
    this.deployment = structuredClone(options.deployment);
    this.clusters = options.clusters;
    this.clock = options.clock ?? new FakeClock();
    this.fleet = options.fleet ?? new FakeFleet();
    this.previous = options.previous;
    this.renderingOf = options.renderingOf;
  }

  /** Pretend the repository already holds these renderings (what an earlier rollout committed). */
  committed(files: Record<string, string>): this {
    this.head = `c${this.commits.size}`;
    this.commits.set(this.head, new Map(Object.entries(files)));
    for (const [cluster, rendering] of Object.entries(files)) this.fleet.files.set(cluster, rendering);
    return this;
  }

  placement(): Placement {
    return place(this.deployment.spec.placementStrategies, this.clusters);
  }

  annotate(key: string, value = "true"): this {
    this.deployment.metadata.annotations = { ...this.deployment.metadata.annotations, [key]: value };
    return this;
  }

  /** One reconcile: plan, remove consumed annotations, persist the state, let the fleet sync. */
  step(): RolloutPlan {
    const placement = this.placement();
    const selected = placement.waves.flatMap((w) => w.clusters);
    const renderOf = this.renderingOf;
    const renderings = renderOf ? new Map(selected.map((c) => [c, renderOf(this.deployment, c)])) : undefined;
    const input: PlanInput = {
      deployment: structuredClone(this.deployment),
      placement,
      previous: this.previous,
      observed: this.fleet.observe(selected),
      now: this.clock.now(),
      ...(renderings ? { renderings } : {}),
      ...(this.head === undefined ? {} : { commit: this.head }),
    };
    this.inputs.push(structuredClone(input));
    const plan = planRollout(input);
    for (const a of plan.consumedAnnotations) delete this.deployment.metadata.annotations?.[a];
    this.previous = this.throughStatus ? persisted(plan.state) : plan.state;
    let files: Map<string, string | undefined> | undefined;
    if (renderings) {
      files = new Map(
        plan.targets.map((t) => [t.cluster, t.keepFilesOf === undefined ? renderings.get(t.cluster) : this.commits.get(t.keepFilesOf)?.get(t.cluster)]),
      );
      const head = this.head === undefined ? undefined : this.commits.get(this.head);
      if (!head || [...files].some(([c, f]) => head.get(c) !== f)) {
        this.head = `c${this.commits.size}`;
        this.commits.set(this.head, files);
      }
    }
    this.fleet.apply(plan.targets, files);
    this.plans.push(plan);
    return plan;
  }

  /** Step until `until` holds or `max` steps, advancing the clock by `tick` after each step. */
  run(options: { max?: number; tick?: number | string; until?: (plan: RolloutPlan) => boolean } = {}): RolloutPlan[] {
    const out: RolloutPlan[] = [];
    for (let i = 0; i < (options.max ?? 30); i++) {
      const plan = this.step();
      out.push(plan);
      if (options.until?.(plan)) break;
      this.clock.advance(options.tick ?? 1000);
    }
    return out;
  }
}

/** Summaries of the steps that changed something: the commit log a run would produce. */
export function commitLog(plans: RolloutPlan[]): string[] {
  return plans.filter((p) => p.changed).map((p) => p.summary);
}

/** v1 fully rolled out on the given clusters, as an earlier run of the planner left it an hour ago. */
export function v1Done(clusters: Array<{ name: string; wave: string }>, replicas = 10): RolloutStatus {
  const at = new Date(T0 - 3_600_000).toISOString();
  return {
    revision: "v1",
    startedAt: at,
    state: "Completed",
    since: at,
    clusters: clusters.map(({ name, wave }) => ({ name, wave, batch: 1, state: "Completed", since: at, revisions: [{ name: "v1", replicas }], sources: [] })),
  };
}

export const STAGING_CLUSTER = aCluster("stage-1").withLabel("usage", "staging").build();

/** One staging cluster `stage-1` running v1 (10 replicas) on `fleet`, rolling out v2 with `rollout`. */
export function singleStaging<F extends FakeFleet>(rollout: RolloutSpec, fleet: F): Harness & { fleet: F } {
  const v2 = aRevision("v2").build();
  v2.rollout = { replicas: 10, ...rollout };
  const deployment = aDeployment()
    .withRevision(aRevision("v1").withReplicas(10))
    .withRevision(v2)
    .withWave(aWave("staging").selectingLabel("usage", "staging"))
    .build();
  fleet.seed("stage-1", { v1: 10 });
  return new Harness({ deployment, clusters: [STAGING_CLUSTER], fleet, previous: v1Done([{ name: "stage-1", wave: "staging" }]) }) as Harness & { fleet: F };
}
