import { describe, expect, it } from "vitest";
import { place } from "../../../src/placement/select.js";
import { fullRolloutTargets, targetRevision } from "../../../src/rollout/full.js";
import { aCluster, aComponent, aDeployment, aRevision, aWave } from "../builders.js";

const clusters = [
  aCluster("staging").withLabel("usage", "staging").build(),
  aCluster("prod-eu").withLabel("usage", "production").withVersion("v1.20.2").build(),
  aCluster("prod-us").withLabel("usage", "production").build(),
];

describe("targetRevision", () => {
  it("is the last revision with its rollout replicas", () => {
    const d = aDeployment().withRevision(aRevision("v1").withReplicas(10)).withRevision(aRevision("v2").withReplicas(4)).build();
    expect(targetRevision(d)).toEqual({ name: "v2", replicas: 4 });
  });

  it("defaults to one replica", () => {
    expect(targetRevision(aDeployment().withRevision(aRevision("v1")).build())).toEqual({ name: "v1", replicas: 1 });
  });

  it("refuses a deployment without revisions", () => {
    const d = aDeployment().build();
    d.spec.appRevisions = [];
    expect(() => targetRevision(d)).toThrow(/spec.appRevisions is empty/);
  });
});

describe("fullRolloutTargets", () => {
  const deployment = aDeployment()
    .withRevision(aRevision("v1").withReplicas(10))
    .withRevision(aRevision("v2").withReplicas(6).withComponent(aComponent("backend").withSettings({ image: "v2" })))
    .withWave(aWave("staging").selectingLabel("usage", "staging"))
    .withWave(aWave("production").selectingLabel("usage", "production").withOverride({ component: "backend", settings: { image: "prod" } }))
    .build();

  it("puts the target revision at full replicas on every selected cluster, wave by wave", () => {
    const targets = fullRolloutTargets(deployment, place(deployment.spec.placementStrategies, clusters), clusters);
    expect(targets).toEqual([
      { cluster: { name: "staging", labels: { usage: "staging" } }, wave: "staging", revisions: [{ name: "v2", replicas: 6 }] },
      {
        cluster: { name: "prod-eu", labels: { usage: "production" }, version: "v1.20.2" },
        wave: "production",
        overrides: [{ component: "backend", settings: { image: "prod" } }],
        revisions: [{ name: "v2", replicas: 6 }],
      },
      {
        cluster: { name: "prod-us", labels: { usage: "production" } },
        wave: "production",
        overrides: [{ component: "backend", settings: { image: "prod" } }],
        revisions: [{ name: "v2", replicas: 6 }],
      },
    ]);
  });

  it("leaves out clusters that no wave selected", () => {
    const edge = [aCluster("edge-1").withLabel("usage", "edge").build()];
    expect(fullRolloutTargets(deployment, place(deployment.spec.placementStrategies, edge), edge)).toEqual([]);
  });
});
