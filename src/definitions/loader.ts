// Where definitions come from. The file loader reads YAML (multi-document) from files and
// folders; the controller backs the same interface with the hub's objects.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError } from "../api/errors.js";
import { checkDocumentSize, parseYamlStream, YamlLimitError } from "../api/serialize.js";

export interface DefinitionSource {
  /** Every ComponentDefinition and TraitDefinition document, in a stable order. */
  loadDocuments(): Promise<unknown[]>;
}

const DEFINITION_KINDS = new Set(["ComponentDefinition", "TraitDefinition"]);

/** The path that stands for standard input, as in `kubectl apply -f -`. */
export const STDIN = "-";

/** How standard input is named in messages. */
const STDIN_LABEL = "stdin";

/** All `*.yaml` / `*.yml` / `*.json` files under the given paths (recursively), sorted; `-` is standard input. */
export async function listManifestFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const visit = async (p: string): Promise<void> => {
    if (p === STDIN) {
      out.push(p);
      return;
    }
    const s = await stat(p).catch((e: NodeJS.ErrnoException) => {
      throw new ValidationError([{ path: p, message: `cannot be read (${e.code ?? e.message})`, fix: "Check the path." }]);
    });
    if (s.isDirectory()) {
      const entries = (await readdir(p)).sort();
      for (const e of entries) await visit(join(p, e));
    } else if (/\.(ya?ml|json)$/.test(p) || paths.includes(p)) {
      out.push(p);
    }
  };
  for (const p of paths) await visit(p);
  return out;
}

export interface LoadedDocument {
  file: string;
  index: number;
  doc: unknown;
}

/** `file`, or `file (document N)` past the first document: how problems of one document are named. */
function documentLabel(file: string, index: number): string {
  return index > 0 ? `${file} (document ${index + 1})` : file;
}

/**
 * The text of one input file. The size is checked before reading, so a huge file is refused with
 * the document limit instead of failing inside Node with a string-length error.
 */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

async function readText(file: string): Promise<string> {
  if (file === STDIN) return readStdin();
  const unreadable = (e: unknown): never => {
    const err = e as NodeJS.ErrnoException;
    throw new ValidationError([{ path: file, message: `cannot be read (${err.code ?? err.message})`, fix: "Check the path and its permissions." }], {
      cause: e,
    });
  };
  const s = await stat(file).catch(unreadable);
  try {
    // Only regular files have a meaningful size (a pipe reports 0); the parser checks the text again.
    if (s.isFile()) checkDocumentSize(s.size);
  } catch (e) {
    throw yamlProblem(file, e);
  }
  return readFile(file, "utf8").catch(unreadable);
}

/** A YAML problem as a ValidationError naming the file, with the limit's own fix when it is one. */
function yamlProblem(file: string, e: unknown): ValidationError {
  const message = e instanceof Error ? (e.message.split("\n")[0] ?? "") : String(e);
  const fix = e instanceof YamlLimitError ? e.fix : "Fix the YAML syntax.";
  return new ValidationError([{ path: file, message: message || "is not valid YAML", fix }], { cause: e });
}

/** The documents a parsed document stands for: the items of a `kind: List` (as kubectl writes them), or itself. */
function flatten(file: string, index: number, doc: unknown): unknown[] {
  const o = doc as { kind?: unknown; items?: unknown };
  if (o.kind !== "List") return [doc];
  if (o.items === undefined || o.items === null) return [];
  if (Array.isArray(o.items)) return o.items;
  throw new ValidationError([
    {
      path: documentLabel(file, index),
      message: `items: must be a list when kind is List (got ${typeof o.items === "object" ? "a mapping" : `a ${typeof o.items}`})`,
      fix: "Write items as a YAML list of objects (- apiVersion: ...), or drop kind: List and write the objects as documents separated by ---.",
    },
  ]);
}

/** Read every document of every file; a YAML syntax error or an input over a limit names the file (and line). */
export async function readDocuments(paths: string[], options: { duplicateKeys?: "refuse" | "last-wins" } = {}): Promise<LoadedDocument[]> {
  const docs: LoadedDocument[] = [];
  for (const path of await listManifestFiles(paths)) {
    const text = await readText(path);
    const file = path === STDIN ? STDIN_LABEL : path;
    let parsed: unknown[];
    try {
      parsed = parseYamlStream(text, { filename: file, ...(options.duplicateKeys ? { duplicateKeys: options.duplicateKeys } : {}) });
    } catch (e) {
      throw yamlProblem(file, e);
    }
    parsed.forEach((doc, index) => {
      for (const item of flatten(file, index, doc)) docs.push({ file, index, doc: item });
    });
  }
  return docs;
}

export class FileDefinitionSource implements DefinitionSource {
  constructor(private readonly paths: string[]) {}

  async loadDocuments(): Promise<unknown[]> {
    const docs = await readDocuments(this.paths);
    return docs.map((d) => d.doc).filter((d) => DEFINITION_KINDS.has(String((d as { kind?: unknown }).kind)));
  }
}
