// The raw patches of the escape-hatch traits on their own: every RFC 6902 operation, the failures
// a user reads (operation index, op, path, why), all-or-nothing application, RFC 7386 merge
// semantics, and no way through a path or key into Object.prototype.

import { afterEach, describe, expect, it } from "vitest";
import { copyJson } from "../../../src/api/json.js";
import type { JsonObject } from "../../../src/api/types.js";
import { applyJsonPatch, applyMergePatch, applyWorkloadPatch, type PatchResult } from "../../../src/render/json-patch.js";

function aWorkload(): JsonObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "api-v1", annotations: { "example.com/team": "a" } },
    spec: {
      replicas: 2,
      template: {
        metadata: { labels: { app: "api" } },
        spec: {
          containers: [
            { name: "api", image: "api:1", ports: [{ containerPort: 8080 }] },
            { name: "proxy", image: "envoy:1" },
          ],
          enableServiceLinks: true,
        },
      },
    },
  };
}

function documentOf(result: PatchResult): JsonObject {
  if ("failure" in result) throw new Error(`unexpected failure: ${result.failure.message}`);
  return result.document;
}

function failureOf(result: PatchResult): { field: string; message: string; fix: string } {
  if ("document" in result) throw new Error("the patch applied, but a failure was expected");
  return result.failure;
}

type Pod = { containers: Array<Record<string, unknown>>; [k: string]: unknown };
const podOf = (doc: JsonObject): Pod => (doc.spec as { template: { spec: Pod } }).template.spec;

describe("applyJsonPatch: the six operations of RFC 6902", () => {
  it.each([
    {
      op: "add a field",
      operations: [{ op: "add", path: "/spec/template/spec/containers/0/terminationMessagePolicy", value: "FallbackToLogsOnError" }],
      check: (d: JsonObject) => expect(podOf(d).containers[0]?.terminationMessagePolicy).toBe("FallbackToLogsOnError"),
    },
    {
      op: "add a list item in the middle and at the end (-)",
      operations: [
        { op: "add", path: "/spec/template/spec/containers/1", value: { name: "init", image: "busybox" } },
        { op: "add", path: "/spec/template/spec/containers/-", value: { name: "last", image: "busybox" } },
      ],
      check: (d: JsonObject) => expect(podOf(d).containers.map((c) => c.name)).toEqual(["api", "init", "proxy", "last"]),
    },
    {
      op: "add under a key with / written ~1",
      operations: [{ op: "add", path: "/metadata/annotations/example.com~1owner", value: "b" }],
      check: (d: JsonObject) => expect((d.metadata as JsonObject).annotations).toEqual({ "example.com/team": "a", "example.com/owner": "b" }),
    },
    {
      op: "remove a field and a list item",
      operations: [
        { op: "remove", path: "/spec/template/spec/enableServiceLinks" },
        { op: "remove", path: "/spec/template/spec/containers/1" },
      ],
      check: (d: JsonObject) => {
        expect(podOf(d)).not.toHaveProperty("enableServiceLinks");
        expect(podOf(d).containers.map((c) => c.name)).toEqual(["api"]);
      },
    },
    {
      op: "replace a value",
      operations: [{ op: "replace", path: "/spec/template/spec/containers/1/image", value: "envoy:2" }],
      check: (d: JsonObject) => expect(podOf(d).containers[1]?.image).toBe("envoy:2"),
    },
    {
      op: "move a value",
      operations: [{ op: "move", from: "/spec/template/spec/containers/0/ports", path: "/spec/template/spec/containers/1/ports" }],
      check: (d: JsonObject) => {
        expect(podOf(d).containers[0]).not.toHaveProperty("ports");
        expect(podOf(d).containers[1]?.ports).toEqual([{ containerPort: 8080 }]);
      },
    },
    {
      op: "copy a value, by value",
      operations: [
        { op: "copy", from: "/spec/template/spec/containers/0/ports", path: "/spec/template/spec/containers/1/ports" },
        { op: "replace", path: "/spec/template/spec/containers/1/ports/0/containerPort", value: 9901 },
      ],
      check: (d: JsonObject) => {
        expect(podOf(d).containers[0]?.ports).toEqual([{ containerPort: 8080 }]);
        expect(podOf(d).containers[1]?.ports).toEqual([{ containerPort: 9901 }]);
      },
    },
    {
      op: "test a value that holds (deep equality), then change it",
      operations: [
        { op: "test", path: "/spec/template/spec/containers/0/ports", value: [{ containerPort: 8080 }] },
        { op: "replace", path: "/spec/replicas", value: 3 },
      ],
      check: (d: JsonObject) => expect((d.spec as JsonObject).replicas).toBe(3),
    },
  ])("can $op", ({ operations, check }) => {
    check(documentOf(applyJsonPatch(aWorkload(), operations)));
  });

  it("leaves its input untouched and shares nothing with it", () => {
    const input = aWorkload();
    const value = { name: "x", image: "y" };
    const doc = documentOf(applyJsonPatch(input, [{ op: "add", path: "/spec/template/spec/containers/-", value }]));
    expect(input).toEqual(aWorkload());
    value.image = "changed";
    expect(podOf(doc).containers[2]).toEqual({ name: "x", image: "y" });
  });
});

