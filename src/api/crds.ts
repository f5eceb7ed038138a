// CustomResourceDefinitions generated from the API's JSON Schemas (one source of truth).
// Turns each schema into a structural OpenAPI v3 schema: `additionalProperties: false` and
// `const` are JSON Schema only, int-or-string becomes the Kubernetes marker, and free-form data
// keeps `x-kubernetes-preserve-unknown-fields`. Descriptions are kept everywhere: they are what
// `kubectl explain` shows.

import { GROUP, VERSION } from "./labels.js";
import { type FlotillaKind, schemas } from "./schemas.js";

type Schema = Record<string, unknown>;

function descriptionOf(node: Schema | undefined): Schema {
  return typeof node?.description === "string" ? { description: node.description } : {};
}

/** Convert one JSON Schema node into a structural CRD schema node. */
export function toStructural(node: Schema): Schema {
  if (node["x-kubernetes-int-or-string"]) return { "x-kubernetes-int-or-string": true, ...descriptionOf(node) };
  const out: Schema = {};
  for (const [key, value] of Object.entries(node)) {
    switch (key) {
      case "additionalProperties":
        if (value && typeof value === "object") out[key] = toStructural(value as Schema);
        break; // `false` is not allowed in structural schemas: unknown fields are pruned instead
      case "const":
        out.enum = [value];
        break;
      case "properties": {
        const props: Schema = {};
        for (const [name, child] of Object.entries(value as Record<string, Schema>)) props[name] = toStructural(child);
        out.properties = props;
        break;
      }
      case "items":
        out.items = toStructural(value as Schema);
        break;
      default:
        out[key] = value;
    }
  }
  return out;
}

interface CrdInfo {
  kind: FlotillaKind;
  plural: string;
  scope: "Namespaced" | "Cluster";
  shortNames: string[];
  columns: Array<{ name: string; type: string; jsonPath: string; description?: string; priority?: number }>;
  /** Without a status subresource the writer sets spec and status in one request. Default true. */
  statusSubresource?: boolean;
}

const AGE = { name: "AGE", type: "date", jsonPath: ".metadata.creationTimestamp" };

