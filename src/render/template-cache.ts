// Rendered components cached by a hash of everything that shapes them (definition hashes,
// component spec, override, revision, replicas, cluster, wave), so re-rendering an unchanged
// deployment evaluates no JSONata at all. Bounded: the least recently used entry goes first.

import { createHash } from "node:crypto";
import { copyJson } from "../api/json.js";
import type { CompiledTemplate } from "../definitions/jsonata.js";

const MAX_ENTRIES = 20_000;
const cache = new Map<string, unknown>();
let evaluations = 0;

/** How many JSONata evaluations ran since start (for benchmarks and tests). */
export function templateEvaluations(): number {
  return evaluations;
}

export function clearTemplateCache(): void {
  cache.clear();
}

/** Evaluate a template, counting evaluations. */
export async function evaluateTemplate(template: CompiledTemplate, input: unknown, path: string): Promise<unknown> {
  evaluations++;
  return template.evaluate(input, { path });
}

export function cacheKey(parts: unknown): string {
  return createHash("sha1").update(JSON.stringify(parts)).digest("base64");
}

/** Return the cached value for `key` (a private copy), or compute, store and return it. */
export async function cached<T>(key: string, compute: () => Promise<T>): Promise<T> {
  if (cache.has(key)) {
    const hit = cache.get(key) as T;
    cache.delete(key);
    cache.set(key, hit);
    return copyJson(hit);
  }
  const value = await compute();
  cache.set(key, copyJson(value));
  if (cache.size > MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return value;
}
