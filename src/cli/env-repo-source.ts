// `--env-repo PATH|URL` of `flotilla diff` and `flotilla history`: the environment repository read
// where it is (a bare repository such as the controller's `<data-dir>/env.git`, or a clone's
// `.git`), or fetched from an HTTPS URL into a temporary directory removed afterwards. Read-only:
// nothing is ever written to a local repository the user points at.

import { existsSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as git from "isomorphic-git";
import { gitFs } from "../gitops/git-fs.js";
import { FlotillaError } from "../api/errors.js";
import { displayUrl } from "../gitops/remote.js";
import { EnvRepo } from "../gitops/repo.js";
import { ObjectStore } from "../gitops/store.js";

/** Where `flotilla up` keeps the controller's embedded repository, relative to the working directory. */
export const LOCAL_FLEET_ENV_REPO = join(".flotilla", "controller", "env.git");

/** The local fleet's repository when there is one here, else undefined. */
export function defaultEnvRepo(): string | undefined {
  return existsSync(join(LOCAL_FLEET_ENV_REPO, "HEAD")) ? LOCAL_FLEET_ENV_REPO : undefined;
}

export interface OpenedEnvRepo {
  store: ObjectStore;
  /** The commit read (the branch head), or null in a repository without commits. */
  head: string | null;
  /** What to call it in messages: the path, or the URL without credentials. */
  label: string;
  /** Remove what was fetched (nothing for a local repository). */
  close(): Promise<void>;
}

export interface EnvRepoSourceOptions {
  /** Branch to read; default: the repository's HEAD (a URL: `main`). */
  branch?: string;
  /** Token for an HTTPS URL (default: none). Never printed. */
  token?: string;
}

/** A local repository: its git directory and the ref (or commit) its HEAD means. */
export interface LocatedRepo {
  gitdir: string;
  /** `HEAD`, or for a worktree what its own HEAD names (isomorphic-git reads only the common directory). */
  head: string;
}

/**
 * The git directory of a local repository: `<path>/.git` (a folder; or a worktree's `gitdir:` file,
 * read through its common directory), else the path itself when it is bare.
 */
export function locateRepo(path: string): LocatedRepo {
  if (!existsSync(path))
    throw new FlotillaError(`--env-repo: ${path} does not exist. Point it at the environment repository (a clone, or the controller's env.git).`);
  const dotGit = join(path, ".git");
  if (existsSync(dotGit)) {
    if (statSync(dotGit).isDirectory()) return { gitdir: dotGit, head: "HEAD" };
    const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, "utf8"));
    if (m?.[1]) {
      const own = resolve(path, m[1].trim());
      const common = existsSync(join(own, "commondir")) ? resolve(own, readFileSync(join(own, "commondir"), "utf8").trim()) : own;
      const head = readFileSync(join(own, "HEAD"), "utf8").trim();
      return { gitdir: common, head: head.startsWith("ref:") ? head.slice(4).trim() : head };
    }
  }
  if (existsSync(join(path, "HEAD")) && existsSync(join(path, "objects"))) return { gitdir: path, head: "HEAD" };
  throw new FlotillaError(`--env-repo: ${path} is not a Git repository (no .git folder, and not a bare repository).`);
}

async function headOf(gitdir: string, label: string, branch: string | undefined, head = "HEAD"): Promise<string | null> {
  try {
    return await git.resolveRef({ fs: gitFs, gitdir, ref: branch ? `refs/heads/${branch}` : head });
  } catch (e) {
    if ((e as { code?: string }).code !== "NotFoundError")
      throw new FlotillaError(`--env-repo: reading ${label} failed: ${(e as Error).message}`, { cause: e });
    if (!branch) return null; // HEAD names a branch without commits yet
    const branches = await git.listBranches({ fs: gitFs, gitdir }).catch(() => [] as string[]);
    throw new FlotillaError(`--env-branch: ${label} has no branch "${branch}" (it has: ${branches.join(", ") || "none"}).`);
  }
}

/** The Node error code of a failed connection somewhere in an error's causes, if any. */
function networkCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 6; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && /^E[A-Z]+$/.test(code)) return code;
  }
  return undefined;
}

/** Open the repository `spec` names (see the module comment). */
export async function openEnvRepoSource(spec: string, options: EnvRepoSourceOptions = {}): Promise<OpenedEnvRepo> {
  if (/^https?:\/\//.test(spec)) {
    const tmp = await mkdtemp(join(tmpdir(), "flotilla-env-"));
    const close = () => rm(tmp, { recursive: true, force: true });
    try {
      const dir = join(tmp, "env.git");
      const branch = options.branch ?? "main";
      const repo = await EnvRepo.open({ dir, remote: { url: spec, branch, ...(options.token ? { token: options.token } : {}) } });
      return { store: new ObjectStore({ gitdir: dir }), head: await repo.head(), label: displayUrl(spec), close };
    } catch (e) {
      await close();
      const code = networkCode(e);
      const why = code ? `the server does not answer (${code}). Check the URL, or pass a local clone` : (e as Error).message;
      throw new FlotillaError(`--env-repo: fetching ${displayUrl(spec)} failed: ${why}`, { cause: e });
    }
  }
  const path = spec.startsWith("file://") ? fileURLToPath(spec) : spec;
  const { gitdir, head } = locateRepo(path);
  return { store: new ObjectStore({ gitdir }), head: await headOf(gitdir, path, options.branch, head), label: path, close: async () => {} };
}
