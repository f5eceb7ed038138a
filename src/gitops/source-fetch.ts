// Fetching a GitSource's repository and reading its YAML files at one commit. Over HTTPS the
// ref's commit is asked for first (one small request) and objects are fetched only when it is new,
// into a shallow bare mirror under <data-dir>/sources/<namespace>/<name>; a local repository (a
// mounted volume) is read where it is. Credentials go to isomorphic-git's onAuth only and are
// scrubbed from every message: they are never logged, stored or shown in status.

import { gitFs } from "./git-fs.js";
import { mkdir, stat } from "node:fs/promises";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as git from "isomorphic-git";
import nodeHttp from "isomorphic-git/http/node";
import { GitError } from "../api/errors.js";
import { describeRef, type ResolvedRef } from "../api/git-source.js";
import { displayUrl, type HttpClient, networkCode, redact, validateRemoteUrl, remoteHttp } from "./remote.js";

/** HTTP basic credentials; a token travels as the password (GitHub, GitLab and Gitea accept any user name with it). */
export interface SourceCredentials {
  username: string;
  password: string;
}

export interface SourceFetchOptions {
  /** https:// (http:// on a trusted network) URL, or a local path / file:// URL. */
  url: string;
  ref: ResolvedRef;
  /** Folder of the repository whose YAML files are read; "" for the whole repository. */
  path: string;
  credentials?: SourceCredentials;
  /** Where the mirror of a remote repository is kept (created if missing). */
  mirrorDir: string;
  /** Whether a local path may be read. Default false: the URL must be http(s). */
  allowLocal?: boolean;
  /** How long to wait for the server to answer one request. Default 30 000 ms. */
  timeoutMs?: number;
  /**
   * The commit applied before. When the path is missing at the new commit but was a folder there,
   * its last file was removed (Git keeps no empty folder): the commit holds no file, rather than
   * an error. A path missing at both (a typo) stays an error, so it never prunes everything.
   */
  previousCommit?: string;
  /** Files read at most (a bound on what one commit may make the controller parse). Default 2 000. */
  maxFiles?: number;
  /** Bytes of YAML read at most. Default 32 MiB. */
  maxBytes?: number;
  http?: HttpClient;
}

export interface FetchedSource {
  /** The commit the ref points at. */
  commit: string;
  /** Every *.yaml / *.yml file under the path, by path from the repository's root, sorted. */
  files: Array<{ path: string; text: string }>;
  /** True when objects were downloaded (the ref had moved, or this was the first fetch). */
  downloaded: boolean;
}

/** A URL that names a repository on the controller's file system. */
export function isLocalUrl(url: string): boolean {
  return url.startsWith("file://") || isAbsolute(url);
}

/** Fetch the ref and read the files under the path at its commit. Throws GitError (with `retryable`) on failure. */
export async function fetchSource(o: SourceFetchOptions): Promise<FetchedSource> {
  if (o.path.split("/").includes("..")) {
    throw new GitError(`spec.path "${o.path}" leaves the repository. Give a folder inside it, e.g. "apps" or "."`);
  }
  const secrets = o.credentials ? secretForms(o.credentials) : [];
  try {
    const { gitdir, commit, downloaded } = isLocalUrl(o.url) ? await resolveLocal(o) : await fetchRemote(o);
    const limits = { maxFiles: o.maxFiles ?? 2_000, maxBytes: o.maxBytes ?? 32 * 1024 * 1024 };
    const emptied = o.path !== "" && o.previousCommit !== undefined && o.previousCommit !== commit && !(await isFolder(gitdir, commit, o.path));
    const files = emptied && (await isFolder(gitdir, o.previousCommit as string, o.path)) ? [] : await readYamlFiles(gitdir, commit, o.path, limits);
    return { commit, files, downloaded };
  } catch (e) {
    throw toGitError(o, e, secrets);
  }
}

/** Every form a credential could travel in (raw, basic-auth base64, URL-encoded): what redaction removes. */
function secretForms(c: SourceCredentials): string[] {
  return [c.password, Buffer.from(`${c.username}:${c.password}`).toString("base64"), encodeURIComponent(c.password)].filter((s) => s.length >= 4);
}

// ---------- local repositories ----------

