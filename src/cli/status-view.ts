// What `flotilla status` prints: the deployments as `kubectl get ad` lists them (more columns with
// -o wide), the view of one deployment (more detail with -o wide), and the objects themselves for
// -o json|yaml. Pure: objects in, text out; reading them from the hub is rollout.ts's job.

import type { ApplicationDeployment } from "../api/types.js";
import { type DataFormat, formatData, kubeList } from "./output.js";
import { progressLines } from "./progress.js";
import { textTable } from "./table.js";

const byNamespaceAndName = (a: ApplicationDeployment, b: ApplicationDeployment) =>
  `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);

const readyCondition = (ad: ApplicationDeployment) => ad.status?.conditions?.find((c) => c.type === "Ready");

/** `healthy/all` of the clusters the deployment runs on, blank before it reports any. */
function clusterCount(ad: ApplicationDeployment): string {
  const clusters = ad.status?.clusters ?? [];
  return clusters.length ? `${clusters.filter((c) => c.health === "Healthy").length}/${clusters.length}` : "";
}

/** `ready/desired` replicas over every revision in every cluster, blank before any is reported. */
function replicaCount(ad: ApplicationDeployment): string {
  const revisions = (ad.status?.clusters ?? []).flatMap((c) => c.revisions ?? []);
  if (!revisions.length) return "";
  const sum = (f: (r: (typeof revisions)[number]) => number) => revisions.reduce((n, r) => n + f(r), 0);
  return `${sum((r) => r.readyReplicas)}/${sum((r) => Math.max(r.replicas, 0))}`;
}

/**
 * What `kubectl get ad` shows, from the same fields as the CRD's printer columns. `wide` adds, as
 * kubectl's -o wide does, columns too long for every day: CLUSTERS (Healthy of the clusters it
 * runs on), REPLICAS (ready of desired, every revision in every cluster) and the env-repo COMMIT;
 * MESSAGE stays last, as it is the one column of free text.
 */
export function deploymentTable(items: readonly ApplicationDeployment[], withNamespace: boolean, wide = false): string {
  if (items.length === 0) return "No ApplicationDeployments found.\n";
  const head = [
    ...(withNamespace ? ["NAMESPACE"] : []),
    "NAME",
    "PHASE",
    "TARGET",
    "STABLE",
    "PROGRESS",
    "READY",
    ...(wide ? ["CLUSTERS", "REPLICAS", "COMMIT"] : []),
    "MESSAGE",
  ];
  const rows = [...items]
    .sort(byNamespaceAndName)
    .map((ad) => [
      ...(withNamespace ? [ad.metadata.namespace ?? ""] : []),
      ad.metadata.name,
      ad.status?.phase ?? "",
      ad.status?.targetRevision ?? "",
      ad.status?.stableRevision ?? "",
      ad.status?.progress ?? "",
      readyCondition(ad)?.status ?? "",
      ...(wide ? [clusterCount(ad), replicaCount(ad), ad.status?.commit?.slice(0, 12) ?? ""] : []),
      readyCondition(ad)?.message ?? "",
    ]);
  return textTable(head, rows);
}

/** The rollout part of the status view: waves, clusters, batch, what it waits for. */
export function rolloutLines(ad: ApplicationDeployment): string[] {
  const r = ad.status?.rollout;
  if (!r) return [];
  const revision = r.revision ?? ad.status?.targetRevision ?? "?";
  const what = r.update === undefined ? revision : `${revision} update (generation ${r.update})`;
  const lines = [`rollout of ${what}: ${r.state ?? "?"}${r.message ? ` — ${r.message}` : ""}`];
  for (const c of r.clusters ?? []) {
    const revisions = (c.revisions ?? []).map((x) => `${x.name}=${x.replicas}`).join(" ");
    lines.push(
      `  ${(c.wave ?? "").padEnd(12)} ${c.name.padEnd(12)} batch ${c.batch ?? 0}/${c.batches ?? r.batches ?? "?"}  ${(c.state ?? "").padEnd(11)} ${revisions}${c.message ? `  (${c.message})` : ""}`,
    );
  }
  if (r.waitingFor === "promote") {
    const paused = (r.clusters ?? []).filter((c) => c.state === "Paused").map((c) => c.name);
    lines.push(
      `  waiting for: promote — \`flotilla rollout promote ${ad.metadata.name}\` releases every cluster paused now (${paused.join(", ")}); each wave pauses where its own batches say`,
    );
  } else if (r.waitingFor) lines.push(`  waiting for: ${r.waitingFor}`);
  if (r.analysis)
    lines.push(`  analysis: ${r.analysis.result} on ${r.analysis.cluster} batch ${r.analysis.batch}${r.analysis.message ? `: ${r.analysis.message}` : ""}`);
  return lines;
}

