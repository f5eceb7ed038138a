// `flotilla render --out-dir`: the environment-repository layout written as plain files, so a user
// can inspect or commit rendered manifests with their own tools. Never deletes anything outside
// the deployment folders it writes, and only `.yaml` files inside them. Paths come from
// `manifestPath`, whose file names fit a filesystem's segment limit (long ones are shortened).

import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LayoutError, MANIFEST_EXTENSION, MAX_FILE_NAME_BYTES, parseManifestPath } from "./layout.js";

export interface WriteLayoutOptions {
  /**
   * Remove `.yaml` files of the written deployment folders that are not in `files` (objects that
   * are no longer rendered). Default: true.
   */
  removeStale?: boolean;
}

/** What `writeLayout` did, by repository path (sorted). */
export interface WriteLayoutResult {
  written: string[];
  unchanged: string[];
  removed: string[];
}

/**
 * Write layout paths (`clusters/<cluster>/<namespace>/<deployment>/<file>`) under `outDir`.
 * Files whose content is already identical are left alone so timestamps stay meaningful.
 */
export async function writeLayout(
  outDir: string,
  files: ReadonlyMap<string, string> | Readonly<Record<string, string>>,
  options: WriteLayoutOptions = {},
): Promise<WriteLayoutResult> {
  const entries = files instanceof Map ? [...files.entries()] : Object.entries(files);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const folders = new Map<string, Set<string>>();
  for (const [path] of entries) {
    const parts = parseManifestPath(path); // validates before anything is written
    // The parser still reads full names of any length (old repositories); a file system may not take them.
    if (Buffer.byteLength(parts.fileName) > MAX_FILE_NAME_BYTES) {
      throw new LayoutError(
        "file",
        parts.fileName,
        `is ${Buffer.byteLength(parts.fileName)} bytes, longer than the ${MAX_FILE_NAME_BYTES} the layout writes`,
        "Build the path with manifestPath(), which shortens long names.",
      );
    }
    const folder = path.slice(0, -parts.fileName.length - 1);
    const names = folders.get(folder) ?? new Set<string>();
    folders.set(folder, names);
    names.add(parts.fileName);
  }
  const result: WriteLayoutResult = { written: [], unchanged: [], removed: [] };
  for (const folder of folders.keys()) await mkdir(join(outDir, folder), { recursive: true });
  for (const [path, content] of entries) {
    const target = join(outDir, path);
    const existing = await readFile(target, "utf8").catch(() => undefined);
    if (existing === content) {
      result.unchanged.push(path);
      continue;
    }
    await writeFile(target, content);
    result.written.push(path);
  }
  if (options.removeStale ?? true) {
    for (const [folder, keep] of [...folders.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const present = await readdir(join(outDir, folder));
      for (const name of present.sort()) {
        if (!name.endsWith(MANIFEST_EXTENSION) || keep.has(name)) continue;
        await rm(join(outDir, folder, name), { force: true });
        result.removed.push(`${folder}/${name}`);
      }
    }
  }
  return result;
}
