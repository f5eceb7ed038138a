// What every health rule shares: the verdict type and small readers of a live object's status.
// Pure helpers only; a rule for a kind lives in the module of its family (health-pod.ts, ...).

import type { HealthState, JsonObject, Manifest } from "../api/types.js";

export interface Health {
  status: HealthState;
  message: string;
}

export interface Cond {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** A built-in rule: judges one live object of the kind it is registered for. */
export type HealthRule = (live: Manifest) => Health;

export const healthy = (message = ""): Health => ({ status: "Healthy", message });
export const progressing = (message: string): Health => ({ status: "Progressing", message });
export const degraded = (message: string): Health => ({ status: "Degraded", message });
export const suspended = (message: string): Health => ({ status: "Suspended", message });

export function obj(v: unknown): JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as JsonObject) : {};
}
export function num(v: unknown, fallback = 0): number {
  return typeof v === "number" ? v : fallback;
}
export function conditionsOf(status: JsonObject): Cond[] {
  return Array.isArray(status.conditions) ? (status.conditions as Cond[]) : [];
}
export function condition(status: JsonObject, type: string): Cond | undefined {
  return conditionsOf(status).find((c) => c.type === type);
}
/** `reason: message` of a condition, or what there is of it. */
export function explain(c: Cond | undefined): string {
  return [c?.reason, c?.message].filter((s) => typeof s === "string" && s !== "").join(": ");
}
/** `<why>: <detail>` or `<why>` alone when there is no detail. */
export function joined(why: string, detail: string | undefined): string {
  return detail ? `${why}: ${detail}` : why;
}

/**
 * Status not yet caught up with the latest spec: the controller has not looked at it. With
 * `requireStatus`, an object that has a generation but no status at all is waiting for its
 * controller too.
 */
export function staleGeneration(live: Manifest, status: JsonObject, requireStatus = true): Health | undefined {
  const generation = live.metadata.generation;
  const observed = status.observedGeneration;
  if (typeof generation === "number" && typeof observed === "number" && observed < generation) {
    return progressing(`waiting for the controller to observe generation ${generation} (observed ${observed})`);
  }
  if (requireStatus && Object.keys(status).length === 0) return progressing("waiting for the controller to report status");
  return undefined;
}
