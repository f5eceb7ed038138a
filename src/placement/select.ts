// Placement: which clusters each wave of a deployment targets, with a reason a person
// understands for every cluster, selected or not. Pure: strategies + clusters → decisions.

import type { Cluster, ClusterSelector, MatchExpression, PlacementStrategy } from "../api/types.js";
import { waveName } from "../api/validate.js";
import { compileCel, toCelValue } from "../definitions/cel.js";

export interface PlacementDecision {
  cluster: string;
  selected: boolean;
  /** The wave that selected the cluster (the first one that matches). */
  wave?: string;
  /** Why the cluster is selected or not, e.g. `label usage=staging does not match usage=production`. */
  reason: string;
}

export interface Wave {
  name: string;
  index: number;
  strategy: PlacementStrategy;
  /** Selected clusters, sorted by name. */
  clusters: string[];
}

export interface Placement {
  waves: Wave[];
  /** One decision per known cluster, sorted by cluster name. */
  decisions: PlacementDecision[];
}

/** Null when the selector holds; otherwise why it does not. */
export function selectorMismatch(selector: ClusterSelector | undefined, cluster: Cluster, origin: { definition: string; field: string }): string | null {
  if (!selector) return null;
  const labels = cluster.metadata.labels ?? {};
  const name = cluster.metadata.name;
  if (selector.names && !selector.names.includes(name)) {
    return `name ${name} is not in [${selector.names.join(", ")}]`;
  }
  for (const [key, want] of Object.entries(selector.labels ?? {})) {
    const have = labels[key];
    if (have === undefined) return `label ${key} is missing (want ${key}=${want})`;
    if (have !== want) return `label ${key}=${have} does not match ${key}=${want}`;
  }
  for (const expr of selector.matchExpressions ?? []) {
    const why = expressionMismatch(expr, labels);
    if (why) return why;
  }
  if (selector.condition) {
    const program = compileCel(selector.condition, origin);
    // A condition that cannot be evaluated for one cluster (a missing label) rejects that cluster only.
    let ok: boolean;
    try {
      ok = program.testConverted({ cluster: celClusterValue(cluster) });
    } catch (e) {
      return `condition ${selector.condition} cannot be evaluated: ${e instanceof Error ? e.message.replace(/^.*?: CEL evaluation failed: /, "") : String(e)}`;
    }
    if (!ok) return `condition ${selector.condition} is false`;
  }
  return null;
}

/** What a CEL placement condition sees as `cluster`. */
export function celCluster(cluster: Cluster): Record<string, unknown> {
  return {
    name: cluster.metadata.name,
    labels: cluster.metadata.labels ?? {},
    annotations: cluster.metadata.annotations ?? {},
    spec: cluster.spec,
    status: cluster.status ?? {},
    version: cluster.status?.version ?? "",
  };
}

// Converting a Cluster into CEL values costs more than evaluating a condition over it, and the
// controller places every deployment against the same Cluster objects. Those objects are never
// changed in place (the informer cache replaces an object when it changes), so the conversion is
// kept per object and dropped with it.
const celClusterValues = new WeakMap<Cluster, Record<string, unknown>>();

function celClusterValue(cluster: Cluster): Record<string, unknown> {
  let value = celClusterValues.get(cluster);
  if (!value) {
    value = toCelValue(celCluster(cluster)) as Record<string, unknown>;
    celClusterValues.set(cluster, value);
  }
  return value;
}

function expressionMismatch(expr: MatchExpression, labels: Record<string, string>): string | null {
  const have = labels[expr.key];
  const values = expr.values ?? [];
  switch (expr.operator) {
    case "In":
      if (have === undefined) return `label ${expr.key} is missing (want one of ${values.join(", ")})`;
      return values.includes(have) ? null : `label ${expr.key}=${have} is not in [${values.join(", ")}]`;
    case "NotIn":
      return have !== undefined && values.includes(have) ? `label ${expr.key}=${have} is in the excluded [${values.join(", ")}]` : null;
    case "Exists":
      return have === undefined ? `label ${expr.key} is missing` : null;
    case "DoesNotExist":
      return have !== undefined ? `label ${expr.key} exists (=${have})` : null;
  }
}

function isReady(cluster: Cluster): boolean | undefined {
  const ready = cluster.status?.conditions?.find((c) => c.type === "Ready");
  return ready ? ready.status === "True" : undefined;
}

export interface PlaceOptions {
  /** Reject clusters whose Ready condition is False. Default false (the CLI has no status). */
  requireReady?: boolean;
  /** Name of the deployment, for CEL error messages. */
  deployment?: string;
}

/** Decide placement. A cluster selected by two waves belongs to the first. */
export function place(strategies: PlacementStrategy[] | undefined, clusters: Cluster[], options: PlaceOptions = {}): Placement {
  const list = strategies?.length ? strategies : [{}];
  const sorted = [...clusters].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const waves: Wave[] = list.map((strategy, index) => ({ name: waveName(index, strategy.name), index, strategy, clusters: [] }));
  const decisions: PlacementDecision[] = [];
  for (const cluster of sorted) {
    const name = cluster.metadata.name;
    const misses: string[] = [];
    let decision: PlacementDecision | undefined;
    for (const wave of waves) {
      const why = selectorMismatch(wave.strategy.clusterSelector, cluster, {
        definition: options.deployment ?? "deployment",
        field: `spec.placementStrategies[${wave.index}].clusterSelector.condition`,
      });
      if (why === null) {
        // A paused cluster stays selected: its deployments keep their folders in Git (leaving
        // them would prune their objects when it resumes) and wait for it, like a rollout does.
        if (options.requireReady && isReady(cluster) === false) {
          decision = { cluster: name, selected: false, wave: wave.name, reason: "cluster is not Ready" };
        } else {
          const paused = cluster.spec.paused ? " (paused: nothing is synced to it until spec.paused is false)" : "";
          decision = { cluster: name, selected: true, wave: wave.name, reason: `selected by wave ${wave.name}${paused}` };
          wave.clusters.push(name);
        }
        break;
      }
      misses.push(waves.length > 1 ? `${wave.name}: ${why}` : why);
    }
    decisions.push(decision ?? { cluster: name, selected: false, reason: misses.join("; ") });
  }
  return { waves, decisions };
}
