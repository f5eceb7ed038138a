// From the planner's per-cluster plan to what the renderer needs: the cluster's labels and version,
// the wave's overrides, the revisions and whether an autoscaler owns the replicas; and the full
// rollout plan `flotilla render` uses.

import { describe, expect, it } from "vitest";
import type { Cluster, ComponentOverride, PlacementStrategy } from "../../../src/api/types.js";
import type { Placement } from "../../../src/placement/select.js";
import type { PlannedTarget } from "../../../src/rollout/planner.js";
import { fullRolloutTargets, targetRevision, toRenderTargets } from "../../../src/rollout/targets.js";
import type { RenderTarget } from "../../../src/render/render.js";
import { aCluster, aComponent, aDeployment, aRevision, aWave } from "../builders.js";
import { place } from "../../../src/placement/select.js";

const WARN: ComponentOverride = { component: "backend", settings: { env: { LOG_LEVEL: "warn" } } };
const BIGGER: ComponentOverride = { component: "backend", traits: [{ name: "autoscaler", properties: { max: 20 } }] };

/** A placement with these waves, in order; each wave lists the clusters it selected. */
function placementOf(...waves: Array<{ name: string; strategy: PlacementStrategy; clusters: string[] }>): Placement {
  return { waves: waves.map((w, index) => ({ ...w, index })), decisions: [] };
}

/** The planner's step for one cluster: revisions as [name, replicas], oldest first. */
function planned(cluster: string, wave: string, revisions: Array<[string, number]>, released = false): PlannedTarget {
  return { cluster, wave, revisions: revisions.map(([name, replicas]) => ({ name, replicas })), releaseReplicasToAutoscaler: released };
}

const withoutLabels = (c: Cluster): Cluster => {
  delete c.metadata.labels;
  return c;
};

const staging = aCluster("staging-1").withLabel("usage", "staging").build();
const prodEu = aCluster("prod-eu").withLabel("usage", "production").withLabel("region", "eu").withVersion("v1.30.2").build();
const prodUs = aCluster("prod-us").withLabel("usage", "production").build();
const bare = withoutLabels(aCluster("bare").build());

const placement = placementOf(
  { name: "staging", strategy: aWave("staging").selectingLabel("usage", "staging").build(), clusters: ["staging-1"] },
  {
    name: "production",
    strategy: aWave("production").selectingLabel("usage", "production").withOverride(WARN).withOverride(BIGGER).build(),
    clusters: ["prod-eu", "prod-us"],
  },
);
const clusters = [staging, prodEu, prodUs, bare];

