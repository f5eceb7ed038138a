// Copies of JSON values (parsed YAML, API objects, template output). structuredClone handles any
// value through V8's serializer and costs ~15 µs for a Deployment; rendering copies manifests
// several times per component, and a walk over plain objects and arrays is ~8× cheaper.

import { setOwn } from "./keys.js";

/** A deep copy of a JSON value: plain objects and arrays are copied, everything else is shared. */
export function copyJson<T>(value: T): T {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map(copyJson) as T;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    // JSON.parse makes "__proto__" an own key; assigning it would set the copy's prototype instead.
    setOwn(out, key, copyJson((value as Record<string, unknown>)[key]));
  }
  return out as T;
}
