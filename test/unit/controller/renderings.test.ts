// The rendering fingerprint per cluster: it moves with what a cluster gets (the image, a wave's
// override, a definition) and stays put for replica counts, so the planner can tell a change of the
// running revision from a batch or a new total.

import { describe, expect, it } from "vitest";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import { RenderingCache, renderingFingerprints } from "../../../src/controller/renderings.js";
import { place } from "../../../src/placement/select.js";
import { aCluster, aComponent, aComponentDefinition, aDeployment, aRevision, aWave, DEPLOYMENT_TEMPLATE, registryOf } from "../builders.js";

const clusters = [aCluster("stage-1").withLabel("usage", "staging").build(), aCluster("prod-eu").withLabel("usage", "production").build()];
const registry = registryOf(aComponentDefinition("worker"));

function app(options: { image?: string; replicas?: number; productionImage?: string } = {}): ApplicationDeployment {
  const production = aWave("production").selectingLabel("usage", "production");
  if (options.productionImage) production.withOverride({ component: "backend", settings: { image: options.productionImage } });
  return aDeployment()
    .withRevision(
      aRevision("v1")
        .withComponent(aComponent("backend").withSettings({ image: options.image ?? "web:1" }))
        .withReplicas(options.replicas ?? 3),
    )
    .withWave(aWave("staging").selectingLabel("usage", "staging"))
    .withWave(production)
    .build();
}

async function fingerprints(d: ApplicationDeployment): Promise<Record<string, string>> {
  return Object.fromEntries(await renderingFingerprints({ deployment: d, registry, placement: place(d.spec.placementStrategies, clusters), clusters }));
}

describe("renderingFingerprints", () => {
  it("gives every selected cluster a fingerprint that stays put when only replica counts change", async () => {
    const base = await fingerprints(app());
    expect(Object.keys(base)).toEqual(["stage-1", "prod-eu"]);
    expect(await fingerprints(app({ replicas: 10 }))).toEqual(base);
  });

  it("moves for every cluster when the image changes, and only for the wave whose override changes", async () => {
    const base = await fingerprints(app());
    const image = await fingerprints(app({ image: "web:2" }));
    expect([image["stage-1"] !== base["stage-1"], image["prod-eu"] !== base["prod-eu"]]).toEqual([true, true]);
    const override = await fingerprints(app({ productionImage: "web:eu" }));
    expect([override["stage-1"] === base["stage-1"], override["prod-eu"] !== base["prod-eu"]]).toEqual([true, true]);
  });

  it("moves when a definition renders something else for the same spec", async () => {
    const d = app();
    const other = registryOf(aComponentDefinition("worker").withTemplate(DEPLOYMENT_WITH_LABEL));
    const before = await fingerprints(d);
    const after = Object.fromEntries(
      await renderingFingerprints({ deployment: d, registry: other, placement: place(d.spec.placementStrategies, clusters), clusters }),
    );
    expect(after["stage-1"]).not.toBe(before["stage-1"]);
  });
});

describe("RenderingCache", () => {
  it("renders again only when the generation, the definitions or the clusters change", async () => {
    const cache = new RenderingCache();
    const d = app();
    d.metadata.generation = 1;
    const placement = place(d.spec.placementStrategies, clusters);
    const first = await cache.get("team-a/web", { deployment: d, registry, placement, clusters });
    // Same inputs: the very same map, nothing rendered (a different spec under the same generation is not looked at).
    const edited = app({ image: "web:2" });
    edited.metadata.generation = 1;
    expect(await cache.get("team-a/web", { deployment: edited, registry, placement, clusters })).toBe(first);
    edited.metadata.generation = 2;
    const second = await cache.get("team-a/web", { deployment: edited, registry, placement, clusters });
    expect(second.get("stage-1")).not.toBe(first.get("stage-1"));
    const relabelled = [aCluster("stage-1").withLabel("usage", "staging").withLabel("tier", "gold").build(), clusters[1]!];
    expect(await cache.get("team-a/web", { deployment: edited, registry, placement, clusters: relabelled })).not.toBe(second);
  });
});

const DEPLOYMENT_WITH_LABEL = DEPLOYMENT_TEMPLATE.replace(
  '"metadata": {"name": context.name}',
  '"metadata": {"name": context.name, "labels": {"team": "platform"}}',
);
