// What `flotilla definitions list|show` print: the table of definitions, one definition's view
// (what it renders or fits, its parameters, its example) and the objects for -o json|yaml. Plain
// data in, text out: where the definitions come from is definitions.ts's business.

import { FlotillaError } from "../api/errors.js";
import { ANNOTATION_DESCRIPTION } from "../api/labels.js";
import type { ComponentDefinition, TraitDefinition } from "../api/types.js";
import { defaultText, parameterTable } from "../definitions/parameters.js";
import type { UsageComment } from "../definitions/usage.js";
import { type KubeList, kubeList } from "./output.js";
import { textTable } from "./table.js";

export type Definition = ComponentDefinition | TraitDefinition;

/** `--kind`'s words. */
export const KIND_WORDS = ["component", "trait"] as const;
export type KindWord = (typeof KIND_WORDS)[number];

export interface DefinitionEntry {
  definition: Definition;
  /** Where it was read: a file (`definitions/traits/env.yaml`), or `hub`. */
  source: string;
  /** The file's usage comment; none for the hub's objects, which keep no comments. */
  usage?: UsageComment;
}

export function kindWord(d: Definition): KindWord {
  return d.kind === "TraitDefinition" ? "trait" : "component";
}

/** The description annotation on one line: a table row must stay one line. */
function description(d: Definition): string {
  return (d.metadata.annotations?.[ANNOTATION_DESCRIPTION] ?? "").replace(/\s+/g, " ").trim();
}

function appliesTo(d: TraitDefinition): string[] {
  return d.spec.appliesTo?.length ? d.spec.appliesTo : ["*"];
}

/**
 * A component's workload (`apps/v1/Deployment`); a trait's `appliesTo`, in the table shortened to
 * the kinds once each (`Deployment,StatefulSet,CronJob`: batch/v1 and batch/v1beta1 CronJob are one).
 */
export function workloadColumn(d: Definition, full = false): string {
  if (d.kind === "ComponentDefinition") return `${d.spec.workload?.apiVersion ?? "?"}/${d.spec.workload?.kind ?? "?"}`;
  const targets = appliesTo(d);
  if (full) return targets.join(",");
  return [...new Set(targets.map((t) => t.split("/").at(-1) ?? t))].join(",");
}

