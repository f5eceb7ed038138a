// Housekeeping: every commit adds a handful of loose objects (one file each). Past a threshold
// they are written into one packfile with its version-2 index, then the loose copies are deleted,
// keeping the repository small and readable by stock git and isomorphic-git alike. Never deletes
// a loose object before the index of the pack holding it is in place, and never prunes
// unreachable objects (old commits stay readable). Objects are stored whole (no deltas).

import { createHash } from "node:crypto";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gitFs } from "./git-fs.js";
import { crc32, deflateSync, inflateSync } from "node:zlib";
import * as git from "isomorphic-git";
import { GitError } from "../api/errors.js";
import type { ObjectStore } from "./store.js";

const FANOUT = /^[0-9a-f]{2}$/;
const REST = /^[0-9a-f]{38}$/;
const TYPE_CODES: Record<string, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };

/** Oids of all loose objects of a repository (reads the 256 fan-out folders). */
export async function listLooseObjects(gitdir: string): Promise<string[]> {
  const objects = join(gitdir, "objects");
  const oids: string[] = [];
  for (const dir of (await readdir(objects)).filter((d) => FANOUT.test(d)).sort()) {
    for (const rest of (await readdir(join(objects, dir)).catch(() => [] as string[])).sort()) {
      if (REST.test(rest)) oids.push(dir + rest);
    }
  }
  return oids;
}

export interface PackResult {
  /** Loose objects moved into the new pack (0 when nothing was done). */
  packed: number;
  /** File name of the new pack under `objects/pack/`, when one was written. */
  pack?: string;
}

