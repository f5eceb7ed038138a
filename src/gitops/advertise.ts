// The ref advertisement of `GET info/refs?service=git-upload-pack` (protocol v0/v1), written by the
// controller for the environment repository's refs, so that an agent learning of a new commit
// starts no `git http-backend` on the hub. The capabilities are the backend's own, learned from its
// last answer: this module never decides what upload-pack supports, it only puts today's refs
// under the line the backend wrote. A repository with refs it does not model (tags, other
// namespaces, a HEAD that points elsewhere than the learned answer says) is left to the backend.

import { type Dirent, readdirSync } from "node:fs";
import { join } from "node:path";
import { parsePktLines, pktLine } from "./pkt-line.js";
import { type CachedAnswer, readOrEmpty } from "./serve-cache.js";

/** What is kept of a backend's advertisement: its headers and the capabilities of its first line. */
export interface AdvertisementTemplate {
  headers: ReadonlyArray<readonly [string, string]>;
  capabilities: string;
  /** HEAD's target as the capabilities name it (`symref=HEAD:refs/heads/main`). */
  headTarget: string;
}

const SERVICE_LINE = "# service=git-upload-pack\n";
const OID = /^[0-9a-f]{40}$/;

/**
 * Learn a template from a backend's answer; undefined when the answer names anything but HEAD
 * and branches (then every advertisement stays the backend's).
 */
export function learnAdvertisement(answer: CachedAnswer): AdvertisementTemplate | undefined {
  if (answer.status !== 200) return undefined;
  const lines = parsePktLines(answer.body);
  if (!Array.isArray(lines) || lines[0] !== SERVICE_LINE || lines[1] !== null) return undefined;
  const first = lines[2];
  if (typeof first !== "string") return undefined;
  const nul = first.indexOf("\0");
  if (nul < 0 || !first.slice(0, nul).endsWith(" HEAD")) return undefined;
  const capabilities = first.slice(nul + 1).replace(/\n$/, "");
  const headTarget = /(?:^| )symref=HEAD:(\S+)/.exec(capabilities)?.[1];
  if (!headTarget) return undefined;
  for (const line of lines.slice(3, -1)) if (typeof line !== "string" || !/^[0-9a-f]{40} refs\/heads\/\S+\n$/.test(line)) return undefined;
  if (lines.at(-1) !== null) return undefined;
  return { headers: answer.headers, capabilities, headTarget };
}

/** The refs of a bare repository when they are HEAD (a symbolic ref) and branches only; else undefined. */
export function readBranches(gitdir: string): { head: string; branches: Map<string, string> } | undefined {
  const head = /^ref: (refs\/heads\/\S+)$/.exec(readOrEmpty(join(gitdir, "HEAD")))?.[1];
  if (!head) return undefined;
  const branches = new Map<string, string>();
  for (const line of readOrEmpty(join(gitdir, "packed-refs")).split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const [oid = "", name = ""] = line.split(" ");
    if (!OID.test(oid) || !name.startsWith("refs/heads/")) return undefined;
    branches.set(name, oid);
  }
  const walk = (dir: string, prefix: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return true;
    }
    for (const e of entries) {
      const name = `${prefix}${e.name}`;
      if (e.isDirectory()) {
        if (!walk(join(dir, e.name), `${name}/`)) return false;
        continue;
      }
      if (e.name.endsWith(".lock")) continue;
      if (!name.startsWith("refs/heads/")) return false;
      const oid = readOrEmpty(join(dir, e.name));
      if (!OID.test(oid)) return false;
      branches.set(name, oid); // a loose ref is newer than its packed line
    }
    return true;
  };
  return walk(join(gitdir, "refs"), "refs/") ? { head, branches } : undefined;
}

/** The advertisement of `refs` under the template's capabilities; undefined when HEAD moved to another branch or is unborn. */
export function advertise(template: AdvertisementTemplate, refs: { head: string; branches: ReadonlyMap<string, string> }): CachedAnswer | undefined {
  if (refs.head !== template.headTarget) return undefined;
  const headOid = refs.branches.get(refs.head);
  if (!headOid) return undefined;
  const parts = [pktLine(SERVICE_LINE), "0000", pktLine(`${headOid} HEAD\0${template.capabilities}\n`)];
  for (const name of [...refs.branches.keys()].sort()) parts.push(pktLine(`${refs.branches.get(name)} ${name}\n`));
  parts.push("0000");
  return { status: 200, headers: template.headers, body: Buffer.from(parts.join(""), "utf8") };
}
