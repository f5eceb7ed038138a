// Compiles a ComponentDefinition or TraitDefinition once: its JSON Schema (with defaults), its
// JSONata templates and its CEL health rule. Compiled forms are cached by a hash of the
// definition's spec, so re-reading an unchanged definition costs nothing. A broken definition
// becomes a `BrokenDefinition` that names what is wrong; it never breaks its neighbours.

import { createHash } from "node:crypto";
import type { ValidateFunction } from "ajv";
import { copyJson } from "../api/json.js";
import { ANNOTATION_CLUSTER_SCOPED, ANNOTATION_DESCRIPTION } from "../api/labels.js";
import { type FieldProblem, type FlotillaError, TemplateError, ValidationError } from "../api/errors.js";
import type { ComponentDefinition, JsonObject, TraitDefinition, TraitOrder, TraitScope, TraitSpec, WorkloadPatchFormat, WorkloadType } from "../api/types.js";
import { createAjv, problemsFromAjv, resourceProblems } from "../api/validate.js";
import { compileCel } from "./cel.js";
import { type CompiledTemplate, compileTemplate, DEFAULT_BUDGET, type TemplateBudget } from "./jsonata.js";

/** Validates user parameters against a definition's schema; returns a defaulted copy. */
export type ParameterValidator = (value: JsonObject | undefined, path: string) => JsonObject;

interface CompiledBase {
  readonly name: string;
  readonly hash: string;
  readonly description: string;
  /** The definition may produce cluster-scoped objects (set by the platform team). */
  readonly clusterScoped: boolean;
  readonly health: string | undefined;
  readonly validate: ParameterValidator;
}

export interface CompiledComponent extends CompiledBase {
  readonly kind: "ComponentDefinition";
  readonly source: ComponentDefinition;
  readonly workload: WorkloadType;
  readonly replicasPath: string | undefined;
  readonly template: CompiledTemplate;
  /** Traits every component of this type gets, as if listed first (names checked by the registry). */
  readonly defaultTraits: TraitSpec[];
}

export interface CompiledTrait extends CompiledBase {
  readonly kind: "TraitDefinition";
  readonly source: TraitDefinition;
  readonly appliesTo: string[];
  readonly conflictsWith: string[];
  readonly scope: TraitScope;
  readonly order: TraitOrder;
  readonly patch: CompiledTemplate | undefined;
  readonly outputs: CompiledTemplate | undefined;
  /** The properties are a raw patch of the workload (render/json-patch.ts), applied after every other trait. */
  readonly workloadPatch: WorkloadPatchFormat | undefined;
}

/** A definition that failed to compile, kept so users see why it cannot be used. */
export interface BrokenDefinition {
  readonly kind: "ComponentDefinition" | "TraitDefinition";
  readonly name: string;
  readonly broken: true;
  readonly error: FlotillaError;
}

export function hashOf(value: unknown): string {
  return createHash("sha256").update(JSON.stringify(value)).digest("hex").slice(0, 32);
}

const ajv = createAjv({ useDefaults: true });

function compileSchema(schema: JsonObject | undefined, name: string): ParameterValidator {
  if (!schema) {
    return (value) => copyJson(value ?? {});
  }
  let fn: ValidateFunction;
  try {
    fn = ajv.compile(schema);
  } catch (e) {
    throw new ValidationError(
      [{ path: "spec.schema", message: `is not a valid JSON Schema: ${(e as Error).message}`, fix: "Fix the schema of the definition." }],
      { object: name, cause: e },
    );
  }
  return (value, path) => {
    const copy = copyJson(value ?? {});
    if (!fn(copy)) throw new ValidationError(problemsFromAjv(fn.errors, copy, path));
    return copy;
  };
}

function common(def: ComponentDefinition | TraitDefinition): Omit<CompiledBase, "validate" | "hash"> {
  const annotations = def.metadata.annotations ?? {};
  return {
    name: def.metadata.name,
    description: annotations[ANNOTATION_DESCRIPTION] ?? "",
    clusterScoped: annotations[ANNOTATION_CLUSTER_SCOPED] === "true",
    health: def.spec.health,
  };
}

const componentCache = new Map<string, CompiledComponent>();
const traitCache = new Map<string, CompiledTrait>();

function checkHealth(expr: string | undefined, name: string): void {
  if (expr !== undefined) compileCel(expr, { definition: name, field: "spec.health" });
}

export function compileComponentDefinition(def: ComponentDefinition, budget: TemplateBudget = DEFAULT_BUDGET): CompiledComponent {
  const hash = hashOf([def.metadata.name, def.metadata.annotations ?? {}, def.spec, budget]);
  const cached = componentCache.get(hash);
  if (cached) return cached;
  const name = def.metadata.name;
  const compiled: CompiledComponent = {
    ...common(def),
    kind: "ComponentDefinition",
    source: def,
    hash,
    workload: def.spec.workload,
    replicasPath: def.spec.replicasPath,
    defaultTraits: def.spec.defaultTraits ?? [],
    validate: compileSchema(def.spec.schema, name),
    template: compileTemplate(def.spec.template, { definition: name, field: "spec.template" }, budget),
  };
  checkHealth(def.spec.health, name);
  componentCache.set(hash, compiled);
  return compiled;
}

export function compileTraitDefinition(def: TraitDefinition, budget: TemplateBudget = DEFAULT_BUDGET): CompiledTrait {
  const hash = hashOf([def.metadata.name, def.metadata.annotations ?? {}, def.spec, budget]);
  const cached = traitCache.get(hash);
  if (cached) return cached;
  const name = def.metadata.name;
  const spec = def.spec;
  const compiled: CompiledTrait = {
    ...common(def),
    kind: "TraitDefinition",
    source: def,
    hash,
    appliesTo: spec.appliesTo ?? ["*"],
    conflictsWith: spec.conflictsWith ?? [],
    scope: spec.scope ?? "revision",
    order: spec.order ?? "listed",
    validate: compileSchema(spec.schema, name),
    patch: spec.patch ? compileTemplate(spec.patch, { definition: name, field: "spec.patch" }, budget) : undefined,
    outputs: spec.outputs ? compileTemplate(spec.outputs, { definition: name, field: "spec.outputs" }, budget) : undefined,
    workloadPatch: spec.workloadPatch,
  };
  checkHealth(spec.health, name);
  traitCache.set(hash, compiled);
  return compiled;
}

/**
 * Validate and compile any definition document. Never throws for a bad definition: the result
 * is a BrokenDefinition carrying a ValidationError or TemplateError.
 */
export function compileDefinition(doc: unknown, budget: TemplateBudget = DEFAULT_BUDGET): CompiledComponent | CompiledTrait | BrokenDefinition {
  const kind = (doc as { kind?: string } | null)?.kind === "TraitDefinition" ? "TraitDefinition" : "ComponentDefinition";
  const name = String((doc as { metadata?: { name?: unknown } } | null)?.metadata?.name ?? "<unnamed>");
  const problems: FieldProblem[] = resourceProblems(doc);
  if (problems.length) {
    return { kind, name, broken: true, error: new ValidationError(problems, { object: `${kind}/${name}` }) };
  }
  try {
    return kind === "TraitDefinition" ? compileTraitDefinition(doc as TraitDefinition, budget) : compileComponentDefinition(doc as ComponentDefinition, budget);
  } catch (e) {
    if (e instanceof TemplateError || e instanceof ValidationError) return { kind, name, broken: true, error: e };
    throw e;
  }
}
