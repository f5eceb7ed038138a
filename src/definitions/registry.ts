// The set of definitions a render uses, by name. Built from any loader (files now, the hub's
// objects in the controller); broken definitions stay listed so their users get the reason.

import { type FieldProblem, ValidationError } from "../api/errors.js";
import type { BrokenDefinition, CompiledComponent, CompiledTrait } from "./compile.js";
import { compileDefinition } from "./compile.js";
import type { TemplateBudget } from "./jsonata.js";

export interface DefinitionRegistry {
  readonly components: ReadonlyMap<string, CompiledComponent | BrokenDefinition>;
  readonly traits: ReadonlyMap<string, CompiledTrait | BrokenDefinition>;
}

export function isBroken(def: CompiledComponent | CompiledTrait | BrokenDefinition): def is BrokenDefinition {
  return "broken" in def;
}

/** Compile every document; later documents with the same kind and name replace earlier ones. */
export function buildRegistry(docs: Iterable<unknown>, budget?: TemplateBudget): DefinitionRegistry {
  const components = new Map<string, CompiledComponent | BrokenDefinition>();
  const traits = new Map<string, CompiledTrait | BrokenDefinition>();
  for (const doc of docs) {
    const compiled = budget ? compileDefinition(doc, budget) : compileDefinition(doc);
    if (compiled.kind === "TraitDefinition") traits.set(compiled.name, compiled as CompiledTrait | BrokenDefinition);
    else components.set(compiled.name, compiled as CompiledComponent | BrokenDefinition);
  }
  for (const [name, def] of components) {
    const broken = isBroken(def) ? undefined : defaultTraitProblem(def, traits);
    if (broken) components.set(name, broken);
  }
  return { components: sortedMap(components), traits: sortedMap(traits) };
}

/**
 * A component type whose defaultTraits name a trait that is not installed (or name one twice) is
 * broken: every component of the type would fail, so its users are told why, with the field path.
 */
function defaultTraitProblem(def: CompiledComponent, traits: ReadonlyMap<string, unknown>): BrokenDefinition | undefined {
  const seen = new Set<string>();
  for (const [i, t] of def.defaultTraits.entries()) {
    const path = `spec.defaultTraits[${i}].name`;
    let problem: FieldProblem | undefined;
    if (!traits.has(t.name)) {
      const known = [...traits.keys()].sort();
      problem = {
        path,
        message: `unknown trait "${t.name}"`,
        fix: known.length ? `Use one of: ${known.join(", ")}; or install a TraitDefinition named "${t.name}".` : `Install a TraitDefinition named "${t.name}".`,
      };
    } else if (seen.has(t.name)) {
      problem = { path, message: `names trait "${t.name}" a second time`, fix: "Merge the two entries into one." };
    }
    seen.add(t.name);
    if (problem) {
      return { kind: def.kind, name: def.name, broken: true, error: new ValidationError([problem], { object: `ComponentDefinition/${def.name}` }) };
    }
  }
  return undefined;
}

function sortedMap<V>(m: Map<string, V>): Map<string, V> {
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Problems of every broken definition, for `flotilla validate` and logs. */
export function brokenDefinitions(registry: DefinitionRegistry): BrokenDefinition[] {
  return [...registry.components.values(), ...registry.traits.values()].filter(isBroken);
}
