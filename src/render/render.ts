// The renderer: deployment + definitions + placement targets → manifests per cluster. Pure and
// deterministic (same input → the same objects in the same order); never touches a cluster or
// Git. Every problem in the deployment is collected and reported at once with its field path.

import { type FieldProblem, FlotillaError, TemplateError, ValidationError } from "../api/errors.js";
import { copyJson } from "../api/json.js";
import { ANNOTATION_AUTOSCALED_PATH, ANNOTATION_HEALTH, LABEL_REVISION } from "../api/labels.js";
import type { ApplicationDeployment, ComponentOverride, ComponentSpec, JsonObject, Manifest, TraitSpec } from "../api/types.js";
import type { BrokenDefinition, CompiledComponent, CompiledTrait } from "../definitions/compile.js";
import type { DefinitionRegistry } from "../definitions/registry.js";
import { buildContext, type ClusterInfo, componentLabels, type TemplateContext } from "./context.js";
import { applyWorkloadPatch } from "./json-patch.js";
import { mergePatch, mergeSettings, setPath } from "./merge.js";
import { type Checked, enforcePolicy, expandLists } from "./policy.js";
import { containerImage, labelPodTemplates, recommendedLabels } from "./recommended-labels.js";
import { groupOf } from "./scope.js";
import { cacheKey, TemplateCache } from "./template-cache.js";
import { isMarkedSecret } from "../secrets/sealed-secret.js";

export interface RevisionPlan {
  /** Name of an entry of `spec.appRevisions`. */
  name: string;
  /** Replicas of this revision's scalable workloads in the cluster. */
  replicas: number;
}

export interface RenderTarget {
  cluster: ClusterInfo;
  wave: string;
  /** Per-wave overrides (ARCHITECTURE §2), applied after defaults. */
  overrides?: ComponentOverride[];
  /** Revisions present in this cluster, oldest first; usually just the target at full replicas. */
  revisions: RevisionPlan[];
  /**
   * The rollout is complete here: workloads with an autoscaler are marked so that the sync loop
   * leaves their replica count to it (not drift). Default false.
   */
  releaseReplicasToAutoscaler?: boolean;
}

export interface RenderRequest {
  deployment: ApplicationDeployment;
  registry: DefinitionRegistry;
  targets: RenderTarget[];
  /** Rendered components kept between renders (see template-cache.ts); without it none are kept. */
  cache?: TemplateCache;
}

export interface RenderedCluster {
  cluster: string;
  wave: string;
  /** Sorted by group, kind and name. */
  manifests: Manifest[];
}

const HPA_KIND = "HorizontalPodAutoscaler";

function componentPath(revisionIndex: number, componentIndex: number): string {
  return `spec.appRevisions[${revisionIndex}].template.spec.components[${componentIndex}]`;
}

