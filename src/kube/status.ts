// What a failed answer from an API server means: its message, its Status.reason and causes, and
// whether to try again. Classified here once, by status code and reason, never by message text.

import { isRetryableStatus, KubeApiError } from "../api/errors.js";

/** An HTTP answer: its status code and its body (parsed JSON, or the text when it is not JSON). */
export interface HttpResult {
  status: number;
  body: unknown;
}

/** The parts of a metav1.Status a client acts on. */
interface ApiStatus {
  message?: unknown;
  reason?: unknown;
  details?: { causes?: { type?: unknown; reason?: unknown }[] };
}

/** How much of a text error page (a proxy's, a load balancer's) a message quotes. */
const TEXT_EXCERPT = 200;

/** A response body as JSON; text that is not JSON (a proxy's error page) is kept for the message. */
export function parseBody(raw: Buffer): unknown {
  const text = raw.toString("utf8");
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text;
  }
}

function asStatus(body: unknown): ApiStatus | undefined {
  return body && typeof body === "object" ? (body as ApiStatus) : undefined;
}

export function statusMessage(body: unknown, status: number): string {
  const message = asStatus(body)?.message;
  if (typeof message === "string") return message;
  if (typeof body === "string") {
    // Markup is noise in a one-line message: keep the words of the page.
    const text = body
      .replace(/<[^>]*>/g, " ")
      .replace(/\s+/g, " ")
      .trim();
    if (text) return text.length > TEXT_EXCERPT ? `${text.slice(0, TEXT_EXCERPT)}…` : text;
  }
  return `HTTP ${status}`;
}

/** The server's `Status.reason`, when the body is a Status that names one. */
export function statusReason(body: unknown): string | undefined {
  const reason = asStatus(body)?.reason;
  return typeof reason === "string" && reason ? reason : undefined;
}

/**
 * The server was asked for a resourceVersion newer than any it has (its etcd was restored from a
 * backup): a `Timeout` Status with the cause `ResourceVersionTooLarge`, as client-go tells it.
 */
export function isTooLargeResourceVersion(res: HttpResult): boolean {
  if (res.status < 300 || statusReason(res.body) !== "Timeout") return false;
  return (asStatus(res.body)?.details?.causes ?? []).some((c) => c.type === "ResourceVersionTooLarge" || c.reason === "ResourceVersionTooLarge");
}

/**
 * The KubeApiError for a failed HTTP answer: what failed, the server's message, the status code
 * and the Status.reason; retryable by status code alone (see isRetryableStatus).
 */
export function httpError(res: HttpResult, object: string, what: string): KubeApiError {
  const reason = statusReason(res.body);
  return new KubeApiError(`${what}: ${statusMessage(res.body, res.status)} (HTTP ${res.status})`, {
    object,
    status: res.status,
    ...(reason ? { reason } : {}),
    retryable: isRetryableStatus(res.status),
  });
}
