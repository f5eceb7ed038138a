// Commit messages of the environment repository (ARCHITECTURE §4): a subject
// `<namespace>/<name>: <what happened>` and Git trailers naming the deployment, its generation and
// its target revision, so `git log` answers "which change put this here" without Flotilla.
// The trailers are also how queued commits are re-applied after a remote moved: never drop them.

export const TRAILER_DEPLOYMENT = "Flotilla-Deployment";
export const TRAILER_GENERATION = "Flotilla-Generation";
export const TRAILER_REVISION = "Flotilla-Revision";
/** The commit of the team's repository (a GitSource) the deployment's spec came from. */
export const TRAILER_SOURCE_COMMIT = "Flotilla-Source-Commit";
/** The wave the rollout stood in when the commit was made (the first one not completed, else the last). */
export const TRAILER_WAVE = "Flotilla-Wave";
/** The batch of that wave, as `<batch>/<batches>` (`2/3`); `0/3` before its first batch started. */
export const TRAILER_BATCH = "Flotilla-Batch";

/** One deployment named in a commit. */
export interface DeploymentTrailers {
  namespace: string;
  name: string;
  generation?: number;
  revision?: string;
  /** The GitSource commit the deployment's spec came from, when it came from one. */
  sourceCommit?: string;
  /** The rollout's wave at this commit (trailer `Flotilla-Wave`); absent in commits made before it existed. */
  wave?: string;
  /** The batch of that wave and how many it has (trailer `Flotilla-Batch: 2/3`). */
  batch?: { batch: number; batches: number };
  /** What happened to this deployment; defaults to the commit's overall summary. */
  summary?: string;
}

/** One line, no control characters: subjects and trailer values must not break the message format. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping control characters is the point
  return text.replace(/[\u0000-\u001f\u007f]+/g, " ").trim();
}

/**
 * Build the message. One deployment: `<ns>/<name>: <summary>`. Several (a batch):
 * `<n> deployments: <summary>` and one body line per deployment. Trailers come last, one group per
 * deployment, in the order given.
 */
export function formatCommitMessage(summary: string, deployments: readonly DeploymentTrailers[]): string {
  const what = oneLine(summary) || "update";
  const lines: string[] = [];
  const first = deployments[0];
  if (deployments.length === 1 && first) {
    lines.push(`${first.namespace}/${first.name}: ${oneLine(first.summary ?? what) || what}`, "");
  } else {
    lines.push(`${deployments.length} deployments: ${what}`, "");
    for (const d of deployments) lines.push(`- ${d.namespace}/${d.name}: ${oneLine(d.summary ?? what) || what}`);
    lines.push("");
  }
  for (const d of deployments) {
    lines.push(`${TRAILER_DEPLOYMENT}: ${d.namespace}/${d.name}`);
    if (d.generation !== undefined) lines.push(`${TRAILER_GENERATION}: ${Math.trunc(d.generation)}`);
    if (d.revision !== undefined && oneLine(d.revision)) lines.push(`${TRAILER_REVISION}: ${oneLine(d.revision)}`);
    if (d.sourceCommit !== undefined && oneLine(d.sourceCommit)) lines.push(`${TRAILER_SOURCE_COMMIT}: ${oneLine(d.sourceCommit)}`);
    if (d.wave !== undefined && oneLine(d.wave)) lines.push(`${TRAILER_WAVE}: ${oneLine(d.wave)}`);
    if (d.batch !== undefined) lines.push(`${TRAILER_BATCH}: ${Math.trunc(d.batch.batch)}/${Math.trunc(d.batch.batches)}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface ParsedCommitMessage {
  subject: string;
  /** Deployments from the trailers, in order; empty for commits Flotilla did not write. */
  deployments: DeploymentTrailers[];
}

/** Read back what {@link formatCommitMessage} wrote (tolerates other trailers and CRLF). */
export function parseCommitMessage(message: string): ParsedCommitMessage {
  const lines = message.replace(/\r\n/g, "\n").split("\n");
  const subject = lines[0] ?? "";
  const deployments: DeploymentTrailers[] = [];
  // Trailers live in the last paragraph.
  let end = lines.length;
  while (end > 1 && (lines[end - 1] ?? "").trim() === "") end--;
  let start = end;
  while (start > 1 && (lines[start - 1] ?? "").trim() !== "") start--;
  for (const line of lines.slice(start, end)) {
    const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1] as string;
    const value = (m[2] as string).trim();
    if (key === TRAILER_DEPLOYMENT) {
      const slash = value.indexOf("/");
      if (slash > 0) deployments.push({ namespace: value.slice(0, slash), name: value.slice(slash + 1) });
      continue;
    }
    const current = deployments[deployments.length - 1];
    if (!current) continue;
    if (key === TRAILER_GENERATION && /^\d+$/.test(value)) current.generation = Number(value);
    if (key === TRAILER_REVISION && value) current.revision = value;
    if (key === TRAILER_SOURCE_COMMIT && value) current.sourceCommit = value;
    if (key === TRAILER_WAVE && value) current.wave = value;
    const batch = key === TRAILER_BATCH ? /^(\d+)\/(\d+)$/.exec(value) : null;
    if (batch) current.batch = { batch: Number(batch[1]), batches: Number(batch[2]) };
  }
  return { subject, deployments };
}
