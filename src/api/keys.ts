// Object keys that reach JavaScript's object machinery instead of data. YAML and JSON keep
// `__proto__` as an ordinary key, and a merge that assigns `target[key]` for it (or walks into
// `constructor.prototype`) writes into Object.prototype for the whole process: every later render
// of every tenant would change. Input with such keys is refused with its path; code that copies or
// merges user data goes through `setOwn`, so it stays safe even where a key slips through.

import type { FieldProblem } from "./errors.js";
import { joinPath } from "./paths.js";

export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(["__proto__", "constructor", "prototype"]);

export function isForbiddenKey(key: string): boolean {
  return FORBIDDEN_KEYS.has(key);
}

/** `target[key] = value` as an own, enumerable property, whatever the key. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** The own value at `key`, never one inherited from the prototype chain. */
export function getOwn(target: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(target, key) ? target[key] : undefined;
}

const FIX = "Rename the key: __proto__, constructor and prototype are refused in settings, properties and overrides.";

/** Every forbidden key in a JSON value, with its path under `base` (at most `limit` problems). */
export function forbiddenKeyProblems(value: unknown, base: string, limit = 20): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const walk = (node: unknown, path: string): void => {
    if (problems.length >= limit || node === null || typeof node !== "object") return;
    if (Array.isArray(node)) {
      for (const [i, item] of node.entries()) walk(item, joinPath(path, i));
      return;
    }
    for (const key of Object.keys(node)) {
      const at = joinPath(path, key);
      if (isForbiddenKey(key)) problems.push({ path: at, message: `the key "${key}" is not allowed`, fix: FIX });
      else walk((node as Record<string, unknown>)[key], at);
    }
  };
  walk(value, base);
  return problems;
}
