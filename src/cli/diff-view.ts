// What `flotilla diff` found, as data (`-o json|yaml`) and as text: per deployment the spec against
// the hub's, then per cluster a one-line summary and the unified diffs of its files in the
// environment repository, and with --live of its live objects. Pure: colors only when asked.

import { changeSummary, type FileChange } from "../gitops/folder-diff.js";
import type { LiveChange } from "../sync/live-diff.js";

export interface HubDiff {
  /** `new`: the hub has no such deployment; `unchanged`: the same spec. */
  state: "new" | "changed" | "unchanged";
  /** Unified diff of the spec YAML, hub first; empty when unchanged. */
  patch: string;
}

export interface ClusterDiffResult {
  cluster: string;
  /** The cluster's files against the environment repository's head; absent without a repository. */
  repo?: FileChange[];
  /** With --live: the member's objects against a dry run, or why the member was not asked. */
  live?: LiveChange[];
  /** Why there is no live diff for this cluster (pull mode, no credentials, unreachable). */
  note?: string;
}

export interface DeploymentDiff {
  namespace: string;
  name: string;
  /** The file the deployment was read from. */
  file: string;
  /** The target revision, rendered fully rolled out. */
  revision: string;
  hub?: HubDiff;
  clusters: ClusterDiffResult[];
}

export interface DiffReport {
  /** The environment repository compared with, and its head; absent when none was. */
  envRepo?: { repository: string; head: string | null };
  deployments: DeploymentDiff[];
  /** What could not be compared and why; not errors. */
  notes: string[];
  /** What failed (exit 2). */
  errors: string[];
  /** Whether something would change (exit 1 when no error). */
  changed: boolean;
}

const LIVE_CHANGES: ReadonlyArray<LiveChange["action"]> = ["added", "changed", "removed"];

/** Whether anything in the report would change. */
export function somethingChanges(deployments: readonly DeploymentDiff[]): boolean {
  return deployments.some(
    (d) =>
      (d.hub !== undefined && d.hub.state !== "unchanged") ||
      d.clusters.some((c) => (c.repo?.length ?? 0) > 0 || (c.live ?? []).some((l) => LIVE_CHANGES.includes(l.action))),
  );
}

export interface ViewOptions {
  /** ANSI colors (a terminal without NO_COLOR). */
  color: boolean;
}

const ANSI = { bold: "\x1b[1m", red: "\x1b[31m", green: "\x1b[32m", cyan: "\x1b[36m", reset: "\x1b[0m" };

/** A patch with `-`/`+` lines red/green and hunk headers cyan, as `git diff` colors them. */
export function colorPatch(patch: string): string {
  return patch
    .split("\n")
    .map((line) => {
      if (line.startsWith("---") || line.startsWith("+++")) return `${ANSI.bold}${line}${ANSI.reset}`;
      if (line.startsWith("@@")) return `${ANSI.cyan}${line}${ANSI.reset}`;
      if (line.startsWith("-")) return `${ANSI.red}${line}${ANSI.reset}`;
      if (line.startsWith("+")) return `${ANSI.green}${line}${ANSI.reset}`;
      return line;
    })
    .join("\n");
}

function liveSummary(changes: readonly LiveChange[]): string {
  const count = (a: LiveChange["action"]) => changes.filter((c) => c.action === a).length;
  const parts = [`${count("changed")} changed`, `${count("added")} added`, `${count("removed")} removed`];
  if (count("skipped")) parts.push(`${count("skipped")} skipped`);
  if (count("failed")) parts.push(`${count("failed")} failed`);
  return changes.some((c) => c.action !== "unchanged") ? parts.join(", ") : "no change";
}

/** The report as text (see the module comment). */
export function formatDiffReport(report: DiffReport, options: ViewOptions): string {
  const bold = (s: string) => (options.color ? `${ANSI.bold}${s}${ANSI.reset}` : s);
  const patch = (p: string) => (options.color ? colorPatch(p) : p);
  const out: string[] = [];
  const repo = report.envRepo;
  for (const d of report.deployments) {
    out.push(bold(`ApplicationDeployment ${d.namespace}/${d.name} (${d.file})`));
    if (d.hub) {
      out.push(`hub: ${d.hub.state === "new" ? "new (the hub has no such deployment)" : d.hub.state === "changed" ? "spec changed" : "no change"}`);
      if (d.hub.patch) out.push(patch(d.hub.patch).trimEnd());
    }
    if (d.clusters.length === 0) out.push("clusters: none selected (placement selects no cluster)");
    else if (repo) {
      out.push(
        `clusters: ${d.revision} fully rolled out (what the repository holds once the rollout completes), against ${repo.repository} at ${repo.head?.slice(0, 12) ?? "(no commit)"}`,
      );
    }
    for (const c of d.clusters) {
      if (c.repo) {
        out.push(bold(`cluster ${c.cluster}: ${changeSummary(c.repo)}`));
        for (const f of c.repo) out.push(patch(f.patch).trimEnd());
      }
      if (c.live) {
        out.push(bold(`cluster ${c.cluster} (live): ${liveSummary(c.live)}`));
        for (const l of c.live) {
          if (l.message && l.action !== "unchanged") out.push(`${l.object}: ${l.action}: ${l.message}`);
          if (l.patch) out.push(patch(l.patch).trimEnd());
        }
      }
      if (c.note) out.push(`cluster ${c.cluster} (live): ${c.note}`);
    }
    out.push("");
  }
  return `${out.join("\n").trimEnd()}\n`;
}
