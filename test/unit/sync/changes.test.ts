import { describe, expect, it } from "vitest";
import type { Manifest } from "../../../src/api/types.js";
import { invalidReason, isOwned } from "../../../src/sync/apply.js";
import { ANNOTATION_APPLIED_HASH, appliedHash, contentHash, ownedElsewhere, prepareForApply } from "../../../src/sync/hash.js";
import { planPrune, pruneRefusal } from "../../../src/sync/prune.js";
import { desiredFromFiles } from "../../../src/sync/source.js";
import { objectKey } from "../../../src/sync/types.js";

const owned = { "app.kubernetes.io/managed-by": "flotilla", "flotilla.dev/app": "team-a.shop" };
const cm = (name: string, labels: Record<string, string> = owned, extra: Partial<Manifest["metadata"]> = {}): Manifest => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace: "team-a", labels, ...extra },
  data: { a: "1" },
});

describe("content hash", () => {
  it("ignores key order and its own annotation", () => {
    const a: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: "1", b: "2" } };
    const b: Manifest = {
      data: { b: "2", a: "1" },
      kind: "ConfigMap",
      apiVersion: "v1",
      metadata: { name: "x", annotations: { [ANNOTATION_APPLIED_HASH]: "old" } },
    };
    expect(contentHash(a)).toBe(contentHash(b));
  });

  it("changes when any field changes", () => {
    expect(contentHash(cm("x"))).not.toBe(contentHash({ ...cm("x"), data: { a: "2" } }));
  });

  it("is stamped with the ownership label, without mutating the input", () => {
    const input: Manifest = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } };
    const prepared = prepareForApply(input);
    expect(prepared.metadata.labels?.["app.kubernetes.io/managed-by"]).toBe("flotilla");
    expect(appliedHash(prepared)).toMatch(/^sha256:[0-9a-f]{32}$/);
    expect(input.metadata.labels).toBeUndefined();
    expect(prepareForApply(prepared)).toEqual(prepared);
  });

  it("leaves out the sync-only autoscaler mark: the object and its hash are what they were without it", () => {
    const plain: Manifest = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", annotations: { team: "a" } }, spec: { replicas: 3 } };
    const marked: Manifest = { ...plain, metadata: { ...plain.metadata, annotations: { team: "a", "flotilla.dev/autoscaled-path": "spec.replicas" } } };
    expect(prepareForApply(marked)).toEqual(prepareForApply(plain));
    expect(prepareForApply(marked).metadata.annotations?.["flotilla.dev/autoscaled-path"]).toBeUndefined();
    expect(ownedElsewhere(marked)).toEqual(["spec.replicas"]);
    expect(ownedElsewhere(plain)).toEqual([]);
  });
});

describe("ownership and validity", () => {
  it.each<[string, Manifest, boolean]>([
    ["owned", cm("a"), true],
    ["unlabelled", cm("a", {}), false],
    ["managed by helm", cm("a", { "app.kubernetes.io/managed-by": "Helm" }), false],
  ])("an object %s is owned: %s", (_n, obj, expected) => {
    expect(isOwned(obj)).toBe(expected);
  });

  it.each<[string, Manifest, string | undefined]>([
    ["a valid object", cm("a"), undefined],
    ["no kind", { ...cm("a"), kind: "" }, "kind is missing"],
    ["no name", { ...cm("a"), metadata: { name: "" } }, "metadata.name is missing"],
  ])("%s → %s", (_n, obj, reason) => {
    expect(invalidReason(obj)).toBe(reason);
  });
});

describe("prune plan", () => {
  const names = (objs: Manifest[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`).sort();

  it("deletes what the previous commit had and the new one does not", () => {
    expect(names(planPrune({ previous: [cm("a"), cm("b")], desired: [cm("a")], seen: [] }))).toEqual(["ConfigMap/b"]);
  });

  it("never plans a Namespace", () => {
    const ns: Manifest = { apiVersion: "v1", kind: "Namespace", metadata: { name: "team-a", labels: owned } };
    expect(planPrune({ previous: [ns], desired: [], seen: [] })).toEqual([]);
  });

  it.each<[string, Manifest, string[]]>([
    ["an owned leftover of a known deployment", cm("old"), ["ConfigMap/old"]],
    ["an unowned object", cm("old", {}), []],
    ["an owned object of another deployment", cm("old", { ...owned, "flotilla.dev/app": "team-a.other" }), []],
    [
      "an object a controller created",
      cm("old", owned, { ownerReferences: [{ kind: "Deployment", name: "d", controller: true }] } as Partial<Manifest["metadata"]>),
      [],
    ],
  ])("the safety net prunes %s: %j", (_n, seen, expected) => {
    expect(names(planPrune({ previous: [], desired: [cm("a")], seen: [cm("a"), seen] }))).toEqual(expected);
  });

  it.each<[string, Manifest, boolean]>([
    ["an owned object", cm("a"), true],
    ["an unowned object", cm("a", {}), false],
    ["an owned object without a deployment label", cm("a", { "app.kubernetes.io/managed-by": "flotilla" }), false],
    ["a Namespace", { apiVersion: "v1", kind: "Namespace", metadata: { name: "n", labels: owned } }, false],
  ])("may delete %s: %s", (_n, live, allowed) => {
    expect(pruneRefusal(live) === undefined).toBe(allowed);
  });

  it("keys objects by group, not version", () => {
    const a: Manifest = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: "n" } };
    expect(objectKey(a)).toBe(objectKey({ ...a, apiVersion: "apps/v1beta2" }));
  });
});

describe("desired state from env-repo files", () => {
  it("parses good files and reports bad ones alone", () => {
    const files = new Map([
      ["clusters/prod/team-a/shop/core.ConfigMap.a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: team-a}\n"],
      ["clusters/prod/team-a/shop/core.ConfigMap.b.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b\n"],
      ["clusters/prod/team-a/shop/core.ConfigMap.c.yaml", "just a string\n"],
    ]);
    const desired = desiredFromFiles("c1", files);
    expect(desired.objects.map((o) => o.metadata.name)).toEqual(["a"]);
    expect(desired.invalid?.map((i) => [i.path.split("/").pop(), i.deployment])).toEqual([
      ["core.ConfigMap.b.yaml", "team-a/shop"],
      ["core.ConfigMap.c.yaml", "team-a/shop"],
    ]);
  });
});

describe("apply defaults", () => {
  it("fills port protocols that Kubernetes 1.20 requires in an apply", () => {
    const svc: Manifest = { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80 }, { port: 53, protocol: "UDP" }] } };
    expect((prepareForApply(svc).spec as { ports: unknown }).ports).toEqual([
      { port: 80, protocol: "TCP" },
      { port: 53, protocol: "UDP" },
    ]);
    const dep: Manifest = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "d" },
      spec: { template: { spec: { containers: [{ name: "a", ports: [{ containerPort: 8080 }] }] } } },
    };
    expect(JSON.stringify(prepareForApply(dep).spec)).toContain('"protocol":"TCP"');
    expect(JSON.stringify(dep.spec)).not.toContain("protocol");
  });
});