const indented = (table: string) =>
  table
    .trimEnd()
    .split("\n")
    .map((l) => `  ${l}`);

/**
 * What -o wide adds to the view of one deployment: the generations, every condition, and per
 * cluster the commit it applied, when it last synced and what it last said.
 */
export function detailLines(ad: ApplicationDeployment): string[] {
  const s = ad.status;
  if (!s) return [];
  const lines = [`generation: ${ad.metadata.generation ?? "-"}  observed: ${s.observedGeneration ?? "-"}  stable: ${s.stableRevision ?? "-"}`];
  if (s.conditions?.length) {
    lines.push("conditions:");
    lines.push(
      ...indented(
        textTable(
          ["TYPE", "STATUS", "REASON", "SINCE", "MESSAGE"],
          s.conditions.map((c) => [c.type, c.status, c.reason, c.lastTransitionTime ?? "", c.message]),
        ),
      ),
    );
  }
  if (s.clusters?.length) {
    lines.push("clusters:");
    lines.push(
      ...indented(
        textTable(
          ["NAME", "HEALTH", "APPLIED", "LAST SYNC", "MESSAGE"],
          s.clusters.map((c) => [c.name, c.health, c.appliedCommit?.slice(0, 12) ?? "", c.lastSyncTime ?? "", c.message ?? ""]),
        ),
      ),
    );
  }
  return lines;
}

/** The view of one deployment, as `flotilla status NAME` prints it (with the details for -o wide). */
export function statusView(ad: ApplicationDeployment, wide = false): string {
  return `${[...progressLines(ad), ...rolloutLines(ad), ...(wide ? detailLines(ad) : [])].join("\n")}\n`;
}

/**
 * The deployment as -o json|yaml prints it: the object itself, spec and status, as `kubectl get ad
 * NAME -o json` and `argocd app get NAME -o json` print theirs, so a script written for either
 * reads it unchanged (`.status.phase`, `.status.clusters[]`) and still sees what the status is of
 * (`.spec.appRevisions`, `.metadata.generation` next to `.status.observedGeneration`). As kubectl
 * does by default, without metadata.managedFields: server-side apply's bookkeeping, long and of no
 * use to a reader.
 */
export function printedObject(ad: ApplicationDeployment): ApplicationDeployment {
  const { managedFields: _, ...metadata } = ad.metadata;
  // Items of a list response may come without apiVersion and kind; a printed object has both.
  return { ...ad, apiVersion: "flotilla.dev/v1alpha1", kind: "ApplicationDeployment", metadata };
}

/** `flotilla status NAME -o json|yaml`. */
export function formatDeployment(ad: ApplicationDeployment, format: DataFormat): string {
  return formatData(printedObject(ad), format);
}

/** `flotilla status -o json|yaml`: a List of the deployments, in the table's order. */
export function formatDeploymentList(items: readonly ApplicationDeployment[], format: DataFormat): string {
  return formatData(kubeList([...items].sort(byNamespaceAndName).map(printedObject)), format);
}
