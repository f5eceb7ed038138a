// Drift detection, first pass (pure): does a live object still hold every field Flotilla applied?
// Only fields present in the desired object count, so server defaults and status are never fought,
// nor the paths the caller names as owned elsewhere (a workload's spec.replicas once its
// autoscaler owns it, see ANNOTATION_AUTOSCALED_PATH). This pass is cheap and errs towards
// suspicion: what it finds is confirmed by the API server's own merge (a dry-run apply, see
// apply.ts), which alone knows list merge keys, defaults and canonical forms. So a webhook's
// sidecar or init container costs a dry run, never a false drift, and a string such as "1.0"
// edited to "1" is a difference (only resource quantities compare by value here).

import type { Manifest } from "../api/types.js";

export interface DriftOptions {
  /** Stop after this many differences. Default 5. */
  maxDifferences?: number;
  /** Dotted paths that something else owns on the cluster (an autoscaler's replica count): never drift. */
  ignorePaths?: readonly string[];
}

// Kubernetes quantities: "500m", "1Gi", "0.5", 2. The server canonicalises them ("0.5" → "500m"),
// so they are compared by value, not by spelling.
const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/;
const SUFFIX: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The numeric value of a quantity (a number or a quantity string), or undefined. */
export function quantityValue(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v !== "string") return undefined;
  const m = QUANTITY.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * (SUFFIX[m[2] ?? ""] ?? 1);
}

/**
 * Paths whose values are resource quantities, which the server canonicalises ("0.5" → "500m"):
 * container requests and limits, quota and PVC sizes, emptyDir size limits. Anywhere else a
 * number-like string is just a string.
 */
const QUANTITY_PATH = /\.(requests|limits|hard|capacity|overhead)\.[^.[\]]+$|\.sizeLimit$/;

function scalarEqual(desired: unknown, live: unknown, path: string): boolean {
  if (desired === live) return true;
  if (!QUANTITY_PATH.test(path)) return false;
  const a = quantityValue(desired);
  const b = quantityValue(live);
  return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(a) * 1e-12;
}

/** Values the API server drops when empty: absent on the live side is not drift for them. */
function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v).length === 0;
  return false;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function show(v: unknown): string {
  const s = JSON.stringify(v);
  return s === undefined ? "<absent>" : s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

function walk(desired: unknown, live: unknown, path: string, out: string[], max: number): void {
  if (out.length >= max) return;
  if (isObject(desired)) {
    if (!isObject(live)) {
      if (live === undefined && isEmpty(desired)) return;
      out.push(`${path}: want an object, found ${show(live)}`);
      return;
    }
    for (const [key, value] of Object.entries(desired)) {
      const child = path ? `${path}.${key}` : key;
      if (!(key in live) || live[key] === undefined) {
        if (!isEmpty(value)) out.push(`${child}: want ${show(value)}, found <absent>`);
        continue;
      }
      walk(value, live[key], child, out, max);
      if (out.length >= max) return;
    }
    return;
  }
  if (Array.isArray(desired)) {
    if (!Array.isArray(live)) {
      if (live === undefined && desired.length === 0) return;
      out.push(`${path}: want a list, found ${show(live)}`);
      return;
    }
    // Element-wise: the i-th desired element must be a subset of the i-th live one, and the
    // lengths must match. Whether an extra live element (a webhook's sidecar, an init container
    // prepended) is drift depends on the list's merge strategy, which only the server knows: a
    // difference here is a suspect for the dry run to confirm.
    if (live.length !== desired.length) {
      out.push(`${path}: want ${desired.length} elements, found ${live.length}`);
      return;
    }
    for (const [i, d] of desired.entries()) walk(d, live[i], `${path}[${i}]`, out, max);
    return;
  }
  if (desired === null) return; // null in an apply means "unset": nothing to hold
  if (!scalarEqual(desired, live, path)) out.push(`${path}: want ${show(desired)}, found ${show(live)}`);
}

/**
 * Fields of `desired` that the live object does not hold, as `path: want X, found Y` lines (empty
 * when in sync). Ignored: `status`; `metadata` except labels and annotations (name, namespace,
 * uid and friends are the server's); Secret `stringData` (the server folds it into `data`).
 */
function dropPath(target: Record<string, unknown>, path: string): void {
  const parts = path.split(".");
  let node: unknown = target;
  for (const part of parts.slice(0, -1)) {
    if (node === null || typeof node !== "object") return;
    const next = (node as Record<string, unknown>)[part];
    if (next === null || typeof next !== "object") return;
    // Copy on the way down: the desired object is shared and must not change.
    (node as Record<string, unknown>)[part] = { ...(next as Record<string, unknown>) };
    node = (node as Record<string, unknown>)[part];
  }
  delete (node as Record<string, unknown>)[parts[parts.length - 1] as string];
}

export function findDrift(desired: Manifest, live: Manifest, options: DriftOptions = {}): string[] {
  const max = options.maxDifferences ?? 5;
  const out: string[] = [];
  const { metadata, status: _status, ...rest } = desired;
  if (desired.kind === "Secret") delete rest.stringData;
  for (const path of options.ignorePaths ?? []) dropPath(rest, path);
  walk({ labels: metadata.labels ?? {}, annotations: metadata.annotations ?? {} }, live.metadata, "metadata", out, max);
  walk(rest, live, "", out, max);
  return out;
}
