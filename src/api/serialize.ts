// Deterministic serialization of manifests: sorted keys with apiVersion, kind and metadata first,
// no anchors, no line folding. The same object always gives byte-identical YAML, so an unchanged
// deployment never produces a Git commit.

import yaml from "js-yaml";

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
    for (const k of Object.keys(value).sort(compareKeys)) out[k] = canonicalize((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

export function toJson(value: unknown): string {
  return `${JSON.stringify(canonicalize(value), null, 2)}\n`;
}

/**
 * Parse a YAML stream safely: the core schema only (no custom tags) and a bound on alias
 * expansion, so a "billion laughs" document is refused instead of exhausting memory.
 */
export function parseYamlStream(text: string, options: { filename?: string; maxBytes?: number } = {}): unknown[] {
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  // Characters are at most 4 bytes: only count bytes when the text could be over the limit.
  const bytes = text.length * 4 > maxBytes ? Buffer.byteLength(text, "utf8") : text.length;
  if (bytes > maxBytes) {
    throw new yaml.YAMLException(`document is ${bytes} bytes, more than the limit of ${maxBytes}`);
  }
  const docs: unknown[] = [];
  yaml.loadAll(text, (d) => {
    if (d !== null && d !== undefined) docs.push(d);
  }, { ...(options.filename ? { filename: options.filename } : {}), schema: yaml.CORE_SCHEMA });
  guardAliasExpansion(docs, maxBytes);
  return docs;
}

/**
 * js-yaml shares aliased nodes by reference, so a bomb is cheap to parse but explodes when
 * walked or serialized. Count nodes as if expanded and refuse past the budget.
 */
function guardAliasExpansion(docs: unknown[], maxBytes: number): void {
  const budget = Math.max(100_000, maxBytes / 8);
  let count = 0;
  const sizes = new Map<object, number>();
  const size = (v: unknown, depth: number): number => {
    if (depth > 200) throw new yaml.YAMLException("document nests deeper than 200 levels");
    if (v === null || typeof v !== "object") return 1;
    const cached = sizes.get(v);
    if (cached !== undefined) return cached;
    let n = 1;
    for (const child of Object.values(v)) {
      n += size(child, depth + 1);
      if (n > budget) break;
    }
    sizes.set(v, n);
    return n;
  };
  for (const d of docs) {
    count += size(d, 0);
    if (count > budget) {
      throw new yaml.YAMLException(`document expands to more than ${budget} nodes (YAML aliases?); refusing to load it`);
    }
  }
}
