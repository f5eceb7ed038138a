// JSONata templates: compiled (and checked) once per expression text in the controller, evaluated
// in a worker process under a budget (time, memory, stack depth, sequence length, output size),
// so a runaway template is a clear error and never a hung or crashed controller. Templates must
// be deterministic: functions that read the clock or chance are refused. Results are plain JSON.

import jsonata from "jsonata";
import { TemplateError } from "../api/errors.js";
import { Re2RegExp, UnsupportedRegexError } from "./re2-regexp.js";
import type { ReplyError } from "./template-worker-body.js";
import { defaultWorkerModules, TemplateWorker, type WorkerResult } from "./template-worker.js";

export { parseVersion, versionAtLeast } from "./template-worker-body.js";

export interface TemplateBudget {
  /**
   * Wall-clock time for one evaluation, in ms. Default 1000. JSONata checks it between steps; a
   * single step that outlives it is stopped by killing the worker a little later (see hardDeadlineMs).
   */
  timeoutMs: number;
  /** Maximum evaluation depth (recursion). Default 300. */
  maxDepth: number;
  /** Maximum length of any sequence built during evaluation. Default 100,000. */
  maxSequence: number;
  /** Maximum size of the result serialized as JSON, in bytes. Default 1 MiB. */
  maxOutputBytes: number;
  /**
   * Heap of the worker process that evaluates templates, in MiB. Default 256: a thousand times the
   * output budget, room for any honest intermediate value, small enough that a runaway template
   * (a string or object doubled in a loop) reaches it in about a second. One worker per value.
   */
  maxMemoryMb?: number;
}

export const DEFAULT_BUDGET: TemplateBudget = {
  timeoutMs: 1000,
  maxDepth: 300,
  maxSequence: 100_000,
  maxOutputBytes: 1024 * 1024,
  maxMemoryMb: 256,
};

const DEFAULT_MEMORY_MB = 256;

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
}

const SAME_INPUT = "so the same input would render differently from one run to the next; templates must be deterministic";

/** JSONata functions whose result depends on the clock or on chance: why, and what to do instead. */
const REFUSED: Record<string, string> = {
  now: `$now() reads the clock, ${SAME_INPUT}. Pass the time in as a value instead (a setting or a trait property)`,
  millis: `$millis() reads the clock, ${SAME_INPUT}. Pass the time in as a value instead (a setting or a trait property)`,
  random: `$random() returns a new number at each call, ${SAME_INPUT}. Pass the value in as a setting or property, or derive it from the input (for example from context.name)`,
  shuffle: `$shuffle() returns its items in a random order, ${SAME_INPUT}. Use $sort() for a stable order`,
};

const TO_MILLIS_WITHOUT_DATE = `$toMillis() with a picture that leaves out the date takes it from the current time, ${SAME_INPUT}. Put the year, month and day in the picture and the timestamp`;

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
    // The time budget is wall time: a starved worker can run out of it on a loaded machine.
    ...(err.code === "D1012" ? { transient: true } : {}),
  });
}

interface AstNode {
  type?: unknown;
  value?: unknown;
  position?: unknown;
}

/** Every node of a JSONata AST, depth first (the parser's annotations may share nodes: visit each once). */
function astNodes(ast: unknown): AstNode[] {
  const seen = new Set<object>();
  const out: AstNode[] = [];
  const stack: unknown[] = [ast];
  while (stack.length) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null || node instanceof RegExp || seen.has(node)) continue;
    seen.add(node);
    if (!Array.isArray(node)) out.push(node as AstNode);
    for (const child of Object.values(node)) stack.push(child);
  }
  return out;
}

/**
 * Refuse, at load, what would make evaluation non-deterministic or unbounded: a reference to a
 * refused function (unless the template binds that name itself), and a regex RE2 cannot run.
 * The worker refuses the same at run time, for expressions built with $eval.
 */