async function resolveLocal(o: SourceFetchOptions): Promise<{ gitdir: string; commit: string; downloaded: boolean }> {
  if (!o.allowLocal) {
    throw new GitError(`spec.url: a local path is allowed only for a GitSource in the controller's namespace. Use an https:// URL of the repository`);
  }
  const path = o.url.startsWith("file://") ? fileURLToPath(o.url) : o.url;
  const dotGit = join(path, ".git");
  const gitdir = (await isDirectory(dotGit)) ? dotGit : path;
  if (!(await isDirectory(join(gitdir, "objects")))) {
    throw new GitError(`spec.url: ${path} is not a Git repository (no objects folder). Point it at a bare repository or a work tree's folder`);
  }
  return { gitdir, commit: await resolveLocalRef(gitdir, o.ref), downloaded: false };
}

async function isDirectory(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

async function resolveLocalRef(gitdir: string, ref: ResolvedRef): Promise<string> {
  const full = "commit" in ref ? ref.commit : "tag" in ref ? `refs/tags/${ref.tag}` : `refs/heads/${ref.branch}`;
  const oid = await git.resolveRef({ fs: gitFs, gitdir, ref: full }).catch(() => {
    throw new GitError(`spec.ref: ${describeRef(ref)} does not exist in the repository. Push it, or name an existing branch, tag or commit`);
  });
  return commitOf(gitdir, oid, ref);
}

/** The commit an oid stands for (an annotated tag is peeled). */
async function commitOf(gitdir: string, oid: string, ref: ResolvedRef): Promise<string> {
  try {
    return (await git.readCommit({ fs: gitFs, gitdir, oid })).oid;
  } catch {
    throw new GitError(`spec.ref: ${describeRef(ref)} is not a commit the repository holds. Name an existing branch, tag or commit`);
  }
}

// ---------- remote repositories ----------

async function fetchRemote(o: SourceFetchOptions): Promise<{ gitdir: string; commit: string; downloaded: boolean }> {
  validateUrl(o.url);
  const gitdir = o.mirrorDir;
  await mkdir(gitdir, { recursive: true });
  if (!(await isDirectory(join(gitdir, "objects")))) await git.init({ fs: gitFs, gitdir, bare: true, defaultBranch: "main" });
  // The URL only (never a credential), so the mirror's remote-tracking branches have a refspec.
  await git.addRemote({ fs: gitFs, gitdir, remote: "origin", url: o.url, force: true });
  const http = remoteHttp(o.http ?? nodeHttp, o.timeoutMs ?? 30_000);
  const auth = o.credentials ? { onAuth: () => ({ username: o.credentials?.username, password: o.credentials?.password }) } : {};
  const ref = o.ref;
  if ("commit" in ref) {
    // A commit never changes: once held, it is never fetched again.
    if (await hasCommit(gitdir, ref.commit)) return { gitdir, commit: ref.commit, downloaded: false };
    await git.fetch({ fs: gitFs, http, gitdir, url: o.url, tags: true, singleBranch: false, ...auth });
    if (!(await hasCommit(gitdir, ref.commit))) {
      throw new GitError(`spec.ref: ${describeRef(ref)} is not reachable from any branch or tag of ${displayUrl(o.url)}. Push it, or name another commit`);
    }
    return { gitdir, commit: ref.commit, downloaded: true };
  }
  const full = "tag" in ref ? `refs/tags/${ref.tag}` : `refs/heads/${ref.branch}`;
  const refs = await git.listServerRefs({ http, url: o.url, prefix: full, peelTags: true, ...auth });
  const found = refs.find((r) => r.ref === full);
  if (!found) throw new GitError(`spec.ref: ${describeRef(ref)} does not exist in ${displayUrl(o.url)}. Push it, or name an existing branch or tag`);
  const target = found.peeled ?? found.oid;
  if (await hasCommit(gitdir, target)) return { gitdir, commit: target, downloaded: false };
  // Only the ref asked for, one commit deep: the files at its head are all a source reads.
  // `ref` names what the mirror already has of it (the remote-tracking branch isomorphic-git keeps):
  // the server then sends only what changed since.
  const have = "branch" in ref ? `refs/remotes/origin/${ref.branch}` : full;
  await git.fetch({ fs: gitFs, http, gitdir, url: o.url, ref: have, remoteRef: full, singleBranch: true, tags: false, depth: 1, ...auth });
  return { gitdir, commit: await commitOf(gitdir, found.oid, ref), downloaded: true };
}

function validateUrl(url: string): void {
  try {
    validateRemoteUrl(url);
  } catch (e) {
    throw new GitError(
      `spec.url: ${(e as Error).message.replace("Pass the token as remote.token instead", "Put the credentials in the Secret of spec.secretRef")}`,
    );
  }
}

async function hasCommit(gitdir: string, oid: string): Promise<boolean> {
  return git.readCommit({ fs: gitFs, gitdir, oid }).then(
    () => true,
    () => false,
  );
}

// ---------- reading files ----------

async function isFolder(gitdir: string, commit: string, path: string): Promise<boolean> {
  try {
    const { commit: c } = await git.readCommit({ fs: gitFs, gitdir, oid: commit });
    await git.readTree({ fs: gitFs, gitdir, oid: c.tree, filepath: path });
    return true;
  } catch {
    return false;
  }
}

async function readYamlFiles(gitdir: string, commit: string, path: string, limits: { maxFiles: number; maxBytes: number }): Promise<FetchedSource["files"]> {
  const cache = {};
  let root: string;
  try {
    const { commit: c } = await git.readCommit({ fs: gitFs, gitdir, oid: commit, cache });
    root = path ? (await git.readTree({ fs: gitFs, gitdir, oid: c.tree, filepath: path, cache })).oid : c.tree;
  } catch (e) {
    if ((e as { code?: string }).code === "NotFoundError" || (e as { code?: string }).code === "ObjectTypeError") {
      throw new GitError(`spec.path: "${path}" is not a folder at commit ${commit.slice(0, 12)}. Name a folder of the repository, or "." for all of it`);
    }
    throw e;
  }
  const files: FetchedSource["files"] = [];
  let bytes = 0;
  const visit = async (tree: string, prefix: string): Promise<void> => {
    const { tree: entries } = await git.readTree({ fs: gitFs, gitdir, oid: tree, cache });
    for (const e of entries) {
      const p = prefix ? `${prefix}/${e.path}` : e.path;
      if (e.type === "tree") await visit(e.oid, p);
      else if (e.type === "blob" && /\.ya?ml$/.test(e.path) && e.mode !== "120000") {
        if (files.length >= limits.maxFiles) {
          throw new GitError(`spec.path: more than ${limits.maxFiles} YAML files under "${path || "."}". Point spec.path at the folder of the deployments`);
        }
        const { blob } = await git.readBlob({ fs: gitFs, gitdir, oid: e.oid, cache });
        bytes += blob.byteLength;
        if (bytes > limits.maxBytes) {
          throw new GitError(
            `spec.path: the YAML files under "${path || "."}" hold more than ${limits.maxBytes} bytes. Point spec.path at the folder of the deployments`,
          );
        }
        files.push({ path: p, text: Buffer.from(blob).toString("utf8") });
      }
    }
  };
  await visit(root, path);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

// ---------- errors ----------

/** One GitError with a message that says what to do and holds no credential; retryable by code and status only. */
function toGitError(o: SourceFetchOptions, err: unknown, secrets: string[]): GitError {
  if (err instanceof GitError) return new GitError(redact(err.message, secrets), { retryable: err.retryable });
  const where = `fetch from ${isLocalUrl(o.url) ? o.url : displayUrl(o.url)}`;
  const e = err as { code?: string; message?: string; data?: { statusCode?: number } };
  const status = e.code === "HttpError" ? e.data?.statusCode : undefined;
  const net = networkCode(err);
  let message: string;
  let retryable: boolean;
  if (net) {
    message = `${where} failed: the server is unreachable (${net}); retrying with backoff`;
    retryable = true;
  } else if (status === 401 || status === 403) {
    message = `${where} failed: the server refused the credentials (HTTP ${status}). ${
      o.credentials
        ? "Check the Secret of spec.secretRef (key token, or username and password) and that it may read the repository"
        : "Set spec.secretRef to a Secret with the key token"
    }`;
    retryable = false;
  } else if (status === 404) {
    message = `${where} failed: no repository there (HTTP 404). Check spec.url`;
    retryable = false;
  } else if (status !== undefined) {
    message = `${where} failed with HTTP ${status}`;
    retryable = status === 429 || status >= 500;
  } else {
    message = `${where} failed: ${e.message?.split("\n")[0] ?? String(err)}`;
    retryable = true;
  }
  const cause = Object.assign(new Error(redact(e.message ?? String(err), secrets)), { code: e.code ?? net, statusCode: status });
  return new GitError(redact(message, secrets), { retryable, cause });
}
