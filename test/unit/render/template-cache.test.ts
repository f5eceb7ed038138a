import { beforeEach, describe, expect, it } from "vitest";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import { type RenderTarget, renderDeployment } from "../../../src/render/render.js";
import { cacheKey, TemplateCache } from "../../../src/render/template-cache.js";
import { aComponent, aComponentDefinition, aDeployment, aRevision, aTraitDefinition, registryOf } from "../builders.js";

const registry = registryOf(
  aComponentDefinition("worker"),
  aTraitDefinition("hpa").withOutputs('{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": context.name}}'),
  aTraitDefinition("label").withPatch('{"metadata": {"labels": {"x": properties.value}}}'),
);

function deployment(image = "img"): ApplicationDeployment {
  return aDeployment("shop")
    .withRevision(aRevision("v1").withComponent(aComponent("backend").withSettings({ image }).withTrait("hpa").withTrait("label", { value: "a" })))
    .build();
}

const target = (replicas = 3, version?: string): RenderTarget => ({
  cluster: version === undefined ? { name: "prod-eu", labels: {} } : { name: "prod-eu", labels: {}, version },
  wave: "production",
  revisions: [{ name: "v1", replicas }],
});

let cache = new TemplateCache();
beforeEach(() => {
  cache = new TemplateCache();
});
const templateEvaluations = () => cache.evaluations;

describe("the render cache", () => {
  it("runs no JSONata evaluation when the same input is rendered again", async () => {
    const before = templateEvaluations();
    const first = await renderDeployment({ deployment: deployment(), registry, targets: [target()], cache });
    const afterFirst = templateEvaluations();
    const second = await renderDeployment({ deployment: deployment(), registry, targets: [target()], cache });
    expect(afterFirst - before).toBe(3);
    expect(templateEvaluations()).toBe(afterFirst);
    expect(second).toEqual(first);
  });

  it.each([
    ["the settings change", () => renderDeployment({ deployment: deployment("other"), registry, targets: [target()], cache })],
    ["the replicas change", () => renderDeployment({ deployment: deployment(), registry, targets: [target(5)], cache })],
    ["the cluster version changes", () => renderDeployment({ deployment: deployment(), registry, targets: [target(3, "v1.20.2")], cache })],
  ])("evaluates again when %s", async (_what, rerender) => {
    await renderDeployment({ deployment: deployment(), registry, targets: [target()], cache });
    const before = templateEvaluations();
    await rerender();
    expect(templateEvaluations()).toBeGreaterThan(before);
  });

  it("hands out private copies, so a caller changing a result cannot poison the cache", async () => {
    const [first] = await renderDeployment({ deployment: deployment(), registry, targets: [target()], cache });
    first!.manifests[0]!.metadata.name = "poisoned";
    const [second] = await renderDeployment({ deployment: deployment(), registry, targets: [target()], cache });
    expect(second!.manifests[0]!.metadata.name).toBe("backend-v1");
  });

  it("computes a value once per key", async () => {
    let calls = 0;
    const compute = async () => {
      calls++;
      return { n: 1 };
    };
    const key = cacheKey(["unit-test", 1]);
    const a = await cache.cached(key, compute);
    const b = await cache.cached(key, compute);
    expect(calls).toBe(1);
    expect(b).toEqual(a);
    expect(b).not.toBe(a);
  });

  it("gives equal keys for equal parts and different keys for different parts", () => {
    expect(cacheKey({ a: [1, 2] })).toBe(cacheKey({ a: [1, 2] }));
    expect(cacheKey({ a: [1, 2] })).not.toBe(cacheKey({ a: [2, 1] }));
  });
});
