// The escape hatches' raw patches of a workload: RFC 6902 JSON Patch (fast-json-patch) and RFC 7386
// merge patch (json-merge-patch). A patch is applied to a copy, all or nothing, and a failure says
// which operation, at which path and why. It never resolves a path through the prototype chain and
// never writes through `__proto__`, `constructor` or `prototype`, even for input that skipped validation.

import jsonPatch, { type Operation } from "fast-json-patch";
import jsonMergePatch from "json-merge-patch";
import { copyJson } from "../api/json.js";
import { forbiddenKeyProblems, isForbiddenKey } from "../api/keys.js";
import type { JsonObject, WorkloadPatchFormat } from "../api/types.js";

/** Why a patch could not be applied; `field` is relative to the trait's properties. */
export interface PatchFailure {
  /** e.g. `operations[2]` or `spec.template.__proto__`; empty for the properties as a whole. */
  field: string;
  message: string;
  fix: string;
}

export type PatchResult = { document: JsonObject } | { failure: PatchFailure };

const OPS = new Set(["add", "remove", "replace", "move", "copy", "test"]);
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;
const FORBIDDEN_FIX = "Patch data fields only: the keys __proto__, constructor and prototype are refused.";
const PATH_FIX =
  "Check the path against the workload as the other traits leave it (`flotilla render` without this trait shows it); a JSON Pointer escapes / as ~1 and ~ as ~0.";

type Json = unknown;

