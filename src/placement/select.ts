// Placement: which clusters each wave of a deployment targets, with a reason a person
// understands for every cluster, selected or not. Pure: strategies + clusters → decisions.

import type { Cluster, ClusterSelector, PlacementStrategy } from "../api/types.js";
import { waveName } from "../api/validate.js";
import { type CelProgram, compileCel, toCelValue } from "../definitions/cel.js";
import { BudgetExceededError, runWithDeadline } from "../definitions/deadline.js";
import { labelSelectorMismatch } from "./label-selector.js";

/**
 * Time budget, in ms, of all the CEL conditions one place() call evaluates together (one
 * condition over up to every cluster of the fleet). Default 250: a thousand clusters take about
 * 2 ms once the process is warm, but the first pass after a start took up to 63 ms of CPU and
 * 124 ms of wall time on a loaded two-core machine, and a false overrun fails a good placement.
 */
export const PLACEMENT_CEL_BUDGET_MS = 250;

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
  return mismatch(selector, cluster, selector.condition ? compileCel(selector.condition, origin) : undefined);
}

/** selectorMismatch with the condition already compiled (place() compiles once per wave). */
function mismatch(selector: ClusterSelector, cluster: Cluster, program: CelProgram | undefined): string | null {
  const labels = cluster.metadata.labels ?? {};
  const name = cluster.metadata.name;
  if (selector.names && !selector.names.includes(name)) {
    return `name ${name} is not in [${selector.names.join(", ")}]`;
  }
  const why = labelSelectorMismatch(
    { ...(selector.labels ? { matchLabels: selector.labels } : {}), ...(selector.matchExpressions ? { matchExpressions: selector.matchExpressions } : {}) },
    labels,
  );
  if (why) return why;
  if (selector.condition && program) {
    // A condition that cannot be evaluated for one cluster (a missing label) rejects that cluster only.
    let ok: boolean;
    try {
      ok = program.testConverted({ cluster: celClusterValue(cluster) });
    } catch (e) {
      // Out of time is not a fact about this cluster: the condition fails for the whole placement.
      if (e instanceof BudgetExceededError) throw e;
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

function isReady(cluster: Cluster): boolean | undefined {
  const ready = cluster.status?.conditions?.find((c) => c.type === "Ready");
  return ready ? ready.status === "True" : undefined;
}

export interface PlaceOptions {
  /** Reject clusters whose Ready condition is False. Default false (the CLI has no status). */
  requireReady?: boolean;
  /** Name of the deployment, for CEL error messages. */
  deployment?: string;
  /** Time budget of the call's CEL conditions, in ms. Default PLACEMENT_CEL_BUDGET_MS (250). */
  celBudgetMs?: number;
  /**
   * Clusters the deployment's namespace may not use (src/tenancy/), by name, with the reason: a
   * wave that would select one leaves it out, and the decision gives the reason. Default: none.
   */
  refused?: ReadonlyMap<string, string>;
}

/**
 * Decide placement. A cluster selected by two waves belongs to the first. Throws TemplateError
 * when a condition does not compile, and BudgetExceededError (naming the wave's condition) when
 * the conditions run past `celBudgetMs`: a runaway condition fails this deployment's placement
 * instead of stopping the controller for every deployment.
 */
export function place(strategies: PlacementStrategy[] | undefined, clusters: Cluster[], options: PlaceOptions = {}): Placement {
  const list = strategies?.length ? strategies : [{}];
  const sorted = [...clusters].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
  const waves: Wave[] = list.map((strategy, index) => ({ name: waveName(index, strategy.name), index, strategy, clusters: [] }));
  // Where the decisions are, for the message if the deadline passes: the wave whose condition runs.
  const at = { wave: 0, cluster: "" };
  if (!waves.some((w) => w.strategy.clusterSelector?.condition)) return { waves, decisions: decideAll(waves, sorted, options, at, []) };
  // Compile before the deadline starts: compiling is bounded by the parse limits, and a first
  // compile (the library warming up) is no reason to blame the expression.
  // (Without clusters nothing is compiled, as before: an empty fleet places nothing and fails on nothing.)
  const programs = (sorted.length ? waves : []).map((w) => {
    const condition = w.strategy.clusterSelector?.condition;
    return condition ? compileCel(condition, { definition: options.deployment ?? "deployment", field: conditionField(w.index) }) : undefined;
  });
  // Likewise the clusters' CEL values: converting them costs time in proportion to the fleet,
  // whatever the conditions, and a fleet that changed all at once is no fault of an expression.
  for (const cluster of sorted) celClusterValue(cluster);
  const budgetMs = options.celBudgetMs ?? PLACEMENT_CEL_BUDGET_MS;
  const conditionOf = (index: number) => waves[index]?.strategy.clusterSelector?.condition;
  const culprit = () => {
    // The deadline nearly always passes inside a condition; if it passed in a label match, the
    // first wave with a condition is the one to look at.
    const index = conditionOf(at.wave) ? at.wave : waves.findIndex((w) => w.strategy.clusterSelector?.condition);
    return {
      definition: options.deployment ?? "deployment",
      field: conditionField(index),
      expression: conditionOf(index) ?? "",
      during: `placing ${sorted.length} cluster(s), at cluster ${at.cluster}`,
    };
  };
  return { waves, decisions: runWithDeadline(budgetMs, culprit, () => decideAll(waves, sorted, options, at, programs)) };
}

function conditionField(index: number): string {
  return `spec.placementStrategies[${index}].clusterSelector.condition`;
}

/** Fills `waves[].clusters` from empty, so a deadline may run it again from the start. */
function decideAll(
  waves: Wave[],
  sorted: Cluster[],
  options: PlaceOptions,
  at: { wave: number; cluster: string },
  programs: Array<CelProgram | undefined>,
): PlacementDecision[] {
  for (const wave of waves) wave.clusters.length = 0;
  const decisions: PlacementDecision[] = [];
  for (const cluster of sorted) {
    const name = cluster.metadata.name;
    at.cluster = name;
    const misses: string[] = [];
    let decision: PlacementDecision | undefined;
    for (const wave of waves) {
      at.wave = wave.index;
      const selector = wave.strategy.clusterSelector;
      const why = selector ? mismatch(selector, cluster, programs[wave.index]) : null;
      if (why === null) {
        // A paused cluster stays selected: its deployments keep their folders in Git (leaving
        // them would prune their objects when it resumes) and wait for it, like a rollout does.
        const refused = options.refused?.get(name);
        if (refused !== undefined) {
          decision = { cluster: name, selected: false, wave: wave.name, reason: refused };
        } else if (options.requireReady && isReady(cluster) === false) {
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
  return decisions;
}
