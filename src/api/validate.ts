// Validation of Flotilla documents: the JSON Schemas (ajv, all errors) plus the rules a schema
// cannot say (unique names, batches that grow). Every problem names its path, the value and a fix.

import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { type FieldProblem, ValidationError } from "./errors.js";
import { forbiddenKeyProblems, isForbiddenKey } from "./keys.js";
import { linearRegExp } from "./linear-regexp.js";
import { joinPath, pointerToPath } from "./paths.js";
import { DNS_LABEL_PATTERN, DURATION_PATTERN, type FlotillaKind, PERCENT_PATTERN, schemas } from "./schemas.js";
import type { ApplicationDeployment, ComponentDefinition, FlotillaResource, LabelSelector, RolloutBatch, TenantPolicy, TraitDefinition } from "./types.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** An ajv instance configured the way Flotilla validates everything: all errors, strict, vendor keywords known. */
export function createAjv(options: { useDefaults?: boolean } = {}): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    // parentSchema on errors lets a fix list the known fields and name both int-or-string forms.
    verbose: true,
    strict: false,
    useDefaults: options.useDefaults ?? false,
    allowUnionTypes: true,
    // `code` names the engine for ajv's standalone output, which Flotilla does not use.
    code: { regExp: Object.assign((pattern: string, flags: string) => linearRegExp(pattern, flags), { code: "linearRegExp" }) },
  });
  addFormats(ajv);
  ajv.addKeyword("x-kubernetes-preserve-unknown-fields");
  ajv.addKeyword("x-kubernetes-int-or-string");
  ajv.addKeyword("x-kubernetes-list-type");
  ajv.addKeyword("x-kubernetes-list-map-keys");
  return ajv;
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, pointer: string): unknown {
  let node: unknown = root;
  if (!pointer) return node;
  for (const raw of pointer.slice(1).split("/")) {
    const seg = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string, unknown>)[seg];
  }
  return node;
}

const TYPE_EXAMPLES: Record<string, string> = {
  string: "a string (quote it in YAML if it looks like a number)",
  integer: "a whole number such as 3",
  number: "a number such as 1.5",
  boolean: "true or false",
  object: "a mapping of keys to values",
  array: "a list",
};

