// What the admission webhook checks: exactly what the controller runs on the same object (the
// schema and CEL rules, then the definitions: unknown types, settings a schema refuses, templates
// that fail within their budget), plus checks other modules register (tenancy). It must never
// refuse because of itself: a check that fails or runs out of time allows, with a warning.

import { type FieldProblem, FlotillaError, ValidationError } from "../api/errors.js";
import { GROUP } from "../api/labels.js";
import type { ApplicationDeployment, Manifest } from "../api/types.js";
import { isFlotillaKind, resourceProblems } from "../api/validate.js";
import { validate as deploymentSchemaProblems } from "../controller/reconcile-steps.js";
import { compileDefinition, hashOf } from "../definitions/compile.js";
import type { DefinitionRegistry } from "../definitions/registry.js";
import { deploymentProblems } from "../render/deployment-problems.js";
import { type EffectivePolicy, policyFingerprint } from "../tenancy/policy.js";
import { tenancyError } from "../tenancy/problems.js";
import type { AdmissionRequest, Verdict } from "./review.js";

/** The kinds the webhook is registered for (group flotilla.dev), with their resource names. */
export const ADMITTED_KINDS = {
  ApplicationDeployment: "applicationdeployments",
  ComponentDefinition: "componentdefinitions",
  TraitDefinition: "traitdefinitions",
  Cluster: "clusters",
  TenantPolicy: "tenantpolicies",
} as const;

export type AdmittedKind = keyof typeof ADMITTED_KINDS;

/** What a check is told besides the object. */
export interface AdmissionContext {
  kind: AdmittedKind;
  operation: "CREATE" | "UPDATE";
  namespace?: string;
  name?: string;
  oldObject?: unknown;
  user?: { username: string; groups: string[] };
  /** The definitions the controller renders with now; undefined when not known yet. */
  registry?: DefinitionRegistry;
}

/**
 * A check another module adds (tenancy: which namespaces may place where): the problems it finds,
 * each with its field path. Runs only on objects whose schema is valid.
 */
export type AdmissionCheck = (object: unknown, context: AdmissionContext) => FieldProblem[] | Promise<FieldProblem[]>;

export interface ValidatorOptions {
  /** The controller's current definitions; undefined when it has none yet (definitions are then not checked, with a warning). */
  registry: () => DefinitionRegistry | undefined;
  /** More checks, run after the built-in ones. Default none. */
  checks?: readonly AdmissionCheck[];
  /**
   * The TenantPolicies that govern a namespace, as the controller matches them; undefined while
   * they are not known (kinds are then not checked against them, with a warning). A rendered
   * object the namespace may not create is refused as the controller's render step refuses it.
   */
  tenancy?: (namespace: string) => EffectivePolicy | undefined;
  /**
   * How long one request may take, ms; past it the object is allowed with a warning (the
   * controller still validates it and reports problems in status). Default 1 500, below the
   * webhook's timeoutSeconds so the API server hears the answer.
   */
  budgetMs?: number;
  /** Answers kept per registry. Default 1 000. */
  cacheSize?: number;
}

const NOT_CHECKED = "the controller checks it and reports any problem in its status";

function isAdmittedKind(kind: string): kind is AdmittedKind {
  return Object.hasOwn(ADMITTED_KINDS, kind);
}

function specOf(object: unknown): unknown {
  return (object as { spec?: unknown } | null)?.spec;
}

/** A definition's compile failure as field problems, as `flotilla validate` reports it. */
function definitionProblems(doc: unknown): FieldProblem[] {
  const compiled = compileDefinition(doc);
  if (!("broken" in compiled)) return [];
  const e = compiled.error;
  return e instanceof ValidationError ? e.problems : [{ path: "", message: e.message }];
}

export class AdmissionValidator {
  private readonly answers = new WeakMap<DefinitionRegistry, Map<string, Promise<FieldProblem[]>>>();
  /** Answers that need no registry (schemas, definitions, Clusters). */
  private readonly plain = new Map<string, Promise<FieldProblem[]>>();

  constructor(private readonly o: ValidatorOptions) {}

