// `flotilla definitions list|show`: which component types and traits there are and what each
// takes, without reading YAML. Reads the built-in definitions (plus `--definitions` folders), as
// render and validate do, or with `--hub` the hub's objects, as the controller does. Read-only.

import { readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { type Command, Option } from "commander";
import { FlotillaError, KubeApiError } from "../api/errors.js";
import { API_VERSION } from "../api/labels.js";
import { type LoadedDocument, readDocuments, STDIN } from "../definitions/loader.js";
import { leadingComments, parseUsageComment } from "../definitions/usage.js";
import { summaryOf } from "./command-index.js";
import {
  type Definition,
  type DefinitionEntry,
  definitionList,
  definitionTable,
  definitionView,
  findDefinition,
  KIND_WORDS,
  type KindWord,
  kindWord,
  printedDefinition,
} from "./definitions-view.js";
import { EXIT_USAGE } from "./exit-codes.js";
import { examples } from "./help.js";
import { builtinDefinitionsDir } from "./inputs.js";
import { addOutputOption, formatData, isDataFormat, TABLE_FORMATS, TEXT_FORMATS, type TableFormat, type TextFormat } from "./output.js";
import { collect } from "./repeatable.js";

const DEFINITION_KINDS = ["ComponentDefinition", "TraitDefinition"] as const;

interface SourceOptions {
  definitions: string[];
  hub?: boolean;
  kubeconfig?: string;
  context?: string;
}

function isDefinition(doc: unknown): doc is Definition {
  const d = doc as { kind?: unknown; metadata?: { name?: unknown }; spec?: unknown };
  return (DEFINITION_KINDS as readonly unknown[]).includes(d?.kind) && typeof d.metadata?.name === "string" && typeof d.spec === "object" && d.spec !== null;
}

/** How a file is named in SOURCE: the built-ins by their path in the package, others as given. */
function sourceLabel(file: string): string {
  const builtin = relative(builtinDefinitionsDir(), file);
  return builtin.startsWith("..") || builtin === file ? file : `${join("definitions", builtin)} (built-in)`;
}

/** The usage comment of every document of `file`, by document index; none when the comments and documents do not pair up. */
async function usageByIndex(file: string, docs: readonly LoadedDocument[]): Promise<Map<number, DefinitionEntry["usage"]>> {
  const out = new Map<number, DefinitionEntry["usage"]>();
  if (file === STDIN || file === "stdin") return out;
  const blocks = leadingComments(await readFile(file, "utf8"));
  const indices = new Set(docs.map((d) => d.index));
  if (blocks.length !== indices.size) return out;
  for (const index of indices) {
    // A List's items share one comment: it is the List's, not any item's.
    if (docs.filter((d) => d.index === index).length !== 1) continue;
    const block = blocks[index];
    if (block?.length) out.set(index, parseUsageComment(block));
  }
  return out;
}

/** The built-ins and `extraDirs`, a later definition of a kind and name replacing an earlier one (as render's registry does). */
async function localEntries(extraDirs: readonly string[]): Promise<DefinitionEntry[]> {
  const byKey = new Map<string, DefinitionEntry>();
  const docs = await readDocuments([builtinDefinitionsDir(), ...extraDirs]);
  const files = [...new Set(docs.map((d) => d.file))];
  for (const file of files) {
    const ofFile = docs.filter((d) => d.file === file);
    const usage = await usageByIndex(file, ofFile);
    for (const { index, doc } of ofFile) {
      const kind = (doc as { kind?: unknown })?.kind;
      if (!(DEFINITION_KINDS as readonly unknown[]).includes(kind)) continue;
      if (!isDefinition(doc)) {
        process.stderr.write(
          `note: skipped a ${String(kind)} in ${file} without metadata.name or spec (\`flotilla validate -f ${file}\` says what is wrong)\n`,
        );
        continue;
      }
      const found = usage.get(index);
      byKey.set(`${doc.kind}/${doc.metadata.name}`, { definition: doc, source: sourceLabel(file), ...(found ? { usage: found } : {}) });
    }
  }
  return [...byKey.values()];
}

/** The hub's ComponentDefinitions and TraitDefinitions. */
async function hubEntries(opts: SourceOptions): Promise<DefinitionEntry[]> {
  const [{ loadKubeConfig }, { KubeClient }] = await Promise.all([import("./kubeconfig.js"), import("../kube/client.js")]);
  const client = new KubeClient({ kubeConfig: loadKubeConfig(opts.kubeconfig, opts.context) });
  try {
    const entries: DefinitionEntry[] = [];
    for (const kind of DEFINITION_KINDS) {
      try {
        for (const item of await client.list(API_VERSION, kind)) {
          if (isDefinition(item)) entries.push({ definition: item, source: "hub" });
        }
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 404) {
          throw new FlotillaError(
            `the hub serves no ${kind} (Flotilla's CRDs are not installed there). Install them with \`flotilla install --without-controller\`, or drop --hub, --kubeconfig and --context to see the built-in definitions.`,
            { cause: e },
          );
        }
        throw e;
      }
    }
    return entries;
  } finally {
    client.close();
  }
}

