// Rendered components cached by a hash of everything that shapes them (definition hashes,
// component spec, override, revision, replicas, cluster, wave), so re-rendering an unchanged
// deployment evaluates no JSONata at all. Bounded: the least recently used entry goes first.
// A cache is an object its owner passes to the renderer (the controller keeps one for its life);
// a render without one caches nothing across calls.

import { createHash } from "node:crypto";
import { copyJson } from "../api/json.js";
import type { CompiledTemplate } from "../definitions/jsonata.js";

const MAX_ENTRIES = 20_000;

export function cacheKey(parts: unknown): string {
  return createHash("sha1").update(JSON.stringify(parts)).digest("base64");
}

export class TemplateCache {
  private readonly entries = new Map<string, unknown>();
  private count = 0;

  constructor(private readonly maxEntries = MAX_ENTRIES) {}

  /** How many JSONata evaluations ran through this cache's renders (for benchmarks and tests). */
  get evaluations(): number {
    return this.count;
  }

  clear(): void {
    this.entries.clear();
  }

  /** Evaluate a template, counting evaluations. */
  async evaluate(template: CompiledTemplate, input: unknown, path: string): Promise<unknown> {
    this.count++;
    return template.evaluate(input, { path });
  }

  /** Return the cached value for `key` (a private copy), or compute, store and return it. */
  async cached<T>(key: string, compute: () => Promise<T>): Promise<T> {
    if (this.entries.has(key)) {
      const hit = this.entries.get(key) as T;
      this.entries.delete(key);
      this.entries.set(key, hit);
      return copyJson(hit);
    }
    const value = await compute();
    this.entries.set(key, copyJson(value));
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return value;
  }
}