/** Turn ajv's errors into field problems with a path, the offending value and a fix. */
export function problemsFromAjv(errors: ErrorObject[] | null | undefined, data: unknown, base = ""): FieldProblem[] {
  if (!errors) return [];
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  // anyOf reports each branch and then itself; the summary line is the useful one.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath));
  for (const e of errors) {
    if (anyOfPaths.has(e.instancePath) && e.keyword !== "anyOf") continue;
    let path = pointerToPath(e.instancePath, base);
    const value = valueAt(data, e.instancePath);
    let problem: FieldProblem;
    switch (e.keyword) {
      case "type": {
        // A union (`type: [string, object]`) arrives as "string,object".
        const types = String((e.params as { type: string }).type).split(",");
        problem = {
          path,
          message: `must be ${types.join(" or ")} (got ${describe(value)})`,
          fix: `Set it to ${types.map((t) => TYPE_EXAMPLES[t] ?? t).join(", or ")}.`,
        };
        break;
      }
      case "required": {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        path = joinPath(path, missing);
        problem = { path, message: "is required", fix: `Add the field \`${missing}\`.` };
        break;
      }
      case "additionalProperties": {
        const extra = String((e.params as { additionalProperty: string }).additionalProperty);
        const allowed = Object.keys(((e.parentSchema as { properties?: object })?.properties ?? {}) as object);
        path = joinPath(path, extra);
        problem = {
          path,
          message: "is not a known field",
          fix: allowed.length ? `Remove it or check its spelling; known fields: ${allowed.join(", ")}.` : "Remove it.",
        };
        break;
      }
      case "enum": {
        const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v));
        problem = { path, message: `must be one of ${allowed.join(", ")} (got ${describe(value)})`, fix: "Use one of the listed values." };
        break;
      }
      case "const": {
        const allowed = JSON.stringify((e.params as { allowedValue: unknown }).allowedValue);
        problem = { path, message: `must be ${allowed} (got ${describe(value)})`, fix: `Set it to ${allowed}.` };
        break;
      }
      case "pattern": {
        const pattern = String((e.params as { pattern: string }).pattern);
        problem = { path, message: `${describe(value)} is not valid`, fix: patternFix(pattern) };
        break;
      }
      case "anyOf": {
        problem = {
          path,
          message: `has the wrong form (got ${describe(value)})`,
          fix: anyOfFix(e.parentSchema as Record<string, unknown> | undefined),
        };
        break;
      }
      case "minProperties":
      case "maxProperties": {
        const limit = (e.params as { limit: number }).limit;
        const known = Object.keys(((e.parentSchema as { properties?: object })?.properties ?? {}) as object);
        const one = limit === 1 && known.length > 0;
        problem =
          e.keyword === "minProperties"
            ? { path, message: `must have at least ${limit} field(s)`, fix: one ? `Give one of: ${known.join(", ")}.` : "Add the missing fields." }
            : {
                path,
                message: `must have at most ${limit} field(s) (got ${describe(value)})`,
                fix: one ? `Keep only one of: ${known.join(", ")}.` : "Remove the extra fields.",
              };
        break;
      }
      case "not": {
        const both = requiredOnly((e.parentSchema as { not?: unknown } | undefined)?.not);
        problem = both
          ? { path, message: `must not have both ${both.join(" and ")}`, fix: `Keep only one of: ${both.join(", ")}.` }
          : { path, message: `${e.message ?? "is invalid"} (got ${describe(value)})` };
        break;
      }
      case "minItems":
        problem = { path, message: `must have at least ${(e.params as { limit: number }).limit} item(s)`, fix: "Add the missing entries." };
        break;
      case "minLength":
        problem = { path, message: "must not be empty", fix: "Give it a value." };
        break;
      default:
        problem = { path, message: `${e.message ?? "is invalid"} (got ${describe(value)})` };
    }
    const key = `${problem.path}\u0000${problem.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      problems.push(problem);
    }
  }
  return problems;
}

function patternFix(pattern: string): string {
  if (pattern === DURATION_PATTERN) return 'Use a duration such as "30s", "5m" or "1h30m".';
  if (pattern === PERCENT_PATTERN) return 'Use a percentage such as "50%".';
  if (pattern.startsWith("^[a-z0-9]([-a-z0-9]*")) {
    return "Use a DNS label: lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters.";
  }
  return `It must match the pattern ${pattern}.`;
}

/** The fields of a schema that only says `required: [...]`, else undefined. */
function requiredOnly(schema: unknown): string[] | undefined {
  if (schema === null || typeof schema !== "object") return undefined;
  const { required, ...rest } = schema as { required?: unknown };
  return Array.isArray(required) && Object.keys(rest).length === 0 ? required.map(String) : undefined;
}

function anyOfFix(schema: Record<string, unknown> | undefined): string {
  if (schema?.["x-kubernetes-int-or-string"]) return 'Use a whole number such as 3 or a percentage such as "50%".';
  // `anyOf: [{required: [a]}, {required: [b]}]`: one of the fields must be there.
  const branches = Array.isArray(schema?.anyOf) ? schema.anyOf.map(requiredOnly) : [];
  if (branches.length > 0 && branches.every((b) => b?.length === 1)) return `Give one of: ${branches.map((b) => b?.[0]).join(", ")}.`;
  return "Check the field against the documentation.";
}

const compiled = new Map<FlotillaKind, ValidateFunction>();
const ajv = createAjv();

function validatorFor(kind: FlotillaKind): ValidateFunction {
  let fn = compiled.get(kind);
  if (!fn) {
    fn = ajv.compile(schemas[kind]);
    compiled.set(kind, fn);
  }
  return fn;
}

export function isFlotillaKind(kind: unknown): kind is FlotillaKind {
  return typeof kind === "string" && Object.hasOwn(schemas, kind);
}

export function objectRef(doc: unknown): string {
  const d = doc as { kind?: unknown; metadata?: { name?: unknown; namespace?: unknown } } | null;
  const kind = typeof d?.kind === "string" ? d.kind : "Object";
  const name = typeof d?.metadata?.name === "string" ? d.metadata.name : "<unnamed>";
  const ns = typeof d?.metadata?.namespace === "string" ? `${d.metadata.namespace}/` : "";
  return `${kind}/${ns}${name}`;
}

/** Structural and semantic problems of a Flotilla document (empty when valid). */
export function resourceProblems(doc: unknown): FieldProblem[] {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    return [
      { path: "", message: `must be a mapping (got ${describe(doc)})`, fix: "Write the document as a YAML mapping with apiVersion, kind, metadata and spec." },
    ];
  }
  const kind = (doc as { kind?: unknown }).kind;
  if (!isFlotillaKind(kind)) {
    return [
      {
        path: "kind",
        message: `${describe(kind)} is not a Flotilla kind`,
        fix: `Use one of ${Object.keys(schemas).join(", ")} with apiVersion flotilla.dev/v1alpha1.`,
      },
    ];
  }
  const fn = validatorFor(kind);
  const problems = fn(doc) ? [] : problemsFromAjv(fn.errors, doc);
  problems.push(...metadataProblems(kind, (doc as { metadata?: unknown }).metadata));
  if (problems.length === 0 && kind === "ApplicationDeployment") {
    problems.push(...deploymentRuleProblems(doc as ApplicationDeployment));
    problems.push(...forbiddenKeyProblems((doc as ApplicationDeployment).spec, "spec"));
  }
  if (problems.length === 0 && kind === "ComponentDefinition") problems.push(...replicasPathProblems(doc as ComponentDefinition));
  if (problems.length === 0 && kind === "TraitDefinition") problems.push(...workloadPatchProblems(doc as TraitDefinition));
  if (problems.length === 0 && kind === "TenantPolicy") problems.push(...tenantPolicyProblems(doc as TenantPolicy));
  return problems;
}

/** Validate and narrow; throws a ValidationError listing every problem. */
export function validateResource<T extends FlotillaResource = FlotillaResource>(doc: unknown): T {
  const problems = resourceProblems(doc);
  if (problems.length) throw new ValidationError(problems, { object: objectRef(doc) });
  return doc as T;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);
/** Label values are at most 63 characters; `flotilla.dev/app` holds `<namespace>.<name>`. */
const MAX_APP_LABEL = 63;

/** Names as the API server and Flotilla's labels accept them. */
function metadataProblems(kind: FlotillaKind, meta: unknown): FieldProblem[] {
  if (meta === null || typeof meta !== "object" || Array.isArray(meta)) return [];
  const { name, namespace } = meta as { name?: unknown; namespace?: unknown };
  if (typeof name !== "string" || name === "") {
    return [{ path: "metadata.name", message: "is required", fix: "Give the object a name." }];
  }
  const problems: FieldProblem[] = [];
  if (name.length > 253 || !DNS_SUBDOMAIN.test(name)) {
    problems.push({
      path: "metadata.name",
      message: `${describe(name)} is not a valid name`,
      fix: "Use lower-case letters, digits, '-' and '.', starting and ending with a letter or digit.",
    });
  }
  if (namespace !== undefined && (typeof namespace !== "string" || !DNS_LABEL.test(namespace) || namespace.length > 63)) {
    problems.push({ path: "metadata.namespace", message: `${describe(namespace)} is not a valid namespace`, fix: patternFix(DNS_LABEL_PATTERN) });
  }
  if (kind === "ApplicationDeployment" && problems.length === 0) {
    const ns = typeof namespace === "string" ? namespace : "default";
    if (ns.length + 1 + name.length > MAX_APP_LABEL) {
      problems.push({
        path: "metadata.name",
        message: `is too long: the label flotilla.dev/app holds "<namespace>.<name>" (${ns.length + 1 + name.length} characters, at most ${MAX_APP_LABEL})`,
        fix: `Use a name of at most ${MAX_APP_LABEL - 1 - ns.length} characters in namespace "${ns}".`,
      });
    }
  }
  return problems;
}

/** `replicasPath` is where the planner writes: a segment such as `__proto__` would write into every object. */
function replicasPathProblems(def: ComponentDefinition): FieldProblem[] {
  const path = def.spec.replicasPath;
  const bad = path?.split(".").find(isForbiddenKey);
  if (bad === undefined) return [];
  return [
    {
      path: "spec.replicasPath",
      message: `${describe(path)} has the segment "${bad}", which is not allowed`,
      fix: "Point replicasPath at the workload's replica field, e.g. spec.replicas.",
    },
  ];
}

/** A workloadPatch trait's properties are the patch: a template beside them would say it twice, in two orders. */
function workloadPatchProblems(def: TraitDefinition): FieldProblem[] {
  const format = def.spec.workloadPatch;
  if (format === undefined) return [];
  return (["patch", "outputs"] as const)
    .filter((field) => def.spec[field] !== undefined)
    .map((field) => ({
      path: `spec.${field}`,
      message: `cannot be combined with spec.workloadPatch (${format}): the trait's properties are the patch`,
      fix: `Remove spec.${field}, or split the trait in two: one with spec.workloadPatch, one with the template.`,
    }));
}

