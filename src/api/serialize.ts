// Deterministic serialization of manifests: sorted keys with apiVersion, kind and metadata first,
// no anchors, no line folding. The same object always gives byte-identical YAML, so an unchanged
// deployment never produces a Git commit. Also the one safe parse of user YAML: bounded in size,
// nesting and alias expansion, so no input can blow up later as a raw RangeError or out of memory.

import yaml from "js-yaml";
import { setOwn } from "./keys.js";

const FIRST = ["apiVersion", "kind", "metadata"];

function compareKeys(a: string, b: string): number {
  const ia = FIRST.indexOf(a);
  const ib = FIRST.indexOf(b);
  if (ia !== -1 || ib !== -1) return (ia === -1 ? FIRST.length : ia) - (ib === -1 ? FIRST.length : ib);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One object as a YAML document (no `---`), ending with a newline. */
export function toYaml(value: unknown): string {
  return yaml.dump(value, { sortKeys: compareKeys, noRefs: true, lineWidth: -1, quotingType: '"' });
}

/** Objects with keys in canonical order, for JSON output. */
export function canonicalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonicalize);
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort(compareKeys)) setOwn(out, k, canonicalize((value as Record<string, unknown>)[k]));
    return out;
  }
  return value;
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(canonicalize(value), null, 2)}\n`;
}

/**
 * The largest YAML/JSON input accepted, in bytes: the text as written, and also the document with
 * every alias expanded. Aliases save typing; they do not raise the limit. A document without
 * aliases measures at most about its own text (see Expansion), so only aliases reach that budget.
 * 16 MiB is already ten times what the API server stores in one object (about 1.5 MiB), and keeps
 * the JSON form of a document (at most 6 characters per byte, when every character needs a `\u`
 * escape) near 100 M characters, far below V8's string limit of 2^29 - 24 characters, where
 * hashing or printing a larger one dies with "RangeError: Invalid string length".
 */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** Alias expansion is walked to at most this depth (js-yaml already refuses 100 levels of plain nesting). */
const MAX_EXPANDED_DEPTH = 200;

/** A YAML input over one of the load limits (size, expansion, depth); `fix` says what to change. */
export class YamlLimitError extends yaml.YAMLException {
  readonly fix: string;
  constructor(message: string, fix: string) {
    super(message);
    this.fix = fix;
  }
}

/** Refuses an input of more than `maxBytes` bytes (same message whether counted from text or from a file's size). */
export function checkDocumentSize(bytes: number, maxBytes = MAX_DOCUMENT_BYTES): void {
  if (bytes > maxBytes) {
    throw new YamlLimitError(
      `document is ${bytes} bytes, more than the limit of ${maxBytes}`,
      "Split it into several files, or move large data out of the deployment (a ConfigMap of its own, an image).",
    );
  }
}

/**
 * Parse a YAML stream safely: the core schema only (no custom tags) and bounds on size, nesting
 * and alias expansion, so a "billion laughs" document or a large string aliased many times is
 * refused here instead of exhausting memory or a string limit later.
 */
export function parseYamlStream(
  text: string,
  options: {
    filename?: string;
    maxBytes?: number;
    /**
     * A key written twice in one mapping: refused (default), or the last one wins, as Go's YAML
     * and so other tools' dumps of live objects have it (`flotilla health` reads those).
     */
    duplicateKeys?: "refuse" | "last-wins";
  } = {},
): unknown[] {
  const maxBytes = options.maxBytes ?? MAX_DOCUMENT_BYTES;
  // Characters are at most 4 bytes: only count bytes when the text could be over the limit.
  checkDocumentSize(text.length * 4 > maxBytes ? Buffer.byteLength(text, "utf8") : text.length, maxBytes);
  const docs: unknown[] = [];
  yaml.loadAll(
    text,
    (d) => {
      if (d !== null && d !== undefined) docs.push(d);
    },
    { ...(options.filename ? { filename: options.filename } : {}), schema: yaml.CORE_SCHEMA, ...(options.duplicateKeys === "last-wins" ? { json: true } : {}) },
  );
  guardAliasExpansion(docs, { nodes: Math.max(100_000, maxBytes / 8), bytes: maxBytes });
  return docs;
}

/** The size of a value as if every alias were written out in full. */
interface Expansion {
  nodes: number;
  /** Levels of nesting below it (0 for a scalar): an alias adds them wherever it is used. */
  height: number;
  /**
   * UTF-8 bytes of its strings and mapping keys, and 1 for any other scalar: no more than the YAML
   * text of the value written out (escapes only shrink; `~` or nothing at all is a null), numeric
   * keys such as `1e20:` aside.
   */
  bytes: number;
}

const ALIAS_FIX = "Fix the YAML: use fewer aliases (*name) or smaller anchored values, or write the values out.";

/**
 * js-yaml shares aliased nodes by reference (and an aliased string is one string value), so a
 * bomb is cheap to parse but explodes when walked, hashed or serialized. Measure every document
 * as if expanded, counting nodes, bytes and depth, and refuse past any budget. Shared objects
 * are measured once; the walk stops as soon as a budget is exceeded, so it is cheap either way.
 */
function guardAliasExpansion(docs: unknown[], budget: Omit<Expansion, "height">): void {
  const measured = new Map<object, Expansion>();
  const over = (e: Expansion) => e.nodes > budget.nodes || e.bytes > budget.bytes;
  const tooDeep = (): never => {
    throw new YamlLimitError(
      `document nests deeper than ${MAX_EXPANDED_DEPTH} levels`,
      "Fix the YAML: flatten the structure (an alias nests its anchor's levels wherever it is used).",
    );
  };
  const measure = (v: unknown, depth: number): Expansion => {
    if (depth > MAX_EXPANDED_DEPTH) tooDeep();
    if (typeof v === "string") return { nodes: 1, height: 0, bytes: Buffer.byteLength(v, "utf8") };
    if (v === null || typeof v !== "object") return { nodes: 1, height: 0, bytes: 1 };
    const cached = measured.get(v);
    if (cached !== undefined) {
      // Measured once where it first appeared; here it may sit deeper.
      if (depth + cached.height > MAX_EXPANDED_DEPTH) tooDeep();
      return cached;
    }
    const e: Expansion = { nodes: 1, height: 0, bytes: 0 };
    const isList = Array.isArray(v);
    for (const [key, child] of Object.entries(v)) {
      const c = measure(child, depth + 1);
      e.nodes += c.nodes;
      e.height = Math.max(e.height, c.height + 1);
      e.bytes += c.bytes + (isList ? 0 : Buffer.byteLength(key, "utf8"));
      if (over(e)) break;
    }
    measured.set(v, e);
    return e;
  };
  const total = { nodes: 0, bytes: 0 };
  for (const d of docs) {
    const e = measure(d, 0);
    total.nodes += e.nodes;
    total.bytes += e.bytes;
    if (total.nodes > budget.nodes) {
      throw new YamlLimitError(`document expands to more than ${budget.nodes} nodes (YAML aliases?); refusing to load it`, ALIAS_FIX);
    }
    if (total.bytes > budget.bytes) {
      throw new YamlLimitError(`document expands to more than ${budget.bytes} bytes (YAML aliases?); refusing to load it`, ALIAS_FIX);
    }
  }
}
