import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { findDrift, quantityValue } from "../../../src/sync/drift.js";

const deployment = (spec: Record<string, unknown>, extra: Partial<Manifest> = {}): Manifest => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "team-a", labels: { app: "web" } },
  spec,
  ...extra,
});

const container = (image: string, more: Record<string, unknown> = {}) => ({ name: "app", image, ...more });
const podSpec = (...containers: unknown[]) => ({ template: { spec: { containers } } });

describe("findDrift", () => {
  it.each<[string, Manifest, Manifest, string[]]>([
    ["identical objects", deployment(podSpec(container("a:1"))), deployment(podSpec(container("a:1"))), []],
    [
      "server defaults and status on the live side",
      deployment(podSpec(container("a:1"))),
      deployment(
        {
          ...podSpec(container("a:1", { imagePullPolicy: "IfNotPresent", terminationMessagePath: "/dev/termination-log" })),
          revisionHistoryLimit: 10,
          replicas: 3,
        },
        { status: { replicas: 3 } },
      ),
      [],
    ],
    [
      "a changed image (kubectl set image)",
      deployment(podSpec(container("a:1"))),
      deployment(podSpec(container("a:2"))),
      ['spec.template.spec.containers[0].image: want "a:1", found "a:2"'],
    ],
    [
      "spec.replicas absent from desired (an HPA owns it) while live has any value",
      deployment(podSpec(container("a:1"))),
      deployment({ ...podSpec(container("a:1")), replicas: 7 }),
      [],
    ],
    ["a changed replica count", deployment({ replicas: 2 }), deployment({ replicas: 5 }), ["spec.replicas: want 2, found 5"]],
    [
      "quantities spelled differently by the server",
      deployment(podSpec(container("a:1", { resources: { requests: { cpu: "0.5", memory: "1024Mi" } } }))),
      deployment(podSpec(container("a:1", { resources: { requests: { cpu: "500m", memory: "1Gi" } } }))),
      [],
    ],
    [
      "a changed quantity",
      deployment(podSpec(container("a:1", { resources: { limits: { cpu: "1" } } }))),
      deployment(podSpec(container("a:1", { resources: { limits: { cpu: "2" } } }))),
      ['spec.template.spec.containers[0].resources.limits.cpu: want "1", found "2"'],
    ],
    [
      "a removed container",
      deployment(podSpec(container("a:1"), { name: "side", image: "s:1" })),
      deployment(podSpec(container("a:1"))),
      ["spec.template.spec.containers: want 2 elements, found 1"],
    ],
    [
      "an extra live container (a webhook's sidecar): a suspect for the dry run, which knows the list's merge key",
      deployment(podSpec(container("a:1"))),
      deployment(podSpec(container("a:1"), { name: "istio", image: "i:1" })),
      ["spec.template.spec.containers: want 1 elements, found 2"],
    ],
    [
      "an env value that only looks like a number, edited from 1.0 to 1",
      deployment(podSpec(container("a:1", { env: [{ name: "RATIO", value: "1.0" }] }))),
      deployment(podSpec(container("a:1", { env: [{ name: "RATIO", value: "1" }] }))),
      ['spec.template.spec.containers[0].env[0].value: want "1.0", found "1"'],
    ],
    [
      "an appended argument (args is replaced whole by an apply)",
      deployment(podSpec(container("a:1", { args: ["--fast"] }))),
      deployment(podSpec(container("a:1", { args: ["--fast", "--debug"] }))),
      ["spec.template.spec.containers[0].args: want 1 elements, found 2"],
    ],
    [
      "a PVC size and an emptyDir limit spelled differently by the server",
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "d" },
        spec: { resources: { requests: { storage: "1024Mi" } }, volumes: [{ emptyDir: { sizeLimit: "0.5Gi" } }] },
      },
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        metadata: { name: "d" },
        spec: { resources: { requests: { storage: "1Gi" } }, volumes: [{ emptyDir: { sizeLimit: "512Mi" } }] },
      },
      [],
    ],
    ["empty maps the server drops", deployment({ template: { metadata: { annotations: {} } } }), deployment({ template: { metadata: {} } }), []],
    [
      "a removed label",
      deployment({}),
      { ...deployment({}), metadata: { name: "web", namespace: "team-a", labels: {} } },
      ['metadata.labels.app: want "web", found <absent>'],
    ],
  ])("%s", (_name, desired, live, expected) => {
    expect(findDrift(desired, live)).toEqual(expected);
  });

  it("ignores Secret stringData, which the server folds into data", () => {
    const secret: Manifest = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { a: "b" } };
    expect(findDrift(secret, { ...secret, stringData: undefined, data: { a: "Yg==" } })).toEqual([]);
  });

  it("leaves a path that something else owns (an autoscaler's replica count) to it, and still sees other drift", () => {
    const desired: Manifest = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 10, paused: false } };
    const scaled: Manifest = { ...desired, spec: { replicas: 4, paused: false } };
    const ignorePaths = ["spec.replicas"];
    expect(findDrift(desired, scaled, { ignorePaths })).toEqual([]);
    expect(findDrift(desired, { ...desired, spec: { replicas: 4, paused: true } }, { ignorePaths })).toEqual(["spec.paused: want false, found true"]);
    // Without it the same scaling is drift, and the desired object itself is untouched.
    expect(findDrift(desired, scaled)).toEqual(["spec.replicas: want 10, found 4"]);
    expect((desired.spec as { replicas: number }).replicas).toBe(10);
  });

  it("stops after maxDifferences", () => {
    const desired = deployment({ a: 1, b: 2, c: 3 });
    const live = deployment({ a: 0, b: 0, c: 0 });
    expect(findDrift(desired, live, { maxDifferences: 2 })).toHaveLength(2);
  });
});

describe("quantityValue", () => {
  it.each<[unknown, number | undefined]>([
    ["500m", 0.5],
    ["1Gi", 2 ** 30],
    ["1k", 1000],
    [3, 3],
    ["1.5", 1.5],
    ["abc", undefined],
    [true, undefined],
  ])("reads %s as %s", (input, value) => {
    expect(quantityValue(input)).toBe(value);
  });
});
