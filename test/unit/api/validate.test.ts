import { describe, expect, it } from "vitest";
import { ValidationError } from "../../../src/api/errors.js";
import type { ApplicationDeployment } from "../../../src/api/types.js";
import { deploymentRuleProblems, objectRef, resolveBatchReplicas, resourceProblems, validateResource, waveName } from "../../../src/api/validate.js";
import { aCluster, aComponent, aDeployment, aRevision, aWave } from "../builders.js";

function withField(mutate: (d: Record<string, unknown>) => void): unknown {
  const d = aDeployment().build() as unknown as Record<string, unknown>;
  mutate(d);
  return d;
}

describe("resourceProblems (schema)", () => {
  it("accepts a minimal valid deployment", () => {
    expect(resourceProblems(aDeployment().build())).toEqual([]);
  });

  it("accepts a valid cluster", () => {
    expect(resourceProblems(aCluster("prod-eu").withLabel("usage", "production").build())).toEqual([]);
  });

  it("reports a wrong type with the dotted path, the value and a fix", () => {
    const doc = aDeployment().build() as unknown as { spec: { appRevisions: Array<{ rollout?: unknown }> } };
    doc.spec.appRevisions[0]!.rollout = { replicas: "ten" };
    const problems = resourceProblems(doc);
    expect(problems).toContainEqual({
      path: "spec.appRevisions[0].rollout.replicas",
      message: 'must be integer (got "ten")',
      fix: "Set it to a whole number such as 3.",
    });
  });

  it("names a missing required field by its full path", () => {
    const doc = withField((d) => {
      (d.spec as { appRevisions: Array<Record<string, unknown>> }).appRevisions[0]!.template = { spec: {} };
    });
    expect(resourceProblems(doc)).toContainEqual(expect.objectContaining({ path: "spec.appRevisions[0].template.spec.components", message: "is required" }));
  });

  it("lists the known fields when an unknown field is present", () => {
    const doc = withField((d) => {
      (d.spec as Record<string, unknown>).suspended = true;
    });
    const [problem] = resourceProblems(doc);
    expect(problem?.path).toBe("spec.suspended");
    expect(problem?.message).toBe("is not a known field");
    expect(problem?.fix).toContain("appRevisions, placementStrategies, suspend");
  });

  it("explains an invalid DNS label", () => {
    const doc = aDeployment().withRevision(aRevision("V_1")).build();
    const problems = resourceProblems(doc);
    expect(problems).toContainEqual(expect.objectContaining({ path: "spec.appRevisions[0].name", message: '"V_1" is not valid' }));
    expect(problems.find((p) => p.path === "spec.appRevisions[0].name")?.fix).toMatch(/DNS label/);
  });

  it("explains an invalid duration", () => {
    const doc = aDeployment()
      .withRevision(aRevision("v1").withReplicas(4).withBatches({ replicas: 1, wait: "soon" }))
      .build();
    expect(resourceProblems(doc)).toContainEqual(
      expect.objectContaining({ path: "spec.appRevisions[0].rollout.batches[0].wait", fix: expect.stringContaining('"30s"') }),
    );
  });

  it("reports an int-or-percent of the wrong form once, with a fix naming both forms", () => {
    const doc = aDeployment().withRevision(aRevision("v1").withReplicas(4).withBatches("half")).build();
    const problems = resourceProblems(doc).filter((p) => p.path === "spec.appRevisions[0].rollout.batches[0].replicas");
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toBe('has the wrong form (got "half")');
    expect(problems[0]?.fix).toContain('"50%"');
  });

  it("reports an enum violation with the allowed values", () => {
    const doc = aDeployment()
      .withWave(aWave("prod").matching("region", "Like" as "In", ["eu"]))
      .build();
    expect(resourceProblems(doc)).toContainEqual(
      expect.objectContaining({
        path: "spec.placementStrategies[0].clusterSelector.matchExpressions[0].operator",
        message: expect.stringContaining('"In", "NotIn", "Exists", "DoesNotExist"'),
      }),
    );
  });

  it("refuses a document that is not a mapping", () => {
    expect(resourceProblems([1, 2])).toEqual([expect.objectContaining({ path: "", message: "must be a mapping (got [1,2])" })]);
  });

  it("refuses an unknown kind and lists the Flotilla kinds", () => {
    const [problem] = resourceProblems({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } });
    expect(problem?.path).toBe("kind");
    expect(problem?.message).toBe('"ConfigMap" is not a Flotilla kind');
    expect(problem?.fix).toContain("ApplicationDeployment, ComponentDefinition, TraitDefinition, Cluster");
  });

  it("requires a metadata.name", () => {
    const doc = withField((d) => {
      d.metadata = {};
    });
    expect(resourceProblems(doc)).toContainEqual({ path: "metadata.name", message: "is required", fix: "Give the object a name." });
  });

  it("reports every problem, not just the first", () => {
    const doc = withField((d) => {
      (d.spec as Record<string, unknown>).suspend = "yes";
      (d.spec as Record<string, unknown>).extra = 1;
    });
    expect(
      resourceProblems(doc)
        .map((p) => p.path)
        .sort(),
    ).toEqual(["spec.extra", "spec.suspend"]);
  });
});

