// Answers of `git http-backend` kept for the next caller who asks the very same thing. Agents of a
// fleet fetch the same new commit within a second of each other, with the same refs and (most of
// the time) the same `have` lines, and poll between commits with nothing new: without a cache
// every one of those requests forks a backend and an upload-pack on the hub, which measured as
// the largest share of the hub's CPU in pull mode (docs/performance.md).
//
// Why a cached answer is right: an answer depends only on the request (path, query, protocol
// header, content type and body: the wants, haves and capabilities) and on the repository. Its
// objects never change (they are named by their content), so only the refs matter, and every key
// carries a fingerprint of them read just before the backend runs. A backend that started later
// than the fingerprint can only have seen newer refs, whose objects the client can fetch too.

import { createHash } from "node:crypto";
import { type Dirent, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One complete answer of the backend: what the client was sent. */
export interface CachedAnswer {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer;
}

export interface AnswerCacheOptions {
  /** Answers larger than this are streamed and not kept (a first clone). Default 8 MiB. */
  maxAnswerBytes?: number;
  /** All answers kept together; the least recently used go first. Default 64 MiB. */
  maxTotalBytes?: number;
}

const MiB = 1024 * 1024;

export class AnswerCache {
  readonly maxAnswerBytes: number;
  private readonly maxTotalBytes: number;
  /** Insertion order is use order: a hit moves its entry to the end. */
  private readonly answers = new Map<string, CachedAnswer>();
  private totalBytes = 0;
  /** Requests whose backend is running: the same request arriving meanwhile waits for it. */
  private readonly running = new Map<string, Promise<void>>();
  hits = 0;
  misses = 0;

  constructor(options: AnswerCacheOptions = {}) {
    this.maxAnswerBytes = options.maxAnswerBytes ?? 8 * MiB;
    this.maxTotalBytes = Math.max(this.maxAnswerBytes, options.maxTotalBytes ?? 64 * MiB);
  }

  get size(): number {
    return this.answers.size;
  }

  get(key: string): CachedAnswer | undefined {
    const answer = this.answers.get(key);
    if (answer === undefined) return undefined;
    this.answers.delete(key);
    this.answers.set(key, answer);
    return answer;
  }

  set(key: string, answer: CachedAnswer): void {
    if (answer.body.length > this.maxAnswerBytes) return;
    const before = this.answers.get(key);
    if (before) {
      this.answers.delete(key);
      this.totalBytes -= before.body.length;
    }
    this.answers.set(key, answer);
    this.totalBytes += answer.body.length;
    for (const [old, a] of this.answers) {
      if (this.totalBytes <= this.maxTotalBytes) break;
      this.answers.delete(old);
      this.totalBytes -= a.body.length;
    }
  }

  /**
   * Run `produce` unless the same key is already being produced; then wait for that one instead.
   * Resolves when the producer is done, whatever its outcome: the caller looks in the cache again.
   */
  async once(key: string, produce: () => Promise<void>): Promise<"produced" | "waited"> {
    const pending = this.running.get(key);
    if (pending) {
      await pending;
      return "waited";
    }
    const run = produce().finally(() => this.running.delete(key));
    this.running.set(
      key,
      run.catch(() => undefined),
    );
    await run;
    return "produced";
  }
}

/** What a request asks, as the cache's key: every input of the backend's answer but the repository. */
export function requestKey(parts: {
  refs: string;
  suffix: string;
  query: string;
  method: string;
  protocol: string | undefined;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  body: Buffer;
}): string {
  const hash = createHash("sha256");
  for (const field of [parts.refs, parts.suffix, parts.query, parts.method, parts.protocol ?? "", parts.contentType ?? "", parts.contentEncoding ?? ""]) {
    hash.update(field);
    hash.update("\0");
  }
  hash.update(parts.body);
  return hash.digest("hex");
}

/**
 * The refs of a bare repository as one string (HEAD, packed-refs and every loose ref): equal
 * strings, equal advertisements. Read synchronously on purpose: a handful of files of a few bytes,
 * in the page cache, cost microseconds this way, while the promise API opens, stats, reads and
 * closes each through the thread pool (measured as a visible share of a pull-mode ramp's CPU).
 */
export function refsFingerprint(gitdir: string): string {
  const parts: string[] = [`HEAD ${readOrEmpty(join(gitdir, "HEAD"))}`, `packed ${readOrEmpty(join(gitdir, "packed-refs"))}`];
  const walk = (dir: string, prefix: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      // A `.lock` is a ref being written: the rename that follows changes the fingerprint.
      if (e.name.endsWith(".lock")) continue;
      if (e.isDirectory()) walk(join(dir, e.name), `${prefix}${e.name}/`);
      else parts.push(`${prefix}${e.name} ${readOrEmpty(join(dir, e.name))}`);
    }
  };
  walk(join(gitdir, "refs"), "refs/");
  return parts.join("\n");
}

/** A small file's text, trimmed; "" when it cannot be read. */
export function readOrEmpty(file: string): string {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return "";
  }
}
