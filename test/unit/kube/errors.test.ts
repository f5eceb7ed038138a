// How a failed answer from a member's API server becomes a KubeApiError: retried or not by status
// code alone (as Argo CD and Flux users expect: throttling, conflicts and server errors retried;
// a request the server will refuse again is not), with the server's Status.reason, and a message
// naming the object and the server's words.

import { describe, expect, it } from "vitest";
import { KubeApiError } from "../../../src/api/errors.js";
import { KubeClient } from "../../../src/kube/client.js";
import { httpError, isTooLargeResourceVersion } from "../../../src/kube/status.js";
import { unreachableKubeConfig } from "../builders.js";

const OBJECT = "Deployment/team-a/backend";

/** A metav1.Status body as the API server sends it with a failure. */
const statusBody = (code: number, reason: string, message: string) => ({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });

describe("httpError", () => {
  it.each([
    { status: 400, reason: "BadRequest", retryable: false, why: "a malformed request is malformed again" },
    { status: 401, reason: "Unauthorized", retryable: false, why: "credentials must be fixed first" },
    { status: 403, reason: "Forbidden", retryable: false, why: "RBAC must be fixed first" },
    { status: 404, reason: "NotFound", retryable: false, why: "the namespace or kind is missing" },
    { status: 405, reason: "MethodNotAllowed", retryable: false, why: "the verb is not served" },
    { status: 409, reason: "Conflict", retryable: true, why: "a concurrent write: the next try sees the new version" },
    { status: 410, reason: "Gone", retryable: false, why: "the resource version is gone: a watch lists again instead" },
    { status: 415, reason: "UnsupportedMediaType", retryable: false, why: "the server does not take this patch type" },
    { status: 422, reason: "Invalid", retryable: false, why: "the object fails validation until the manifest changes" },
    { status: 429, reason: "TooManyRequests", retryable: true, why: "throttled: try again later" },
    { status: 500, reason: "InternalError", retryable: true, why: "a server fault" },
    { status: 502, reason: "BadGateway", retryable: true, why: "a proxy in front of the server" },
    { status: 503, reason: "ServiceUnavailable", retryable: true, why: "the server is starting or overloaded" },
    { status: 504, reason: "Timeout", retryable: true, why: "the server timed out" },
  ])("answers HTTP $status ($reason) with retryable=$retryable: $why", ({ status, reason, retryable }) => {
    const error = httpError({ status, body: statusBody(status, reason, `the server says ${reason}`) }, OBJECT, "apply failed");
    expect(error).toBeInstanceOf(KubeApiError);
    expect({ retryable: error.retryable, status: error.status, reason: error.reason, object: error.object, message: error.message }).toEqual({
      retryable,
      status,
      reason,
      object: OBJECT,
      message: `${OBJECT}: apply failed: the server says ${reason} (HTTP ${status})`,
    });
  });

  it("retries 408 Request Timeout: HTTP (RFC 9110) lets a client repeat the request", () => {
    expect(httpError({ status: 408, body: undefined }, OBJECT, "apply failed").retryable).toBe(true);
  });

  it.each([
    {
      name: "takes the message of the server's Status body",
      body: statusBody(403, "Forbidden", 'deployments.apps "backend" is forbidden: User "flotilla" cannot patch resource "deployments"'),
      status: 403,
      message: `${OBJECT}: apply failed: deployments.apps "backend" is forbidden: User "flotilla" cannot patch resource "deployments" (HTTP 403)`,
    },
    { name: "says only the status code when the answer has no body", body: undefined, status: 503, message: `${OBJECT}: apply failed: HTTP 503 (HTTP 503)` },
    {
      name: "says only the status code when the body's message is not a string",
      body: { kind: "Status", message: 42 },
      status: 500,
      message: `${OBJECT}: apply failed: HTTP 500 (HTTP 500)`,
    },
    {
      name: "quotes the words of a proxy's text error page, without its markup",
      body: "<html><body><h1>502 Bad Gateway</h1>\n<p>nginx</p></body></html>",
      status: 502,
      message: `${OBJECT}: apply failed: 502 Bad Gateway nginx (HTTP 502)`,
    },
    {
      name: "cuts a long text page to 200 characters",
      body: "x".repeat(500),
      status: 503,
      message: `${OBJECT}: apply failed: ${"x".repeat(200)}… (HTTP 503)`,
    },
  ])("$name", ({ body, status, message }) => {
    expect(httpError({ status, body }, OBJECT, "apply failed").message).toBe(message);
  });

  it("classifies by status code, never by the words of the message", () => {
    const looksTransient = statusBody(422, "Invalid", "the server is currently unable to handle the request, try again later");
    const looksPermanent = statusBody(503, "ServiceUnavailable", "forbidden: invalid value");
    expect([
      httpError({ status: 422, body: looksTransient }, OBJECT, "apply failed").retryable,
      httpError({ status: 503, body: looksPermanent }, OBJECT, "apply failed").retryable,
    ]).toEqual([false, true]);
  });
});

describe("Status.reason", () => {
  it("is left out when the answer is not a Status (a proxy's page) or names no reason", () => {
    expect(httpError({ status: 502, body: "<h1>Bad Gateway</h1>" }, OBJECT, "get failed").reason).toBeUndefined();
    expect(httpError({ status: 500, body: { kind: "Status", message: "boom", reason: "" } }, OBJECT, "get failed").reason).toBeUndefined();
  });
});

describe("a read asking for a version the server never reached", () => {
  // As kube-apiserver's watch cache answers a read with resourceVersionMatch=NotOlderThan for a
  // version past its newest: a Timeout Status whose cause (JSON field `reason`) says so.
  const tooLarge = {
    kind: "Status",
    apiVersion: "v1",
    status: "Failure",
    code: 504,
    reason: "Timeout",
    message: "Too large resource version: 1000123, current: 123",
    details: { causes: [{ reason: "ResourceVersionTooLarge", message: "Too large resource version" }], retryAfterSeconds: 1 },
  };

  it("is told by the Status's reason and cause", () => {
    expect(isTooLargeResourceVersion({ status: 504, body: tooLarge })).toBe(true);
  });

  it.each([
    { name: "an ordinary timeout", body: { ...tooLarge, details: { causes: [] } } },
    { name: "the words alone, with another reason", body: { ...tooLarge, reason: "InternalError" } },
    { name: "a proxy's text page with the same words", body: "Too large resource version" },
  ])("is not mistaken for $name", ({ body }) => {
    expect(isTooLargeResourceVersion({ status: 504, body })).toBe(false);
  });
});

describe("KubeClient against a server that refuses connections", () => {
  it("fails with a retryable KubeApiError without a status code, naming the server and the request", async () => {
    const client = new KubeClient({ kubeConfig: unreachableKubeConfig() });
    try {
      const failure = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: "team-a", name: "settings" }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(KubeApiError);
      const error = failure as KubeApiError;
      // The first request is discovery of v1: that is the request named.
      expect({ retryable: error.retryable, status: error.status, reason: error.reason, object: error.object }).toEqual({
        retryable: true,
        status: undefined,
        reason: undefined,
        object: "GET /api/v1",
      });
      expect(error.message).toMatch(/^GET \/api\/v1: cannot reach 127\.0\.0\.1:1: .*ECONNREFUSED/);
    } finally {
      client.close();
    }
  });
});