/**
 * A label selector's expressions as Kubernetes has them: In and NotIn with values, Exists and
 * DoesNotExist without (an In without values would quietly match nothing).
 */
function selectorProblems(selector: LabelSelector | undefined, path: string): FieldProblem[] {
  return (selector?.matchExpressions ?? []).flatMap((e, i) => {
    const count = e.values?.length ?? 0;
    const at = `${path}.matchExpressions[${i}].values`;
    if ((e.operator === "In" || e.operator === "NotIn") && count === 0) {
      return [{ path: at, message: `must have at least one value for operator ${e.operator}`, fix: `List the values of label ${e.key}, or use Exists.` }];
    }
    if ((e.operator === "Exists" || e.operator === "DoesNotExist") && count > 0) {
      return [{ path: at, message: `must be empty for operator ${e.operator}`, fix: "Remove values, or use In or NotIn." }];
    }
    return [];
  });
}

/** What a TenantPolicy's schema cannot say: its selectors' expressions must be well formed. */
function tenantPolicyProblems(policy: TenantPolicy): FieldProblem[] {
  return [...selectorProblems(policy.spec.namespaces.selector, "spec.namespaces.selector"), ...selectorProblems(policy.spec.clusters, "spec.clusters")];
}

function duplicates(names: string[]): Set<string> {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const n of names) (seen.has(n) ? dup : seen).add(n);
  return dup;
}