const CRDS: CrdInfo[] = [
  {
    kind: "ApplicationDeployment",
    plural: "applicationdeployments",
    scope: "Namespaced",
    shortNames: ["appdeploy", "ad"],
    columns: [
      { name: "PHASE", type: "string", jsonPath: ".status.phase", description: "Pending, Progressing, Paused, Healthy, Degraded or Failed" },
      { name: "TARGET", type: "string", jsonPath: ".status.targetRevision", description: "The revision being rolled out" },
      { name: "STABLE", type: "string", jsonPath: ".status.stableRevision", description: "The last revision that completed everywhere" },
      { name: "PROGRESS", type: "string", jsonPath: ".status.progress", description: "Wave and batch of the rollout" },
      { name: "READY", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "The Ready condition: True, False or Unknown" },
      { name: "MESSAGE", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].message', description: "Why the deployment is or is not Ready" },
      AGE,
    ],
  },
  {
    kind: "ComponentDefinition",
    plural: "componentdefinitions",
    scope: "Cluster",
    shortNames: ["compdef"],
    columns: [
      { name: "WORKLOAD", type: "string", jsonPath: ".spec.workload.kind" },
      { name: "DESCRIPTION", type: "string", jsonPath: ".metadata.annotations.flotilla\\.dev/description" },
      AGE,
    ],
  },
  {
    kind: "TraitDefinition",
    plural: "traitdefinitions",
    scope: "Cluster",
    shortNames: ["traitdef"],
    columns: [
      { name: "APPLIES-TO", type: "string", jsonPath: ".spec.appliesTo" },
      { name: "DESCRIPTION", type: "string", jsonPath: ".metadata.annotations.flotilla\\.dev/description" },
      AGE,
    ],
  },
  {
    kind: "Cluster",
    plural: "clusters",
    scope: "Cluster",
    shortNames: ["fcluster"],
    columns: [
      { name: "READY", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: "VERSION", type: "string", jsonPath: ".status.version" },
      { name: "MODE", type: "string", jsonPath: ".spec.mode" },
      { name: "PAUSED", type: "boolean", jsonPath: ".spec.paused" },
      AGE,
    ],
  },
  {
    kind: "SyncReport",
    plural: "syncreports",
    scope: "Namespaced",
    shortNames: ["syncreport"],
    statusSubresource: false,
    columns: [
      { name: "CLUSTER", type: "string", jsonPath: ".spec.cluster" },
      { name: "DEPLOYMENT", type: "string", jsonPath: ".spec.deployment" },
      { name: "HEALTH", type: "string", jsonPath: ".status.deployment.health" },
      { name: "COMMIT", type: "string", jsonPath: ".status.deployment.commit" },
      { name: "APPLIED", type: "string", jsonPath: ".status.agent.appliedCommit" },
      AGE,
    ],
  },
  {
    kind: "GitSource",
    plural: "gitsources",
    scope: "Namespaced",
    shortNames: ["gitsrc"],
    columns: [
      { name: "URL", type: "string", jsonPath: ".spec.url", description: "The repository" },
      { name: "REF", type: "string", jsonPath: ".spec.ref.*", description: "The branch, tag or commit followed (empty: branch main)" },
      { name: "APPLIED", type: "string", jsonPath: ".status.appliedCommit", description: "The last commit applied" },
      { name: "READY", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "The Ready condition: True, False or Unknown" },
      {
        name: "MESSAGE",
        type: "string",
        jsonPath: '.status.conditions[?(@.type=="Ready")].message',
        description: "Why the source is or is not Ready",
        priority: 1,
      },
      AGE,
    ],
  },
  {
    kind: "TenantPolicy",
    plural: "tenantpolicies",
    scope: "Cluster",
    shortNames: ["tp"],
    columns: [
      { name: "NAMESPACES", type: "integer", jsonPath: ".status.namespaceCount", description: "How many namespaces the policy governs now" },
      { name: "CLUSTERS", type: "integer", jsonPath: ".status.clusterCount", description: "How many registered Clusters it lets them use" },
      { name: "OF", type: "integer", jsonPath: ".status.clusterTotal", description: "How many Clusters are registered" },
      { name: "NAMES", type: "string", jsonPath: ".spec.namespaces.names", description: "The namespaces named", priority: 1 },
      { name: "SELECTOR", type: "string", jsonPath: ".spec.namespaces.selector", description: "The namespaces selected by label", priority: 1 },
      {
        name: "CLUSTER-SELECTOR",
        type: "string",
        jsonPath: ".spec.clusters",
        description: "The Clusters the namespaces may place onto (empty: any)",
        priority: 1,
      },
      AGE,
    ],
  },
  {
    kind: "Notification",
    plural: "notifications",
    scope: "Namespaced",
    shortNames: ["ntf"],
    columns: [
      { name: "EVENTS", type: "string", jsonPath: ".spec.events", description: "The events sent" },
      { name: "FORMAT", type: "string", jsonPath: ".spec.webhook.format", description: "json (empty), slack or teams" },
      { name: "READY", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', description: "The Ready condition: True, False or Unknown" },
      { name: "DELIVERED", type: "integer", jsonPath: ".status.delivered", description: "Events the receiver accepted" },
      { name: "FAILED", type: "integer", jsonPath: ".status.failed", description: "Failed delivery attempts" },
      {
        name: "MESSAGE",
        type: "string",
        jsonPath: '.status.conditions[?(@.type=="Ready")].message',
        description: "Why the Notification is or is not Ready",
        priority: 1,
      },
      AGE,
    ],
  },
];

function rootSchema(kind: FlotillaKind): Schema {
  const structural = toStructural(schemas[kind] as Schema);
  // apiVersion, kind and metadata are the API server's business; only spec is ours to require.
  structural.required = ["spec"];
  const props = structural.properties as Record<string, Schema>;
  props.apiVersion = { type: "string", ...descriptionOf(props.apiVersion) };
  props.kind = { type: "string", ...descriptionOf(props.kind) };
  props.metadata = { type: "object" };
  return structural;
}

/** The CRD objects, in a stable order. */
export function customResourceDefinitions(): Array<Record<string, unknown>> {
  return CRDS.map((info) => ({
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${info.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: info.plural,
        singular: info.kind.toLowerCase(),
        shortNames: info.shortNames,
        categories: ["flotilla"],
      },
      scope: info.scope,
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          ...(info.statusSubresource === false ? {} : { subresources: { status: {} } }),
          additionalPrinterColumns: info.columns,
          schema: { openAPIV3Schema: rootSchema(info.kind) },
        },
      ],
    },
  }));
}

/** File name of each CRD under `crds/`. */
export function crdFileName(crd: Record<string, unknown>): string {
  return `${(crd.metadata as { name: string }).name}.yaml`;
}
