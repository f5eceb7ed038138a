// The program of the template worker process and the messages it exchanges with the controller.
// `templateWorkerMain` and the template functions here run from their source text in a separate
// Node process, so they must refer to nothing outside their own bodies (no imports, no module
// state): everything they need arrives as arguments.

import type { Re2RegExpConstructor } from "./re2-regexp.js";

/** The budget fields the worker enforces itself (the heap limit is the process's own). */
export interface WorkerBudget {
  timeoutMs: number;
  maxDepth: number;
  maxSequence: number;
  maxOutputBytes: number;
}

/** Controller → worker: evaluate one template. */
export interface EvaluateRequest {
  id: number;
  source: string;
  input: unknown;
  budget: WorkerBudget;
  /** Which template this is, for the worker's own diagnostics; errors are worded by the controller. */
  origin: { definition: string; field: string };
}

/** An error the template raised, as plain data (JSONata's error codes, or a JavaScript error's name). */
export interface ReplyError {
  code: string;
  message: string;
  position?: number;
  token?: string;
  /** Size of the serialized result, for code `OutputBudget`. */
  bytes?: number;
  /** `bytes` is a lower bound: counting stopped once past the budget. */
  atLeast?: boolean;
}

/** Worker → controller: once `{ready: true}` at start, then one reply per request. */
export type WorkerMessage = { ready: true } | { id: number; json?: unknown } | { id: number; error: ReplyError };

/** What the worker process is started with (serialized into its program). */
export interface WorkerConfig {
  /** Absolute path of the jsonata package's CommonJS entry. */
  jsonata: string;
  /** Absolute path of the re2js package's CommonJS entry. */
  re2js: string;
  /** Functions that would make output depend on the clock or chance, with why and what to do instead. */
  refused: Record<string, string>;
  /** The message for a $toMillis whose result depends on today's date. */
  toMillisWithoutDate: string;
}

