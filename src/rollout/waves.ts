// Wave gating: which clusters that have not started may start now. A wave opens when every
// cluster of the waves before it has completed; within a wave at most `maxConcurrency`
// clusters are in flight. Pure: reads cluster phases, never changes them.

import type { Wave } from "../placement/select.js";
import type { ClusterRolloutPhase } from "./state.js";

export interface StartableOptions {
  /** Placement waves in `placementStrategies` order; clusters sorted by name. */
  waves: Wave[];
  /** Phase of every selected cluster. */
  phases: Map<string, ClusterRolloutPhase>;
}

/**
 * Pending clusters allowed to start, in wave order then name order.
 *
 * A wave is open when all clusters of every earlier wave are Completed, or when one of its own
 * clusters has already started: a cluster that joins an earlier, already completed wave later
 * (it is then Pending) does its own batches without pulling back a wave that is under way.
 */
export function startableClusters(options: StartableOptions): string[] {
  const start: string[] = [];
  let earlierComplete = true;
  for (const wave of options.waves) {
    const phase = (c: string) => options.phases.get(c) ?? "Pending";
    const started = wave.clusters.filter((c) => phase(c) !== "Pending");
    if (earlierComplete || started.length > 0) {
      const inFlight = started.filter((c) => phase(c) !== "Completed").length;
      const limit = wave.strategy.maxConcurrency ?? Number.POSITIVE_INFINITY;
      const free = Math.max(0, limit - inFlight);
      start.push(...wave.clusters.filter((c) => phase(c) === "Pending").slice(0, free));
    }
    earlierComplete = earlierComplete && wave.clusters.every((c) => phase(c) === "Completed");
  }
  return start;
}
