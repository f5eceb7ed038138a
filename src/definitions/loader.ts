// Where definitions come from. The file loader reads YAML (multi-document) from files and
// folders; the controller backs the same interface with the hub's objects.

import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { ValidationError } from "../api/errors.js";
import { parseYamlStream } from "../api/serialize.js";

export interface DefinitionSource {
  /** Every ComponentDefinition and TraitDefinition document, in a stable order. */
  loadDocuments(): Promise<unknown[]>;
}

const DEFINITION_KINDS = new Set(["ComponentDefinition", "TraitDefinition"]);

/** All `*.yaml` / `*.yml` / `*.json` files under the given paths (recursively), sorted. */
export async function listManifestFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  const visit = async (p: string): Promise<void> => {
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

/** Read every document of every file; a YAML syntax error names the file and line. */
export async function readDocuments(paths: string[]): Promise<LoadedDocument[]> {
  const docs: LoadedDocument[] = [];
  for (const file of await listManifestFiles(paths)) {
    const text = await readFile(file, "utf8");
    let parsed: unknown[];
    try {
      parsed = parseYamlStream(text, { filename: file });
    } catch (e) {
      throw new ValidationError([{ path: file, message: (e as Error).message.split("\n")[0] ?? "is not valid YAML", fix: "Fix the YAML syntax." }], { cause: e });
    }
    parsed.forEach((doc, index) => {
      // `kind: List` documents (as kubectl writes them) are flattened.
      const items = (doc as { kind?: string; items?: unknown[] }).kind === "List" ? ((doc as { items?: unknown[] }).items ?? []) : [doc];
      for (const item of items) docs.push({ file, index, doc: item });
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