function isPlainObject(v: Json): v is Record<string, Json> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function show(value: Json): string {
  const text = JSON.stringify(value) ?? "nothing";
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The unescaped segments of a JSON Pointer, or why it is not one the hatch accepts (`label`: path or from). */
function parsePointer(pointer: unknown, label: string): { segments: string[] } | { error: string; forbidden?: true } {
  if (typeof pointer !== "string") return { error: `${label} must be a JSON Pointer string (got ${show(pointer)})` };
  if (pointer === "") return { error: `${label} "" is the whole workload, which a patch may not replace; start it with "/"` };
  if (!pointer.startsWith("/")) return { error: `${label} "${pointer}" does not start with "/"` };
  const raw = pointer.slice(1).split("/");
  if (raw.some((s) => /~[^01]|~$/.test(s))) return { error: `${label} "${pointer}" has a ~ that is not ~0 or ~1` };
  const segments = raw.map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const bad = segments.find(isForbiddenKey);
  if (bad !== undefined) return { error: `${label} "${pointer}" has the segment "${bad}", which is not allowed`, forbidden: true };
  return { segments };
}

function pointerOf(segments: readonly string[]): string {
  return segments.length ? `/${segments.map((s) => s.replace(/~/g, "~0").replace(/\//g, "~1")).join("/")}` : "the workload";
}

/** The child of a map or list by own key or list index; undefined when absent. */
function childOf(node: Json, segment: string): { value: Json } | undefined {
  if (Array.isArray(node)) {
    if (!ARRAY_INDEX.test(segment)) return undefined;
    const i = Number(segment);
    return i < node.length ? { value: node[i] } : undefined;
  }
  if (isPlainObject(node) && Object.hasOwn(node, segment)) return { value: node[segment] };
  return undefined;
}

function items(list: readonly unknown[]): string {
  return `${list.length} item${list.length === 1 ? "" : "s"}`;
}

function kindOf(value: Json): string {
  if (Array.isArray(value)) return `a list of ${items(value)}`;
  if (value === null) return "null";
  return typeof value === "object" ? "a map" : `a ${typeof value}`;
}

/**
 * Where a pointer lands, by own properties only (an inherited `toString` is not a field).
 * `mustExist`: the location itself must hold a value (remove, replace, test, and a move or copy's from).
 */
function resolve(document: Json, segments: readonly string[], mustExist: boolean): { value: Json } | { error: string } {
  let node = document;
  for (const [i, segment] of segments.slice(0, -1).entries()) {
    const child = childOf(node, segment);
    const here = pointerOf(segments.slice(0, i + 1));
    if (!child)
      return { error: `path not found: ${here} does not exist${Array.isArray(node) ? ` (${pointerOf(segments.slice(0, i))} has ${items(node)})` : ""}` };
    if (child.value === null || typeof child.value !== "object") return { error: `path not found: ${here} is ${kindOf(child.value)}, not a map or a list` };
    node = child.value;
  }
  const last = segments[segments.length - 1] as string;
  const parent = pointerOf(segments.slice(0, -1));
  if (Array.isArray(node)) {
    if (!mustExist && last === "-") return { value: undefined };
    if (!ARRAY_INDEX.test(last)) return { error: `${parent} is a list: "${last}" is not an index${mustExist ? "" : ' (use "-" to append)'}` };
    const limit = mustExist ? node.length - 1 : node.length;
    if (Number(last) > limit) return { error: `path not found: ${parent} has ${items(node)}, so index ${last} is out of range` };
    return { value: node[Number(last)] };
  }
  const child = childOf(node, last);
  if (mustExist && !child) return { error: `path not found: ${pointerOf(segments)} does not exist` };
  return { value: child?.value };
}

function isPrefix(prefix: readonly string[], of: readonly string[]): boolean {
  return prefix.length < of.length && prefix.every((s, i) => s === of[i]);
}

function failure(index: number, op: string, path: unknown, reason: string, fix: string): { failure: PatchFailure } {
  const where = typeof path === "string" ? `${op} ${path || '""'}` : op;
  return { failure: { field: `operations[${index}]`, message: `operation ${index} (${where}) failed: ${reason}`, fix } };
}

/** Everything that would stop one operation, checked on the document as the earlier operations left it. */
function checkOperation(document: Json, operation: Record<string, Json>): { reason: string; fix: string } | undefined {
  const { op } = operation;
  const path = parsePointer(operation.path, "path");
  if ("error" in path) return { reason: path.error, fix: path.forbidden ? FORBIDDEN_FIX : PATH_FIX };
  if ((op === "add" || op === "replace" || op === "test") && !Object.hasOwn(operation, "value")) {
    return { reason: "it has no value", fix: `Give the ${op} operation a value.` };
  }
  const valueKey = forbiddenKeyProblems(operation.value, "value", 1)[0];
  if (valueKey) return { reason: `${valueKey.path}: ${valueKey.message}`, fix: FORBIDDEN_FIX };
  let from: string[] | undefined;
  if (op === "move" || op === "copy") {
    if (!Object.hasOwn(operation, "from")) return { reason: "it has no from", fix: `Give the ${op} operation the pointer to take the value from.` };
    const parsed = parsePointer(operation.from, "from");
    if ("error" in parsed) return { reason: parsed.error, fix: parsed.forbidden ? FORBIDDEN_FIX : PATH_FIX };
    const source = resolve(document, parsed.segments, true);
    if ("error" in source) return { reason: `from ${source.error}`, fix: PATH_FIX };
    from = parsed.segments;
  }
  if (op === "move" && from && isPrefix(from, path.segments)) {
    return { reason: "a value cannot move into itself (from is a prefix of path)", fix: "Copy the value instead, or move it elsewhere." };
  }
  const target = resolve(document, path.segments, op === "remove" || op === "replace" || op === "test");
  if ("error" in target) return { reason: target.error, fix: PATH_FIX };
  if (op === "test" && !jsonEqual(target.value, operation.value)) {
    return {
      reason: `test failed: the value is ${show(target.value)}, not ${show(operation.value)}`,
      fix: "The workload is not what the patch expects: check the test's value, or drop the test.",
    };
  }
  return undefined;
}

function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (!isPlainObject(a) || !isPlainObject(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
}

/**
 * Apply an RFC 6902 patch to a copy of `document`. Operations run in order, each on the result of
 * the previous one; the first that fails stops the patch and nothing of it is returned.
 */
export function applyJsonPatch(document: JsonObject, operations: unknown): PatchResult {
  if (!Array.isArray(operations)) {
    return {
      failure: { field: "operations", message: `must be a list of operations (got ${show(operations)})`, fix: "Write operations: [{op, path, value}]." },
    };
  }
  let doc: Json = copyJson(document);
  for (const [index, raw] of operations.entries()) {
    if (!isPlainObject(raw) || typeof raw.op !== "string" || !OPS.has(raw.op)) {
      const op = isPlainObject(raw) ? show(raw.op) : show(raw);
      return failure(index, "?", undefined, `${op} is not an operation`, `Use op: ${[...OPS].join(", ")} (RFC 6902).`);
    }
    const operation = copyJson(raw);
    const problem = checkOperation(doc, operation);
    if (problem) return failure(index, raw.op, raw.path, problem.reason, problem.fix);
    try {
      // Checked above; the library's own validation stays on as a second line, and so does its ban on __proto__.
      doc = jsonPatch.applyOperation(doc, operation as unknown as Operation, true, true, true, index).newDocument;
    } catch (e) {
      const reason = e instanceof jsonPatch.JsonPatchError ? e.message.split("\n")[0] : e instanceof Error ? e.message : String(e);
      return failure(index, raw.op, raw.path, reason ?? "refused", PATH_FIX);
    }
  }
  if (!isPlainObject(doc)) return { failure: { field: "operations", message: "the patch left no workload object", fix: PATH_FIX } };
  return { document: doc as JsonObject };
}

/** Apply an RFC 7386 merge patch to a copy of `document`: maps merge, everything else replaces, null deletes. */
export function applyMergePatch(document: JsonObject, patch: unknown): PatchResult {
  if (!isPlainObject(patch)) {
    return {
      failure: {
        field: "",
        message: `must be a map merged into the workload (got ${show(patch)})`,
        fix: "Write the fields to change, e.g. {spec: {minReadySeconds: 10}}.",
      },
    };
  }
  // json-merge-patch skips the rest of a map silently at such a key; refuse the whole patch instead.
  const forbidden = forbiddenKeyProblems(patch, "", 1)[0];
  if (forbidden) return { failure: { field: forbidden.path, message: forbidden.message, fix: FORBIDDEN_FIX } };
  const result: Json = jsonMergePatch.apply(copyJson(document), copyJson(patch));
  if (!isPlainObject(result))
    return { failure: { field: "", message: "the patch left no workload object", fix: "Patch fields of the workload, not the workload itself." } };
  return { document: result as JsonObject };
}

/** The patch a workloadPatch trait's properties describe, applied to a copy of the workload. */
export function applyWorkloadPatch(format: WorkloadPatchFormat, document: JsonObject, properties: JsonObject): PatchResult {
  return format === "json-patch" ? applyJsonPatch(document, properties.operations) : applyMergePatch(document, properties);
}
