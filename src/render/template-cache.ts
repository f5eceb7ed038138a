// Template results cached by a hash of the definition and the exact input, so re-rendering an
// unchanged deployment evaluates no JSONata at all. Bounded (least recently used goes first).

import { createHash } from "node:crypto";
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

export async function evaluateCached(template: CompiledTemplate, definitionHash: string, input: unknown, path: string): Promise<unknown> {
  const key = createHash("sha1").update(definitionHash).update(template.source).update(JSON.stringify(input)).digest("base64");
  if (cache.has(key)) {
    const hit = cache.get(key);
    cache.delete(key);
    cache.set(key, hit);
    return hit === undefined ? undefined : structuredClone(hit);
  }
  evaluations++;
  const result = await template.evaluate(input, { path });
  cache.set(key, result);
  if (cache.size > MAX_ENTRIES) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  return result === undefined ? undefined : structuredClone(result);
}
