// AdmissionReview v1 (admission.k8s.io/v1): the request the API server sends to a validating
// webhook, read defensively, and the response it expects. Pure: JSON in, JSON out. A refusal
// carries the same field-path message the controller writes to status.

import { type FieldProblem, formatProblem } from "../api/errors.js";

export const REVIEW_API_VERSION = "admission.k8s.io/v1";

/** What the validator is told about one request. */
export interface AdmissionRequest {
  uid: string;
  /** The kind of the object as sent (after matchPolicy: Equivalent, the version the webhook asked for). */
  kind: { group: string; version: string; kind: string };
  operation: string;
  namespace?: string;
  name?: string;
  object: unknown;
  oldObject?: unknown;
  dryRun: boolean;
  user?: { username: string; groups: string[] };
}

/** The answer for one request. */
export type Verdict = { allowed: true; warnings?: string[] } | { allowed: false; problems: FieldProblem[]; warnings?: string[] };

export type ParsedReview = { request: AdmissionRequest } | { error: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The request of an AdmissionReview v1, or why the body is not one. */
export function parseReview(body: unknown): ParsedReview {
  if (!isObject(body)) return { error: "the body is not a JSON object" };
  if (body.apiVersion !== REVIEW_API_VERSION || body.kind !== "AdmissionReview") {
    return { error: `expected an AdmissionReview of ${REVIEW_API_VERSION} (got ${JSON.stringify(body.apiVersion)} ${JSON.stringify(body.kind)})` };
  }
  const r = body.request;
  if (!isObject(r)) return { error: "the AdmissionReview has no request" };
  if (typeof r.uid !== "string" || r.uid === "") return { error: "request.uid is missing" };
  const kind = isObject(r.kind) ? r.kind : {};
  const user = isObject(r.userInfo) ? r.userInfo : undefined;
  return {
    request: {
      uid: r.uid,
      kind: { group: String(kind.group ?? ""), version: String(kind.version ?? ""), kind: String(kind.kind ?? "") },
      operation: String(r.operation ?? ""),
      ...(typeof r.namespace === "string" && r.namespace ? { namespace: r.namespace } : {}),
      ...(typeof r.name === "string" && r.name ? { name: r.name } : {}),
      object: r.object,
      ...(r.oldObject !== undefined && r.oldObject !== null ? { oldObject: r.oldObject } : {}),
      dryRun: r.dryRun === true,
      ...(user
        ? {
            user: {
              username: String(user.username ?? ""),
              groups: Array.isArray(user.groups) ? user.groups.filter((g): g is string => typeof g === "string") : [],
            },
          }
        : {}),
    },
  };
}

/**
 * The API server keeps at most 4 KiB of warnings and a short line reads best in kubectl's output:
 * each warning is cut to this many characters.
 */
const MAX_WARNING = 240;
const MAX_WARNINGS = 8;

/** One line per problem, joined as the controller joins them in a status condition. */
export function refusalMessage(problems: readonly FieldProblem[]): string {
  return problems.map(formatProblem).join("; ");
}

/** The AdmissionReview that answers `uid`. */
export function reviewResponse(uid: string, verdict: Verdict): Record<string, unknown> {
  const warnings = (verdict.warnings ?? []).slice(0, MAX_WARNINGS).map((w) => (w.length > MAX_WARNING ? `${w.slice(0, MAX_WARNING - 3)}...` : w));
  const response: Record<string, unknown> = { uid, allowed: verdict.allowed };
  if (!verdict.allowed) {
    response.status = { status: "Failure", code: 422, reason: "Invalid", message: refusalMessage(verdict.problems) };
  }
  if (warnings.length) response.warnings = warnings;
  return { apiVersion: REVIEW_API_VERSION, kind: "AdmissionReview", response };
}
