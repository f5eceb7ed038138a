// Who is asking, and may they: every API request of the web UI carries a Kubernetes token (the
// Authorization header, the session cookie, or `?token=` on the event stream only). The token is
// checked with a TokenReview, the verb with a SubjectAccessReview, both on the hub through the
// controller's AccessReviews (token-access.ts). Answers are cached briefly by a hash of the token,
// never by the token itself, so a page load of many requests costs a few reviews. No user
// database: RBAC on the hub is the only source of who may do what.

import { createHash } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { GROUP } from "../../api/labels.js";
import { type AccessReviews, hubErrorReason, type ReviewedUser } from "../../controller/token-access.js";
import { tokenOf } from "../../gitops/serve.js";

/** The session cookie `POST /api/session` sets. */
export const SESSION_COOKIE = "flotilla_token";

export type Identity =
  | { outcome: "ok"; user: ReviewedUser }
  /** No token, or the hub says it is not valid (HTTP 401). */
  | { outcome: "unauthenticated"; reason: string }
  /** The hub could not be asked now (HTTP 503). */
  | { outcome: "unavailable"; reason: string };

/** A resource verb a SubjectAccessReview asks about; group default flotilla.dev. */
export interface Permission {
  verb: string;
  resource: string;
  group?: string;
  /** Absent: every namespace (or a cluster-scoped resource). */
  namespace?: string;
  name?: string;
}

export type AccessAnswer = { allowed: true } | { allowed: false; reason: string } | { unavailable: string };

/** The namespaces a user may list deployments in: all, or the named ones. */
export type NamespaceScope = { all: true } | { all: false; namespaces: ReadonlySet<string> };

export interface UiAuthOptions {
  reviews: AccessReviews;
  /** How long a review's answer is kept, ms. Default 10,000. */
  ttlMs?: number;
  /** Answers kept at most (identities and access answers together); the oldest goes first. Default 20,000. */
  maxEntries?: number;
  /** Reviews in flight at most; beyond, "unavailable", so new tokens in a loop cannot flood the hub. Default 32. */
  maxConcurrentReviews?: number;
  /** Milliseconds now. Default Date.now. */
  now?: () => number;
}

export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The value of one cookie of a `Cookie` header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return value === "" ? undefined : decodeURIComponent(value);
    } catch {
      return undefined;
    }
  }
  return undefined;
}

export type TokenSource = "header" | "cookie" | "query";

/**
 * The request's token and where it came from: the `Authorization` header, else the session cookie,
 * else `?token=` — the last only on the event stream, since EventSource cannot send headers (a
 * token in a URL ends up in logs and history; nowhere else accepts it).
 */
export function requestToken(req: IncomingMessage, url: URL): { token: string; source: TokenSource } | undefined {
  const header = tokenOf(req.headers.authorization);
  if (header) return { token: header, source: "header" };
  const cookie = cookieValue(req.headers.cookie, SESSION_COOKIE);
  if (cookie) return { token: cookie, source: "cookie" };
  if (url.pathname === "/api/events") {
    const query = url.searchParams.get("token");
    if (query) return { token: query, source: "query" };
  }
  return undefined;
}

/** `… may not patch applicationdeployments in team-a`: the refusal's message. */
export function refusal(user: string, p: Permission): string {
  const what = p.group && p.group !== GROUP ? `${p.resource}.${p.group}` : p.resource;
  return `${user} may not ${p.verb} ${what}${p.namespace ? ` in ${p.namespace}` : p.resource === "applicationdeployments" ? " in any namespace" : ""}`;
}

/** TokenReview and SubjectAccessReview answers, cached (see the module comment). */
export class UiAuth {
  private readonly ttl: number;
  private readonly maxEntries: number;
  private readonly maxReviews: number;
  private readonly now: () => number;
  private readonly cache = new Map<string, { answer: Identity | AccessAnswer; expires: number }>();
  private readonly inFlight = new Map<string, Promise<Identity | AccessAnswer>>();
  /** Reviews sent to the hub so far (for tests and the bench). */
  reviewsSent = 0;

