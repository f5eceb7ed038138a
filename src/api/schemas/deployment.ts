// The schema of ApplicationDeployment.spec: revisions of the application (components and
// traits), how the newest one rolls out (batches, analysis, deadline, rollback) and where
// (placement waves, overrides, distribution). Every description says what the code does with
// the field (src/render, src/rollout, src/placement), defaults included.

import { dnsLabel, duration, freeForm, intOrPercent, labelRequirement, type Schema } from "./common.js";

/** A list of traits: a component's own, a wave's override of them, or a component type's defaults. */
export function traits(description: string, item: { description: string; name: string; properties: string }): Schema {
  return {
    type: "array",
    description,
    items: {
      type: "object",
      required: ["name"],
      additionalProperties: false,
      description: item.description,
      properties: {
        name: { type: "string", minLength: 1, description: item.name },
        properties: freeForm(item.properties),
      },
    },
  };
}

const component: Schema = {
  type: "object",
  required: ["name", "type"],
  additionalProperties: false,
  description: "One component: a workload of a ComponentDefinition type, its settings and the traits attached to it.",
  properties: {
    name: dnsLabel(
      "Name of the component, unique in the revision. Per-revision objects are named <component>-<revision> and every rendered object is labelled flotilla.dev/component with it; placementStrategies[].overrides[].component refers to it.",
    ),
    type: {
      type: "string",
      minLength: 1,
      description:
        "Name of the ComponentDefinition on the hub (e.g. webservice, worker) that renders this component. An unknown type stops the deployment with Rendered=False, listing the known types.",
    },
    settings: freeForm(
      "Parameters of the component, validated against the ComponentDefinition's spec.schema (whose defaults are filled in) and read by its template as settings. A wave's overrides deep-merge into them.",
    ),
    traits: traits(
      "Traits attached to the component, each TraitDefinition at most once. Their patches are merged into the workload in list order (a TraitDefinition with order: last after all the others), after the component type's defaultTraits; each is checked against the trait's appliesTo and conflictsWith.",
      {
        description: "One trait attached to the component.",
        name: "Name of the TraitDefinition on the hub (e.g. autoscaler, expose).",
        properties:
          "Parameters of the trait, validated against the TraitDefinition's spec.schema (whose defaults are filled in) and read by its patch and outputs templates as properties.",
      },
    ),
  },
};

/** Cumulative batches of a rollout (a revision's, or a wave's own). */
function batches(description: string): Schema {
  return {
    type: "array",
    minItems: 1,
    description,
    items: {
      type: "object",
      required: ["replicas"],
      additionalProperties: false,
      description:
        "One batch: the target revision's replicas per cluster once it is applied. After a batch the planner waits until the target is synced and healthy, then soaks for wait, then runs the analysis, then with pause waits for a promote.",
      properties: {
        replicas: intOrPercent(
          "Cumulative replicas of the target revision in each cluster at this batch: a count, or a percentage (e.g. 50%, rounded up) of the cluster's total, which is rollout.replicas or, with distribution Divided, the cluster's share. Must not decrease from one batch to the next nor exceed rollout.replicas or 100%. Older revisions are scaled down, the oldest first, so the cluster never runs more than its total.",
        ),
        pause: {
          type: "boolean",
          description:
            "Wait after this batch (once healthy, soaked and analysed) until the deployment is annotated flotilla.dev/promote=true (flotilla rollout promote). Pauses every cluster that passes this batch, in every wave using these batches. Default false.",
        },
        wait: duration(
          "Soak time after the batch is healthy, before the analysis and the next batch; the target must stay healthy throughout (and the analysis's failureCondition must not hold). Default: no soak.",
        ),
      },
    },
  };
}