/** Components first, then traits; by name within each. */
export function sortEntries(entries: readonly DefinitionEntry[]): DefinitionEntry[] {
  const key = (e: DefinitionEntry) => `${kindWord(e.definition) === "component" ? 0 : 1}\u0000${e.definition.metadata.name}`;
  return [...entries].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** `flotilla definitions list`: NAME, KIND, WORKLOAD, DESCRIPTION; wide: SCOPE and SOURCE before DESCRIPTION. */
export function definitionTable(entries: readonly DefinitionEntry[], wide = false): string {
  if (entries.length === 0) return "No definitions found.\n";
  const head = wide ? ["NAME", "KIND", "WORKLOAD", "SCOPE", "SOURCE", "DESCRIPTION"] : ["NAME", "KIND", "WORKLOAD", "DESCRIPTION"];
  const rows = sortEntries(entries).map(({ definition: d, source }) => {
    const scope = d.kind === "TraitDefinition" ? (d.spec.scope ?? "revision") : "<none>";
    const cells = [d.metadata.name, kindWord(d), workloadColumn(d)];
    return [...cells, ...(wide ? [scope, source] : []), description(d) || "<none>"];
  });
  return textTable(head, rows);
}

/** A definition as -o json|yaml prints it: the object, without server-side apply's managedFields. */
export function printedDefinition(d: Definition): Definition {
  const { managedFields: _, ...metadata } = d.metadata;
  return { ...d, metadata };
}

export function definitionList(entries: readonly DefinitionEntry[]): KubeList<Definition> {
  return kubeList(sortEntries(entries).map((e) => printedDefinition(e.definition)));
}

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next.push(Math.min((prev[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = next;
  }
  return prev[b.length] ?? 0;
}

/** The definition named `name` (of `kind` when given); an error saying what there is instead. */
export function findDefinition(entries: readonly DefinitionEntry[], name: string, kind?: KindWord): DefinitionEntry {
  const named = entries.filter((e) => e.definition.metadata.name === name);
  const found = kind ? named.filter((e) => kindWord(e.definition) === kind) : named;
  if (found.length === 1 && found[0]) return found[0];
  if (found.length > 1) {
    throw new FlotillaError(`"${name}" is both a ComponentDefinition and a TraitDefinition. Pass --kind component or --kind trait.`);
  }
  const what = kind === "component" ? "ComponentDefinition" : kind === "trait" ? "TraitDefinition" : "ComponentDefinition or TraitDefinition";
  const other = kind ? named.map((e) => ` (there is a ${kindWord(e.definition)} of that name: drop --kind or pass --kind ${kindWord(e.definition)})`) : [];
  const close = [...new Set(entries.map((e) => e.definition.metadata.name))]
    .filter((n) => distance(n, name) <= 2 || (name.length >= 3 && n.includes(name)))
    .sort();
  const hint = close.length ? ` Did you mean ${close.join(", ")}?` : "";
  throw new FlotillaError(`no ${what} named "${name}"${other[0] ?? ""}.${hint} \`flotilla definitions list\` shows them all.`);
}

/** `Label:` then the value, the labels padded to one width, as kubectl describe prints fields. */
function fields(pairs: Array<[string, string]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length)) + 2;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width)}${v}`.trimEnd()).join("\n");
}

export interface ShowOptions {
  /** -o wide: a CONSTRAINTS column and the notes of the usage comment. */
  wide?: boolean;
  /** What to print instead of the example when the entry has no usage comment (a hub's definition). */
  noExample?: string;
}

/** `flotilla definitions show NAME`: the definition, its parameters as a table, its example. */
export function definitionView(entry: DefinitionEntry, options: ShowOptions = {}): string {
  const d = entry.definition;
  const out: string[] = [];
  const head: Array<[string, string]> = [
    ["Name", d.metadata.name],
    ["Kind", d.kind],
    ["Description", description(d) || "<none>"],
  ];
  if (d.kind === "ComponentDefinition") {
    head.push(["Workload", workloadColumn(d)]);
    head.push(["Replicas path", d.spec.replicasPath ?? "<none> (not scaled by the rollout)"]);
  } else {
    head.push(["Applies to", appliesTo(d).join(", ")]);
    head.push(["Scope", d.spec.scope === "component" ? "component (its outputs once for all revisions)" : "revision (its outputs per revision)"]);
    head.push(["Conflicts with", d.spec.conflictsWith?.length ? d.spec.conflictsWith.join(", ") : "<none>"]);
  }
  head.push(["Source", entry.source]);
  out.push(fields(head));

  if (options.wide && entry.usage?.notes.length) out.push(`Notes:\n${entry.usage.notes.map((l) => (l ? `  ${l}` : "")).join("\n")}`);

  const where = d.kind === "ComponentDefinition" ? "Settings (components[].settings)" : "Properties (traits[].properties)";
  const { parameters, rules } = parameterTable(d.spec.schema);
  if (!d.spec.schema) out.push(`${where}: no schema, anything is accepted as given.`);
  else if (parameters.length === 0) out.push(`${where}: none.`);
  else {
    const headRow = ["PATH", "TYPE", "DEFAULT", "REQUIRED", ...(options.wide ? ["CONSTRAINTS"] : []), "DESCRIPTION"];
    const rows = parameters.map((p) => [
      p.path,
      p.type,
      defaultText(p) || "-",
      p.required ? "yes" : "no",
      ...(options.wide ? [p.constraints.join("; ") || "-"] : []),
      p.description,
    ]);
    const table = textTable(headRow, rows).trimEnd();
    out.push(`${where}:\n${table}${rules.length ? `\n\nRules:\n${rules.map((r) => `  ${r}`).join("\n")}` : ""}`);
  }

  if (entry.usage?.example.length) out.push(`Example:\n${entry.usage.example.map((l) => (l ? `  ${l}` : "")).join("\n")}`);
  else out.push(`Example: ${entry.usage ? "the file's usage comment has none." : (options.noExample ?? "none.")}`);
  return `${out.join("\n\n")}\n`;
}