function asObjects(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

function problemOf(e: unknown, path: string): FieldProblem {
  if (e instanceof ValidationError) return e.problems[0] ?? { path, message: e.message };
  if (e instanceof TemplateError) {
    return { path: e.path || path, message: e.message.slice(e.path ? e.path.length + 2 : 0), ...(e.transient ? { transient: true } : {}) };
  }
  throw e;
}

/** A trait as a component renders it, with the path its problems are reported at. */
export interface PlacedTrait {
  spec: TraitSpec;
  path: string;
}

/**
 * The traits a component renders with: its type's defaultTraits first, then its own traits (one of
 * the same name as a default merges its properties over the default's), then the wave's override
 * traits merged in by name (properties deep-merge). A default the component does not list reports
 * its problems at `<component>.defaultTraits[i]`.
 */
export function effectiveTraits(component: ComponentSpec, override: ComponentOverride | undefined, path: string, defaults: TraitSpec[] = []): PlacedTrait[] {
  const traits: PlacedTrait[] = defaults.map((t, i) => ({ spec: copyJson(t), path: `${path}.defaultTraits[${i}]` }));
  const own = component.traits ?? [];
  // A component's own trait merges over the default of its name; two own traits of one name (two
  // `env` traits for two containers) stay two traits, as before default traits existed.
  const unclaimed = new Set(traits);
  own.forEach((t, i) => {
    const tpath = `${path}.traits[${i}]`;
    const existing = traits.find((e) => e.spec.name === t.name && unclaimed.has(e));
    if (existing) {
      unclaimed.delete(existing);
      existing.spec.properties = mergeSettings(existing.spec.properties ?? {}, t.properties ?? {}) as JsonObject;
      existing.path = tpath;
    } else traits.push({ spec: copyJson(t), path: tpath });
  });
  let added = own.length;
  for (const o of override?.traits ?? []) {
    const existing = traits.find((e) => e.spec.name === o.name);
    if (existing) existing.spec.properties = mergeSettings(existing.spec.properties ?? {}, o.properties ?? {}) as JsonObject;
    else traits.push({ spec: copyJson(o), path: `${path}.traits[${added++}]` });
  }
  return traits;
}

/** The defaultTraits of a component type; none when it is unknown or broken (its lookup reports that). */
function defaultTraitsOf(registry: DefinitionRegistry, type: string): TraitSpec[] {
  const def = registry.components.get(type);
  return def && !("broken" in def) ? def.defaultTraits : [];
}

/** A definition by name, or a ValidationError at `path` that lists the known names. */
function lookup<T extends object>(definitions: ReadonlyMap<string, T | BrokenDefinition>, what: { noun: string; kind: string }, name: string, path: string): T {
  const def = definitions.get(name);
  if (!def) {
    const known = [...definitions.keys()];
    const install = `install a ${what.kind} named "${name}"`;
    throw new ValidationError([
      {
        path,
        message: `unknown ${what.noun} "${name}"`,
        fix: known.length ? `Use one of: ${known.join(", ")}; or ${install}.` : `${install[0]?.toUpperCase()}${install.slice(1)}.`,
      },
    ]);
  }
  if ("broken" in def) {
    throw new ValidationError([
      { path, message: `${what.noun} "${name}" is broken: ${def.error.message}`, fix: `Fix the ${what.kind}; the others keep working.` },
    ]);
  }
  return def;
}

function lookupComponent(registry: DefinitionRegistry, spec: ComponentSpec, path: string): CompiledComponent {
  return lookup(registry.components, { noun: "component type", kind: "ComponentDefinition" }, spec.type, `${path}.type`);
}

function lookupTrait(registry: DefinitionRegistry, name: string, path: string): CompiledTrait {
  return lookup(registry.traits, { noun: "trait", kind: "TraitDefinition" }, name, `${path}.name`);
}

function workloadKey(apiVersion: string, kind: string): string {
  return `${apiVersion}/${kind}`;
}

function traitApplies(trait: CompiledTrait, apiVersion: string, kind: string): boolean {
  const key = workloadKey(apiVersion, kind);
  return trait.appliesTo.some((a) => a === "*" || a === key || a === kind || (a.endsWith("/*") && key.startsWith(a.slice(0, -1))));
}

interface RenderedObject {
  manifest: Manifest;
  /** Component-scoped objects are shared by all revisions; the newest revision's copy wins. */
  componentScoped: boolean;
}

interface ComponentArgs {
  deployment: ApplicationDeployment;
  registry: DefinitionRegistry;
  spec: ComponentSpec;
  path: string;
  revision: string;
  replicas: number;
  target: RenderTarget;
  cache: TemplateCache;
}

function definitionVersion(def: { hash: string } | { broken: true; error: Error } | undefined): string {
  if (!def) return "missing";
  return "broken" in def ? `broken:${def.error.message}` : def.hash;
}

/** A component's render, cached by everything that shapes it (see template-cache.ts). */
async function renderComponent(args: ComponentArgs): Promise<{ objects: RenderedObject[]; problems: FieldProblem[] }> {
  const { deployment, registry, spec, path, revision, replicas, target } = args;
  const override = target.overrides?.find((o) => o.component === spec.name);
  const key = cacheKey([
    definitionVersion(registry.components.get(spec.type)),
    effectiveTraits(spec, override, path, defaultTraitsOf(registry, spec.type)).map((t) => definitionVersion(registry.traits.get(t.spec.name))),
    deployment.metadata.namespace ?? "default",
    deployment.metadata.name,
    spec,
    override ?? null,
    path,
    revision,
    replicas,
    target.cluster,
    target.wave,
    target.releaseReplicasToAutoscaler ?? false,
  ]);
  return args.cache.cached(key, () => renderComponentUncached(args));
}

/** Everything one component of one revision renders into one cluster. */
async function renderComponentUncached(args: ComponentArgs): Promise<{ objects: RenderedObject[]; problems: FieldProblem[] }> {
  const { deployment, registry, spec, path, revision, replicas, target } = args;
  const namespace = deployment.metadata.namespace ?? "default";
  const app = deployment.metadata.name;
  const problems: FieldProblem[] = [];
  const def = lookupComponent(registry, spec, path);
  const override = target.overrides?.find((o) => o.component === spec.name);
  const settings = def.validate(mergeSettings(spec.settings ?? {}, override?.settings) as JsonObject, `${path}.settings`);
  const context = buildContext({ namespace, app, component: spec.name, revision, replicas, cluster: target.cluster, wave: target.wave });

  const expanded = expandLists(asObjects(await args.cache.evaluate(def.template, { settings, context }, `${path}.settings`)), path);
  if ("problem" in expanded) return { objects: [], problems: [expanded.problem] };
  const rendered = expanded.objects;
  if (rendered.length === 0) {
    return {
      objects: [],
      problems: [{ path, message: `definition "${def.name}" rendered nothing`, fix: "Make the template return at least the workload object." }],
    };
  }
  const [first, ...rest] = rendered;
  const workloadCheck = enforcePolicy({ object: first, namespace, definition: def.name, clusterScopedAllowed: def.clusterScoped, path });
  if ("problem" in workloadCheck) return { objects: [], problems: [workloadCheck.problem] };
  let workload = workloadCheck.manifest;
  const expected = def.workload;
  // Group and kind must match; the version may differ (a template picks batch/v1beta1 on old clusters).
  if (expected.kind !== "*" && (groupOf(workload.apiVersion) !== groupOf(expected.apiVersion) || workload.kind !== expected.kind)) {
    problems.push({
      path,
      message: `definition "${def.name}" declares workload ${workloadKey(expected.apiVersion, expected.kind)} but its template rendered ${workloadKey(workload.apiVersion, workload.kind)} first`,
      fix: "Return the workload as the first object of the template, or fix spec.workload.",
    });
  }

  const extras: RenderedObject[] = [];
  const isPerRevision = (m: Manifest): boolean => m.metadata.name.startsWith(context.name);
  for (const obj of rest) {
    const checked = enforcePolicy({ object: obj, namespace, definition: def.name, clusterScopedAllowed: def.clusterScoped, path });
    if ("problem" in checked) problems.push(checked.problem);
    else extras.push({ manifest: checked.manifest, componentScoped: !isPerRevision(checked.manifest) });
  }

  const traits = effectiveTraits(spec, override, path, def.defaultTraits);
  const compiledTraits: Array<{ def: CompiledTrait; properties: JsonObject; path: string }> = [];
  traits.forEach(({ spec: t, path: tpath }) => {
    try {
      const tdef = lookupTrait(registry, t.name, tpath);
      if (!traitApplies(tdef, workload.apiVersion, workload.kind)) {
        throw new ValidationError([
          {
            path: `${tpath}.name`,
            message: `trait "${t.name}" does not apply to ${workloadKey(workload.apiVersion, workload.kind)} (it applies to ${tdef.appliesTo.join(", ")})`,
            fix: "Remove the trait or use a component type whose workload it supports.",
          },
        ]);
      }
      const properties = tdef.validate(t.properties, `${tpath}.properties`);
      compiledTraits.push({ def: tdef, properties, path: tpath });
    } catch (e) {
      problems.push(problemOf(e, tpath));
    }
  });
  for (const a of compiledTraits) {
    for (const b of compiledTraits) {
      if (a !== b && a.def.conflictsWith.includes(b.def.name)) {
        problems.push({
          path: `${b.path}.name`,
          message: `trait "${b.def.name}" conflicts with trait "${a.def.name}" on the same component`,
          fix: "Attach only one of the two.",
        });
      }
    }
  }
  if (problems.length) return { objects: [], problems };

  let hasAutoscaler = false;
  // Traits with order: last run after all the others, so they see the final workload (every
  // container that sidecar and init-container traits added); listed order is kept within each group.
  const ordered = [...compiledTraits.filter((t) => t.def.order !== "last"), ...compiledTraits.filter((t) => t.def.order === "last")];
  for (const t of ordered) {
    const componentScoped = t.def.scope === "component";
    const traitContext: TemplateContext = componentScoped ? { ...context, selectorLabels: context.componentSelectorLabels } : context;
    try {
      if (t.def.patch) {
        const patch = await args.cache.evaluate(t.def.patch, { properties: t.properties, context: traitContext, workload }, `${t.path}.properties`);
        if (patch !== undefined && patch !== null) {
          workload = mergePatch(workload, patch) as Manifest;
        }
      }
      if (t.def.outputs) {
        const outputs = expandLists(
          asObjects(await args.cache.evaluate(t.def.outputs, { properties: t.properties, context: traitContext, workload }, `${t.path}.properties`)),
          t.path,
        );
        if ("problem" in outputs) {
          problems.push(outputs.problem);
          continue;
        }
        for (const obj of outputs.objects) {
          const checked = enforcePolicy({ object: obj, namespace, definition: t.def.name, clusterScopedAllowed: t.def.clusterScoped, path: t.path });
          if ("problem" in checked) {
            problems.push(checked.problem);
            continue;
          }
          if (checked.manifest.kind === HPA_KIND) hasAutoscaler = true;
          if (t.def.health) setAnnotation(checked.manifest, ANNOTATION_HEALTH, t.def.health);
          extras.push({ manifest: checked.manifest, componentScoped });
        }
      }
    } catch (e) {
      problems.push(problemOf(e, t.path));
    }
  }
  if (problems.length) return { objects: [], problems };

  // The escape hatches patch the workload as every other trait left it, whatever their position.
  for (const t of compiledTraits) {
    if (!t.def.workloadPatch) continue;
    const patched = applyRawPatch(t, workload, { namespace, clusterScopedAllowed: def.clusterScoped });
    if ("problem" in patched) return { objects: [], problems: [patched.problem] };
    workload = patched.manifest;
  }

  // A patch may not move the workload out of the deployment's namespace or make it cluster-scoped.
  const patched = enforcePolicy({
    object: workload,
    namespace,
    definition: compiledTraits.map((t) => t.def.name).join(", ") || def.name,
    clusterScopedAllowed: def.clusterScoped,
    path,
  });
  if ("problem" in patched) return { objects: [], problems: [patched.problem] };
  workload = patched.manifest;

  if (def.replicasPath) {
    // The count stays in Git (dropping it would make the API server reset it to the default), but
    // once the rollout is complete an autoscaler owns it: the sync loop stops calling it drift.
    setPath(workload, def.replicasPath, replicas);
    if (hasAutoscaler && target.releaseReplicasToAutoscaler) setAnnotation(workload, ANNOTATION_AUTOSCALED_PATH, def.replicasPath);
  }
  if (def.health) setAnnotation(workload, ANNOTATION_HEALTH, def.health);

  // A sealed Secret named after its component (the sealed-secret type) is one object shared by the
  // revisions, as a component-scoped Service is: workloads of two revisions side by side reference it
  // by that name, and the newest revision's values win.
  const sharedWorkload = isMarkedSecret(workload) && !isPerRevision(workload);
  const objects: RenderedObject[] = [{ manifest: workload, componentScoped: sharedWorkload }, ...extras];
  // Flotilla's own labels overwrite whatever the object carries (ownership, pruning and revisions
  // depend on them); the recommended ones only fill in what the template, traits and user left out.
  // The version follows the main container's image as the traits left it; a definition without an
  // image setting gets none, whatever its containers run.
  const image = typeof settings.image === "string" ? (containerImage(workload, spec.name) ?? settings.image) : undefined;
  const recommended = recommendedLabels({ app, component: spec.name, image });
  for (const o of objects) {
    const labels = componentLabels(namespace, app, spec.name);
    const { [LABEL_REVISION]: _dropped, ...userLabels } = o.manifest.metadata.labels ?? {};
    const stamped = o.componentScoped ? labels : { ...labels, [LABEL_REVISION]: revision };
    o.manifest.metadata.labels = { ...recommended, ...userLabels, ...stamped };
    o.manifest = labelPodTemplates(o.manifest);
  }
  return { objects, problems };
}

/**
 * One json-patch / json-merge-patch trait applied to the workload: all of it or none of it, and the
 * result held to the same policy as anything a template renders, under the trait's own path.
 */
function applyRawPatch(
  t: { def: CompiledTrait; properties: JsonObject; path: string },
  workload: Manifest,
  component: { namespace: string; clusterScopedAllowed: boolean },
): Checked {
  const format = t.def.workloadPatch;
  if (!format) return { manifest: workload };
  const result = applyWorkloadPatch(format, workload, t.properties);
  if ("failure" in result) {
    const { field, message, fix } = result.failure;
    const base = `${t.path}.properties`;
    return { problem: { path: field === "" ? base : field.startsWith("[") ? base + field : `${base}.${field}`, message: `${t.def.name}: ${message}`, fix } };
  }
  const after = result.document as Partial<Manifest>;
  for (const [field, before, now] of [
    ["apiVersion", workload.apiVersion, after.apiVersion],
    ["kind", workload.kind, after.kind],
    ["metadata.name", workload.metadata.name, after.metadata?.name],
  ] as const) {
    if (before !== now) {
      return {
        problem: {
          path: `${t.path}.properties`,
          message: `${t.def.name}: changes the workload's ${field} from ${JSON.stringify(before)} to ${JSON.stringify(now)}; the other traits, the rollout and pruning depend on it`,
          fix: `Leave ${field} alone; for another kind of object, use a component type that renders it (e.g. k8s-objects).`,
        },
      };
    }
  }
  // The kind cannot change, so the component's definition still decides whether it may be cluster-scoped.
  return enforcePolicy({
    object: after,
    namespace: component.namespace,
    definition: t.def.name,
    clusterScopedAllowed: component.clusterScopedAllowed,
    path: t.path,
  });
}

function setAnnotation(m: Manifest, key: string, value: string): void {
  m.metadata.annotations = { ...(m.metadata.annotations ?? {}), [key]: value };
}

export function manifestKey(m: Manifest): string {
  return `${groupOf(m.apiVersion) || "core"}.${m.kind}.${m.metadata.namespace ?? ""}.${m.metadata.name}`;
}

function compareManifests(a: Manifest, b: Manifest): number {
  const ka = manifestKey(a);
  const kb = manifestKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * Render every target. Throws one ValidationError listing every problem found (with field
 * paths); on success returns the manifests per cluster in the order of `targets`.
 */
export async function renderDeployment(request: RenderRequest): Promise<RenderedCluster[]> {
  const { deployment, registry, targets } = request;
  const cache = request.cache ?? new TemplateCache();
  const problems: FieldProblem[] = [];
  const seen = new Set<string>();
  const out: RenderedCluster[] = [];
  const revisionIndex = new Map(deployment.spec.appRevisions.map((r, i) => [r.name, i]));

  for (const target of targets) {
    const byKey = new Map<string, Manifest>();
    for (const plan of target.revisions) {
      // Component-scoped objects replace the previous revision's copy, but two in one revision clash.
      const revisionKeys = new Set<string>();
      const ri = revisionIndex.get(plan.name);
      const revision = ri === undefined ? undefined : deployment.spec.appRevisions[ri];
      if (ri === undefined || !revision) {
        throw new FlotillaError(`render plan names revision "${plan.name}", which is not in spec.appRevisions`);
      }
      for (const [ci, spec] of revision.template.spec.components.entries()) {
        const path = componentPath(ri, ci);
        try {
          const { objects, problems: found } = await renderComponent({
            deployment,
            registry,
            spec,
            path,
            revision: plan.name,
            replicas: plan.replicas,
            target,
            cache,
          });
          for (const p of found) pushOnce(problems, seen, p);
          for (const o of objects) {
            const key = manifestKey(o.manifest);
            if ((!o.componentScoped || revisionKeys.has(key)) && byKey.has(key)) {
              pushOnce(problems, seen, {
                path,
                message: `renders ${o.manifest.kind} "${o.manifest.metadata.name}" twice`,
                fix: "Give every object a unique name, e.g. from context.name.",
              });
            }
            byKey.set(key, o.manifest);
            revisionKeys.add(key);
          }
        } catch (e) {
          pushOnce(problems, seen, problemOf(e, path));
        }
      }
    }
    out.push({ cluster: target.cluster.name, wave: target.wave, manifests: [...byKey.values()].sort(compareManifests) });
  }
  if (problems.length) {
    throw new ValidationError(problems, { object: `ApplicationDeployment/${deployment.metadata.namespace ?? "default"}/${deployment.metadata.name}` });
  }
  return out;
}

function pushOnce(problems: FieldProblem[], seen: Set<string>, p: FieldProblem): void {
  const key = `${p.path}\u0000${p.message}`;
  if (!seen.has(key)) {
    seen.add(key);
    problems.push(p);
  }
}
