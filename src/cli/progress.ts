// The live view of `flotilla up` and `flotilla status`: per cluster and revision, ready/desired
// replicas as bars, the phase and the Git commit. Pure: status in, lines out.

import type { ApplicationDeployment } from "../api/types.js";

function bar(ready: number, desired: number, width = 20): string {
  const filled = desired > 0 ? Math.round((Math.min(ready, desired) / desired) * width) : 0;
  return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`;
}

export function progressLines(ad: ApplicationDeployment | undefined): string[] {
  if (!ad) return ["waiting for the deployment to appear on the hub..."];
  const s = ad.status;
  const name = `${ad.metadata.namespace ?? "default"}/${ad.metadata.name}`;
  if (!s?.phase) return [`${name}: waiting for the controller...`];
  const lines = [`${name}  phase: ${s.phase}  target: ${s.targetRevision ?? "-"}  commit: ${s.commit?.slice(0, 12) ?? "-"}`];
  const ready = s.conditions?.find((c) => c.type === "Ready");
  if (ready && ready.status !== "True") lines.push(`  ${ready.reason}: ${ready.message}`);
  for (const c of s.clusters ?? []) {
    const revisions = c.revisions?.length ? c.revisions : [{ name: s.targetRevision ?? "?", replicas: 0, readyReplicas: 0 }];
    for (const r of revisions) {
      const desired = Math.max(r.replicas, 0);
      lines.push(`  ${c.name.padEnd(12)} ${r.name.padEnd(6)} ${bar(r.readyReplicas, desired)} ${String(r.readyReplicas).padStart(3)}/${desired}  ${c.health}`);
    }
  }
  const unselected = (s.placement ?? []).filter((p) => !p.selected);
  for (const p of unselected) lines.push(`  ${p.cluster.padEnd(12)} not selected: ${p.reason ?? ""}`);
  return lines;
}