/** Parse `"50%"` or `5` against a total; the result is rounded up so a small canary gets at least one replica. */
export function resolveBatchReplicas(value: number | string, total: number): number {
  if (typeof value === "number") return value;
  const pct = Number.parseFloat(value.slice(0, -1));
  return Math.ceil((pct / 100) * total);
}

/** Batches must stay within the total and never shrink: they are cumulative replica counts. */
function batchProblems(batches: readonly RolloutBatch[], total: number, field: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  let previous = 0;
  batches.forEach((b, bi) => {
    const path = `${field}[${bi}].replicas`;
    if (typeof b.replicas === "string" && Number.parseFloat(b.replicas) > 100) {
      problems.push({ path, message: `${JSON.stringify(b.replicas)} is more than 100%`, fix: "Use a percentage between 0% and 100%." });
      return;
    }
    const n = resolveBatchReplicas(b.replicas, total);
    if (n > total) {
      problems.push({
        path,
        message: `${JSON.stringify(b.replicas)} is larger than rollout.replicas (${total})`,
        fix: `Use at most ${total} or a percentage.`,
      });
    } else if (n < previous) {
      problems.push({
        path,
        message: `batches must not decrease (${n} after ${previous})`,
        fix: "Batch replicas are cumulative: each batch sets at least as many replicas as the one before.",
      });
    }
    previous = Math.max(previous, n);
  });
  return problems;
}

/** Rules the schema cannot express. */
export function deploymentRuleProblems(ad: ApplicationDeployment): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const revs = ad.spec.appRevisions;
  for (const dup of duplicates(revs.map((r) => r.name))) {
    const i = revs.map((r) => r.name).lastIndexOf(dup);
    problems.push({ path: `spec.appRevisions[${i}].name`, message: `duplicate revision name "${dup}"`, fix: "Give every revision a unique name." });
  }
  revs.forEach((rev, ri) => {
    const comps = rev.template.spec.components;
    const names = comps.map((c) => c.name);
    for (const dup of duplicates(names)) {
      const ci = names.lastIndexOf(dup);
      problems.push({
        path: `spec.appRevisions[${ri}].template.spec.components[${ci}].name`,
        message: `duplicate component name "${dup}"`,
        fix: "Give every component of a revision a unique name.",
      });
    }
    comps.forEach((c, ci) => {
      const traitNames = (c.traits ?? []).map((t) => t.name);
      for (const dup of duplicates(traitNames)) {
        const ti = traitNames.lastIndexOf(dup);
        problems.push({
          path: `spec.appRevisions[${ri}].template.spec.components[${ci}].traits[${ti}].name`,
          message: `trait "${dup}" is attached twice`,
          fix: "Attach each trait once and merge its properties.",
        });
      }
    });
    problems.push(...batchProblems(rev.rollout?.batches ?? [], rev.rollout?.replicas ?? 1, `spec.appRevisions[${ri}].rollout.batches`));
  });
  const strategies = ad.spec.placementStrategies ?? [];
  const waveNames = strategies.map((s, i) => s.name ?? `wave-${i + 1}`);
  for (const dup of duplicates(waveNames)) {
    const i = waveNames.lastIndexOf(dup);
    problems.push({
      path: `spec.placementStrategies[${i}].name`,
      message: `duplicate wave name "${dup}"`,
      fix: "Give every placement strategy a unique name.",
    });
  }
  const target = revs[revs.length - 1];
  const targetComponents = new Set(target?.template.spec.components.map((c) => c.name) ?? []);
  strategies.forEach((s, si) => {
    // A wave's own batches count against the target revision's total, as the revision's do.
    problems.push(...batchProblems(s.batches ?? [], target?.rollout?.replicas ?? 1, `spec.placementStrategies[${si}].batches`));
    (s.overrides ?? []).forEach((o, oi) => {
      if (!targetComponents.has(o.component)) {
        problems.push({
          path: `spec.placementStrategies[${si}].overrides[${oi}].component`,
          message: `"${o.component}" is not a component of the target revision`,
          fix: `Use one of ${[...targetComponents].join(", ")}.`,
        });
      }
    });
  });
  return problems;
}

export function waveName(index: number, name: string | undefined): string {
  return name ?? `wave-${index + 1}`;
}
