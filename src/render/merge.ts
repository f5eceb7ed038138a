// The two merge rules of rendering. Trait patches merge the way Kubernetes users expect from
// strategic merge: maps deep-merge and lists of named objects (containers, env, volumes, ports)
// merge by `name`. Overrides merge settings the simple way: maps deep-merge, lists replace.

import { FlotillaError } from "../api/errors.js";
import { copyJson } from "../api/json.js";
import { getOwn, isForbiddenKey, setOwn } from "../api/keys.js";

type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function isNamedList(list: Json[]): boolean {
  return list.length > 0 && list.every((item) => isPlainObject(item) && typeof item.name === "string");
}

/** Merge a trait patch into a workload; returns a new value, inputs untouched. */
export function mergePatch(base: Json, patch: Json): Json {
  return mergePatchInPlace(copyJson(base), patch);
}

/** The patch is only read; `target` (a private copy) is changed and returned. */
function mergePatchInPlace(target: Json, patch: Json): Json {
  if (patch === undefined) return target;
  if (isPlainObject(target) && isPlainObject(patch)) {
    for (const [k, v] of Object.entries(patch)) {
      // Own keys only, set as own properties: `__proto__` in a patch is data, never the prototype.
      if (v === null) delete target[k];
      else setOwn(target, k, Object.hasOwn(target, k) ? mergePatchInPlace(target[k], v) : copyJson(v));
    }
    return target;
  }
  if (Array.isArray(target) && Array.isArray(patch) && isNamedList(target) && isNamedList(patch)) {
    const list = target as Record<string, Json>[];
    for (const item of patch as Record<string, Json>[]) {
      const i = list.findIndex((o) => o.name === item.name);
      if (i === -1) list.push(copyJson(item));
      else list[i] = mergePatchInPlace(list[i], item) as Record<string, Json>;
    }
    return list;
  }
  return copyJson(patch);
}

/** Deep-merge maps, replace everything else (lists included). Used for overrides. */
export function mergeSettings(base: Json, override: Json): Json {
  return mergeSettingsInPlace(copyJson(base), override);
}

function mergeSettingsInPlace(target: Json, override: Json): Json {
  if (override === undefined) return target;
  if (isPlainObject(target) && isPlainObject(override)) {
    for (const [k, v] of Object.entries(override)) {
      setOwn(target, k, Object.hasOwn(target, k) ? mergeSettingsInPlace(target[k], v) : copyJson(v));
    }
    return target;
  }
  return copyJson(override);
}

/** The segments of a dotted path; a segment that would reach the prototype chain is refused. */
function segments(path: string): string[] {
  const parts = path.split(".");
  const bad = parts.find(isForbiddenKey);
  if (bad !== undefined) throw new FlotillaError(`path "${path}" has the segment "${bad}", which is not allowed`);
  return parts;
}

/** Set a value at a dotted path (`spec.replicas`), creating maps on the way. */
export function setPath(target: Record<string, Json>, path: string, value: Json): void {
  const parts = segments(path);
  let node: Record<string, Json> = target;
  for (const part of parts.slice(0, -1)) {
    const next = getOwn(node, part);
    if (!isPlainObject(next)) setOwn(node, part, {});
    node = node[part] as Record<string, Json>;
  }
  setOwn(node, parts[parts.length - 1] as string, value);
}

/** Read a value at a dotted path (own properties only). */
export function getPath(target: Json, path: string): Json {
  let node: Json = target;
  for (const part of segments(path)) {
    if (!isPlainObject(node)) return undefined;
    node = getOwn(node, part);
  }
  return node;
}
