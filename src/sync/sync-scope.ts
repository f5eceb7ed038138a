// Which deployments one run of a cluster's sync worker syncs: for a new commit those whose objects
// changed, on the resync timer those that may have drifted, a large partial sync one step at a
// time, or everything (undefined). Pure: it takes the worker's state as data and returns a scope;
// it never reads the cluster, Git or the clock.

import type { Manifest } from "../api/types.js";
import { deploymentOf } from "./health.js";

/** What the worker knows of its last syncs when it chooses a scope. */
export interface ScopeState {
  /**
   * Deployments the next sync must include even if their files did not change (they failed, or
   * were resumed); undefined when a full sync is due (the first one, after an error, on request).
   */
  mustSync: ReadonlySet<string> | undefined;
  /** Whether earlier syncs left a prune baseline: false until the first sync after a start. */
  hasBaseline: boolean;
  /** Consecutive failed syncs. */
  failures: number;
}

/**
 * The deployments a new commit must sync: those whose objects changed since the last sync (an
 * object the source did not parse again is the very same object, so objects compare by identity),
 * those that failed last time and those resumed since. Undefined means all of them: the first
 * sync, a sync after an error or a requested resync. Only the objects of these deployments are
 * read from the cluster and applied, so a commit that touches one deployment of a thousand costs
 * requests for that one.
 */
export function commitScope(state: ScopeState, objects: readonly Manifest[], previous: readonly Manifest[]): Set<string> | undefined {
  if (state.mustSync === undefined || !state.hasBaseline || state.failures > 0) return undefined;
  const scope = new Set(state.mustSync);
  const before = new Set(previous);
  const now = new Set(objects);
  for (const o of objects) if (!before.has(o)) scope.add(deploymentOf(o));
  for (const o of previous) if (!now.has(o)) scope.add(deploymentOf(o));
  return scope;
}

export interface ResyncState extends ScopeState {
  /** Whether every change watch is up (and none had to list again since its changes were judged). */
  watchComplete: boolean;
  /** The deployments the watch saw written to in a way that may be drift. */
  suspects: ReadonlySet<string>;
  /** The time now and when the last sync that compared everything started, ms. */
  now: number;
  lastFullSyncAt: number;
  /** How often everything is compared even though the watch saw every change, ms. */
  fullResyncMs: number;
}

/**
 * What a resync on the timer must compare: the deployments that failed last time and the drift
 * suspects. Undefined (everything) while a watch is down, when a full sync is due anyway, and once
 * fullResyncMs has passed since the last full compare.
 */
export function resyncScope(state: ResyncState): Set<string> | undefined {
  if (!state.watchComplete || state.mustSync === undefined || !state.hasBaseline || state.failures > 0) return undefined;
  if (state.now - state.lastFullSyncAt >= state.fullResyncMs) return undefined;
  return new Set([...state.mustSync, ...state.suspects]);
}

export interface StepOptions {
  /** Only the partial sync of a new commit goes in steps; a resync never does. */
  isNewCommit: boolean;
  /** Deployments that failed in an earlier step of this commit: later steps leave them out. */
  failedInSteps: ReadonlySet<string>;
  /** Deployments per step (at least 1). */
  perStep: number;
}

/**
 * The deployments of this run when it is a step of a large partial sync (a ramp: hundreds of
 * deployments committed while the last sync ran), so the first ones are reported synced after
 * their objects rather than after the last object of the commit: the first perStep by name of
 * those not failed in an earlier step. Undefined when the run is not a step: a full sync, a
 * resync, or what is left fits in one run (the last run, which takes the failed ones again).
 */
export function stepOf(scope: ReadonlySet<string> | undefined, o: StepOptions): Set<string> | undefined {
  if (!o.isNewCommit || scope === undefined) return undefined;
  const perStep = Math.max(1, o.perStep);
  const untried = [...scope].filter((d) => !o.failedInSteps.has(d)).sort();
  return untried.length > perStep ? new Set(untried.slice(0, perStep)) : undefined;
}