describe("applyJsonPatch: failures name the operation, its op and path, and why", () => {
  it.each([
    {
      why: "a replace at a path that does not exist",
      operations: [
        { op: "test", path: "/kind", value: "Deployment" },
        { op: "replace", path: "/spec/template/spec/nodeName", value: "n1" },
      ],
      field: "operations[1]",
      message: "operation 1 (replace /spec/template/spec/nodeName) failed: path not found: /spec/template/spec/nodeName does not exist",
    },
    {
      why: "an add under a parent that does not exist",
      operations: [{ op: "add", path: "/spec/template/spec/securityContext/runAsUser", value: 1000 }],
      field: "operations[0]",
      message: "operation 0 (add /spec/template/spec/securityContext/runAsUser) failed: path not found: /spec/template/spec/securityContext does not exist",
    },
    {
      why: "a list index out of range",
      operations: [{ op: "remove", path: "/spec/template/spec/containers/2" }],
      field: "operations[0]",
      message:
        "operation 0 (remove /spec/template/spec/containers/2) failed: path not found: /spec/template/spec/containers has 2 items, so index 2 is out of range",
    },
    {
      why: "a list addressed by name instead of index",
      operations: [{ op: "replace", path: "/spec/template/spec/containers/api/image", value: "api:2" }],
      field: "operations[0]",
      message:
        "operation 0 (replace /spec/template/spec/containers/api/image) failed: path not found: /spec/template/spec/containers/api does not exist (/spec/template/spec/containers has 2 items)",
    },
    {
      why: "a path through a scalar",
      operations: [{ op: "add", path: "/spec/replicas/x", value: 1 }],
      field: "operations[0]",
      message: "operation 0 (add /spec/replicas/x) failed: path not found: /spec/replicas is a number, not a map or a list",
    },
    {
      why: "a test that does not hold",
      operations: [{ op: "test", path: "/spec/template/spec/containers/0/image", value: "api:2" }],
      field: "operations[0]",
      message: 'operation 0 (test /spec/template/spec/containers/0/image) failed: test failed: the value is "api:1", not "api:2"',
    },
    {
      why: "a move from a path that does not exist",
      operations: [{ op: "move", from: "/spec/strategy", path: "/spec/oldStrategy" }],
      field: "operations[0]",
      message: "operation 0 (move /spec/oldStrategy) failed: from path not found: /spec/strategy does not exist",
    },
    {
      why: "a move into its own value",
      operations: [{ op: "move", from: "/spec/template", path: "/spec/template/inner" }],
      field: "operations[0]",
      message: "operation 0 (move /spec/template/inner) failed: a value cannot move into itself (from is a prefix of path)",
    },
    {
      why: "a field inherited from Object.prototype, which is no field",
      operations: [{ op: "remove", path: "/metadata/toString" }],
      field: "operations[0]",
      message: "operation 0 (remove /metadata/toString) failed: path not found: /metadata/toString does not exist",
    },
    {
      why: "the empty pointer (the whole workload)",
      operations: [{ op: "replace", path: "", value: {} }],
      field: "operations[0]",
      message: 'operation 0 (replace "") failed: path "" is the whole workload, which a patch may not replace',
    },
    {
      why: "an add without a value",
      operations: [{ op: "add", path: "/spec/paused" }],
      field: "operations[0]",
      message: "operation 0 (add /spec/paused) failed: it has no value",
    },
    {
      why: "an unknown op",
      operations: [{ op: "merge", path: "/spec" }],
      field: "operations[0]",
      message: 'operation 0 (?) failed: "merge" is not an operation',
    },
  ])("reports $why", ({ operations, field, message }) => {
    const failure = failureOf(applyJsonPatch(aWorkload(), operations));
    expect(failure.field).toBe(field);
    expect(failure.message).toContain(message);
    expect(failure.fix).not.toBe("");
  });

  it("applies nothing when a later operation fails: no document, and the input as it was", () => {
    const input = aWorkload();
    const result = applyJsonPatch(input, [
      { op: "add", path: "/spec/paused", value: true },
      { op: "remove", path: "/spec/template/spec/containers/0" },
      { op: "replace", path: "/spec/minReadySeconds", value: 5 },
    ]);
    expect(failureOf(result).field).toBe("operations[2]");
    expect(result).not.toHaveProperty("document");
    expect(input).toEqual(aWorkload());
  });

  it("reads operations from json-patch properties.operations", () => {
    const doc = documentOf(applyWorkloadPatch("json-patch", aWorkload(), { operations: [{ op: "replace", path: "/spec/replicas", value: 7 }] }));
    expect((doc.spec as JsonObject).replicas).toBe(7);
    expect(failureOf(applyWorkloadPatch("json-patch", aWorkload(), {})).field).toBe("operations");
  });
});

