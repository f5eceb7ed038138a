// Answers the one fetch a pull-mode agent makes over and over — "I have the commit I fetched last,
// send me the branch's new head" — inside the controller, instead of forking `git http-backend`,
// `git upload-pack` and `git pack-objects` for it (three processes per fetch: the largest
// pull-only share of the hub's CPU, docs/performance.md). The pack holds only what the new commits
// changed (a tree walk that stops at subtrees the client's commit already has), so its cost
// follows the change, not the repository.
//
// It answers only a request it understands completely — protocol v0/v1 in one stateless round
// ending in `done`, one wanted ref tip, a linear history back to a commit the client has, the
// capabilities isomorphic-git and stock git ask for — and returns a reason otherwise: the caller
// then runs the real backend, which stays the reference for everything else (first clones,
// negotiation rounds, protocol v2, shallow and filtered fetches).

import { reaches } from "./ancestry.js";
import { gitFs } from "./git-fs.js";
import * as git from "isomorphic-git";
import { parsePktLines, pktLine, sidebandLine } from "./pkt-line.js";
import type { CachedAnswer } from "./serve-cache.js";
import type { ObjectStore } from "./store.js";

/** A fetch request's parts, as far as this module answers them. */
export interface UploadPackRequest {
  wants: string[];
  haves: string[];
  capabilities: string[];
  /** The request ended with `done`: the client waits for the pack, not for another round. */
  done: boolean;
}

/** Why a request is left to the backend. */
export type Unanswered = { unanswered: string };

/** Capabilities an in-process answer honours (others, such as `include-tag` or `filter`, go to the backend). */
const SUPPORTED_CAPABILITIES = new Set(["multi_ack_detailed", "no-done", "side-band-64k", "ofs-delta", "thin-pack", "no-progress"]);
/** More commits than this between the client's and the wanted one: the backend's deltas pay off. */
const MAX_COMMITS = 200;
/** More `have` lines than this come from a negotiating client, not from an agent. */
const MAX_HAVES = 64;
/** How far back from a tip a wanted commit is looked for. */
const MAX_TIP_DISTANCE = 50;
/** A side-band-64k packet carries at most 65,520 bytes: length (4), band (1), data. */
const SIDEBAND_DATA_BYTES = 65_515;
const OID = /^[0-9a-f]{40}$/;

/** The headers `git http-backend` sends with an upload-pack result: never cached by a proxy. */
const RESULT_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ["Expires", "Fri, 01 Jan 1980 00:00:00 GMT"],
  ["Pragma", "no-cache"],
  ["Cache-Control", "no-cache, max-age=0, must-revalidate"],
  ["Content-Type", "application/x-git-upload-pack-result"],
];

/** Parse the pkt-lines of an upload-pack request body. */
export function parseUploadPackRequest(body: Buffer): UploadPackRequest | Unanswered {
  const lines = parsePktLines(body);
  if (!Array.isArray(lines)) return { unanswered: lines.malformed };
  const request: UploadPackRequest = { wants: [], haves: [], capabilities: [], done: false };
  let section: "wants" | "haves" = "wants";
  for (const raw of lines) {
    if (request.done) return { unanswered: "data after done" };
    if (raw === null) {
      section = "haves";
      continue;
    }
    const line = raw.replace(/\n$/, "");
    const [verb = "", oid = "", ...rest] = line.split(" ");
    if (section === "wants" && verb === "want" && OID.test(oid)) {
      if (request.wants.length === 0) request.capabilities = rest.filter((c) => c !== "");
      else if (rest.length > 0) return { unanswered: "capabilities after the first want" };
      request.wants.push(oid);
    } else if (section === "haves" && verb === "have" && OID.test(oid) && rest.length === 0) {
      request.haves.push(oid);
    } else if (section === "haves" && line === "done") {
      request.done = true;
    } else {
      // shallow, deepen, filter, a v2 command: the backend knows them.
      return { unanswered: `the line "${line.slice(0, 40)}"` };
    }
  }
  return request;
}

/** Every object id a ref advertisement of these refs names (the tips, and peeled tags' targets). */
export function advertisedOids(refsFingerprint: string): Set<string> {
  return new Set(refsFingerprint.match(/\b[0-9a-f]{40}\b/g) ?? []);
}

export interface UploadPackOptions {
  /**
   * The served repository's objects, kept between requests: the trees one fetch brings are the
   * parents the next fetch compares against, and the store keeps parsed trees and commits.
   */
  store: ObjectStore;
  /** Object ids the client may want: the tips of the refs it was advertised. */
  tips: ReadonlySet<string>;
}

/**
 * The complete answer to `request` (ACKs, then the pack on side-band 1, then a flush), or why it
 * is left to the backend. Never throws for a missing or unreadable object: that is a reason too.
 */
