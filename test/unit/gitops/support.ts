// Small builders shared by the gitops tests: temp directories, rendered-file maps and stock git.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { toYaml } from "../../../src/api/serialize.js";
import { manifestFileName } from "../../../src/gitops/layout.js";

const run = promisify(execFile);

export async function tempDir(prefix = "flotilla-git-"): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/** Files of one deployment in one cluster: a ConfigMap per key with `data.value`. */
export function configMaps(namespace: string, values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    const m = { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace }, data: { value } };
    out[manifestFileName(m)] = toYaml(m);
  }
  return out;
}

/** Run stock git with a clean environment; returns stdout, stderr and the exit code (no throw). */
export async function stockGit(gitdir: string, args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run("git", [`--git-dir=${gitdir}`, ...args], {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: gitdir, GIT_CONFIG_NOSYSTEM: "1", LC_ALL: "C" },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { stdout: e.stdout ?? "", stderr: e.stderr ?? "", code: typeof e.code === "number" ? e.code : 1 };
  }
}

/** A clock that advances by `stepMs` on every call, starting at `start`. */
export function steppingClock(start: number, stepMs: number): () => Date {
  let t = start;
  return () => {
    t += stepMs;
    return new Date(t);
  };
}