describe("applyMergePatch (RFC 7386)", () => {
  it("merges maps, replaces lists and scalars, and deletes with null", () => {
    const doc = documentOf(
      applyMergePatch(aWorkload(), {
        metadata: { annotations: { "example.com/owner": "b", "example.com/team": null } },
        spec: { minReadySeconds: 10, template: { spec: { enableServiceLinks: null, containers: [{ name: "only", image: "x:1" }] } } },
      }),
    );
    expect((doc.metadata as JsonObject).annotations).toEqual({ "example.com/owner": "b" });
    expect((doc.spec as JsonObject).minReadySeconds).toBe(10);
    expect((doc.spec as JsonObject).replicas).toBe(2);
    expect(podOf(doc)).not.toHaveProperty("enableServiceLinks");
    expect(podOf(doc).containers).toEqual([{ name: "only", image: "x:1" }]);
    expect((doc.spec as { template: { metadata: unknown } }).template.metadata).toEqual({ labels: { app: "api" } });
  });

  it("leaves its input untouched", () => {
    const input = aWorkload();
    documentOf(applyMergePatch(input, { spec: { replicas: null, template: { spec: { hostNetwork: true } } } }));
    expect(input).toEqual(aWorkload());
  });

  it("takes the json-merge-patch properties themselves as the patch", () => {
    const doc = documentOf(applyWorkloadPatch("json-merge-patch", aWorkload(), { spec: { paused: true } }));
    expect((doc.spec as JsonObject).paused).toBe(true);
  });

  it("refuses a patch that is not a map, which would replace the workload", () => {
    expect(failureOf(applyMergePatch(aWorkload(), ["x"])).message).toContain("must be a map merged into the workload");
  });
});

describe("the raw patches and Object.prototype", () => {
  const probe = (): unknown => ({}) as Record<string, unknown>;
  afterEach(() => {
    for (const key of ["polluted", "viaConstructor"]) delete (Object.prototype as Record<string, unknown>)[key];
  });

  it.each([
    { op: "add", path: "/__proto__/polluted", value: "yes" },
    { op: "add", path: "/metadata/__proto__/polluted", value: "yes" },
    { op: "add", path: "/metadata/constructor/prototype/viaConstructor", value: "yes" },
    { op: "replace", path: "/constructor", value: "yes" },
    { op: "copy", from: "/__proto__", path: "/spec/x" },
  ])("refuses the segment in $op $path", (operation) => {
    const failure = failureOf(applyJsonPatch(aWorkload(), [operation]));
    expect(failure.message).toMatch(/(path|from) "[^"]+" has the segment "(__proto__|constructor)", which is not allowed/);
    expect(failure.fix).toContain("__proto__, constructor and prototype are refused");
    expect((probe() as Record<string, unknown>).polluted).toBeUndefined();
    expect((probe() as Record<string, unknown>).viaConstructor).toBeUndefined();
  });

  it("refuses a __proto__ key inside a json-patch value", () => {
    const operation = JSON.parse('{"op": "add", "path": "/spec/extra", "value": {"a": {"__proto__": {"polluted": "yes"}}}}');
    expect(failureOf(applyJsonPatch(aWorkload(), [operation])).message).toContain('value.a.__proto__: the key "__proto__" is not allowed');
    expect((probe() as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("refuses a merge patch with a __proto__ key anywhere, naming where, instead of skipping part of it", () => {
    const patch = JSON.parse('{"spec": {"paused": true, "template": {"__proto__": {"polluted": "yes"}}}}');
    const input = aWorkload();
    const failure = failureOf(applyMergePatch(input, patch));
    expect(failure.field).toBe("spec.template.__proto__");
    expect(input).toEqual(aWorkload());
    expect((probe() as Record<string, unknown>).polluted).toBeUndefined();
    expect(copyJson(probe())).toEqual({});
  });
});
