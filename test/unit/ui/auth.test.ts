// The web UI's authentication and authorization with a fake of the two hub reviews: where a token
// is taken from, what is cached (by token hash) and for how long, the namespaces a user may list,
// and the refusal's wording.

import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import type { AccessAttributes, AccessReviews, ReviewedUser } from "../../../src/controller/token-access.js";
import { cookieValue, refusal, requestToken, UiAuth } from "../../../src/ui/server/auth.js";

const VIEWER: ReviewedUser = { username: "system:serviceaccount:flotilla-ui:viewer", groups: ["system:serviceaccounts"] };

/** Tokens: "viewer" may list and get in team-a only; "admin" may do anything; others are invalid. */
function fakeReviews() {
  const calls = { token: [] as string[], access: [] as AccessAttributes[] };
  let down = false;
  const reviews: AccessReviews = {
    async reviewToken(token) {
      calls.token.push(token);
      if (down) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      if (token === "viewer") return { authenticated: true, user: VIEWER };
      if (token === "admin") return { authenticated: true, user: { username: "admin" } };
      return { authenticated: false, error: `invalid bearer token ${token}` };
    },
    async reviewAccess(user, a) {
      calls.access.push(a);
      if (down) throw Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
      if (user.username === "admin") return { allowed: true };
      if ("path" in a) return { allowed: false };
      const ok = (a.verb === "list" || a.verb === "get") && a.namespace === "team-a";
      return ok ? { allowed: true } : { allowed: false, reason: "no RBAC policy matched" };
    },
  };
  return { reviews, calls, down: (v: boolean) => (down = v) };
}

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

function request(headers: Record<string, string>): IncomingMessage {
  return { headers } as unknown as IncomingMessage;
}

describe("requestToken", () => {
  it("takes the Authorization header first, then the session cookie", () => {
    const url = new URL("http://x/api/deployments");
    expect(requestToken(request({ authorization: "Bearer abc", cookie: "flotilla_token=def" }), url)).toEqual({ token: "abc", source: "header" });
    expect(requestToken(request({ cookie: "theme=dark; flotilla_token=def%3D" }), url)).toEqual({ token: "def=", source: "cookie" });
  });

  it("accepts ?token= on the event stream only (EventSource sends no headers)", () => {
    expect(requestToken(request({}), new URL("http://x/api/events?token=t1"))).toEqual({ token: "t1", source: "query" });
    expect(requestToken(request({}), new URL("http://x/api/deployments?token=t1"))).toBeUndefined();
  });

  it("reads one cookie among several, and none from a malformed value", () => {
    expect(cookieValue("a=1; flotilla_token=x; b=2", "flotilla_token")).toBe("x");
    expect(cookieValue("flotilla_token=%E0%A4%A", "flotilla_token")).toBeUndefined();
    expect(cookieValue(undefined, "flotilla_token")).toBeUndefined();
  });
});

describe("UiAuth", () => {
  it("names the user, the verb and the namespace when it refuses", () => {
    expect(refusal(VIEWER.username, { verb: "patch", resource: "applicationdeployments", namespace: "team-a" })).toBe(
      "system:serviceaccount:flotilla-ui:viewer may not patch applicationdeployments in team-a",
    );
    expect(refusal("u", { verb: "list", resource: "clusters" })).toBe("u may not list clusters");
  });

  it("reviews a token once per TTL, keyed by its hash, and says invalid without echoing the token", async () => {
    const { reviews, calls } = fakeReviews();
    const c = clock();
    const auth = new UiAuth({ reviews, ttlMs: 10_000, now: c.now });
    expect(await auth.identify("viewer")).toEqual({ outcome: "ok", user: VIEWER });
    await auth.identify("viewer");
    await Promise.all([auth.identify("viewer"), auth.identify("viewer")]);
    expect(calls.token).toEqual(["viewer"]);
    c.advance(10_001);
    await auth.identify("viewer");
    expect(calls.token).toEqual(["viewer", "viewer"]);
    const bad = await auth.identify("s3cret");
    expect(bad).toEqual({ outcome: "unauthenticated", reason: "the token is not valid: invalid bearer token ***" });
  });

  it("shares one review among concurrent requests of one token and caches access answers per verb and namespace", async () => {
    const { reviews, calls } = fakeReviews();
    const auth = new UiAuth({ reviews });
    const p = { verb: "patch", resource: "applicationdeployments", namespace: "team-a", name: "web" };
    const answers = await Promise.all([auth.may("viewer", VIEWER, p), auth.may("viewer", VIEWER, p), auth.may("viewer", VIEWER, p)]);
    expect(answers).toEqual([0, 1, 2].map(() => ({ allowed: false, reason: "no RBAC policy matched" })));
    expect(await auth.may("viewer", VIEWER, { ...p, verb: "get" })).toEqual({ allowed: true });
    expect(calls.access).toEqual([
      { verb: "patch", group: "flotilla.dev", resource: "applicationdeployments", namespace: "team-a", name: "web" },
      { verb: "get", group: "flotilla.dev", resource: "applicationdeployments", namespace: "team-a", name: "web" },
    ]);
  });

  it("lists every namespace after one cluster-wide review, else asks per namespace", async () => {
    const { reviews, calls } = fakeReviews();
    const auth = new UiAuth({ reviews });
    expect(await auth.listScope("admin", { username: "admin" }, ["team-a", "team-b"])).toEqual({ all: true });
    expect(calls.access).toHaveLength(1);
    const scope = await auth.listScope("viewer", VIEWER, ["team-b", "team-a", "team-a"]);
    expect(scope).toEqual({ all: false, namespaces: new Set(["team-a"]) });
    expect(calls.access.slice(1).map((a) => ("path" in a ? "path" : (a.namespace ?? "*")))).toEqual(["*", "team-a", "team-b"]);
  });

  it("answers 'unavailable' when the hub cannot be asked, and asks again next time (nothing cached)", async () => {
    const { reviews, calls, down } = fakeReviews();
    const auth = new UiAuth({ reviews });
    down(true);
    expect(await auth.identify("viewer")).toEqual({ outcome: "unavailable", reason: "the hub did not answer the TokenReview (ECONNREFUSED)" });
    expect(await auth.listScope("viewer", VIEWER, ["team-a"])).toEqual({ unavailable: "the hub did not answer the SubjectAccessReview (ECONNREFUSED)" });
    down(false);
    expect(await auth.identify("viewer")).toMatchObject({ outcome: "ok" });
    expect(calls.token).toHaveLength(2);
  });

  it("keeps at most maxEntries answers, dropping the oldest", async () => {
    const { reviews, calls } = fakeReviews();
    const auth = new UiAuth({ reviews, maxEntries: 2 });
    for (const t of ["a", "b", "c", "a"]) await auth.identify(t);
    expect(calls.token).toEqual(["a", "b", "c", "a"]);
  });
});