const rollout: Schema = {
  type: "object",
  additionalProperties: false,
  description:
    "How this revision is rolled out when it is the target (the last of appRevisions): the replicas per cluster, the batches, the analysis gate, the deadline and rollback. Ignored, though still validated, on older revisions.",
  properties: {
    replicas: {
      type: "integer",
      minimum: 0,
      description:
        "Replicas of this revision in each cluster once fully rolled out (with a wave's distribution mode Divided, the total split across the wave's clusters). Written at the ComponentDefinition's replicasPath; a change applies at once, not batch by batch. Default 1.",
    },
    batches: batches(
      "Steps in which the target revision replaces the older ones in each cluster, with cumulative replica counts. Default: one batch of 100%. A wave with its own placementStrategies[].batches uses those instead. A change of the running revision (an in-place update) moves each cluster at once with the last batch's wait and pause.",
    ),
    analysis: {
      type: "object",
      additionalProperties: false,
      description:
        "An optional gate, checked in each cluster after every batch (once healthy and soaked): CEL expressions over revision (name, replicas, readyReplicas, restarts of the target in that cluster), clusters (the wave's clusters with name, health, replicas, readyReplicas), cluster, batch, batches, elapsed (whole seconds since the batch was applied) and wave. An expression that does not compile or does not return a bool fails the batch.",
      properties: {
        successCondition: {
          type: "string",
          description:
            "CEL expression returning a bool; the batch passes once it is true and failureCondition is false, e.g. revision.readyReplicas == revision.replicas. Without it the batch passes as soon as failureCondition is false. Until it holds the batch waits, up to progressDeadline when one is set.",
        },
        failureCondition: {
          type: "string",
          description:
            "CEL expression returning a bool, evaluated before successCondition and also during the soak; when true the rollout fails (and rolls back with autoRollback), e.g. revision.restarts > 3.",
        },
        interval: duration("How often the conditions are evaluated again while successCondition does not hold yet. Default 10s."),
      },
    },
    progressDeadline: duration(
      "How long a batch may take, counted from when it is applied (its soak included), to become healthy and, with an analysis, to pass it. Past it the rollout fails (and rolls back with autoRollback). The count starts again when a suspended target workload is resumed. Default: no deadline, a batch may wait forever.",
    ),
    autoRollback: {
      type: "boolean",
      description:
        "On failure, scale the target back to its count before the rollout and restore the older revisions in every cluster the rollout reached (for an in-place update, restore the files Git held before); later waves are never touched. When false the failed cluster stays where it stopped until flotilla.dev/retry, flotilla.dev/abort or a newer revision. Default false.",
    },
  },
};

const appRevision: Schema = {
  type: "object",
  required: ["name", "template"],
  additionalProperties: false,
  description: "One revision of the application: what it runs (template) and how it is rolled out when it is the newest (rollout).",
  properties: {
    name: dnsLabel(
      "Name of the revision, unique in appRevisions. Per-revision objects are named <component>-<revision> and labelled flotilla.dev/revision with it; a new name in the last position starts a new rollout.",
    ),
    template: {
      type: "object",
      required: ["spec"],
      additionalProperties: false,
      description: "The application as of this revision. Editing it once deployed is an in-place update, moved through the waves cluster by cluster.",
      properties: {
        spec: {
          type: "object",
          required: ["components"],
          additionalProperties: false,
          description: "The application's specification in this revision.",
          properties: {
            components: {
              type: "array",
              minItems: 1,
              description: "The components of the application, each rendered into its workload and the other objects of its definition and traits.",
              items: component,
            },
          },
        },
      },
    },
    rollout,
  },
};

const clusterSelector: Schema = {
  type: "object",
  additionalProperties: false,
  description:
    "Which registered Clusters the wave selects: a cluster must pass every criterion given (names, labels, matchExpressions, condition). Omitted: every Cluster. A cluster that matches several waves belongs to the first; status.placement gives the reason for every cluster.",
  properties: {
    labels: {
      type: "object",
      description: "Labels the Cluster must carry (metadata.labels), each with exactly this value.",
      additionalProperties: { type: "string", description: "The value the Cluster's label of this key must have." },
    },
    matchExpressions: {
      type: "array",
      description: "Label requirements, as in a Kubernetes label selector; all must hold.",
      items: labelRequirement("One requirement on a Cluster label.", "The values for In and NotIn; ignored by Exists and DoesNotExist."),
    },
    names: {
      type: "array",
      description: "Names of Clusters (metadata.name); a Cluster not listed is not selected.",
      items: { type: "string", description: "The name of a Cluster." },
    },
    condition: {
      type: "string",
      description:
        'CEL expression returning a bool over cluster (name, labels, annotations, spec, status, version), e.g. cluster.labels["tier"] != "edge". A cluster for which it cannot be evaluated (a missing label) is not selected, with the reason in status.placement.',
    },
  },
};

