// The error families of Flotilla. Every expected failure is one of these, so callers can tell
// a user's mistake (fix the input) from a transient fault (retry) without reading message text.

/** Base class: every error Flotilla throws on purpose. */
export class FlotillaError extends Error {
  override name = "FlotillaError";
}

/** One problem with a field of an input document. */
export interface FieldProblem {
  /** JSON path in dotted form, e.g. `spec.appRevisions[0].template.spec.components[0].settings.image`. */
  path: string;
  /** What is wrong, e.g. `must be string (got 42)`. */
  message: string;
  /** What to do about it. */
  fix?: string;
  /**
   * The problem may not come back when the same input is tried again (a template stopped at its
   * time budget, or whose process died, on a loaded machine): the caller tries again later.
   */
  transient?: boolean;
}

export function formatProblem(p: FieldProblem): string {
  const head = p.path ? `${p.path}: ${p.message}` : p.message;
  return p.fix ? `${head}. ${p.fix}` : head;
}

/** Input that does not satisfy a schema or a rule; carries every problem found, not just the first. */
export class ValidationError extends FlotillaError {
  override name = "ValidationError";
  readonly problems: FieldProblem[];
  /** The object that failed, as `Kind/namespace/name` or `Kind/name`, when known. */
  readonly object: string | undefined;

  constructor(problems: FieldProblem[], options: { object?: string; cause?: unknown } = {}) {
    super(problems.map(formatProblem).join("\n"), options.cause === undefined ? {} : { cause: options.cause });
    this.problems = problems;
    this.object = options.object;
  }

  /** The path of the first problem; convenient for status conditions. */
  get path(): string {
    return this.problems[0]?.path ?? "";
  }
}

/** Position in an expression, 0-based character offset when the engine reports one. */
export interface ExpressionPosition {
  position?: number;
  token?: string;
}

/** A JSONata or CEL expression that does not compile, fails at run time or exceeds its budget. */
export class TemplateError extends FlotillaError {
  override name = "TemplateError";
  readonly definition: string;
  readonly field: string;
  readonly position: number | undefined;
  readonly path: string;
  /** See FieldProblem.transient: a time or memory budget ran out, which load alone can cause. */
  readonly transient: boolean;

  constructor(message: string, options: { definition: string; field: string; position?: number; path?: string; cause?: unknown; transient?: boolean }) {
    const where = options.position === undefined ? "" : ` at position ${options.position}`;
    const prefix = options.path ? `${options.path}: ` : "";
    super(`${prefix}${options.definition}.${options.field}${where}: ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.definition = options.definition;
    this.field = options.field;
    this.position = options.position;
    this.path = options.path ?? "";
    this.transient = options.transient === true;
  }
}

/** Applying one object to a cluster failed. */
export class ApplyError extends FlotillaError {
  override name = "ApplyError";
  readonly object: string;
  readonly status: number | undefined;
  readonly retryable: boolean;

  constructor(message: string, options: { object: string; status?: number; retryable: boolean; cause?: unknown }) {
    super(`${options.object}: ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.object = options.object;
    this.status = options.status;
    this.retryable = options.retryable;
  }
}

/**
 * A request to a Kubernetes API server failed: no answer (`status` undefined), or an answer with
 * an error status. `reason` is the server's `Status.reason` (e.g. `NotFound`, `Conflict`,
 * `Invalid`, `Forbidden`, `Expired`) when it sent one. Retried or not by status code alone.
 */
export class KubeApiError extends FlotillaError {
  override name = "KubeApiError";
  readonly object: string;
  readonly status: number | undefined;
  readonly reason: string | undefined;
  readonly retryable: boolean;

  constructor(message: string, options: { object: string; status?: number; reason?: string; retryable: boolean; cause?: unknown }) {
    super(`${options.object}: ${message}`, options.cause === undefined ? {} : { cause: options.cause });
    this.object = options.object;
    this.status = options.status;
    this.reason = options.reason;
    this.retryable = options.retryable;
  }
}

/** The server no longer keeps the resourceVersion a watch asked for: list again, then watch. */
export class WatchExpiredError extends KubeApiError {
  override name = "WatchExpiredError";
  constructor(object: string) {
    super("watch: resourceVersion too old; list again", { object, status: 410, reason: "Expired", retryable: true });
  }
}

/** Why one object was not applied, pruned or read: its request failed, or the file is unusable. */
export type ObjectFailure = ApplyError | KubeApiError;

/** `error` as an ObjectFailure: typed failures as they are, anything else retryable, named after `object`. */
export function objectFailure(error: unknown, object: string): ObjectFailure {
  if (error instanceof ApplyError || error instanceof KubeApiError) return error;
  return new ApplyError(error instanceof Error ? error.message : String(error), { object, retryable: true, cause: error });
}

/** Reading or writing the environment repository failed. */
export class GitError extends FlotillaError {
  override name = "GitError";
  readonly retryable: boolean;
  constructor(message: string, options: { retryable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.retryable = options.retryable ?? false;
  }
}

/** Classify an HTTP status from the Kubernetes API once, at the edge. */
export function isRetryableStatus(status: number | undefined): boolean {
  if (status === undefined) return true; // network error: no answer at all
  // 408: the server gave up waiting for the request; HTTP lets a client send it again.
  return status === 408 || status === 409 || status === 429 || status >= 500;
}
