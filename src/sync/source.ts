// The seam between the env repo and the sync loop: turns the files of `clusters/<cluster>/` at a
// commit into plain desired objects. A file that does not parse fails alone (reported by the
// sync as a failed change) instead of failing the whole cluster.

import { parseYamlStream } from "../api/serialize.js";
import type { Manifest } from "../api/types.js";
import { parseManifestPath } from "../gitops/layout.js";
import type { EnvRepo } from "../gitops/repo.js";
import type { DesiredState, InvalidFile } from "./types.js";
import type { DesiredSource } from "./worker.js";

function isManifest(v: unknown): v is Manifest {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  const meta = o.metadata as Record<string, unknown> | undefined;
  return typeof o.apiVersion === "string" && typeof o.kind === "string" && !!meta && typeof meta.name === "string";
}

/** Parse the files of a cluster folder (path → YAML text) into desired objects. */
export function desiredFromFiles(commit: string, files: ReadonlyMap<string, string>): DesiredState {
  const objects: Manifest[] = [];
  const invalid: InvalidFile[] = [];
  for (const [path, text] of files) {
    const parts = path.split("/");
    const deployment = parts.length >= 4 ? `${parts[2]}/${parts[3]}` : "-";
    try {
      parseManifestPath(path);
      const docs = parseYamlStream(text, { filename: path });
      if (docs.length !== 1 || !isManifest(docs[0])) {
        throw new Error("must hold exactly one object with apiVersion, kind and metadata.name");
      }
      objects.push(docs[0]);
    } catch (error) {
      invalid.push({ path, deployment, message: `${path}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}` });
    }
  }
  return { commit, objects, invalid };
}

/** A DesiredSource reading `clusters/<cluster>/` from the env repo at each commit. */
export function envRepoSource(repo: Pick<EnvRepo, "readCluster">, cluster: string): DesiredSource {
  return async (commit) => desiredFromFiles(commit, await repo.readCluster(cluster, commit));
}

