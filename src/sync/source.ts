// The seam between the env repo and the sync loop: turns the files of `clusters/<cluster>/` at a
// commit into plain desired objects. A file that does not parse fails alone (reported by the
// sync as a failed change) instead of failing the whole cluster.

import { parseYamlStream } from "../api/serialize.js";
import type { Manifest } from "../api/types.js";
import { parseManifestPath } from "../gitops/layout.js";
import type { EnvRepo } from "../gitops/repo.js";
import type { DesiredState, InvalidFile } from "./types.js";
import type { DesiredSource } from "./desired-cache.js";

function isManifest(v: unknown): v is Manifest {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  return typeof o.apiVersion === "string" && typeof o.kind === "string" && !!meta && typeof meta.name === "string";
}

type ParsedFile = { object: Manifest } | { invalid: InvalidFile };

function parseFile(path: string, text: string): ParsedFile {
  const parts = path.split("/");
  const deployment = parts.length >= 4 ? `${parts[2]}/${parts[3]}` : "-";
  try {
    parseManifestPath(path);
    const docs = parseYamlStream(text, { filename: path });
    if (docs.length !== 1 || !isManifest(docs[0])) {
      throw new Error("must hold exactly one object with apiVersion, kind and metadata.name");
    }
    return { object: docs[0] };
  } catch (error) {
    return { invalid: { path, deployment, message: `${path}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` } };
  }
}

function collect(commit: string, parsed: Iterable<ParsedFile>): DesiredState {
  const objects: Manifest[] = [];
  const invalid: InvalidFile[] = [];
  for (const p of parsed) {
    if ("object" in p) objects.push(p.object);
    else invalid.push(p.invalid);
  }
  return { commit, objects, invalid };
}

/** Parse the files of a cluster folder (path → YAML text) into desired objects. */
export function desiredFromFiles(commit: string, files: ReadonlyMap<string, string>): DesiredState {
  return collect(
    commit,
    [...files].map(([path, text]) => parseFile(path, text)),
  );
}

/**
 * A DesiredSource reading `clusters/<cluster>/` from the env repo at each commit. A commit changes
 * a few files of a folder that may hold thousands, so what was parsed is kept by path and blob
 * oid: only new or changed files are read and parsed. An unchanged file yields the very same
 * object as before, which is how the sync loop tells the deployments a commit touched.
 */
export function envRepoSource(repo: Pick<EnvRepo, "listCluster" | "readFile">, cluster: string): DesiredSource {
  let known = new Map<string, ParsedFile>();
  return async (commit) => {
    const files = await repo.listCluster(cluster, commit);
    const next = new Map<string, ParsedFile>();
    for (const [path, oid] of [...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const key = `${path}\0${oid}`;
      next.set(key, known.get(key) ?? parseFile(path, await repo.readFile(oid)));
    }
    // Only the latest commit's files are kept: the worker caches the DesiredState it still needs.
    known = next;
    return collect(commit, [...next.values()]);
  };
}
