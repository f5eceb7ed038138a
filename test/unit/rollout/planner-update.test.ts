// A change of what the running revision renders (an image edited in place, a definition or an
// override changed) goes through the waves like a new revision: these tests drive the planner with
// a harness that keeps an environment "repository" of renderings, and check which clusters' files
// hold which rendering after every step.

import { describe, expect, it } from "vitest";
import type { ApplicationDeployment, RolloutSpec } from "../../../src/api/types.js";
import { aCluster, aComponent, aDeployment, aRevision, aWave } from "../builders.js";
import { commitLog, Harness } from "./planner-builders.js";

const stage = aCluster("stage-1").withLabel("usage", "staging").build();
const prodEu = aCluster("prod-eu").withLabel("usage", "production").build();
const prodUs = aCluster("prod-us").withLabel("usage", "production").build();
const FLEET = [stage, prodEu, prodUs];

/** v1 of `web` with `image`, in a staging wave and a production wave. */
function webApp(rollout: RolloutSpec = {}, production: { maxConcurrency?: number } = {}): ApplicationDeployment {
  const v1 = aRevision("v1")
    .withComponent(aComponent("web").withSettings({ image: "web:1" }))
    .build();
  v1.rollout = { replicas: 4, ...rollout };
  const d = aDeployment("web")
    .withRevision(v1)
    .withWave(aWave("staging").selectingLabel("usage", "staging"))
    .withWave({ ...aWave("production").selectingLabel("usage", "production").build(), ...production })
    .build();
  d.metadata.generation = 1;
  return d;
}

/** The stand-in for a rendering: every revision's image, and the wave's override image if any. */
function renderingOf(d: ApplicationDeployment, cluster: string): string {
  const images = d.spec.appRevisions.map((r) => String(r.template.spec.components[0]?.settings?.image));
  const wave = cluster.startsWith("prod") ? "production" : "staging";
  const override = d.spec.placementStrategies?.find((s) => s.name === wave)?.overrides?.[0]?.settings?.image;
  return [...images, ...(override === undefined ? [] : [`override ${String(override)}`])].join(",");
}

/** Deployed and Healthy everywhere with web:1, as a finished first rollout leaves it. */
function deployed(rollout: RolloutSpec = {}, production: { maxConcurrency?: number } = {}): Harness {
  const h = new Harness({ deployment: webApp(rollout, production), clusters: FLEET, renderingOf });
  const plans = h.run({ until: (p) => p.phase === "Healthy" });
  expect(plans.at(-1)?.phase).toBe("Healthy");
  return h;
}

/** Edit the running revision's image in place (the spec's generation goes up, as the API server does). */
function setImage(h: Harness, image: string): void {
  const component = h.deployment.spec.appRevisions[0]?.template.spec.components[0];
  if (component) component.settings = { ...component.settings, image };
  h.deployment.metadata.generation = (h.deployment.metadata.generation ?? 0) + 1;
}

/** Which rendering each cluster's files hold after every step of `plans` (from the fleet's view). */
function filesPerStep(h: Harness, steps: number, tick: number | string = 1000): Array<Record<string, string | undefined>> {
  const out: Array<Record<string, string | undefined>> = [];
  for (let i = 0; i < steps; i++) {
    h.step();
    out.push(Object.fromEntries(FLEET.map((c) => [c.metadata.name, h.fleet.files.get(c.metadata.name)])));
    h.clock.advance(tick);
  }
  return out;
}

