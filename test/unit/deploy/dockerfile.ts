// Reading the Dockerfile and .dockerignore without Docker (there is no container runtime here):
// just enough of both formats for the checks in dockerfile.test.ts, refusing what it does not read.

export interface Instruction {
  /** Upper-case keyword: FROM, COPY, RUN, USER ... */
  keyword: string;
  /** The rest of the instruction, continuation lines joined. */
  rest: string;
  line: number;
}

export interface Stage {
  name: string | undefined;
  image: string;
  instructions: Instruction[];
}

export interface Copy {
  /** The stage it copies from (`--from`), or undefined for the build context. */
  from: string | undefined;
  sources: string[];
  destination: string;
  line: number;
}

/** Instructions grouped into stages; comments and blank lines dropped, `\` continuations joined. */
export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = "";
  let start = 0;
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.trimEnd();
    if (pending === "" && (line.trim() === "" || line.trimStart().startsWith("#"))) return;
    if (pending !== "" && line.trimStart().startsWith("#")) return;
    if (pending === "") start = i + 1;
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const full = (pending + line).trim();
    pending = "";
    const match = /^(\S+)\s+(.*)$/.exec(full);
    if (!match) throw new Error(`Dockerfile line ${start}: cannot read "${full}"`);
    const keyword = (match[1] as string).toUpperCase();
    const rest = (match[2] as string).trim();
    if (keyword === "FROM") {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(rest);
      if (!from) throw new Error(`Dockerfile line ${start}: cannot read FROM ${rest}`);
      stages.push({ image: from[1] as string, name: from[2], instructions: [] });
      return;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`Dockerfile line ${start}: ${keyword} before any FROM`);
    stage.instructions.push({ keyword, rest, line: start });
  });
  return stages;
}

/** COPY instructions of a stage: `--from`, the sources and the destination (JSON form refused: not used). */
export function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === "COPY" || i.keyword === "ADD")
    .map((i) => {
      if (i.keyword === "ADD") throw new Error(`Dockerfile line ${i.line}: ADD is not read here; use COPY`);
      if (i.rest.startsWith("[")) throw new Error(`Dockerfile line ${i.line}: the JSON form of COPY is not read here`);
      const words = i.rest.split(/\s+/);
      let from: string | undefined;
      const paths: string[] = [];
      for (const w of words) {
        if (w.startsWith("--from=")) from = w.slice("--from=".length);
        else if (w.startsWith("--")) continue;
        else paths.push(w);
      }
      if (paths.length < 2) throw new Error(`Dockerfile line ${i.line}: COPY needs a source and a destination`);
      return { from, sources: paths.slice(0, -1), destination: paths.at(-1) as string, line: i.line };
    });
}

/** The value of the last instruction of a kind in a stage (USER, WORKDIR, ENTRYPOINT, CMD). */
export function last(stage: Stage, keyword: string): string | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1)?.rest;
}

function globToRegExp(pattern: string): RegExp {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "*" && pattern[i + 1] === "*") {
      // `**/` matches any number of folders, `**` at the end anything.
      out += pattern[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += pattern[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") out += "[^/]*";
    else if (c === "?") out += "[^/]";
    else if (c === "[" || c === "\\") throw new Error(`.dockerignore: "${pattern}": character classes and escapes are not read here`);
    else out += c.replace(/[.+^${}()|]/g, "\\$&");
  }
  return new RegExp(`^${out}$`);
}

/**
 * Whether .dockerignore keeps `path` (relative to the context, `/`-separated) out of the build
 * context, by Docker's rules: patterns are matched against the path and each of its parent
 * folders, a leading `!` re-includes, and the last matching pattern wins.
 */
export function dockerIgnored(path: string, dockerignore: string): boolean {
  const rules = dockerignore
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"))
    .map((l) => {
      const negate = l.startsWith("!");
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, "").replace(/\/+$/, "");
      return { negate, re: globToRegExp(pattern) };
    });
  const parts = path.split("/");
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let ignored = false;
  for (const rule of rules) if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.negate;
  return ignored;
}