/** Pack entry header: type in bits 4-6 of the first byte, size as a little-endian varint. */
function entryHeader(type: number, size: number): Buffer {
  const bytes: number[] = [];
  let rest = Math.floor(size / 16);
  let byte = (type << 4) | (size & 15);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

interface PackedObject {
  oid: string;
  offset: number;
  crc: number;
}

/** A version-2 pack index: fan-out table, sorted oids, CRC32s, offsets, checksums. */
function packIndex(objects: PackedObject[], packSha: Buffer): Buffer {
  const sorted = [...objects].sort((a, b) => (a.oid < b.oid ? -1 : 1));
  const fanout = Buffer.alloc(256 * 4);
  let i = 0;
  for (let b = 0; b < 256; b++) {
    while (i < sorted.length && Number.parseInt((sorted[i] as PackedObject).oid.slice(0, 2), 16) <= b) i++;
    fanout.writeUInt32BE(i, b * 4);
  }
  const crcs = Buffer.alloc(sorted.length * 4);
  const offsets = Buffer.alloc(sorted.length * 4);
  const large: Buffer[] = [];
  sorted.forEach((o, k) => {
    crcs.writeUInt32BE(o.crc, k * 4);
    if (o.offset < 0x80000000) offsets.writeUInt32BE(o.offset, k * 4);
    else {
      offsets.writeUInt32BE((0x80000000 | large.length) >>> 0, k * 4);
      const big = Buffer.alloc(8);
      big.writeBigUInt64BE(BigInt(o.offset));
      large.push(big);
    }
  });
  const body = Buffer.concat([
    Buffer.from([0xff, 0x74, 0x4f, 0x63, 0, 0, 0, 2]),
    fanout,
    ...sorted.map((o) => Buffer.from(o.oid, "hex")),
    crcs,
    offsets,
    ...large,
    packSha,
  ]);
  return Buffer.concat([body, createHash("sha1").update(body).digest()]);
}

/** Pack every loose object into a new packfile (+ index), then delete the loose copies. */
export async function packLooseObjects(store: ObjectStore): Promise<PackResult> {
  const gitdir = store.gitdir;
  try {
    const oids = await listLooseObjects(gitdir);
    if (oids.length === 0) return { packed: 0 };
    const objects: WholeObject[] = [];
    for (const oid of oids) {
      const raw = inflateSync(await readFile(join(gitdir, "objects", oid.slice(0, 2), oid.slice(2))));
      const nul = raw.indexOf(0);
      const [type, size] = raw.subarray(0, nul).toString("latin1").split(" ");
      const content = raw.subarray(nul + 1);
      if (TYPE_CODES[type ?? ""] === undefined || Number(size) !== content.length) {
        throw new Error(`loose object ${oid} is corrupt (header ${JSON.stringify(raw.subarray(0, nul).toString("latin1"))})`);
      }
      objects.push({ oid, type: type as string, content });
    }
    const name = await writePack(gitdir, objects.map(wholeEntry));
    for (const oid of oids) await rm(join(gitdir, "objects", oid.slice(0, 2), oid.slice(2)), { force: true });
    store.looseWrites = 0;
    return { packed: oids.length, pack: `${name}.pack` };
  } catch (err) {
    throw new GitError(`packing loose objects in ${gitdir} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** An object as a pack stores it when it has no delta. */
interface WholeObject {
  oid: string;
  type: string;
  content: Buffer | Uint8Array;
}

/**
 * Consecutive entries of a pack as written (headers and deflated data), with where each object
 * starts in `bytes` and the CRC32 of its entry that the index keeps.
 */
interface PackPart {
  bytes: Buffer;
  objects: { oid: string; at: number; crc: number }[];
}

/** The pack entry of a whole (undeltified) object. */
function wholeEntry(o: WholeObject): PackPart {
  const code = TYPE_CODES[o.type];
  if (code === undefined) throw new Error(`object ${o.oid} has the unknown type ${JSON.stringify(o.type)}`);
  const bytes = Buffer.concat([entryHeader(code, o.content.length), deflateSync(o.content)]);
  return { bytes, objects: [{ oid: o.oid, at: 0, crc: crc32(bytes) }] };
}

/**
 * Write `parts` as one pack with its version-2 index; returns its name (`pack-<sha>`). The pack
 * first, then its index: readers look for packs only through their .idx.
 */
async function writePack(gitdir: string, parts: readonly PackPart[]): Promise<string> {
  const header = Buffer.alloc(12);
  header.write("PACK", 0, "latin1");
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(
    parts.reduce((n, p) => n + p.objects.length, 0),
    8,
  );
  const chunks: Buffer[] = [header];
  const packed: PackedObject[] = [];
  let offset = header.length;
  for (const part of parts) {
    for (const o of part.objects) packed.push({ oid: o.oid, offset: offset + o.at, crc: o.crc });
    chunks.push(part.bytes);
    offset += part.bytes.length;
  }
  const hash = createHash("sha1");
  for (const c of chunks) hash.update(c);
  const packSha = hash.digest();
  const name = `pack-${packSha.toString("hex")}`;
  const dir = join(gitdir, "objects", "pack");
  await writeFile(join(dir, `tmp_${name}.pack`), Buffer.concat([...chunks, packSha]));
  await rename(join(dir, `tmp_${name}.pack`), join(dir, `${name}.pack`));
  await writeFile(join(dir, `tmp_${name}.idx`), packIndex(packed, packSha));
  await rename(join(dir, `tmp_${name}.idx`), join(dir, `${name}.idx`));
  return name;
}

/** What a version-2 pack index says of each object: its id, where its entry starts, its entry's CRC32. */
export interface PackIndexEntry {
  oid: string;
  offset: number;
  crc: number;
}

/** The entries of a version-2 pack index, in its (oid) order. */
export function readPackIndex(idx: Buffer): PackIndexEntry[] {
  if (idx.length < 8 + 256 * 4 || idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2) {
    throw new Error("not a version-2 pack index");
  }
  const count = idx.readUInt32BE(8 + 255 * 4);
  const oidsAt = 8 + 256 * 4;
  const crcsAt = oidsAt + count * 20;
  const offsetsAt = crcsAt + count * 4;
  const largeAt = offsetsAt + count * 4;
  if (idx.length < largeAt + 40) throw new Error(`a pack index of ${count} objects is cut short`);
  const entries: PackIndexEntry[] = [];
  for (let i = 0; i < count; i++) {
    const small = idx.readUInt32BE(offsetsAt + i * 4);
    // Past 2 GiB the offset is an index into the table of 8-byte offsets.
    const offset = small & 0x80000000 ? Number(idx.readBigUInt64BE(largeAt + (small & 0x7fffffff) * 8)) : small;
    entries.push({ oid: idx.toString("hex", oidsAt + i * 20, oidsAt + (i + 1) * 20), offset, crc: idx.readUInt32BE(crcsAt + i * 4) });
  }
  return entries;
}

export interface MergeResult {
  /** Packs whose objects were written into the new one (0 when nothing was done). */
  merged: number;
  /** The packs merged (`pack-<sha>`): their indexes gone, their data for the caller to remove once no read may still use it. */
  retired: string[];
  /** The new pack (`pack-<sha>`), when one was written. */
  pack?: string;
}

/** How many times a kept pack must outweigh the merged one (git's `repack --geometric=2`). */
const GEOMETRIC_FACTOR = 2;

/**
 * Which packs a merge writes into one, given each pack's object count: the fewest smallest packs
 * that bring the count to `maxPacks` or below, and more while the next larger pack does not
 * outweigh them by GEOMETRIC_FACTOR. Kept packs thus grow geometrically and an object is rewritten
 * a logarithmic number of times; merging everything but the largest pack each time (as before)
 * rewrote the growing second pack on every merge, which took seconds of an agent's fetch at
 * N = 1,000. Nothing when there are `maxPacks` packs or fewer.
 */
export function packsToMerge<P extends { objects: number }>(packs: readonly P[], maxPacks: number): P[] {
  if (packs.length <= maxPacks) return [];
  const ascending = [...packs].sort((a, b) => a.objects - b.objects);
  let take = Math.max(2, packs.length - maxPacks + 1);
  let merged = ascending.slice(0, take).reduce((n, p) => n + p.objects, 0);
  while (take < ascending.length && (ascending[take] as P).objects < GEOMETRIC_FACTOR * merged) {
    merged += (ascending[take] as P).objects;
    take++;
  }
  return ascending.slice(0, take);
}

/** Pack entry types of a delta against another object, by offset or by id: not copied as they are (1-4 are whole objects). */
const OFS_DELTA = 6;
const REF_DELTA = 7;

/**
 * Past `maxPacks` packs, write the objects of the smaller ones into one pack (packsToMerge). Every
 * fetch leaves a pack, and a packed object is looked for in each pack in turn, so reads slow down
 * as packs accumulate. A whole object's entry is copied byte for byte (its data stays deflated, its
 * CRC is the index's); only a delta, which may point at an object of another pack, is read through
 * the library and written whole. Reading and deflating every object took an agent at N = 1,000
 * about 0.5 ms per object, seconds per merge, inside its fetch. The merged packs' indexes are
 * removed at once (new reads no longer look in them); their data files are left for the caller to
 * remove once no read that found them before may still open them (`removePacks`).
 */
export async function mergePacks(store: ObjectStore, options: { maxPacks: number }): Promise<MergeResult> {
  const gitdir = store.gitdir;
  const dir = join(gitdir, "objects", "pack");
  try {
    const names = (await readdir(dir).catch(() => [] as string[])).filter((f) => /^pack-[0-9a-f]{40}\.idx$/.test(f)).map((f) => f.slice(0, -4));
    if (names.length <= options.maxPacks) return { merged: 0, retired: [] };
    const packs = await Promise.all(
      names.sort().map(async (name) => {
        const index = readPackIndex(await readFile(join(dir, `${name}.idx`)));
        return { name, index, objects: index.length };
      }),
    );
    const chosen = packsToMerge(packs, options.maxPacks);
    const seen = new Set<string>();
    const parts: PackPart[] = [];
    for (const pack of chosen) {
      const data = await readFile(join(dir, `${pack.name}.pack`));
      const byOffset = [...pack.index].sort((x, y) => x.offset - y.offset);
      // Entries copied as they are go out in runs: one slice of the old pack per run.
      let run: { start: number; objects: PackPart["objects"] } | undefined;
      const endRun = (end: number) => {
        if (run && run.objects.length > 0) parts.push({ bytes: data.subarray(run.start, end), objects: run.objects });
        run = undefined;
      };
      for (const e of byOffset) {
        if (seen.has(e.oid)) {
          endRun(e.offset);
          continue;
        }
        seen.add(e.oid);
        const type = ((data[e.offset] as number) >> 4) & 7;
        if (type === OFS_DELTA || type === REF_DELTA) {
          endRun(e.offset);
          const { type: name, object } = await git.readObject({ fs: gitFs, gitdir, oid: e.oid, format: "content", cache: store.cache });
          parts.push(wholeEntry({ oid: e.oid, type: name, content: object as Uint8Array }));
        } else if (type >= 1 && type <= 4) {
          run ??= { start: e.offset, objects: [] };
          run.objects.push({ oid: e.oid, at: e.offset - run.start, crc: e.crc });
        } else {
          throw new Error(`${pack.name}.pack has an entry of unknown type ${type} at offset ${e.offset}`);
        }
      }
      endRun(data.length - 20); // the pack's checksum follows its last entry
    }
    const pack = await writePack(gitdir, parts);
    const retired = chosen.map((p) => p.name).filter((n) => n !== pack);
    for (const name of retired) await rm(join(dir, `${name}.idx`), { force: true });
    return { merged: chosen.length, retired, pack };
  } catch (err) {
    throw new GitError(`merging the packs of ${gitdir} failed: ${(err as Error).message}`, { cause: err });
  }
}

/** Remove packs a merge retired (an index still there goes first: no reader finds a pack without its data). */
export async function removePacks(gitdir: string, names: Iterable<string>): Promise<void> {
  const dir = join(gitdir, "objects", "pack");
  for (const name of names) {
    await rm(join(dir, `${name}.idx`), { force: true });
    await rm(join(dir, `${name}.pack`), { force: true });
  }
}