function fromHub(opts: SourceOptions): boolean {
  return Boolean(opts.hub || opts.kubeconfig !== undefined || opts.context !== undefined);
}

/** The definitions the options point at; `--definitions` with the hub is bad usage (exit 2). */
async function entriesFor(command: Command, opts: SourceOptions): Promise<DefinitionEntry[]> {
  if (!fromHub(opts)) return localEntries(opts.definitions);
  if (opts.definitions.length) {
    command.error(
      "error: --definitions adds local folders to the built-ins, --hub (--kubeconfig, --context) reads the hub's definitions: pass one or the other.",
      {
        exitCode: EXIT_USAGE,
        code: "flotilla.definitionsSource",
      },
    );
  }
  return hubEntries(opts);
}

function withSource(command: Command): Command {
  return command
    .option(
      "--definitions <dir>",
      "extra definitions folder, as render's (repeatable; the built-ins are always read, a later definition replaces one of the same kind and name)",
      collect,
      [],
    )
    .option("--hub", "read the hub's ComponentDefinitions and TraitDefinitions instead (the kubeconfig's current context)")
    .option("--kubeconfig <file>", "the hub's kubeconfig; implies --hub (default: KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "the context of the hub's kubeconfig; implies --hub");
}

export function registerDefinitionsCommands(program: Command): void {
  const group = program.command("definitions").description(summaryOf("definitions"));

  const list = withSource(
    group.command("list").alias("ls").description("the component types and traits: NAME, KIND, WORKLOAD (a trait: the kinds it applies to) and DESCRIPTION"),
  );
  addOutputOption(list, TABLE_FORMATS, "table, wide (SCOPE and SOURCE), json or yaml (a List of the definitions)")
    .addHelpText(
      "after",
      examples(
        "flotilla definitions list",
        "flotilla definitions list --definitions platform/definitions/ -o wide",
        "flotilla definitions list --kubeconfig hub.kubeconfig     # what the hub's controller renders with",
        "flotilla definitions list -o json | jq -r '.items[].metadata.name'",
      ),
    )
    .action(async (opts: SourceOptions & { output: TableFormat }) => {
      const entries = await entriesFor(list, opts);
      process.stdout.write(isDataFormat(opts.output) ? formatData(definitionList(entries), opts.output) : definitionTable(entries, opts.output === "wide"));
    });

  const show = withSource(
    group
      .command("show <name>")
      .description("one definition: what it renders or applies to, its parameters (path, type, default, required, description) and an example")
      .addOption(new Option("--kind <kind>", "component or trait, for a name that is both").choices(KIND_WORDS)),
  );
  addOutputOption(show, TEXT_FORMATS, "text, wide (a CONSTRAINTS column and the notes of the file's usage comment), json or yaml (the definition)")
    .addHelpText(
      "after",
      examples(
        "flotilla definitions show webservice",
        "flotilla definitions show env -o wide",
        "flotilla definitions show gateway --hub",
        "flotilla definitions show my-trait --kind trait --definitions platform/definitions/",
        "flotilla definitions show webservice -o yaml",
      ),
    )
    .action(async (name: string, opts: SourceOptions & { kind?: KindWord; output: TextFormat }) => {
      const entries = await entriesFor(show, opts);
      const entry = findDefinition(entries, name, opts.kind);
      if (isDataFormat(opts.output)) {
        process.stdout.write(formatData(printedDefinition(entry.definition), opts.output));
        return;
      }
      let noExample: string | undefined;
      if (entry.source === "hub") {
        const builtin = (await localEntries([])).find((e) => e.definition.kind === entry.definition.kind && e.definition.metadata.name === name);
        noExample = builtin
          ? `the hub keeps no comments; \`flotilla definitions show ${name}${opts.kind ? ` --kind ${kindWord(entry.definition)}` : ""}\` without --hub prints the built-in's.`
          : "the hub keeps no comments; see the usage comment of the file the definition was applied from.";
      }
      process.stdout.write(definitionView(entry, { wide: opts.output === "wide", ...(noExample ? { noExample } : {}) }));
    });
}