describe("toRenderTargets", () => {
  it.each<{ name: string; plan: PlannedTarget[]; expected: RenderTarget[] }>([
    {
      name: "gives a cluster its labels, its Kubernetes version and its wave's overrides",
      plan: [planned("prod-eu", "production", [["v2", 10]], true)],
      expected: [
        {
          cluster: { name: "prod-eu", labels: { usage: "production", region: "eu" }, version: "v1.30.2" },
          wave: "production",
          overrides: [WARN, BIGGER],
          revisions: [{ name: "v2", replicas: 10 }],
          releaseReplicasToAutoscaler: true,
        },
      ],
    },
    {
      name: "leaves out the version of a cluster that has not reported one",
      plan: [planned("prod-us", "production", [["v2", 10]])],
      expected: [
        {
          cluster: { name: "prod-us", labels: { usage: "production" } },
          wave: "production",
          overrides: [WARN, BIGGER],
          revisions: [{ name: "v2", replicas: 10 }],
          releaseReplicasToAutoscaler: false,
        },
      ],
    },
    {
      name: "leaves out overrides when the wave has none",
      plan: [planned("staging-1", "staging", [["v2", 3]])],
      expected: [
        {
          cluster: { name: "staging-1", labels: { usage: "staging" } },
          wave: "staging",
          revisions: [{ name: "v2", replicas: 3 }],
          releaseReplicasToAutoscaler: false,
        },
      ],
    },
    {
      name: "gives a cluster without labels an empty label map",
      plan: [planned("bare", "staging", [["v1", 1]])],
      expected: [{ cluster: { name: "bare", labels: {} }, wave: "staging", revisions: [{ name: "v1", replicas: 1 }], releaseReplicasToAutoscaler: false }],
    },
    {
      name: "keeps every revision of a cluster mid-rollout, oldest first, including one kept at 0 replicas for rollback",
      plan: [
        planned("staging-1", "staging", [
          ["v1", 0],
          ["v2", 2],
          ["v3", 1],
        ]),
      ],
      expected: [
        {
          cluster: { name: "staging-1", labels: { usage: "staging" } },
          wave: "staging",
          revisions: [
            { name: "v1", replicas: 0 },
            { name: "v2", replicas: 2 },
            { name: "v3", replicas: 1 },
          ],
          releaseReplicasToAutoscaler: false,
        },
      ],
    },
    {
      name: "gives no overrides for a wave the placement does not know",
      plan: [planned("prod-us", "canary", [["v2", 1]])],
      expected: [
        {
          cluster: { name: "prod-us", labels: { usage: "production" } },
          wave: "canary",
          revisions: [{ name: "v2", replicas: 1 }],
          releaseReplicasToAutoscaler: false,
        },
      ],
    },
    {
      name: "skips a planned cluster that is no longer known and keeps the others",
      plan: [planned("gone", "production", [["v2", 10]]), planned("staging-1", "staging", [["v2", 3]])],
      expected: [
        {
          cluster: { name: "staging-1", labels: { usage: "staging" } },
          wave: "staging",
          revisions: [{ name: "v2", replicas: 3 }],
          releaseReplicasToAutoscaler: false,
        },
      ],
    },
    {
      name: "keeps the planner's order, not the order of the clusters nor of their names",
      plan: [planned("prod-us", "production", [["v2", 1]]), planned("prod-eu", "production", [["v2", 2]])],
      expected: [
        {
          cluster: { name: "prod-us", labels: { usage: "production" } },
          wave: "production",
          overrides: [WARN, BIGGER],
          revisions: [{ name: "v2", replicas: 1 }],
          releaseReplicasToAutoscaler: false,
        },
        {
          cluster: { name: "prod-eu", labels: { usage: "production", region: "eu" }, version: "v1.30.2" },
          wave: "production",
          overrides: [WARN, BIGGER],
          revisions: [{ name: "v2", replicas: 2 }],
          releaseReplicasToAutoscaler: false,
        },
      ],
    },
    { name: "gives nothing for an empty plan", plan: [], expected: [] },
  ])("$name", ({ plan, expected }) => {
    // Strict: a key set to undefined (version, overrides) is not the same as a key left out.
    expect(toRenderTargets(plan, placement, clusters)).toStrictEqual(expected);
  });

  it("gives nothing when no planned cluster is known", () => {
    expect(toRenderTargets([planned("prod-eu", "production", [["v2", 10]])], placement, [])).toStrictEqual([]);
  });

  it("copies the revisions, so what the renderer does with them cannot change the plan", () => {
    const plan = [planned("prod-eu", "production", [["v2", 10]])];
    const [target] = toRenderTargets(plan, placement, clusters);
    expect(target?.revisions).not.toBe(plan[0]?.revisions);
    expect(target?.revisions[0]).not.toBe(plan[0]?.revisions[0]);
  });
});

const fullClusters = [
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
    .withRevision(
      aRevision("v2")
        .withReplicas(6)
        .withComponent(aComponent("backend").withSettings({ image: "v2" })),
    )
    .withWave(aWave("staging").selectingLabel("usage", "staging"))
    .withWave(
      aWave("production")
        .selectingLabel("usage", "production")
        .withOverride({ component: "backend", settings: { image: "prod" } }),
    )
    .build();

  it("puts the target revision at full replicas on every selected cluster, wave by wave", () => {
    const targets = fullRolloutTargets(deployment, place(deployment.spec.placementStrategies, fullClusters), fullClusters);
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
