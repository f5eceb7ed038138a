// `flotilla history`: one deployment's steps, read from the commits of the environment repository
// that name it in their trailers. Pure: takes commits as data (message, time, the clusters whose
// folder of the deployment changed) and never reads Git; deployment-log.ts does that.

import { type DeploymentTrailers, parseCommitMessage, TRAILER_DEPLOYMENT } from "./commit-message.js";

/** One commit of the environment repository, as deployment-log.ts reads it. */
export interface DeploymentCommit {
  oid: string;
  /** Committer time. */
  time: Date;
  message: string;
  /** The clusters whose `clusters/<cluster>/<ns>/<name>/` differs from the parent commit's, sorted. */
  clusters: string[];
}

/** One step of a deployment's history: a commit that changed what its clusters get. */
export interface DeploymentStep {
  time: string;
  commit: string;
  revision?: string;
  generation?: number;
  wave?: string;
  /** `<batch>/<batches>`, as the trailer has it. */
  batch?: string;
  clusters: string[];
  sourceCommit?: string;
  summary: string;
}

/**
 * Whether a commit's message may name the deployment: a substring test that never misses one
 * (the trailer is written exactly so), cheap enough to run on every commit of a long history
 * before anything else is read.
 */
export function mayName(message: string, namespace: string, name: string): boolean {
  return message.includes(`${TRAILER_DEPLOYMENT}: ${namespace}/${name}`);
}

/** The trailers of the deployment in a commit's message, or undefined when it is not named there. */
export function trailersFor(message: string, namespace: string, name: string): DeploymentTrailers | undefined {
  return parseCommitMessage(message).deployments.find((d) => d.namespace === namespace && d.name === name);
}

/**
 * What the commit says happened to the deployment: the subject's text after `<ns>/<name>: `, or in
 * a commit shared by several deployments its own body line `- <ns>/<name>: …`; else the subject.
 */
export function summaryFor(message: string, namespace: string, name: string): string {
  const lines = message.replace(/\r\n/g, "\n").split("\n");
  const subject = lines[0] ?? "";
  const own = `${namespace}/${name}: `;
  if (subject.startsWith(own)) return subject.slice(own.length);
  const line = lines.find((l) => l.startsWith(`- ${own}`));
  return line ? line.slice(own.length + 2) : subject;
}

/** The commit as a step of the deployment, or undefined when its trailers do not name it. */
export function stepOf(commit: DeploymentCommit, namespace: string, name: string): DeploymentStep | undefined {
  const t = trailersFor(commit.message, namespace, name);
  if (!t) return undefined;
  return {
    time: commit.time.toISOString().replace(/\.\d{3}Z$/, "Z"),
    commit: commit.oid,
    ...(t.revision === undefined ? {} : { revision: t.revision }),
    ...(t.generation === undefined ? {} : { generation: t.generation }),
    ...(t.wave === undefined ? {} : { wave: t.wave }),
    ...(t.batch === undefined ? {} : { batch: `${t.batch.batch}/${t.batch.batches}` }),
    clusters: [...commit.clusters].sort(),
    ...(t.sourceCommit === undefined ? {} : { sourceCommit: t.sourceCommit }),
    summary: summaryFor(commit.message, namespace, name),
  };
}

/** The deployment's steps among `commits` (newest first, as given), at most `limit`. */
export function deploymentSteps(commits: Iterable<DeploymentCommit>, namespace: string, name: string, limit = Number.POSITIVE_INFINITY): DeploymentStep[] {
  const out: DeploymentStep[] = [];
  for (const c of commits) {
    if (out.length >= limit) break;
    const step = stepOf(c, namespace, name);
    if (step) out.push(step);
  }
  return out;
}
