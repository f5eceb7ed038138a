// Housekeeping: every commit adds a handful of loose objects (one file each). Past a threshold
// they are written into one packfile with its version-2 index, then the loose copies are deleted,
// keeping the repository small and readable by stock git and isomorphic-git alike. Never deletes
// a loose object before the index of the pack holding it is in place, and never prunes
// unreachable objects (old commits stay readable). Objects are stored whole (no deltas).

import { createHash } from "node:crypto";
import { readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { crc32, deflateSync, inflateSync } from "node:zlib";
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
    const header = Buffer.alloc(12);
    header.write("PACK", 0, "latin1");
    header.writeUInt32BE(2, 4);
    header.writeUInt32BE(oids.length, 8);
    const chunks: Buffer[] = [header];
    const packed: PackedObject[] = [];
    let offset = header.length;
    for (const oid of oids) {
      const raw = inflateSync(await readFile(join(gitdir, "objects", oid.slice(0, 2), oid.slice(2))));
      const nul = raw.indexOf(0);
      const [type, size] = raw.subarray(0, nul).toString("latin1").split(" ");
      const code = TYPE_CODES[type ?? ""];
      const content = raw.subarray(nul + 1);
      if (code === undefined || Number(size) !== content.length) {
        throw new Error(`loose object ${oid} is corrupt (header ${JSON.stringify(raw.subarray(0, nul).toString("latin1"))})`);
      }
      const entry = Buffer.concat([entryHeader(code, content.length), deflateSync(content)]);
      packed.push({ oid, offset, crc: crc32(entry) });
      chunks.push(entry);
      offset += entry.length;
    }
    const hash = createHash("sha1");
    for (const c of chunks) hash.update(c);
    const packSha = hash.digest();
    const name = `pack-${packSha.toString("hex")}`;
    const dir = join(gitdir, "objects", "pack");
    // The pack first, then its index: readers only look for packs through their .idx files.
    await writeFile(join(dir, `tmp_${name}.pack`), Buffer.concat([...chunks, packSha]));
    await rename(join(dir, `tmp_${name}.pack`), join(dir, `${name}.pack`));
    await writeFile(join(dir, `tmp_${name}.idx`), packIndex(packed, packSha));
    await rename(join(dir, `tmp_${name}.idx`), join(dir, `${name}.idx`));
    for (const oid of oids) await rm(join(gitdir, "objects", oid.slice(0, 2), oid.slice(2)), { force: true });
    store.looseWrites = 0;
    return { packed: oids.length, pack: `${name}.pack` };
  } catch (err) {
    throw new GitError(`packing loose objects in ${gitdir} failed: ${(err as Error).message}`, { cause: err });
  }
}
