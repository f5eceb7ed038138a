// The schema of TenantPolicy: written by the platform team, it says for the namespaces it matches
// which Clusters their deployments may place onto and which kinds they may render
// (src/tenancy/policy.ts). Several policies matching one namespace intersect; with none, a
// namespace may do what it could before policies existed.

import { labelRequirement, type Schema } from "./common.js";

const str = (description: string): Schema => ({ type: "string", description });

/** A Kubernetes label selector, as Kubernetes' own `metav1.LabelSelector`. */
function labelSelector(description: string, what: string): Schema {
  return {
    type: "object",
    additionalProperties: false,
    description,
    properties: {
      matchLabels: {
        type: "object",
        description: `Labels the ${what} must carry, each with exactly this value.`,
        additionalProperties: { type: "string", description: `The value the ${what}'s label of this key must have.` },
      },
      matchExpressions: {
        type: "array",
        description: `Label requirements on the ${what}; all must hold, and every matchLabels entry too.`,
        items: labelRequirement(`One requirement on a label of the ${what}.`, "The values: at least one for In and NotIn, none for Exists and DoesNotExist."),
      },
    },
  };
}

const groupKind: Schema = {
  type: "object",
  required: ["group", "kind"],
  additionalProperties: false,
  description: "An API group and kind of rendered object.",
  properties: {
    group: str('The API group, e.g. apps or rbac.authorization.k8s.io; "" is the core group (ConfigMap, Service, Pod); "*" is any group.'),
    kind: { type: "string", minLength: 1, description: 'The kind, e.g. RoleBinding (case-sensitive); "*" is any kind of the group.' },
  },
};

export const tenantPolicySpecSchema: Schema = {
  type: "object",
  required: ["namespaces"],
  additionalProperties: false,
  description:
    "For the namespaces the policy matches: which Clusters their ApplicationDeployments may place onto, and which kinds of object they may render. Every policy that matches a namespace applies: a cluster must be allowed by each, a kind allowed by each and denied by none. A namespace no policy matches is not restricted.",
  properties: {
    namespaces: {
      type: "object",
      additionalProperties: false,
      anyOf: [{ required: ["names"] }, { required: ["selector"] }],
      description: "The namespaces the policy governs: those listed in names and those whose labels match selector (at least one of the two).",
      properties: {
        names: {
          type: "array",
          description: "Namespaces by name.",
          items: { type: "string", minLength: 1, description: "The name of a namespace." },
        },
        selector: labelSelector(
          "Namespaces by their labels (on the hub), e.g. matchLabels {flotilla.dev/tenant: team-a}. An empty selector ({}) matches every namespace.",
          "namespace",
        ),
      },
    },
    clusters: labelSelector(
      "The Clusters the namespaces may place onto, by the Cluster's labels. A cluster a placement strategy selects but this selector does not match is not selected, with the policy named in status.placement. Omitted: any cluster.",
      "Cluster",
    ),
    kinds: {
      type: "object",
      additionalProperties: false,
      description: "The kinds of object the namespaces' deployments may render; a rendered object of another kind fails rendering, naming the policy.",
      properties: {
        allow: {
          type: "array",
          description: "The kinds that may be rendered; every other kind is refused. Omitted: every kind (except those in deny).",
          items: groupKind,
        },
        deny: {
          type: "array",
          description: "Kinds that are refused even when allow lists them.",
          items: groupKind,
        },
      },
    },
    deniedClusterRoles: {
      type: "array",
      description:
        "ClusterRoles the namespaces may not grant: a rendered RoleBinding or ClusterRoleBinding whose roleRef is a ClusterRole of one of these names is refused (a RoleBinding to a Role of the same name is not). Default [cluster-admin, admin]; [] denies none.",
      items: { type: "string", minLength: 1, description: "The name of a ClusterRole." },
    },
  },
};

/** How many names the status lists of each; the counts say how many there are. */
export const TENANT_POLICY_STATUS_LIST_LIMIT = 100;

export const tenantPolicyStatusSchema: Schema = {
  type: "object",
  additionalProperties: false,
  description:
    "What the policy governs and allows now, on this hub; written by the controller only, whenever the policy, a namespace's labels or the Clusters change.",
  properties: {
    observedGeneration: { type: "integer", description: "The metadata.generation this status was computed for." },
    namespaces: {
      type: "array",
      maxItems: TENANT_POLICY_STATUS_LIST_LIMIT,
      description: `The namespaces the policy governs: those named, and the hub's namespaces whose labels the selector matches; sorted, at most ${TENANT_POLICY_STATUS_LIST_LIMIT} (namespaceCount has them all).`,
      items: str("A namespace's name."),
    },
    namespaceCount: { type: "integer", minimum: 0, description: "How many namespaces the policy governs." },
    clusters: {
      type: "array",
      maxItems: TENANT_POLICY_STATUS_LIST_LIMIT,
      description: `The registered Clusters this policy lets those namespaces place onto (other policies of a namespace may narrow it further); sorted, at most ${TENANT_POLICY_STATUS_LIST_LIMIT}.`,
      items: str("A Cluster's name."),
    },
    clusterCount: { type: "integer", minimum: 0, description: "How many registered Clusters the policy allows." },
    clusterTotal: { type: "integer", minimum: 0, description: "How many Clusters are registered on the hub." },
  },
};
