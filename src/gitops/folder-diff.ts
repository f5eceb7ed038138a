// `flotilla diff`'s comparison of one deployment's folder in one cluster: the files Git holds at a
// commit against the files a new rendering would commit, as one unified diff per object (added,
// changed, removed). Pure and deterministic: paths in order, no colors, no time stamps.

import { createTwoFilesPatch, FILE_HEADERS_ONLY } from "diff";

export type ChangeAction = "added" | "changed" | "removed";

/** One object file that would change. */
export interface FileChange {
  /** Repository path, `clusters/<cluster>/<ns>/<name>/<file>`. */
  path: string;
  action: ChangeAction;
  /** Unified diff, `--- a/<path>` (or `/dev/null`) and `+++ b/<path>` (or `/dev/null`) first. */
  patch: string;
}

/** Lines of context around each change, as `git diff` and `kubectl diff` show. */
export const CONTEXT_LINES = 3;

/** A unified diff of two texts under the given names, headers `---`/`+++` only; empty when equal. */
export function unifiedPatch(oldName: string, newName: string, oldText: string, newText: string): string {
  if (oldText === newText) return "";
  return createTwoFilesPatch(oldName, newName, oldText, newText, undefined, undefined, { context: CONTEXT_LINES, headerOptions: FILE_HEADERS_ONLY });
}

/**
 * The files of one deployment folder that would change: `head` and `next` map file names (as
 * layout.ts names them) to their text; `folder` is the folder's repository path.
 */
export function folderChanges(folder: string, head: Readonly<Record<string, string>>, next: Readonly<Record<string, string>>): FileChange[] {
  const names = [...new Set([...Object.keys(head), ...Object.keys(next)])].sort();
  const out: FileChange[] = [];
  for (const name of names) {
    const path = `${folder}/${name}`;
    const before = head[name];
    const after = next[name];
    if (before === after) continue;
    if (before === undefined) out.push({ path, action: "added", patch: unifiedPatch("/dev/null", `b/${path}`, "", after ?? "") });
    else if (after === undefined) out.push({ path, action: "removed", patch: unifiedPatch(`a/${path}`, "/dev/null", before, "") });
    else out.push({ path, action: "changed", patch: unifiedPatch(`a/${path}`, `b/${path}`, before, after) });
  }
  return out;
}

/** `2 changed, 1 added, 0 removed`, or `no change`. */
export function changeSummary(changes: readonly { action: ChangeAction }[]): string {
  if (changes.length === 0) return "no change";
  const count = (a: ChangeAction) => changes.filter((c) => c.action === a).length;
  return `${count("changed")} changed, ${count("added")} added, ${count("removed")} removed`;
}