describe("planRollout: a change of the running revision goes through the waves", () => {
  it("moves an image edited in place to staging first, to production only when staging is healthy", () => {
    const h = deployed();
    setImage(h, "web:2");
    const first = h.step();
    expect(h.fleet.files.get("stage-1")).toBe("web:2");
    expect([h.fleet.files.get("prod-eu"), h.fleet.files.get("prod-us")]).toEqual(["web:1", "web:1"]);
    expect(first.summary).toBe("v1 update (generation 2) in wave staging (stage-1)");
    expect(first.state).toMatchObject({ revision: "v1", update: 2, wave: "staging", state: "Progressing" });
    const held = first.targets.filter((t) => t.keepFilesOf !== undefined).map((t) => t.cluster);
    expect(held).toEqual(["prod-eu", "prod-us"]);
    expect(first.state.clusters.find((c) => c.name === "prod-eu")?.message).toBe("waiting for its wave to take the update of generation 2");

    const plans = h.run({ until: (p) => p.phase === "Healthy" });
    expect(plans.at(-1)?.message).toBe("v1 update (generation 2) is rolled out and healthy on stage-1, prod-eu, prod-us");
    expect(commitLog([first, ...plans])).toEqual([
      "v1 update (generation 2) in wave staging (stage-1)",
      "v1 update (generation 2) completed in wave staging (stage-1); v1 update (generation 2) in wave production (prod-eu, prod-us)",
    ]);
    // The last step (production completed) changes no file: it is in status, not in Git.
    expect(plans.at(-1)?.summary).toBe("");
    expect(FLEET.map((c) => h.fleet.files.get(c.metadata.name))).toEqual(["web:2", "web:2", "web:2"]);
    // Nothing is left to restore once the update is done everywhere.
    expect(plans.at(-1)?.state.clusters.map((c) => [c.held, c.update])).toEqual([
      [undefined, undefined],
      [undefined, undefined],
      [undefined, undefined],
    ]);
  });

  it("keeps every replica count and leaves the count to the autoscaler all through an update", () => {
    const h = deployed();
    setImage(h, "web:2");
    const plans = h.run({ until: (p) => p.phase === "Healthy" });
    for (const p of plans) {
      expect(p.targets.map((t) => t.revisions)).toEqual([[{ name: "v1", replicas: 4 }], [{ name: "v1", replicas: 4 }], [{ name: "v1", replicas: 4 }]]);
      expect(p.targets.every((t) => t.releaseReplicasToAutoscaler)).toBe(true);
    }
  });

  it("rolls a broken edit back in staging from the files Git held, never reaching production; a good edit then goes through", () => {
    const h = deployed({ progressDeadline: "20s", autoRollback: true });
    h.fleet.brokenRenderings.add("web:2-broken");
    setImage(h, "web:2-broken");
    const files = filesPerStep(h, 30, "5s");
    expect(files[0]).toEqual({ "stage-1": "web:2-broken", "prod-eu": "web:1", "prod-us": "web:1" });
    expect(files.every((f) => f["prod-eu"] === "web:1" && f["prod-us"] === "web:1")).toBe(true);
    expect(files.at(-1)).toEqual({ "stage-1": "web:1", "prod-eu": "web:1", "prod-us": "web:1" });
    const failed = h.plans.at(-1);
    expect(failed?.phase).toBe("Failed");
    expect(failed?.state.clusters.map((c) => c.state)).toEqual(["RolledBack", "Pending", "Pending"]);
    expect(commitLog(h.plans).at(-1)).toMatch(
      /^v1 update \(generation 2\) rolled back in wave staging \(stage-1\): stage-1: batch 1\/1 not healthy within progressDeadline 20s/,
    );

    setImage(h, "web:3");
    const next = h.step();
    expect(next.summary).toBe("v1 update (generation 3) in wave staging (stage-1)");
    expect([h.fleet.files.get("stage-1"), h.fleet.files.get("prod-eu")]).toEqual(["web:3", "web:1"]);
    const done = h.run({ until: (p) => p.phase === "Healthy" });
    expect(done.at(-1)?.phase).toBe("Healthy");
    expect(FLEET.map((c) => h.fleet.files.get(c.metadata.name))).toEqual(["web:3", "web:3", "web:3"]);
  });

  it("without autoRollback, stops where the edit failed; a fixed edit restarts it there", () => {
    const h = deployed({ progressDeadline: "20s" });
    h.fleet.brokenRenderings.add("web:2-broken");
    setImage(h, "web:2-broken");
    h.run({ tick: "5s", until: (p) => p.phase === "Failed" });
    expect(h.fleet.files.get("stage-1")).toBe("web:2-broken");
    expect(h.plans.at(-1)?.message).toMatch(/^v1 update \(generation 2\) failed in stage-1/);
    setImage(h, "web:3");
    const done = h.run({ until: (p) => p.phase === "Healthy" });
    expect(done[0]?.summary).toBe("v1 update (generation 3) in wave staging (stage-1)");
    expect(FLEET.map((c) => h.fleet.files.get(c.metadata.name))).toEqual(["web:3", "web:3", "web:3"]);
  });

  it("moves production cluster by cluster with its maxConcurrency", () => {
    const h = deployed({}, { maxConcurrency: 1 });
    setImage(h, "web:2");
    const plans = h.run({ until: (p) => p.phase === "Healthy" });
    expect(commitLog(plans)).toEqual([
      "v1 update (generation 2) in wave staging (stage-1)",
      "v1 update (generation 2) completed in wave staging (stage-1); v1 update (generation 2) in wave production (prod-eu)",
      "v1 update (generation 2) completed in wave production (prod-eu); v1 update (generation 2) in wave production (prod-us)",
    ]);
  });

  it("leaves clusters whose rendering did not change alone: an override of production only", () => {
    const h = deployed({ progressDeadline: "20s", autoRollback: true });
    const production = h.deployment.spec.placementStrategies?.[1];
    if (production) production.overrides = [{ component: "web", settings: { image: "web:eu-broken" } }];
    h.deployment.metadata.generation = 2;
    h.fleet.brokenRenderings.add("web:1,override web:eu-broken");
    const files = filesPerStep(h, 12, "5s");
    expect(files.every((f) => f["stage-1"] === "web:1")).toBe(true);
    expect(files[0]?.["prod-eu"]).toBe("web:1,override web:eu-broken");
    const last = h.plans.at(-1);
    // Rolled back in production; staging was never part of the update and is not touched.
    expect(last?.state.clusters.map((c) => [c.name, c.state])).toEqual([
      ["stage-1", "Completed"],
      ["prod-eu", "RolledBack"],
      ["prod-us", "RolledBack"],
    ]);
    expect(files.at(-1)).toEqual({ "stage-1": "web:1", "prod-eu": "web:1", "prod-us": "web:1" });
  });

  it("releases the clusters still waiting when the edit is undone, committing nothing for them", () => {
    const h = deployed();
    const v1 = h.deployment.spec.appRevisions[0];
    if (v1) v1.rollout = { ...v1.rollout, batches: [{ replicas: "100%", pause: true }] };
    setImage(h, "web:2");
    const first = h.step();
    expect(first.summary).toBe("v1 update (generation 2) in wave staging (stage-1)");
    h.run({ max: 3 });
    expect(h.plans.at(-1)?.waitingFor).toBe("promote");
    setImage(h, "web:1");
    const undone = h.step();
    // Staging gets web:1 again as a new update; production never held anything else.
    expect(undone.state.clusters.map((c) => [c.name, c.state])).toEqual([
      ["stage-1", "Progressing"],
      ["prod-eu", "Completed"],
      ["prod-us", "Completed"],
    ]);
    expect(undone.targets.filter((t) => t.keepFilesOf !== undefined)).toEqual([]);
    expect(h.fleet.files.get("stage-1")).toBe("web:1");
    expect(h.fleet.files.get("prod-eu")).toBe("web:1");
  });

  it("starts a batch of a new revision over when its rendering changes, and holds the waves not started", () => {
    const h = deployed();
    const v2 = aRevision("v2")
      .withComponent(aComponent("web").withSettings({ image: "web:v2" }))
      .build();
    v2.rollout = { replicas: 4, batches: [{ replicas: 1, pause: true }, { replicas: "100%" }] };
    h.deployment.spec.appRevisions.push(v2);
    h.deployment.metadata.generation = 2;
    h.run({ max: 3 });
    expect(h.plans.at(-1)?.waitingFor).toBe("promote");
    const prodBefore = h.fleet.files.get("prod-eu");
    // A definition change (here: the old revision's image, standing in for it) while staging is paused.
    const v1 = h.deployment.spec.appRevisions[0]?.template.spec.components[0];
    if (v1) v1.settings = { image: "web:1-patched" };
    const changed = h.step();
    expect(changed.summary).toBe("v2 batch 1/2 in wave staging (stage-1) applied again: generation 2 changed what it renders");
    expect(changed.state.clusters[0]).toMatchObject({ name: "stage-1", state: "Progressing", batch: 1 });
    expect(h.fleet.files.get("prod-eu")).toBe(prodBefore);
    expect(changed.targets.find((t) => t.cluster === "prod-eu")?.keepFilesOf).toBeDefined();
  });

  it("keeps every cluster's files while the deployment is suspended, and sends the edit through the waves on resume", () => {
    const h = deployed();
    h.deployment.spec.suspend = true;
    setImage(h, "web:2");
    const files = filesPerStep(h, 3);
    expect(files.every((f) => Object.values(f).every((image) => image === "web:1"))).toBe(true);
    h.deployment.spec.suspend = false;
    const resumed = h.step();
    expect(resumed.summary).toBe("v1 update (generation 2) in wave staging (stage-1)");
    expect(FLEET.map((c) => h.fleet.files.get(c.metadata.name))).toEqual(["web:2", "web:1", "web:1"]);
  });

  it("adopts the rendering of a rollout recorded before renderings were tracked, without an update", () => {
    const h = deployed();
    const previous = structuredClone(h.previous);
    for (const c of previous?.clusters ?? []) delete c.rendering;
    h.previous = previous;
    const plan = h.step();
    expect([plan.changed, plan.phase, plan.state.update]).toEqual([false, "Healthy", undefined]);
    expect(plan.state.clusters.map((c) => c.rendering)).toEqual(["web:1", "web:1", "web:1"]);
  });
});