/** The functions templates can call besides JSONata's own, passed into the worker program. */
export interface WorkerHelpers {
  defineRe2RegExp: (re2: never) => { Re2RegExp: Re2RegExpConstructor };
  versionAtLeast: (version: unknown, minimum: unknown) => boolean;
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

interface JsonataFunction {
  implementation: (this: { environment: object }, ...args: unknown[]) => unknown;
}

interface JsonataExpression {
  evaluate(input: unknown): Promise<unknown>;
  registerFunction(name: string, implementation: (...args: never[]) => unknown, signature?: string): void;
}

type Jsonata = (source: string, options?: object) => JsonataExpression;

/**
 * The worker process: answer each request with the template's result as plain JSON, or its error.
 * Regexes run on RE2 (linear time); functions that read the clock or chance are refused; the
 * result is serialized here, so an oversized or endless one is this process's problem, which the
 * controller solves by killing it.
 */
export function templateWorkerMain(config: WorkerConfig, helpers: WorkerHelpers, load: (path: string) => unknown): void {
  const jsonata = load(config.jsonata) as Jsonata;
  const { Re2RegExp } = helpers.defineRe2RegExp((load(config.re2js) as { RE2JS: never }).RE2JS);
  const MAX_CACHED = 500;
  const expressions = new Map<string, JsonataExpression>();
  const send = (message: WorkerMessage) => (process.send as (m: WorkerMessage) => boolean)(message);

  const failure = (code: string, message: string) => Object.assign(new Error(message), { code });
  let builtinToMillis: JsonataFunction | undefined;

  // $toMillis fills the parts a picture leaves out from the current time: evaluate it as of two
  // different instants and refuse when the answers differ (they cannot when the date is given).
  function toMillis(this: { environment: object }, timestamp: unknown, picture: unknown): unknown {
    const builtin = builtinToMillis as JsonataFunction;
    const at = (millis: number) =>
      builtin.implementation.call(
        { ...this, environment: Object.assign(Object.create(this.environment) as object, { timestamp: new Date(millis) }) },
        timestamp,
        picture,
      );
    const first = at(0);
    if (picture !== undefined && at(Date.UTC(2001, 6, 15, 13, 31, 31, 511)) !== first) {
      throw failure("Nondeterministic", config.toMillisWithoutDate);
    }
    return first;
  }

  function expressionFor(source: string, budget: WorkerBudget): JsonataExpression {
    const key = `${budget.timeoutMs}/${budget.maxDepth}/${budget.maxSequence}\n${source}`;
    const hit = expressions.get(key);
    if (hit) return hit;
    const expression = jsonata(source, { timeout: budget.timeoutMs, stack: budget.maxDepth, sequence: budget.maxSequence, RegexEngine: Re2RegExp });
    expression.registerFunction("versionAtLeast", (version: unknown, minimum: unknown) => helpers.versionAtLeast(version, minimum), "<xs:b>");
    for (const [name, why] of Object.entries(config.refused)) {
      expression.registerFunction(name, () => {
        throw failure("Nondeterministic", why);
      });
    }
    expression.registerFunction("toMillis", toMillis as (...args: never[]) => unknown, "<s-s?:n>");
    if (expressions.size >= MAX_CACHED) expressions.delete(expressions.keys().next().value as string);
    expressions.set(key, expression);
    return expression;
  }

  function describe(e: unknown): ReplyError {
    const err = (e ?? {}) as { code?: unknown; name?: unknown; message?: unknown; position?: unknown; token?: unknown };
    const code = typeof err.code === "string" ? err.code : typeof err.name === "string" ? err.name : "Error";
    const reply: ReplyError = { code, message: typeof err.message === "string" ? err.message : String(e) };
    if (typeof err.position === "number") reply.position = err.position;
    if (typeof err.token === "string") reply.token = err.token;
    return reply;
  }

  // JSONata's own functions are objects that reach their whole environment: JSON.stringify would
  // fail on the cycle, or write out the library's internals.
  const isLambda = (v: unknown) =>
    typeof v === "object" &&
    v !== null &&
    ((v as { _jsonata_lambda?: unknown })._jsonata_lambda === true || (v as { _jsonata_function?: unknown })._jsonata_function === true);

  /**
   * A lower bound of JSON.stringify(value).length (escapes left out), counted only until it passes
   * `limit`: a result that shares one object many times (an object doubled again and again) is
   * refused in a few steps, and a 50 MB string without the cost of serializing it.
   */
  function jsonSizeAtLeast(value: unknown, limit: number): number {
    let total = 0;
    // Each returns true once the total is past the limit, which stops the walk.
    const add = (n: number) => {
      total += n;
      return total > limit;
    };
    const visit = (v: unknown, inArray: boolean): boolean => {
      if (isLambda(v)) throw failure("FunctionInOutput", "the result holds a function, which has no JSON form; call it, or leave it out of the result");
      if (typeof v === "string") return add(v.length + 2);
      if (typeof v === "number") return add(Number.isFinite(v) ? String(v).length : 4);
      if (typeof v === "boolean") return add(v ? 4 : 5);
      if (v === null || v === undefined || typeof v === "function" || typeof v === "symbol") return inArray || v === null ? add(4) : false;
      if (Array.isArray(v)) {
        if (add(v.length > 0 ? v.length + 1 : 2)) return true;
        for (const item of v) if (visit(item, true)) return true;
        return false;
      }
      if (typeof v !== "object" || typeof (v as { toJSON?: unknown }).toJSON === "function") return false;
      if (add(2)) return true;
      let first = true;
      for (const [key, item] of Object.entries(v as object)) {
        if (item === undefined || typeof item === "function" || typeof item === "symbol") continue;
        if (add(key.length + (first ? 3 : 4)) || visit(item, false)) return true;
        first = false;
      }
      return false;
    };
    visit(value, false);
    return total;
  }

  /**
   * JSONata's time budget is wall time: on a loaded machine it can pass while this process barely
   * ran. A timeout after less than half the budget in CPU time is taken for that, and the
   * evaluation runs again, at most STARVED_RETRIES times (the controller's deadline allows for it).
   */
  const STARVED_RETRIES = 2;
  async function evaluateOnce(request: EvaluateRequest): Promise<unknown> {
    for (let retries = 0; ; retries++) {
      const start = process.cpuUsage();
      try {
        return await expressionFor(request.source, request.budget).evaluate(request.input);
      } catch (e) {
        const used = process.cpuUsage(start);
        const starved = (used.user + used.system) / 1000 < request.budget.timeoutMs / 2;
        if ((e as { code?: unknown } | null)?.code !== "D1012" || !starved || retries >= STARVED_RETRIES) throw e;
      }
    }
  }

  async function answer(request: EvaluateRequest): Promise<WorkerMessage> {
    const limit = request.budget.maxOutputBytes;
    try {
      const raw = await evaluateOnce(request);
      const atLeast = jsonSizeAtLeast(raw, limit);
      if (atLeast > limit) return { id: request.id, error: { code: "OutputBudget", message: "output over budget", bytes: atLeast, atLeast: true } };
      // The reply is serialized with JSON.stringify too, so what the controller receives is exactly
      // this text parsed: sequences become arrays, undefined fields and functions disappear.
      const text = raw === undefined ? undefined : JSON.stringify(raw);
      if (text === undefined) return { id: request.id };
      if (text.length > limit) return { id: request.id, error: { code: "OutputBudget", message: "output over budget", bytes: text.length } };
      return { id: request.id, json: raw };
    } catch (e) {
      return { id: request.id, error: describe(e) };
    }
  }

  process.on("disconnect", () => process.exit(0));
  process.on("message", (request: EvaluateRequest) => {
    answer(request).then(send, (e: unknown) => send({ id: request.id, error: describe(e) }));
  });
  (jsonata("$toMillis").evaluate(undefined) as Promise<JsonataFunction>).then((builtin) => {
    builtinToMillis = builtin;
    send({ ready: true });
  });
}
