// What `flotilla cluster list` prints: the members as `kubectl get clusters` lists them, with the
// labels placement selects on and the probe's message (why a member is not Ready), and the objects
// themselves for -o json|yaml. Pure: objects and the time in, text out.

import type { Cluster } from "../api/types.js";
import { type DataFormat, formatData, kubeList } from "./output.js";
import { humanAge, textTable } from "./table.js";

const byName = (a: Cluster, b: Cluster) => a.metadata.name.localeCompare(b.metadata.name);

const readyOf = (c: Cluster) => c.status?.conditions?.find((x) => x.type === "Ready");

/** `k=v,k2=v2`, sorted by key, as `kubectl get --show-labels` prints them; `<none>` when there are none. */
function labelText(labels: Record<string, string> | undefined): string {
  const pairs = Object.entries(labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return pairs.length ? pairs.map(([k, v]) => `${k}=${v}`).join(",") : "<none>";
}

const since = (time: string | undefined, now: number) => (time ? humanAge(now - Date.parse(time)) : "");

/**
 * NAME, READY, VERSION (the member's Kubernetes version), LABELS, AGE and MESSAGE last (free
 * text). `wide` adds MODE (Push: the controller applies; Pull: the member's agent does), PAUSED,
 * RESYNC (the cluster's own drift-check period), LAST-PROBE (how long ago the controller last
 * reached it) and SEALING-RECIPIENT (the age public key `flotilla secret seal` encrypts to; `<none>`
 * until the controller or the agent published one).
 */
export function clusterTable(items: readonly Cluster[], now: number, wide = false): string {
  if (items.length === 0) return "No Clusters found.\n";
  const head = ["NAME", "READY", "VERSION", "LABELS", "AGE", ...(wide ? ["MODE", "PAUSED", "RESYNC", "LAST-PROBE", "SEALING-RECIPIENT"] : []), "MESSAGE"];
  const rows = [...items]
    .sort(byName)
    .map((c) => [
      c.metadata.name,
      readyOf(c)?.status ?? "Unknown",
      c.status?.version ?? "",
      labelText(c.metadata.labels),
      since(c.metadata.creationTimestamp, now),
      ...(wide
        ? [
            c.spec?.mode ?? "Push",
            String(c.spec?.paused ?? false),
            c.spec?.resyncInterval ?? "",
            since(c.status?.lastProbeTime, now),
            c.status?.sealing?.recipient ?? "<none>",
          ]
        : []),
      readyOf(c)?.message ?? "not probed yet",
    ]);
  return textTable(head, rows);
}

/** `flotilla cluster list -o json|yaml`: a List of the Clusters by name, without managedFields. */
export function formatClusterList(items: readonly Cluster[], format: DataFormat): string {
  const printed = [...items].sort(byName).map((c) => {
    const { managedFields: _, ...metadata } = c.metadata;
    return { ...c, apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata };
  });
  return formatData(kubeList(printed), format);
}
