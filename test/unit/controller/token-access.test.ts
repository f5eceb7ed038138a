// The Git server's authorizer with a fake of the two hub reviews: what each answer becomes, what
// is cached and for how long (by token hash, bounded), and that a hub failure is "try again".

import { describe, expect, it } from "vitest";
import { GIT_SERVE_RBAC_PATH } from "../../../src/api/pull.js";
import { type AccessReviews, hubErrorReason, type ReviewedUser, tokenAuthorizer } from "../../../src/controller/token-access.js";

const AGENT: ReviewedUser = {
  username: "system:serviceaccount:flotilla-cluster-prod-eu:flotilla-agent",
  uid: "1234",
  groups: ["system:serviceaccounts", "system:serviceaccounts:flotilla-cluster-prod-eu", "system:authenticated"],
  extra: { "authentication.kubernetes.io/pod-name": ["agent-0"] },
};

/** Tokens: "agent" (allowed), "other" (valid, not allowed), anything else invalid; `fail` makes a call throw. */
function fakeReviews() {
  const calls = { token: [] as string[], access: [] as Array<{ user: ReviewedUser; path: string; verb: string }> };
  const fail: { token?: unknown; access?: unknown } = {};
  const reviews: AccessReviews = {
    async reviewToken(token) {
      calls.token.push(token);
      if (fail.token) throw fail.token;
      if (token === "agent") return { authenticated: true, user: AGENT };
      if (token === "other") return { authenticated: true, user: { username: "system:serviceaccount:team-a:builder" } };
      return { authenticated: false, error: `invalid bearer token ${token}` };
    },
    async reviewAccess(user, attributes) {
      calls.access.push({ user, ...(attributes as { path: string; verb: string }) });
      if (fail.access) throw fail.access;
      return user.username === AGENT.username ? { allowed: true } : { allowed: false };
    },
  };
  return { reviews, calls, fail };
}

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("tokenAuthorizer", () => {
  it("allows a valid token whose user may get the Git path, asking with the reviewed user whole", async () => {
    const { reviews, calls } = fakeReviews();
    const authorize = tokenAuthorizer({ reviews });
    expect(await authorize("agent")).toEqual({ outcome: "allowed", user: AGENT.username });
    expect(calls.access).toEqual([{ user: AGENT, path: GIT_SERVE_RBAC_PATH, verb: "get" }]);
  });

  it("denies a valid token whose user may not, with the user and a reason", async () => {
    const authorize = tokenAuthorizer({ reviews: fakeReviews().reviews });
    const decision = await authorize("other");
    expect(decision).toMatchObject({ outcome: "denied", user: "system:serviceaccount:team-a:builder" });
    expect((decision as { reason: string }).reason).toContain(GIT_SERVE_RBAC_PATH);
  });

  it("calls an invalid token unauthenticated, without asking for access and without repeating the token", async () => {
    const { reviews, calls } = fakeReviews();
    const decision = await tokenAuthorizer({ reviews })("s3cret-token");
    expect(decision.outcome).toBe("unauthenticated");
    expect(JSON.stringify(decision)).not.toContain("s3cret-token");
    expect(calls.access).toEqual([]);
  });

  it("keeps an allowed token for 60 s and a refused one for 10 s", async () => {
    const { reviews, calls } = fakeReviews();
    const c = clock();
    const authorize = tokenAuthorizer({ reviews, now: c.now });
    await authorize("agent");
    await authorize("other");
    await authorize("bad");
    c.advance(9_999);
    await authorize("agent");
    await authorize("other");
    await authorize("bad");
    expect(calls.token).toEqual(["agent", "other", "bad"]);
    c.advance(2);
    await authorize("agent");
    await authorize("other");
    await authorize("bad");
    expect(calls.token).toEqual(["agent", "other", "bad", "other", "bad"]);
    c.advance(50_000);
    await authorize("agent");
    expect(calls.token).toEqual(["agent", "other", "bad", "other", "bad", "agent"]);
  });

  it("remembers at most maxEntries tokens, dropping the oldest", async () => {
    const { reviews, calls } = fakeReviews();
    const authorize = tokenAuthorizer({ reviews, maxEntries: 2 });
    await authorize("a1");
    await authorize("a2");
    await authorize("a3");
    await authorize("a3");
    await authorize("a2");
    expect(calls.token).toEqual(["a1", "a2", "a3"]);
    await authorize("a1");
    expect(calls.token).toEqual(["a1", "a2", "a3", "a1"]);
  });

  it("shares one review among concurrent checks of one token", async () => {
    const { reviews, calls } = fakeReviews();
    const authorize = tokenAuthorizer({ reviews });
    const decisions = await Promise.all([authorize("agent"), authorize("agent"), authorize("agent")]);
    expect(decisions.map((d) => d.outcome)).toEqual(["allowed", "allowed", "allowed"]);
    expect(calls.token).toEqual(["agent"]);
  });

  it("asks to try again beyond maxConcurrentReviews tokens under review, and reviews again once they finished", async () => {
    const { reviews, calls } = fakeReviews();
    const gate: Array<() => void> = [];
    const slow: AccessReviews = {
      reviewToken: async (token) => {
        await new Promise<void>((resolve) => gate.push(resolve));
        return reviews.reviewToken(token);
      },
      reviewAccess: reviews.reviewAccess,
    };
    const authorize = tokenAuthorizer({ reviews: slow, maxConcurrentReviews: 2 });
    const first = [authorize("agent"), authorize("other")];
    expect(await authorize("third")).toEqual({ outcome: "unavailable", reason: "2 token reviews are in flight already" });
    // The same token as one under review waits for that review instead.
    const again = authorize("agent");
    for (const release of gate.splice(0)) release();
    expect((await Promise.all([...first, again])).map((d) => d.outcome)).toEqual(["allowed", "denied", "allowed"]);
    const third = authorize("third");
    for (const release of gate.splice(0)) release();
    expect((await third).outcome).toBe("unauthenticated");
    expect(calls.token).toEqual(["agent", "other", "third"]);
  });

  it.each([
    ["the TokenReview", "token"],
    ["the SubjectAccessReview", "access"],
  ] as const)("asks to try again, and caches nothing, when %s fails", async (_what, step) => {
    const { reviews, calls, fail } = fakeReviews();
    const authorize = tokenAuthorizer({ reviews });
    fail[step] = Object.assign(new Error("connect ECONNREFUSED 10.0.0.1:443"), { code: "ECONNREFUSED" });
    const decision = await authorize("agent");
    expect(decision.outcome).toBe("unavailable");
    expect((decision as { reason: string }).reason).toContain("ECONNREFUSED");
    delete fail[step];
    expect(await authorize("agent")).toEqual({ outcome: "allowed", user: AGENT.username });
    expect(calls.token).toEqual(["agent", "agent"]);
  });
});

describe("hubErrorReason", () => {
  it.each([
    [{ code: 403 }, /may not create TokenReviews .*HTTP 403.*"create" on tokenreviews/],
    [{ code: 401 }, /refused the controller's own credentials .*HTTP 401/],
    [{ code: 503 }, /answered the TokenReview with HTTP 503/],
    [Object.assign(new Error("fetch failed"), { cause: { code: "ETIMEDOUT" } }), /did not answer the TokenReview \(ETIMEDOUT\)/],
    [new Error("socket hang up"), /did not answer the TokenReview$/],
  ])("classifies %o", (err, reason) => {
    expect(hubErrorReason(err, "TokenReview")).toMatch(reason);
  });
});