  /** The verdict on one admission request; never rejects. */
  async admit(request: AdmissionRequest): Promise<Verdict> {
    const kind = request.kind.kind;
    if (request.kind.group !== GROUP || !isAdmittedKind(kind)) return { allowed: true };
    if (request.operation !== "CREATE" && request.operation !== "UPDATE") return { allowed: true };
    // An update that leaves the spec as it was (the controller's finalizer, annotations, labels, a
    // deletion in progress) is never refused: an object stored before the webhook existed, or
    // while it was down, must still be finalized and deleted.
    if (
      request.operation === "UPDATE" &&
      request.oldObject !== undefined &&
      JSON.stringify(specOf(request.object)) === JSON.stringify(specOf(request.oldObject))
    ) {
      return { allowed: true };
    }
    const budgetMs = this.o.budgetMs ?? 1_500;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Verdict>((resolve) => {
      timer = setTimeout(() => resolve({ allowed: true, warnings: [`flotilla: not fully checked within ${budgetMs} ms; ${NOT_CHECKED}`] }), budgetMs);
    });
    try {
      return await Promise.race([this.verdict(kind, request), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async verdict(kind: AdmittedKind, request: AdmissionRequest): Promise<Verdict> {
    const warnings: string[] = [];
    const registry = this.o.registry();
    const context: AdmissionContext = {
      kind,
      operation: request.operation as "CREATE" | "UPDATE",
      ...(request.namespace ? { namespace: request.namespace } : {}),
      ...(request.name ? { name: request.name } : {}),
      ...(request.oldObject !== undefined ? { oldObject: request.oldObject } : {}),
      ...(request.user ? { user: request.user } : {}),
      ...(registry ? { registry } : {}),
    };
    let problems: FieldProblem[];
    try {
      problems = await this.builtin(kind, request.object, registry, warnings);
      if (!problems.length) {
        for (const check of this.o.checks ?? []) problems.push(...(await check(request.object, context)));
      }
    } catch (e) {
      // A fault of a check is not the user's mistake: let the object in, and say why it was not checked.
      const why = e instanceof FlotillaError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      return { allowed: true, warnings: [`flotilla: could not check this object (${why.split("\n")[0]}); ${NOT_CHECKED}`] };
    }
    // A template stopped at its time budget may pass on a quieter machine: the controller retries it.
    const transient = problems.filter((p) => p.transient === true);
    const lasting = problems.filter((p) => p.transient !== true);
    for (const p of transient) warnings.push(`flotilla: ${p.path ? `${p.path}: ` : ""}${p.message} (not refused: it may pass when tried again)`);
    if (lasting.length) return { allowed: false, problems: lasting, ...(warnings.length ? { warnings } : {}) };
    return { allowed: true, ...(warnings.length ? { warnings } : {}) };
  }

  /** The controller's own checks of the object, cached by kind, identity, spec and registry. */
  private builtin(kind: AdmittedKind, object: unknown, registry: DefinitionRegistry | undefined, warnings: string[]): Promise<FieldProblem[]> {
    const meta = (object as { metadata?: { name?: unknown; namespace?: unknown } } | null)?.metadata;
    // Generation-independent: the same spec under the same name answers the same, whatever else changed.
    const usesRegistry = kind === "ApplicationDeployment";
    const tenancy = usesRegistry && this.o.tenancy ? this.o.tenancy(typeof meta?.namespace === "string" ? meta.namespace : "default") : undefined;
    if (usesRegistry && this.o.tenancy && !tenancy) {
      warnings.push(`flotilla: kinds not checked against TenantPolicies: the webhook has not read them yet; ${NOT_CHECKED}`);
    }
    const key = hashOf([kind, meta?.namespace ?? null, meta?.name ?? null, specOf(object) ?? null, tenancy ? policyFingerprint(tenancy) : null]);
    if (usesRegistry && !registry) {
      warnings.push(`flotilla: component types, traits and templates not checked: the controller has not read the definitions yet; ${NOT_CHECKED}`);
    }
    const cache = usesRegistry && registry ? this.cacheFor(registry) : this.plain;
    let answer = cache.get(key);
    if (answer === undefined) {
      if (cache.size >= (this.o.cacheSize ?? 1_000)) cache.clear();
      answer = this.check(kind, object, registry, tenancy);
      cache.set(key, answer);
      // Neither a fault nor a budget that ran out is the answer for next time.
      answer.then(
        (problems) => {
          if (problems.some((p) => p.transient === true)) cache.delete(key);
        },
        () => cache.delete(key),
      );
    }
    return answer.then((problems) => [...problems]);
  }

  private cacheFor(registry: DefinitionRegistry): Map<string, Promise<FieldProblem[]>> {
    let cache = this.answers.get(registry);
    if (!cache) {
      cache = new Map();
      this.answers.set(registry, cache);
    }
    return cache;
  }

  private async check(
    kind: AdmittedKind,
    object: unknown,
    registry: DefinitionRegistry | undefined,
    tenancy: EffectivePolicy | undefined,
  ): Promise<FieldProblem[]> {
    if (kind === "ApplicationDeployment") {
      // The controller's validate step: the schema, the rules it cannot say, and the CEL.
      const invalid = deploymentSchemaProblems(object as ApplicationDeployment);
      if (invalid) return invalid.problems;
      if (!registry) return [];
      const problems: FieldProblem[] = [];
      const seen = new Set<string>();
      const deployment = object as ApplicationDeployment;
      const objectProblems = tenancy?.policies.length
        ? (manifests: readonly Manifest[]) => tenancyError(deployment, tenancy, manifests)?.problems ?? []
        : undefined;
      for (const p of await deploymentProblems(deployment, registry, objectProblems ? { objectProblems } : {})) {
        const k = `${p.path}\u0000${p.message}`;
        if (!seen.has(k)) {
          seen.add(k);
          problems.push(p);
        }
      }
      return problems;
    }
    if (kind === "ComponentDefinition" || kind === "TraitDefinition") {
      // Schema, then its JSON Schema, templates and CEL compiled, as the controller compiles it.
      return definitionProblems(object);
    }
    if (isFlotillaKind(kind)) return resourceProblems(object);
    return [];
  }
}
