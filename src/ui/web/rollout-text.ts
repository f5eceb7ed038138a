// What a rollout waits for, in the words of the deployment view's banner. Pure, so the unit
// suite checks every case without a browser.

import type { RolloutView } from "../contract.js";

export type Tone = "wait" | "ok" | "bad" | "idle";

/**
 * The banner's headline from `rollout.waitingFor` (`promote`, `soak 20s`, `analysis`, `healthy
 * replicas`, `resume`, …) or, when nothing is awaited, from the rollout's state.
 */
export function waitingHeadline(r: Pick<RolloutView, "waitingFor" | "state">): { headline: string; tone: Tone } {
  const w = r.waitingFor?.trim() ?? "";
  if (w === "promote") return { headline: "Waiting for promote", tone: "wait" };
  if (/^soak\b/.test(w)) return { headline: `Soaking: ${w.slice(4).trim() || "a while"} left`, tone: "wait" };
  if (w !== "") return { headline: `Waiting for ${w}`, tone: "wait" };
  const state = r.state ?? "";
  if (/fail|rolledback|aborted/i.test(state)) return { headline: `Rollout ${state}`, tone: "bad" };
  if (/complete|healthy/i.test(state)) return { headline: "Rollout complete", tone: "ok" };
  return { headline: state ? `Rollout ${state}` : "No rollout in progress", tone: "idle" };
}
