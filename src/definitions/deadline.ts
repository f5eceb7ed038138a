// A hard wall-clock deadline around synchronous CEL evaluation. cel-js has parse-time limits but
// no runtime cost limit, so a tenant's nested comprehension or backtracking regular expression
// would block the controller's only thread; Node's `vm` timeout is the one thing that can
// interrupt synchronous JavaScript (and native RegExp backtracking) from outside.
// Starting a deadline costs a watchdog thread (about 0.1 ms of CPU, 0.2–0.4 ms of wall time on a
// loaded machine), far more than an evaluation, so a caller that evaluates in a loop puts one
// deadline around the whole pass; evaluations inside it start none of their own.

import vm from "node:vm";
import { TemplateError } from "../api/errors.js";

/** What ran out of time: the expression being evaluated when the deadline passed. */
export interface Culprit {
  /** The deployment, definition or object the expression belongs to. */
  definition: string;
  /** The field holding the expression, e.g. `spec.placementStrategies[2].clusterSelector.condition`. */
  field: string;
  /** The expression's text. */
  expression: string;
  /** What was being done, for the message, e.g. `placing 1000 clusters`. */
  during?: string;
}

/** The longest excerpt of an expression a budget message quotes. */
const QUOTE_LIMIT = 160;

function quote(expression: string): string {
  const flat = expression.replace(/\s+/g, " ").trim();
  return flat.length > QUOTE_LIMIT ? `${flat.slice(0, QUOTE_LIMIT)}…` : flat;
}

/** A CEL evaluation (or the pass it belonged to) ran past its time budget and was stopped. */
export class BudgetExceededError extends TemplateError {
  override name = "BudgetExceededError";
  readonly budgetMs: number;
  readonly expression: string;

  constructor(budgetMs: number, culprit: Culprit, cause: unknown) {
    const during = culprit.during ? ` while ${culprit.during}` : "";
    super(
      `CEL evaluation exceeded its budget of ${budgetMs} ms${during} and was stopped: ${quote(culprit.expression)}. ` +
        "Simplify the expression: nested comprehensions (all, exists, map, filter) multiply, so ten elements nested nine deep are a billion steps, " +
        "and a regular expression with nested repetition such as (a+)+ in matches() backtracks exponentially",
      { definition: culprit.definition, field: culprit.field, cause },
    );
    this.budgetMs = budgetMs;
    this.expression = culprit.expression;
  }
}

// One context and one precompiled script for every deadline: `run` calls the task of the moment.
// The task is a function of this realm, so the evaluation itself runs outside the context; the
// context only gives V8 a script boundary at which the watchdog's termination is turned into an
// ordinary, catchable error.
let task: (() => unknown) | undefined;
const context = vm.createContext({ run: () => task?.() });
const script = new vm.Script("run()", { filename: "flotilla-cel-deadline" });
let active = false;

/** True while a deadline is running (so an evaluation here is already bounded). */
export function insideDeadline(): boolean {
  return active;
}

// By its code, not `instanceof Error`: Node creates the error in the context that is current,
// which under an enclosing vm script (a test's guard, a sandbox) is another realm's.
function isTimeout(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT";
}

/**
 * The deadline is wall time (all `vm` offers), so a loaded machine can pass it while the
 * expression barely ran: another process had the CPU. A deadline that passes while this process
 * used less than half the budget in CPU time is taken for that, and `fn` runs again under a new
 * deadline, at most this many times. A runaway expression on a starved machine is thus stopped
 * after at most (1 + STARVED_RETRIES) × the budget. (CPU time is the whole process's, so other
 * threads only make a retry less likely, never more.)
 */
export const STARVED_RETRIES = 2;

function cpuMs(usage: NodeJS.CpuUsage): number {
  return (usage.user + usage.system) / 1000;
}

/**
 * Run `fn` with a hard deadline of `budgetMs` milliseconds of wall time. Past it, `fn` is
 * terminated wherever it is — try/catch and finally blocks inside it do not run — and a
 * BudgetExceededError blaming `culprit()` (asked only then, so a pass can say which expression it
 * was on) is thrown. Errors `fn` throws pass through unchanged. `fn` must be safe to run again
 * from the start: it is, when the machine rather than `fn` used up the time (STARVED_RETRIES).
 *
 * Inside another deadline this just runs `fn`: the outer deadline already bounds it (its budget,
 * not this one, applies) and a second watchdog would only add cost.
 */
export function runWithDeadline<T>(budgetMs: number, culprit: () => Culprit, fn: () => T): T {
  if (active) return fn();
  if (!Number.isInteger(budgetMs) || budgetMs <= 0) {
    throw new RangeError(`a CEL budget must be a positive whole number of milliseconds (got ${budgetMs})`);
  }
  active = true;
  task = fn;
  try {
    for (let retries = 0; ; retries++) {
      const start = process.cpuUsage();
      try {
        return script.runInContext(context, { timeout: budgetMs }) as T;
      } catch (error) {
        if (!isTimeout(error)) throw error;
        if (retries < STARVED_RETRIES && cpuMs(process.cpuUsage(start)) < budgetMs / 2) continue;
        throw new BudgetExceededError(budgetMs, culprit(), error);
      }
    }
  } finally {
    active = false;
    task = undefined;
  }
}

export interface EachWithDeadlineOptions<I, R> {
  /** Budget of the pass, in ms; after an overrun the rest of the pass gets a new one. */
  budgetMs: number;
  /**
   * How many deadlines one pass may start. Once the last one has run out, the items not yet
   * evaluated get `skipped`, so a pass never costs more than `maxDeadlines × budgetMs` (times
   * 1 + STARVED_RETRIES on a machine too loaded to give it the CPU). Default 3.
   */
  maxDeadlines?: number;
  /** The expression `run(item)` evaluates, to blame when a deadline runs out on it. */
  culprit(item: I): Culprit;
  run(item: I): R;
  /** The result for the item whose evaluation was stopped by a deadline. */
  stopped(item: I, error: BudgetExceededError): R;
  /** The result for an item left unevaluated because the pass had spent all its deadlines. */
  skipped(item: I): R;
}

/**
 * `items.map(run)` under one deadline, recovering from an overrun: the item being evaluated when
 * the deadline passed gets `stopped`, and the pass goes on with the next item under a new
 * deadline. Inside another deadline there is nothing to recover with (the outer deadline ends
 * everything it bounds), so it is a plain map.
 */
export function runEachWithDeadline<I, R>(items: readonly I[], options: EachWithDeadlineOptions<I, R>): R[] {
  if (active) return items.map((item) => options.run(item));
  const results: R[] = [];
  const maxDeadlines = options.maxDeadlines ?? 3;
  let i = 0;
  for (let deadlines = 0; i < items.length && deadlines < maxDeadlines; deadlines++) {
    try {
      // `i` advances inside the deadline, so after an overrun it points at the item that overran.
      runWithDeadline(
        options.budgetMs,
        () => options.culprit(items[Math.min(i, items.length - 1)] as I),
        () => {
          for (; i < items.length; i++) results[i] = options.run(items[i] as I);
        },
      );
    } catch (error) {
      if (!(error instanceof BudgetExceededError)) throw error;
      if (i >= items.length) break; // the deadline passed just after the last item: nothing was lost
      results[i] = options.stopped(items[i] as I, error);
      i++;
    }
  }
  for (; i < items.length; i++) results[i] = options.skipped(items[i] as I);
  return results;
}
