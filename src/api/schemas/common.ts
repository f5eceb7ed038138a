// Building blocks shared by the API's schemas: the string formats (DNS label, duration,
// percentage), free-form data and status conditions. Each takes the description of the field it
// is used for, so `kubectl explain` says what the field means where it is, not what it is in general.

export type Schema = Record<string, unknown>;

export const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
export const PERCENT_PATTERN = "^[0-9]+(\\.[0-9]+)?%$";

/** A DNS label (RFC 1123), as Kubernetes names and label values are. */
export function dnsLabel(description: string): Schema {
  return {
    type: "string",
    minLength: 1,
    maxLength: 63,
    pattern: DNS_LABEL_PATTERN,
    description: `${description} A DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters.`,
  };
}

/** A duration as users write them; parsed by `parseDuration` (duration.ts). */
export function duration(description: string): Schema {
  return {
    type: "string",
    pattern: DURATION_PATTERN,
    description: `${description} A duration: numbers with the units ms, s, m or h, e.g. 30s, 5m or 1h30m.`,
  };
}

/** Free-form data (settings, properties, JSON Schema bodies): kept whole by the API server. */
export function freeForm(description: string): Schema {
  return { type: "object", "x-kubernetes-preserve-unknown-fields": true, description };
}

/** A whole number or a percentage such as `50%` (the CRD's int-or-string). */
export function intOrPercent(description: string): Schema {
  return {
    "x-kubernetes-int-or-string": true,
    anyOf: [
      { type: "integer", minimum: 0 },
      { type: "string", pattern: PERCENT_PATTERN },
    ],
    description,
  };
}

/** One kstatus-style condition, as Kubernetes' own `metav1.Condition`. */
const condition: Schema = {
  type: "object",
  required: ["type", "status"],
  description: "One condition: an aspect of the object's state, with a reason and a message.",
  properties: {
    type: { type: "string", description: "What the condition is about, in CamelCase (e.g. Ready); there is at most one condition of each type." },
    status: { type: "string", enum: ["True", "False", "Unknown"], description: "Whether the condition holds: True, False or Unknown." },
    reason: { type: "string", description: "Why the condition has its status, as one CamelCase word meant for programs and alerts (e.g. Reachable)." },
    message: { type: "string", description: "Why the condition has its status, in words meant for people." },
    lastTransitionTime: { type: "string", description: "When status last changed (RFC 3339 UTC time); unchanged while the status stays the same." },
    observedGeneration: { type: "integer", description: "The metadata.generation of the object that the condition was computed for." },
  },
};

/** Conditions, one per type: a list-map keyed by `type`, as Kubernetes' own status conditions. */
export function conditionList(description: string): Schema {
  return { type: "array", items: condition, "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["type"], description };
}

/**
 * One `matchExpressions` entry of a Kubernetes label selector: `description` says whose label,
 * `values` what the values must be (a policy requires them where a wave ignores them).
 */
export function labelRequirement(description: string, values: string): Schema {
  return {
    type: "object",
    required: ["key", "operator"],
    additionalProperties: false,
    description,
    properties: {
      key: { type: "string", minLength: 1, description: "The label key the requirement is about." },
      operator: {
        type: "string",
        enum: ["In", "NotIn", "Exists", "DoesNotExist"],
        description:
          "In: the label is present with one of values. NotIn: the label is absent or has none of values. Exists: the label is present. DoesNotExist: the label is absent.",
      },
      values: { type: "array", description: values, items: { type: "string", description: "A label value." } },
    },
  };
}