function checkAst(ast: unknown, origin: TemplateOrigin): void {
  const nodes = astNodes(ast);
  const variable = (n: unknown) => ((n as AstNode | undefined)?.type === "variable" ? String((n as AstNode).value) : undefined);
  const bound = new Set<string>();
  for (const n of nodes) {
    if (n.type === "bind") bound.add(variable((n as { lhs?: unknown }).lhs) ?? "");
    if (n.type === "lambda") for (const arg of (n as { arguments?: unknown[] }).arguments ?? []) bound.add(variable(arg) ?? "");
  }
  const problems: Array<{ position: number; message: string; cause?: unknown }> = [];
  for (const n of nodes) {
    const name = variable(n);
    const position = typeof n.position === "number" ? n.position : 0;
    if (name !== undefined && Object.hasOwn(REFUSED, name) && !bound.has(name)) {
      problems.push({ position, message: `JSONata template is not deterministic: ${REFUSED[name]}` });
    }
    if (n.type === "regex" && n.value instanceof RegExp) {
      try {
        new Re2RegExp(n.value);
      } catch (e) {
        if (!(e instanceof UnsupportedRegexError)) throw e;
        problems.push({ position, message: `JSONata template refused: ${e.message}`, cause: e });
      }
    }
  }
  problems.sort((a, b) => a.position - b.position);
  const first = problems[0];
  if (first) throw new TemplateError(first.message, { ...origin, position: first.position, ...(first.cause ? { cause: first.cause } : {}) });
}

const workers = new Map<number, TemplateWorker>();

function workerFor(memoryMb: number): TemplateWorker {
  let worker = workers.get(memoryMb);
  if (!worker) {
    worker = new TemplateWorker({ memoryMb, config: { ...defaultWorkerModules(), refused: REFUSED, toMillisWithoutDate: TO_MILLIS_WITHOUT_DATE } });
    workers.set(memoryMb, worker);
  }
  return worker;
}

/** Stop the template worker processes (tests, CLI shutdown); the next evaluation starts new ones. */
export async function closeTemplateWorkers(): Promise<void> {
  const all = [...workers.values()];
  workers.clear();
  await Promise.all(all.map((w) => w.close()));
}

/** The worker's answer as the template's value, or the TemplateError that says which budget or mistake. */
function settle(result: WorkerResult, origin: TemplateOrigin, budget: TemplateBudget, path: string | undefined): unknown {
  const where = { ...origin, ...(path ? { path } : {}) };
  switch (result.outcome) {
    case "value":
      return result.json;
    case "error":
      return failure(result.error, origin, budget, path);
    case "timeout":
      throw new TemplateError(
        `JSONata evaluation failed: evaluation took longer than ${result.timeoutMs} ms and was stopped in the middle of one step (does a function such as $string, $length or $distinct work on a huge value?)`,
        { ...where, transient: true },
      );
    case "died": {
      const cause = new Error(`template worker exited (code ${result.code}, signal ${result.signal}): ${result.stderr}`);
      // V8 aborts the process when its heap limit is reached; nothing else in the worker aborts.
      const message =
        result.signal === "SIGABRT"
          ? `evaluation needed more than ${result.memoryMb} MiB of memory and was stopped (does the template build a huge string, list or object?)`
          : `the process evaluating the template died (code ${result.code}, signal ${result.signal}); its memory budget is ${result.memoryMb} MiB`;
      throw new TemplateError(`JSONata evaluation failed: ${message}`, { ...where, cause, transient: true });
    }
  }
}

function failure(error: ReplyError, origin: TemplateOrigin, budget: TemplateBudget, path: string | undefined): never {
  if (error.code === "OutputBudget") {
    throw new TemplateError(
      `JSONata output is ${error.atLeast ? "at least " : ""}${error.bytes} bytes, more than the budget of ${budget.maxOutputBytes}; render fewer or smaller objects`,
      { ...origin, ...(path ? { path } : {}) },
    );
  }
  throw toError(error, origin, budget, path, error.code === "Nondeterministic" ? "template is not deterministic" : "evaluation failed");
}

/** Compile a JSONata expression; a syntax error or a refused construct is a TemplateError with the position. */
export function compileTemplate(source: string, origin: TemplateOrigin, budget: TemplateBudget = DEFAULT_BUDGET): CompiledTemplate {
  let expression: jsonata.Expression;
  try {
    expression = jsonata(source);
  } catch (e) {
    throw toError(e, origin, budget, undefined, "syntax error");
  }
  checkAst(expression.ast(), origin);
  const workerBudget = {
    timeoutMs: budget.timeoutMs,
    maxDepth: budget.maxDepth,
    maxSequence: budget.maxSequence,
    maxOutputBytes: budget.maxOutputBytes,
  };
  return {
    source,
    async evaluate(input, options = {}) {
      const result = await workerFor(budget.maxMemoryMb ?? DEFAULT_MEMORY_MB).run({ source, input, budget: workerBudget, origin });
      return settle(result, origin, budget, options.path);
    },
  };
}
