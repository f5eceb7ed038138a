// JSONata templates: compiled once per expression text, evaluated under a budget (time, stack
// depth, sequence length, output size) so a runaway template is a clear error and never a hung
// controller. Results come back as plain JSON.

import jsonata from "jsonata";
import { TemplateError } from "../api/errors.js";

export interface TemplateBudget {
  /** Wall-clock time for one evaluation, in ms. Default 1000. */
  timeoutMs: number;
  /** Maximum evaluation depth (recursion). Default 300. */
  maxDepth: number;
  /** Maximum length of any sequence built during evaluation. Default 100,000. */
  maxSequence: number;
  /** Maximum size of the result serialized as JSON, in bytes. Default 1 MiB. */
  maxOutputBytes: number;
}

export const DEFAULT_BUDGET: TemplateBudget = {
  timeoutMs: 1000,
  maxDepth: 300,
  maxSequence: 100_000,
  maxOutputBytes: 1024 * 1024,
};

export interface TemplateOrigin {
  definition: string;
  field: string;
}

export interface CompiledTemplate {
  readonly source: string;
  evaluate(input: unknown, options?: { path?: string }): Promise<unknown>;
}

interface JsonataErrorLike {
  code?: string;
  position?: number;
  token?: string;
  message?: string;
  value?: unknown;
}

/** Parse `v1.20.2`, `1.23`, `v1.29.0-gke.1` into [major, minor, patch]. */
export function parseVersion(version: string): [number, number, number] | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** True when `version` is at least `minimum`; an unknown version counts as recent. */
export function versionAtLeast(version: unknown, minimum: unknown): boolean {
  const have = typeof version === "string" ? parseVersion(version) : undefined;
  const want = typeof minimum === "string" ? parseVersion(minimum) : undefined;
  if (!want) return false;
  if (!have) return true;
  for (let i = 0; i < 3; i++) {
    const h = have[i] as number;
    const w = want[i] as number;
    if (h !== w) return h > w;
  }
  return true;
}

function messageOf(e: JsonataErrorLike, budget: TemplateBudget): string {
  switch (e.code) {
    case "D1011":
      return `recursion deeper than ${budget.maxDepth} levels (does the template call itself without end?)`;
    case "D1012":
      return `evaluation took longer than ${budget.timeoutMs} ms (is there an endless loop?)`;
    // D2015 is the sequence budget; D2014 is the library's own cap on a range (`[1..n]`, 10 million),
    // which is above any budget and so the same mistake.
    case "D2014":
    case "D2015":
      return `a sequence grew beyond ${budget.maxSequence} items`;
    default:
      return e.message ?? String(e);
  }
}

function toError(e: unknown, origin: TemplateOrigin, budget: TemplateBudget, path: string | undefined, stage: string): TemplateError {
  const err = (e ?? {}) as JsonataErrorLike;
  return new TemplateError(`JSONata ${stage}: ${messageOf(err, budget)}`, {
    ...origin,
    ...(typeof err.position === "number" ? { position: err.position } : {}),
    ...(path ? { path } : {}),
    cause: e,
  });
}

/** Plain JSON out of a JSONata result (sequences, undefined fields), refusing oversized output. */
function toPlainJson(value: unknown, budget: TemplateBudget): { json: unknown; bytes: number } {
  if (value === undefined) return { json: undefined, bytes: 0 };
  const text = JSON.stringify(value);
  if (text === undefined) return { json: undefined, bytes: 0 };
  return { json: text.length > budget.maxOutputBytes ? null : JSON.parse(text), bytes: text.length };
}

/** Compile a JSONata expression; a syntax error is a TemplateError with the position. */
export function compileTemplate(
  source: string,
  origin: TemplateOrigin,
  budget: TemplateBudget = DEFAULT_BUDGET,
): CompiledTemplate {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source, { timeout: budget.timeoutMs, stack: budget.maxDepth, sequence: budget.maxSequence });
  } catch (e) {
    throw toError(e, origin, budget, undefined, "syntax error");
  }
  expression.registerFunction("versionAtLeast", (version: unknown, minimum: unknown) => versionAtLeast(version, minimum), "<xs:b>");
  return {
    source,
    async evaluate(input, options = {}) {
      let raw: unknown;
      try {
        raw = await expression.evaluate(input);
      } catch (e) {
        throw toError(e, origin, budget, options.path, "evaluation failed");
      }
      const { json, bytes } = toPlainJson(raw, budget);
      if (json === null && bytes > budget.maxOutputBytes) {
        throw new TemplateError(
          `JSONata output is ${bytes} bytes, more than the budget of ${budget.maxOutputBytes}; render fewer or smaller objects`,
          { ...origin, ...(options.path ? { path: options.path } : {}) },
        );
      }
      return json;
    },
  };
}