export async function answerUploadPack(request: UploadPackRequest, o: UploadPackOptions): Promise<CachedAnswer | Unanswered> {
  if (!request.done) return { unanswered: "a negotiation round without done" };
  const wants = [...new Set(request.wants)];
  if (wants.length !== 1) return { unanswered: `${wants.length} wants` };
  const want = wants[0] as string;
  const caps = request.capabilities.filter((c) => !c.startsWith("agent="));
  const unsupported = caps.find((c) => !SUPPORTED_CAPABILITIES.has(c));
  if (unsupported) return { unanswered: `the capability ${unsupported}` };
  if (!caps.includes("multi_ack_detailed") || !caps.includes("side-band-64k")) return { unanswered: "no multi_ack_detailed or side-band-64k" };
  const haves = [...new Set(request.haves)];
  if (haves.length === 0) return { unanswered: "no haves (a clone)" };
  if (haves.length > MAX_HAVES) return { unanswered: `${haves.length} haves` };

  const read = o.store;
  try {
    // As upload-pack over stateless HTTP: a want the branch has moved past since the client read
    // the refs (the controller commits every second in a burst) is served if a tip still reaches it.
    if (!(await reachableFromTips(read, want, o.tips))) return { unanswered: "a want no ref tip reaches" };
    const common: string[] = [];
    for (const have of haves) if (await read.has(have)) common.push(have);
    if (common.length === 0) return { unanswered: "no have is known here" };
    // A client that has the want already (an agent's fetch with nothing new) gets an empty pack.
    const commonSet = new Set(common);

    // The new commits, newest first, each with its parent's tree: a linear walk to a common commit.
    const commits: Array<{ oid: string; tree: string; parent: string }> = [];
    for (let oid = want; !commonSet.has(oid); ) {
      if (commits.length === MAX_COMMITS) return { unanswered: `more than ${MAX_COMMITS} new commits` };
      const commit = await read.readCommit(oid);
      if (commit.parent.length !== 1) return { unanswered: "a merge or a root commit among the new ones" };
      const parent = commit.parent[0] as string;
      commits.push({ oid, tree: commit.tree, parent });
      oid = parent;
    }
    const objects = new Set<string>();
    for (const c of commits) {
      objects.add(c.oid);
      const parentTree = (await read.readCommit(c.parent)).tree;
      await addChangedTree(read, c.tree, parentTree, objects);
    }
    const { packfile } = await git.packObjects({ fs: gitFs, gitdir: read.gitdir, oids: [...objects], cache: read.cache });
    if (!packfile) return { unanswered: "no pack was produced" };
    const chunks: Buffer[] = common.map((oid) => Buffer.from(pktLine(`ACK ${oid} common\n`)));
    chunks.push(Buffer.from(pktLine(`ACK ${common.at(-1)}\n`)));
    const pack = Buffer.from(packfile.buffer, packfile.byteOffset, packfile.byteLength);
    for (let at = 0; at < pack.length; at += SIDEBAND_DATA_BYTES) chunks.push(sidebandLine(1, pack.subarray(at, at + SIDEBAND_DATA_BYTES)));
    chunks.push(Buffer.from("0000"));
    return { status: 200, headers: RESULT_HEADERS, body: Buffer.concat(chunks) };
  } catch (err) {
    return { unanswered: `reading the repository: ${err instanceof Error ? err.message : String(err)}` };
  }
}

async function reachableFromTips(read: ObjectStore, want: string, tips: ReadonlySet<string>): Promise<boolean> {
  if (tips.has(want)) return true;
  for (const tip of tips) {
    // Not found within the distance, or a commit that cannot be read: the backend answers.
    if (await reaches(read, tip, want, MAX_TIP_DISTANCE).catch(() => false)) return true;
  }
  return false;
}

/**
 * Add `tree` and what it holds that `before` (a tree the client has, or will have from this pack)
 * does not: subtrees with the same id are skipped whole. A tree already added was walked already.
 */
async function addChangedTree(read: ObjectStore, tree: string, before: string | undefined, out: Set<string>): Promise<void> {
  if (tree === before || out.has(tree)) return;
  out.add(tree);
  const old = new Map(before === undefined ? [] : (await read.readTree(before)).map((e) => [e.path, e] as const));
  for (const entry of await read.readTree(tree)) {
    if (entry.type === "commit") continue; // a submodule's commit lives in another repository
    const was = old.get(entry.path);
    if (was?.oid === entry.oid) continue;
    if (entry.type === "tree") await addChangedTree(read, entry.oid, was?.type === "tree" ? was.oid : undefined, out);
    else out.add(entry.oid);
  }
}
