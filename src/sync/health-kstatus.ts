// Health of any kind without a built-in rule (custom resources above all), by the kstatus
// conventions: a status older than the spec, then the Stalled, Reconciling and Ready conditions.
// An object that writes no status, or no condition kstatus knows, is Healthy once it exists.

import type { Manifest } from "../api/types.js";
import { condition, degraded, explain, type Health, healthy, joined, obj, progressing, staleGeneration } from "./health-common.js";

export function kstatusHealth(live: Manifest): Health {
  const status = obj(live.status);
  // Only a status that says it is older than the spec counts: many kinds never write one.
  const stale = staleGeneration(live, status, false);
  if (stale) return stale;
  const stalled = condition(status, "Stalled");
  if (stalled?.status === "True") return degraded(joined("stalled", explain(stalled)));
  const reconciling = condition(status, "Reconciling");
  if (reconciling?.status === "True") return progressing(joined("reconciling", explain(reconciling)));
  const ready = condition(status, "Ready");
  // Ready=False alone is a controller still at work; it says Stalled when it has given up.
  if (ready?.status === "False") return progressing(joined("not ready", explain(ready)));
  if (ready?.status === "True") return healthy(joined("ready", ready.message));
  return healthy("exists");
}
