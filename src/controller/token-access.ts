// Who may fetch the controller's Git server: the caller's hub token is checked with a TokenReview,
// then its user with a SubjectAccessReview for `get` on GIT_SERVE_RBAC_PATH (as kube-rbac-proxy
// does). Results are cached by a hash of the token, never by the token itself. A hub that cannot
// answer makes "try again" (503), never "invalid token" (401): an agent must not think it was revoked.

import { createHash } from "node:crypto";
import { AuthenticationV1Api, AuthorizationV1Api, type KubeConfig } from "@kubernetes/client-node";
import { GIT_SERVE_RBAC_PATH } from "../api/pull.js";
import type { AccessDecision, Authorize } from "../gitops/serve.js";

/** A user as the TokenReview returned it, passed on whole to the SubjectAccessReview. */
export interface ReviewedUser {
  username: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

/** The two hub calls the authorizer makes; the production one is {@link hubAccessReviews}. */
export interface AccessReviews {
  /** TokenReview (authentication.k8s.io/v1): is the token valid, and whose is it? */
  reviewToken(token: string): Promise<{ authenticated: boolean; user?: ReviewedUser; error?: string }>;
  /** SubjectAccessReview (authorization.k8s.io/v1) on a non-resource URL, or on a resource. */
  reviewAccess(user: ReviewedUser, attributes: AccessAttributes): Promise<{ allowed: boolean; reason?: string }>;
}

/** What a SubjectAccessReview asks about: a non-resource URL (`path`), or a resource (the web UI's checks). */
export type AccessAttributes =
  | { path: string; verb: string }
  | {
      verb: string;
      group: string;
      resource: string;
      /** Absent or "": every namespace (or a cluster-scoped resource). */
      namespace?: string;
      name?: string;
    };

/** The reviews on the hub, with the controller's own credentials (it needs `create` on both kinds). */
export function hubAccessReviews(kc: KubeConfig): AccessReviews {
  const authn = kc.makeApiClient(AuthenticationV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  return {
    async reviewToken(token) {
      const review = await authn.createTokenReview({ body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenReview", spec: { token } } });
      const status = review.status ?? {};
      const u = status.user;
      const user: ReviewedUser | undefined = u?.username
        ? {
            username: u.username,
            ...(u.uid ? { uid: u.uid } : {}),
            ...(u.groups ? { groups: u.groups } : {}),
            ...(u.extra ? { extra: u.extra } : {}),
          }
        : undefined;
      return { authenticated: status.authenticated === true, ...(user ? { user } : {}), ...(status.error ? { error: status.error } : {}) };
    },
    async reviewAccess(user, attributes) {
      const review = await authz.createSubjectAccessReview({
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: user.username,
            ...(user.uid ? { uid: user.uid } : {}),
            ...(user.groups ? { groups: user.groups } : {}),
            ...(user.extra ? { extra: user.extra } : {}),
            ...("path" in attributes
              ? { nonResourceAttributes: { path: attributes.path, verb: attributes.verb } }
              : {
                  resourceAttributes: {
                    verb: attributes.verb,
                    group: attributes.group,
                    resource: attributes.resource,
                    ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
                    ...(attributes.name ? { name: attributes.name } : {}),
                  },
                }),
          },
        },
      });
      const status = review.status;
      const reason = [status?.reason, status?.evaluationError].filter(Boolean).join("; ");
      return { allowed: status?.allowed === true && status.denied !== true, ...(reason ? { reason } : {}) };
    },
  };
}

export interface TokenAuthorizerOptions {
  reviews: AccessReviews;
  /** The non-resource URL the caller must be allowed to `get`. Default GIT_SERVE_RBAC_PATH. */
  path?: string;
  /** How long an "allowed" stays cached, ms. Default 60,000. */
  allowedTtlMs?: number;
  /** How long a refusal (invalid token, or not allowed) stays cached, ms. Default 10,000. */
  deniedTtlMs?: number;
  /** Tokens remembered at most; the oldest entry goes first. Default 10,000. */
  maxEntries?: number;
  /**
   * Reviews in flight at most (tokens not in the cache); beyond, "unavailable" (try again), so a
   * caller sending new tokens in a loop cannot turn the Git port into a flood on the hub. Default 16.
   */
  maxConcurrentReviews?: number;
  /** Milliseconds now. Default Date.now. */
  now?: () => number;
}

/** Why a hub call failed, for the log, classified by HTTP status or network error code (never by message text). */
export function hubErrorReason(err: unknown, what: string): string {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = e?.code;
  if (typeof code === "number") {
    if (code === 401) return `the hub refused the controller's own credentials for the ${what} (HTTP 401)`;
    if (code === 403)
      return `the controller may not create ${what}s on the hub (HTTP 403): grant its ServiceAccount "create" on ${what.toLowerCase()}s (deploy/base/rbac.yaml does)`;
    return `the hub answered the ${what} with HTTP ${code}`;
  }
  const net = typeof code === "string" ? code : typeof e?.cause?.code === "string" ? e.cause.code : undefined;
  return `the hub did not answer the ${what}${net ? ` (${net})` : ""}`;
}

/**
 * The production {@link Authorize}: TokenReview, then SubjectAccessReview, cached by token hash.
 * Concurrent checks of one token share one pair of calls. A failed call is never cached.
 */
export function tokenAuthorizer(options: TokenAuthorizerOptions): Authorize {
  const path = options.path ?? GIT_SERVE_RBAC_PATH;
  const allowedTtl = options.allowedTtlMs ?? 60_000;
  const deniedTtl = options.deniedTtlMs ?? 10_000;
  const maxEntries = Math.max(1, options.maxEntries ?? 10_000);
  const now = options.now ?? Date.now;
  const maxReviews = Math.max(1, options.maxConcurrentReviews ?? 16);
  const cache = new Map<string, { decision: AccessDecision; expires: number }>();
  const inFlight = new Map<string, Promise<AccessDecision>>();

  const review = async (token: string): Promise<AccessDecision> => {
    let identity: Awaited<ReturnType<AccessReviews["reviewToken"]>>;
    try {
      identity = await options.reviews.reviewToken(token);
    } catch (err) {
      return { outcome: "unavailable", reason: hubErrorReason(err, "TokenReview") };
    }
    if (!identity.authenticated || !identity.user) {
      return {
        outcome: "unauthenticated",
        reason: identity.error ? `TokenReview: ${identity.error.split(token).join("***")}` : "TokenReview: not authenticated",
      };
    }
    const user = identity.user;
    try {
      const access = await options.reviews.reviewAccess(user, { path, verb: "get" });
      if (access.allowed) return { outcome: "allowed", user: user.username };
      return { outcome: "denied", user: user.username, reason: access.reason ?? `no RBAC rule lets ${user.username} get ${path}` };
    } catch (err) {
      return { outcome: "unavailable", reason: hubErrorReason(err, "SubjectAccessReview") };
    }
  };

  return async (token) => {
    const key = createHash("sha256").update(token).digest("hex");
    const hit = cache.get(key);
    if (hit && hit.expires > now()) return hit.decision;
    if (hit) cache.delete(key);
    const pending = inFlight.get(key);
    if (pending) return pending;
    if (inFlight.size >= maxReviews) return { outcome: "unavailable", reason: `${maxReviews} token reviews are in flight already` };
    const checking = review(token)
      .finally(() => inFlight.delete(key))
      .then((decision) => {
        if (decision.outcome !== "unavailable") {
          cache.delete(key); // re-inserted last: the map's order is the eviction order
          cache.set(key, { decision, expires: now() + (decision.outcome === "allowed" ? allowedTtl : deniedTtl) });
          while (cache.size > maxEntries) {
            const oldest = cache.keys().next().value as string;
            cache.delete(oldest);
          }
        }
        return decision;
      });
    inFlight.set(key, checking);
    return checking;
  };
}