const override: Schema = {
  type: "object",
  required: ["component"],
  additionalProperties: false,
  description: "Changes to one component in this wave's clusters, applied to every revision rendered there.",
  properties: {
    component: { type: "string", description: "Name of the component to change; it must be a component of the target (last) revision." },
    settings: freeForm(
      "Settings deep-merged into the component's settings in this wave (maps merge key by key; lists and other values replace), before they are validated against the definition's schema.",
    ),
    traits: traits(
      "Traits merged by name into the component's traits in this wave: an attached trait's properties are deep-merged with these; a trait the component does not have is added.",
      {
        description: "One trait to change or add in this wave.",
        name: "Name of the TraitDefinition: a trait already attached to the component, or one to add.",
        properties:
          "Properties deep-merged into the attached trait's properties (maps merge key by key; lists and other values replace), or the properties of the added trait.",
      },
    ),
  },
};

const placementStrategy: Schema = {
  type: "object",
  additionalProperties: false,
  description: "One wave: the clusters it selects and how the rollout moves through them.",
  properties: {
    name: dnsLabel(
      "Name of the wave, unique in placementStrategies; shown in status, commit messages and flotilla status, and read by templates as context.wave. Default wave-<n>, n being the 1-based position in the list.",
    ),
    clusterSelector,
    maxConcurrency: {
      type: "integer",
      minimum: 1,
      description: "How many clusters of the wave may be in the middle of a rollout at once; the others wait for one to complete. Default: all of them.",
    },
    batches: batches(
      "The batches of this wave's clusters, replacing the target revision's rollout.batches there (same form, counted against the target revision's rollout.replicas), e.g. a canary with a pause in staging and one step per cluster in production. Default: the target revision's batches.",
    ),
    overrides: {
      type: "array",
      description:
        "Per-wave changes to components, applied when rendering for this wave's clusters. A change of overrides is rolled out through the waves like an edit of the revision.",
      items: override,
    },
    distribution: {
      type: "object",
      required: ["mode"],
      additionalProperties: false,
      description: "How the target revision's rollout.replicas are spread over the wave's clusters. Default: mode Duplicated.",
      properties: {
        mode: {
          type: "string",
          enum: ["Duplicated", "Divided"],
          description:
            "Duplicated: every cluster runs rollout.replicas. Divided: rollout.replicas is split across the wave's clusters in proportion to weights (largest remainders first, ties by cluster name), so the counts add up to it.",
        },
        weights: {
          type: "object",
          description:
            "For mode Divided: weight of each cluster by Cluster name. A cluster without a weight counts 1; when every weight is 0 the split is even.",
          additionalProperties: { type: "integer", minimum: 0, description: "The weight of the Cluster of this name." },
        },
      },
    },
  },
};

export const applicationDeploymentSpecSchema: Schema = {
  type: "object",
  required: ["appRevisions"],
  additionalProperties: false,
  description: "The desired state: the revisions of the application, the waves of clusters to roll them out to, and whether delivery is suspended.",
  properties: {
    appRevisions: {
      type: "array",
      minItems: 1,
      description:
        "Revisions of the application, oldest first; the last is the target revision, rolled out to replace the others. Older revisions scaled to 0 stay deployed while listed (for a fast rollback) and are pruned once removed from the list.",
      items: appRevision,
    },
    placementStrategies: {
      type: "array",
      description:
        "Waves of clusters, rolled out in list order: a wave starts when every cluster of the waves before it has completed. Default: one wave, wave-1, selecting every registered Cluster.",
      items: placementStrategy,
    },
    suspend: {
      type: "boolean",
      description:
        "Stop delivery: the rollout pauses (phase Paused), every cluster keeps its files in Git as they are (an edit waits until resumed), and the sync loop neither applies, prunes nor corrects drift of this deployment's objects. Time suspended does not count against soaks and deadlines. Default false.",
    },
  },
};
