import { describe, expect, it } from "vitest";
import { parseReview, refusalMessage, reviewResponse } from "../../../src/admission/review.js";

const review = (request: unknown) => ({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request });

describe("parseReview", () => {
  it("reads the request of an AdmissionReview v1", () => {
    const parsed = parseReview(
      review({
        uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
        kind: { group: "flotilla.dev", version: "v1alpha1", kind: "ApplicationDeployment" },
        resource: { group: "flotilla.dev", version: "v1alpha1", resource: "applicationdeployments" },
        operation: "UPDATE",
        namespace: "team-a",
        name: "web",
        object: { spec: { a: 1 } },
        oldObject: { spec: { a: 0 } },
        dryRun: true,
        userInfo: { username: "alice", groups: ["dev", 7] },
      }),
    );
    expect(parsed).toEqual({
      request: {
        uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
        kind: { group: "flotilla.dev", version: "v1alpha1", kind: "ApplicationDeployment" },
        operation: "UPDATE",
        namespace: "team-a",
        name: "web",
        object: { spec: { a: 1 } },
        oldObject: { spec: { a: 0 } },
        dryRun: true,
        user: { username: "alice", groups: ["dev"] },
      },
    });
  });

  it("leaves out a null oldObject (a CREATE) and an empty namespace (a cluster-scoped kind)", () => {
    const parsed = parseReview(
      review({
        uid: "u",
        kind: { group: "flotilla.dev", version: "v1alpha1", kind: "Cluster" },
        operation: "CREATE",
        namespace: "",
        object: {},
        oldObject: null,
      }),
    );
    expect(parsed).toEqual({
      request: { uid: "u", kind: { group: "flotilla.dev", version: "v1alpha1", kind: "Cluster" }, operation: "CREATE", object: {}, dryRun: false },
    });
  });

  it.each([
    ["not an object", [1, 2], "not a JSON object"],
    [
      "another API version",
      { apiVersion: "admission.k8s.io/v1beta1", kind: "AdmissionReview", request: { uid: "u" } },
      "expected an AdmissionReview of admission.k8s.io/v1",
    ],
    ["no request", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }, "has no request"],
    ["no uid", review({ kind: {} }), "request.uid is missing"],
  ])("says why a body that is %s is not a review", (_what, body, error) => {
    expect(parseReview(body)).toEqual({ error: expect.stringContaining(error) });
  });
});

describe("reviewResponse", () => {
  it("allows with the request's uid", () => {
    expect(reviewResponse("u-1", { allowed: true })).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: { uid: "u-1", allowed: true },
    });
  });

  it("refuses with 422 Invalid and the controller's field-path message, every problem joined as in status", () => {
    const problems = [
      { path: "spec.appRevisions[0].template.spec.components[0].type", message: 'unknown component type "wrker"', fix: "Use one of: worker, webservice." },
      { path: "metadata.name", message: "is required" },
    ];
    expect(reviewResponse("u-2", { allowed: false, problems })).toEqual({
      apiVersion: "admission.k8s.io/v1",
      kind: "AdmissionReview",
      response: {
        uid: "u-2",
        allowed: false,
        status: {
          status: "Failure",
          code: 422,
          reason: "Invalid",
          message:
            'spec.appRevisions[0].template.spec.components[0].type: unknown component type "wrker". Use one of: worker, webservice.; metadata.name: is required',
        },
      },
    });
    expect(refusalMessage(problems)).toBe((reviewResponse("u", { allowed: false, problems }).response as { status: { message: string } }).status.message);
  });

  it("passes warnings on, each cut to a line kubectl prints whole, at most eight", () => {
    const long = "x".repeat(500);
    const response = reviewResponse("u", { allowed: true, warnings: [long, ...Array.from({ length: 10 }, (_, i) => `w${i}`)] }).response as {
      warnings: string[];
    };
    expect(response.warnings).toHaveLength(8);
    expect(response.warnings[0]).toHaveLength(240);
    expect(response.warnings[0]?.endsWith("...")).toBe(true);
    expect(response.warnings[1]).toBe("w0");
  });
});
