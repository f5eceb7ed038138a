// The set of definitions a render uses, by name. Built from any loader (files now, the hub's
// objects in the controller); broken definitions stay listed so their users get the reason.

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
  return { components: sortedMap(components), traits: sortedMap(traits) };
}

function sortedMap<V>(m: Map<string, V>): Map<string, V> {
  return new Map([...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Problems of every broken definition, for `flotilla validate` and logs. */
export function brokenDefinitions(registry: DefinitionRegistry): BrokenDefinition[] {
  return [...registry.components.values(), ...registry.traits.values()].filter(isBroken);
}
