// The schemas of ComponentDefinition.spec and TraitDefinition.spec: what a platform team
// publishes so that developers can write `type: worker` or attach `autoscaler`. The descriptions
// follow the compiler (src/definitions/compile.ts) and the renderer (src/render/render.ts).

import { freeForm, type Schema } from "./common.js";
import { traits } from "./deployment.js";

const HEALTH_RULE =
  "The expression sees the live object's fields at top level (metadata, spec, status): true is Healthy, false or an error (e.g. a field not written yet) is Progressing, and so is a status whose observedGeneration is older than metadata.generation.";

export const componentDefinitionSpecSchema: Schema = {
  type: "object",
  required: ["workload", "template"],
  additionalProperties: false,
  description: "What a component of this type is: the schema of its settings, the template that renders it, its workload kind and how its health is judged.",
  properties: {
    workload: {
      type: "object",
      required: ["apiVersion", "kind"],
      additionalProperties: false,
      description:
        "The kind of the workload, the first object the template returns. Its group and kind must match what the template renders (the version may differ, e.g. batch/v1beta1 on an old cluster); traits' appliesTo is checked against the rendered workload.",
      properties: {
        apiVersion: { type: "string", minLength: 1, description: "API group and version of the workload, e.g. apps/v1 (v1 for the core group)." },
        kind: { type: "string", minLength: 1, description: "Kind of the workload, e.g. Deployment; * accepts any kind. Shown in the WORKLOAD column." },
      },
    },
    replicasPath: {
      type: "string",
      pattern: "^[A-Za-z0-9_]+(\\.[A-Za-z0-9_]+)*$",
      description:
        "Dotted path in the workload (e.g. spec.replicas) where each revision's replica count is written, as the rollout planner sets it. Omit it for workloads that do not scale (Jobs, DaemonSets): their replica counts are then not written. Once a rollout is complete, a count that an autoscaler trait owns is not corrected as drift.",
    },
    schema: freeForm(
      "JSON Schema (draft-07, as ajv reads it) of the components' settings: settings are validated against it, with errors naming the field path, and its defaults are filled in before the template runs. Omitted: any settings are accepted.",
    ),
    template: {
      type: "string",
      minLength: 1,
      description:
        "JSONata expression with the input {settings, context} that returns one object or an array of them; the first is the workload. context holds appName, namespace, component, revision, name (<component>-<revision>), replicas, cluster (name, labels, version), wave, labels, selectorLabels and componentSelectorLabels. Objects whose name starts with context.name belong to each revision, the others are shared by all revisions of the component.",
    },
    health: {
      type: "string",
      description: `CEL expression judging the health of the live workload, e.g. status.availableReplicas >= spec.replicas. ${HEALTH_RULE} Omitted: the built-in rule for the workload's kind.`,
    },
    defaultTraits: traits(
      "Traits every component of this type gets, as if listed first in its traits (e.g. security-context with profile restricted, set once by the platform team). A component's own trait of the same name merges its properties over the default's (maps deep-merge, other values replace, as a wave override does); a wave override merges over both. A name that is no installed TraitDefinition makes this definition broken.",
      {
        description: "One trait every component of this type gets.",
        name: "Name of the TraitDefinition.",
        properties: "The trait's properties, validated against its schema (with the component's own properties merged over them) when a component is rendered.",
      },
    ),
  },
};

export const traitDefinitionSpecSchema: Schema = {
  type: "object",
  additionalProperties: false,
  description: "What a trait of this name does to a component: patch its workload, add objects next to it, or both.",
  properties: {
    appliesTo: {
      type: "array",
      description:
        "Workloads the trait may be attached to, matched against the rendered workload; attaching it to another is an error naming the field. Default: any workload. Shown in the APPLIES-TO column.",
      items: {
        type: "string",
        minLength: 1,
        description:
          "A workload as group/version/Kind (e.g. apps/v1/Deployment, v1/Pod), a bare Kind, group/version/* for every kind of an API version, or * for any.",
      },
    },
    conflictsWith: {
      type: "array",
      description: "Traits that may not be attached to the same component as this one; attaching both is an error. Declaring it on one of the two is enough.",
      items: { type: "string", description: "The name of a TraitDefinition." },
    },
    schema: freeForm(
      "JSON Schema (draft-07, as ajv reads it) of the trait's properties: properties are validated against it, with errors naming the field path, and its defaults are filled in before the templates run. Omitted: any properties are accepted.",
    ),
    patch: {
      type: "string",
      description:
        "JSONata expression with the input {properties, context, workload} whose result is merged into the workload: maps deep-merge, lists of objects that all have a name (containers, env, volumes, ports) merge by name, other lists replace, and null deletes a field.",
    },
    workloadPatch: {
      type: "string",
      enum: ["json-patch", "json-merge-patch"],
      description:
        "Makes the trait a raw patch of the workload, applied after every patch of the component's other traits (whatever their position in the list; several such traits apply in the order listed). json-patch: properties.operations is an RFC 6902 JSON Patch (add, remove, replace, move, copy, test), applied all or nothing. json-merge-patch: the properties are an RFC 7386 merge patch (maps merge, everything else replaces, null deletes). The schema may narrow what the patch can touch; the result is checked like any rendered object, and the workload's apiVersion, kind and name cannot change. Such a trait has no patch or outputs.",
    },
    outputs: {
      type: "string",
      description:
        "JSONata expression with the input {properties, context, workload} that returns extra objects, one or an array (e.g. a Service, an Ingress, a HorizontalPodAutoscaler). With a HorizontalPodAutoscaler among them, the workload's replica count is left to it once the rollout is complete (not corrected as drift).",
    },
    scope: {
      type: "string",
      enum: ["revision", "component"],
      description:
        "revision: the outputs belong to each revision (name them after context.name). component: one copy of the outputs is shared by all revisions of the component, rendered from the newest, and context.selectorLabels selects every revision (e.g. a Service balancing across both revisions of a rollout). Default revision.",
    },
    order: {
      type: "string",
      enum: ["listed", "last"],
      description:
        "When the trait's patch and outputs run. listed: in the order of the component's traits. last: after every listed trait (in listed order among the last ones), so it sees the final workload, e.g. the containers that sidecar and init-container traits added. Default listed.",
    },
    health: {
      type: "string",
      description: `CEL expression judging the health of each object the outputs render. ${HEALTH_RULE} Omitted: the built-in rule for each object's kind.`,
    },
  },
};