  constructor(private readonly o: UiAuthOptions) {
    this.ttl = o.ttlMs ?? 10_000;
    this.maxEntries = Math.max(1, o.maxEntries ?? 20_000);
    this.maxReviews = Math.max(1, o.maxConcurrentReviews ?? 32);
    this.now = o.now ?? Date.now;
  }

  /** How long an answer is kept, ms: a stream re-checks its user this often. */
  get ttlMs(): number {
    return this.ttl;
  }

  identify(token: string): Promise<Identity> {
    return this.cached(`id\0${tokenHash(token)}`, async () => {
      let review: Awaited<ReturnType<AccessReviews["reviewToken"]>>;
      try {
        review = await this.o.reviews.reviewToken(token);
      } catch (err) {
        return { outcome: "unavailable", reason: hubErrorReason(err, "TokenReview") };
      }
      if (!review.authenticated || !review.user) {
        return {
          outcome: "unauthenticated",
          reason: review.error ? `the token is not valid: ${review.error.split(token).join("***")}` : "the token is not valid",
        };
      }
      return { outcome: "ok", user: review.user };
    }) as Promise<Identity>;
  }

  /** May the user (reviewed from `token`) do `p`? The token only keys the cache. */
  may(token: string, user: ReviewedUser, p: Permission): Promise<AccessAnswer> {
    const group = p.group ?? GROUP;
    const key = ["sar", tokenHash(token), p.verb, group, p.resource, p.namespace ?? "", p.name ?? ""].join("\0");
    return this.cached(key, async () => {
      try {
        const answer = await this.o.reviews.reviewAccess(user, {
          verb: p.verb,
          group,
          resource: p.resource,
          ...(p.namespace ? { namespace: p.namespace } : {}),
          ...(p.name ? { name: p.name } : {}),
        });
        if (answer.allowed) return { allowed: true };
        return { allowed: false, reason: answer.reason ?? `no RBAC rule lets ${user.username} ${p.verb} ${p.resource}` };
      } catch (err) {
        return { unavailable: hubErrorReason(err, "SubjectAccessReview") };
      }
    }) as Promise<AccessAnswer>;
  }

  /**
   * The namespaces (of `candidates`) whose deployments the user may `list`: one cluster-wide
   * review first, else one per namespace. Unavailable when the hub cannot answer.
   */
  async listScope(
    token: string,
    user: ReviewedUser,
    candidates: Iterable<string>,
    resource = "applicationdeployments",
  ): Promise<NamespaceScope | { unavailable: string }> {
    const everywhere = await this.may(token, user, { verb: "list", resource });
    if ("unavailable" in everywhere) return everywhere;
    if (everywhere.allowed) return { all: true };
    const namespaces = [...new Set(candidates)].sort();
    const allowed = new Set<string>();
    // A few at a time: the first load of a user who sees many namespaces must not burst the hub.
    for (let i = 0; i < namespaces.length; i += 8) {
      const batch = namespaces.slice(i, i + 8);
      const answers = await Promise.all(batch.map((namespace) => this.may(token, user, { verb: "list", resource, namespace })));
      for (const [j, a] of answers.entries()) {
        if ("unavailable" in a) return a;
        if (a.allowed) allowed.add(batch[j] as string);
      }
    }
    return { all: false, namespaces: allowed };
  }

  private cached(key: string, review: () => Promise<Identity | AccessAnswer>): Promise<Identity | AccessAnswer> {
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) return Promise.resolve(hit.answer);
    if (hit) this.cache.delete(key);
    const pending = this.inFlight.get(key);
    if (pending) return pending;
    if (this.inFlight.size >= this.maxReviews) {
      const reason = `${this.maxReviews} reviews are in flight already; try again`;
      return Promise.resolve(key.startsWith("id\0") ? { outcome: "unavailable", reason } : { unavailable: reason });
    }
    this.reviewsSent++;
    const checking = review()
      .finally(() => this.inFlight.delete(key))
      .then((answer) => {
        const failed = ("outcome" in answer && answer.outcome === "unavailable") || "unavailable" in answer;
        if (!failed) {
          this.cache.set(key, { answer, expires: this.now() + this.ttl });
          while (this.cache.size > this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
        }
        return answer;
      });
    this.inFlight.set(key, checking);
    return checking;
  }
}