describe("deployment rules the schema cannot express", () => {
  const comp = (name: string) => aComponent(name).withSettings({ image: "x" });

  it.each<[string, ApplicationDeployment, string, string]>([
    [
      "a duplicate revision name",
      aDeployment().withRevision(aRevision("v1")).withRevision(aRevision("v1")).build(),
      "spec.appRevisions[1].name",
      'duplicate revision name "v1"',
    ],
    [
      "a duplicate component name",
      aDeployment()
        .withRevision(aRevision("v1").withComponent(comp("a")).withComponent(comp("a")))
        .build(),
      "spec.appRevisions[0].template.spec.components[1].name",
      'duplicate component name "a"',
    ],
    [
      "a trait attached twice",
      aDeployment()
        .withRevision(aRevision("v1").withComponent(comp("a").withTrait("autoscaler").withTrait("autoscaler")))
        .build(),
      "spec.appRevisions[0].template.spec.components[0].traits[1].name",
      'trait "autoscaler" is attached twice',
    ],
    [
      "a duplicate wave name",
      aDeployment().withWave(aWave("prod")).withWave(aWave("prod")).build(),
      "spec.placementStrategies[1].name",
      'duplicate wave name "prod"',
    ],
    [
      "an explicit wave name that collides with a default one",
      aDeployment().withWave(aWave("wave-2")).withWave(aWave()).build(),
      "spec.placementStrategies[1].name",
      'duplicate wave name "wave-2"',
    ],
    [
      "a batch larger than rollout.replicas",
      aDeployment().withRevision(aRevision("v1").withReplicas(10).withBatches(5, 12)).build(),
      "spec.appRevisions[0].rollout.batches[1].replicas",
      "12 is larger than rollout.replicas (10)",
    ],
    [
      "decreasing batches",
      aDeployment().withRevision(aRevision("v1").withReplicas(10).withBatches(6, "50%")).build(),
      "spec.appRevisions[0].rollout.batches[1].replicas",
      "batches must not decrease (5 after 6)",
    ],
    [
      "a percentage above 100%",
      aDeployment().withRevision(aRevision("v1").withReplicas(10).withBatches("150%")).build(),
      "spec.appRevisions[0].rollout.batches[0].replicas",
      '"150%" is more than 100%',
    ],
    [
      "a wave's batch larger than the target revision's replicas",
      aDeployment()
        .withRevision(aRevision("v1").withReplicas(4))
        .withWave(aWave("staging"))
        .withWave({ ...aWave("production").build(), batches: [{ replicas: 2 }, { replicas: 6 }] })
        .build(),
      "spec.placementStrategies[1].batches[1].replicas",
      "6 is larger than rollout.replicas (4)",
    ],
    [
      "a wave's batches that shrink",
      aDeployment()
        .withRevision(aRevision("v1").withReplicas(4))
        .withWave({ ...aWave("production").build(), batches: [{ replicas: "75%" }, { replicas: 1 }] })
        .build(),
      "spec.placementStrategies[0].batches[1].replicas",
      "batches must not decrease (1 after 3)",
    ],
    [
      "an override naming an unknown component",
      aDeployment()
        .withWave(aWave("prod").withOverride({ component: "frontend", settings: { image: "y" } }))
        .build(),
      "spec.placementStrategies[0].overrides[0].component",
      '"frontend" is not a component of the target revision',
    ],
  ])("reports %s", (_what, deployment, path, message) => {
    const problems = resourceProblems(deployment);
    expect(problems).toContainEqual(expect.objectContaining({ path, message }));
    expect(problems.every((p) => p.fix !== undefined)).toBe(true);
  });

  it("lists the target revision's components when an override names an unknown one", () => {
    const d = aDeployment()
      .withRevision(aRevision("v1").withComponent(comp("backend")).withComponent(comp("frontend")))
      .withWave(aWave("prod").withOverride({ component: "db" }))
      .build();
    expect(deploymentRuleProblems(d)[0]?.fix).toBe("Use one of backend, frontend.");
  });

  it("checks overrides against the target (last) revision only", () => {
    const d = aDeployment()
      .withRevision(aRevision("v1").withComponent(comp("old")))
      .withRevision(aRevision("v2").withComponent(comp("new")))
      .withWave(aWave("prod").withOverride({ component: "old" }))
      .build();
    expect(deploymentRuleProblems(d).map((p) => p.path)).toEqual(["spec.placementStrategies[0].overrides[0].component"]);
  });

  it.each([
    [[1, "50%", "100%"], 10],
    [[1, 1, 10], 10],
    [["10%", 2], 10],
    [[0, "100%"], 4],
  ])("accepts growing batches %j for %i replicas", (batches, replicas) => {
    const d = aDeployment()
      .withRevision(
        aRevision("v1")
          .withReplicas(replicas)
          .withBatches(...batches),
      )
      .build();
    expect(resourceProblems(d)).toEqual([]);
  });

  it("throws a ValidationError naming the object from validateResource", () => {
    const d = aDeployment().withRevision(aRevision("v1")).withRevision(aRevision("v1")).build();
    let caught: unknown;
    try {
      validateResource(d);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect((caught as ValidationError).object).toBe("ApplicationDeployment/team-a/example-deploy");
    expect((caught as ValidationError).path).toBe("spec.appRevisions[1].name");
  });

  it("returns the document from validateResource when it is valid", () => {
    const d = aDeployment().build();
    expect(validateResource(d)).toBe(d);
  });
});

describe("helpers", () => {
  it.each([
    [5, 10, 5],
    ["50%", 10, 5],
    ["10%", 5, 1],
    ["33%", 10, 4],
    ["100%", 7, 7],
    ["0%", 7, 0],
  ] as const)("resolves batch replicas %j of %i to %i (rounded up)", (value, total, expected) => {
    expect(resolveBatchReplicas(value, total)).toBe(expected);
  });

  it.each([
    [0, undefined, "wave-1"],
    [2, undefined, "wave-3"],
    [0, "prod", "prod"],
  ] as const)("names wave %i with name %s as %s", (index, name, expected) => {
    expect(waveName(index, name)).toBe(expected);
  });

  it.each([
    [{ kind: "Cluster", metadata: { name: "prod-eu" } }, "Cluster/prod-eu"],
    [{ kind: "ApplicationDeployment", metadata: { name: "a", namespace: "ns" } }, "ApplicationDeployment/ns/a"],
    [null, "Object/<unnamed>"],
  ])("describes %j as %s", (doc, expected) => {
    expect(objectRef(doc)).toBe(expected);
  });
});
