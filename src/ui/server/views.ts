// What the web UI's JSON API answers, built from the controller's cached objects: a deployment's
// summary and detail (waves of cluster cards, what the rollout waits for, placement with reasons),
// the clusters and the definitions. Pure: objects in, plain JSON out; never reads the hub or Git,
// and never decides who may see what (auth.ts and api.ts do).

import { ANNOTATION_DESCRIPTION } from "../../api/labels.js";
import type { ApplicationDeployment, Cluster, ComponentDefinition, HealthState, TraitDefinition } from "../../api/types.js";
import { parameterTable } from "../../definitions/parameters.js";
import type {
  Can,
  ClusterItem,
  Definition,
  DefinitionsResponse,
  DeploymentDetail,
  DeploymentSummary,
  EventRow,
  Parameter,
  RolloutView,
  WaveCluster,
} from "../contract.js";

export type { ClusterItem, DeploymentDetail, DeploymentSummary, RolloutView };

const KNOWN_HEALTH: readonly HealthState[] = ["Healthy", "Progressing", "Degraded", "Missing", "Unknown", "Suspended"];

function healthOf(value: unknown): HealthState {
  return KNOWN_HEALTH.includes(value as HealthState) ? (value as HealthState) : "Unknown";
}

export function deploymentKey(ad: ApplicationDeployment): string {
  return `${ad.metadata.namespace ?? "default"}/${ad.metadata.name}`;
}

/** The clusters the deployment is placed on (selected), in wave order, then any that still report. */
function placedClusters(ad: ApplicationDeployment): Array<{ name: string; wave?: string }> {
  const out: Array<{ name: string; wave?: string }> = [];
  const seen = new Set<string>();
  for (const p of ad.status?.placement ?? []) {
    if (!p.selected || seen.has(p.cluster)) continue;
    seen.add(p.cluster);
    out.push({ name: p.cluster, ...(p.wave ? { wave: p.wave } : {}) });
  }
  // A cluster no longer selected keeps reporting until its folder is pruned: still shown.
  for (const c of ad.status?.clusters ?? []) {
    if (seen.has(c.name)) continue;
    seen.add(c.name);
    const wave = ad.status?.rollout?.clusters?.find((r) => r.name === c.name)?.wave;
    out.push({ name: c.name, ...(wave ? { wave } : {}) });
  }
  return out;
}

/** One row of the deployments list (and the payload of the SSE `deployment` event). */
export function deploymentSummary(ad: ApplicationDeployment): DeploymentSummary {
  const status = ad.status ?? {};
  const rollout = status.rollout;
  const clusters = placedClusters(ad).map(({ name, wave }) => {
    const reported = status.clusters?.find((c) => c.name === name);
    const state = rollout?.clusters?.find((c) => c.name === name)?.state;
    return { name, ...(wave ? { wave } : {}), health: reported ? healthOf(reported.health) : "Unknown", ...(state ? { phase: state } : {}) };
  });
  return {
    namespace: ad.metadata.namespace ?? "default",
    name: ad.metadata.name,
    labels: { ...(ad.metadata.labels ?? {}) },
    phase: status.phase ?? "Pending",
    targetRevision: status.targetRevision ?? ad.spec.appRevisions.at(-1)?.name ?? "",
    stableRevision: status.stableRevision ?? "",
    progress: status.progress ?? "",
    ...(rollout?.waitingFor ? { waitingFor: rollout.waitingFor } : {}),
    generation: ad.metadata.generation ?? 0,
    observedGeneration: status.observedGeneration ?? 0,
    clusters,
  };
}

/** The waves of the spec, left to right, each with a card per cluster placed in it. */
export function waveCards(ad: ApplicationDeployment): Array<{ name: string; clusters: WaveCluster[] }> {
  const status = ad.status ?? {};
  const placed = placedClusters(ad);
  const card = (name: string): WaveCluster => {
    const reported = status.clusters?.find((c) => c.name === name);
    const rolling = status.rollout?.clusters?.find((c) => c.name === name);
    return {
      name,
      health: reported ? healthOf(reported.health) : "Unknown",
      revisions: (reported?.revisions ?? []).map((r) => ({ revision: r.name, ready: r.readyReplicas, desired: r.replicas })),
      ...(reported?.message ? { message: reported.message } : {}),
      ...(rolling
        ? {
            rollout: {
              state: rolling.state,
              batch: rolling.batch,
              ...(rolling.batches === undefined ? {} : { batches: rolling.batches }),
              since: rolling.since,
            },
          }
        : {}),
      ...(reported?.lastSyncTime ? { lastSync: reported.lastSyncTime } : {}),
    };
  };
  const names = (ad.spec.placementStrategies ?? []).map((s, i) => s.name ?? `wave-${i + 1}`);
  const waves = names.map((name) => ({ name, clusters: placed.filter((c) => c.wave === name).map((c) => card(c.name)) }));
  const orphans = placed.filter((c) => c.wave === undefined || !names.includes(c.wave));
  // No strategies (or a cluster of a wave since removed): one unnamed column, so no card is lost.
  if (orphans.length) waves.push({ name: names.length ? "(no wave)" : "all clusters", clusters: orphans.map((c) => card(c.name)) });
  return waves;
}

export function rolloutView(ad: ApplicationDeployment): RolloutView {
  const r = ad.status?.rollout ?? {};
  return {
    state: r.state ?? "",
    wave: r.wave ?? "",
    batch: r.batch ?? 0,
    batches: r.batches ?? 0,
    waitingFor: r.waitingFor ?? "",
    message: r.message ?? "",
    since: r.since ?? "",
    ...(r.analysis
      ? {
          analysis: {
            cluster: r.analysis.cluster,
            batch: r.analysis.batch,
            result: r.analysis.result,
            ...(r.analysis.message ? { message: r.analysis.message } : {}),
            at: r.analysis.at,
          },
        }
      : {}),
  };
}

/** Every placement decision, with its reason (a selected cluster's reason names its wave). */
export function placementView(ad: ApplicationDeployment): DeploymentDetail["placement"] {
  return (ad.status?.placement ?? []).map((p) => ({
    cluster: p.cluster,
    ...(p.wave ? { wave: p.wave } : {}),
    selected: p.selected,
    reason: p.reason ?? (p.selected ? `selected${p.wave ? ` for wave ${p.wave}` : ""}` : "not selected"),
  }));
}

export function deploymentDetail(ad: ApplicationDeployment, events: EventRow[], can: Can): DeploymentDetail {
  return {
    summary: deploymentSummary(ad),
    spec: ad.spec,
    status: ad.status ?? {},
    waves: waveCards(ad),
    rollout: rolloutView(ad),
    placement: placementView(ad),
    events,
    can,
  };
}

/** A core/v1 Event as the UI lists it; newest first is the caller's sort. */
export function eventItem(e: {
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: Date | string;
  eventTime?: Date | string;
  firstTimestamp?: Date | string;
  metadata?: { creationTimestamp?: Date | string };
}): EventRow {
  const when = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return {
    type: e.type ?? "Normal",
    reason: e.reason ?? "",
    message: e.message ?? "",
    time: when === undefined ? "" : when instanceof Date ? when.toISOString() : String(when),
    count: e.count ?? 1,
  };
}

/** Newest first, at most `limit`. */
export function recentEvents(events: readonly EventRow[], limit = 50): EventRow[] {
  return [...events].sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0)).slice(0, limit);
}

export interface DeploymentFilter {
  namespace?: string;
  phase?: string;
  /** `k=v,k2=v2`: every label must match exactly; `k`: the label must exist. */
  selector?: string;
}

/** Parse `k=v,k2`: undefined (with the reason) when a term is malformed. */
export function parseSelector(selector: string): { terms: Array<{ key: string; value?: string }> } | { error: string } {
  const terms: Array<{ key: string; value?: string }> = [];
  for (const raw of selector.split(",")) {
    const term = raw.trim();
    if (term === "") continue;
    const eq = term.indexOf("=");
    const key = (eq < 0 ? term : term.slice(0, eq)).trim();
    const value =
      eq < 0
        ? undefined
        : term
            .slice(eq + 1)
            .replace(/^=/, "")
            .trim();
    if (key === "" || /[\s!]/.test(key)) return { error: `selector: "${term}" is not key=value or key (for example "team=payments,tier")` };
    terms.push({ key, ...(value === undefined ? {} : { value }) });
  }
  return { terms };
}

export function matchesFilter(summary: DeploymentSummary, filter: DeploymentFilter, terms: ReadonlyArray<{ key: string; value?: string }>): boolean {
  if (filter.namespace && summary.namespace !== filter.namespace) return false;
  if (filter.phase && summary.phase.toLowerCase() !== filter.phase.toLowerCase()) return false;
  for (const t of terms) {
    const v = summary.labels[t.key];
    if (v === undefined || (t.value !== undefined && v !== t.value)) return false;
  }
  return true;
}

/** `<namespace>/<name>` of the deployments placed on each cluster. */
export function deploymentsByCluster(deployments: readonly ApplicationDeployment[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const ad of deployments) {
    const key = deploymentKey(ad);
    for (const c of placedClusters(ad)) {
      const list = out.get(c.name) ?? [];
      list.push(key);
      out.set(c.name, list);
    }
  }
  for (const list of out.values()) list.sort();
  return out;
}

/** The newest sync any deployment reports for each cluster. */
export function lastSyncByCluster(deployments: readonly ApplicationDeployment[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const ad of deployments) {
    for (const c of ad.status?.clusters ?? []) {
      if (!c.lastSyncTime) continue;
      const seen = out.get(c.name);
      if (seen === undefined || c.lastSyncTime > seen) out.set(c.name, c.lastSyncTime);
    }
  }
  return out;
}

export function clusterItem(cluster: Cluster, deployments: readonly string[], lastSync?: string): ClusterItem {
  const ready = cluster.status?.conditions?.find((c) => c.type === "Ready");
  return {
    name: cluster.metadata.name,
    mode: cluster.spec?.mode === "Pull" ? "Pull" : "Push",
    ...(cluster.status?.version ? { version: cluster.status.version } : {}),
    ready: ready?.status === "True",
    ...(lastSync ? { lastSync } : {}),
    labels: { ...(cluster.metadata.labels ?? {}) },
    deployments: [...deployments],
    paused: cluster.spec?.paused === true,
    ...(ready && ready.status !== "True" && ready.message ? { message: ready.message } : {}),
  };
}

export function clustersView(clusters: readonly Cluster[], deployments: readonly ApplicationDeployment[]): ClusterItem[] {
  const placed = deploymentsByCluster(deployments);
  const synced = lastSyncByCluster(deployments);
  return [...clusters]
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1))
    .map((c) => clusterItem(c, placed.get(c.metadata.name) ?? [], synced.get(c.metadata.name)));
}

function parameters(schema: unknown): Parameter[] {
  return parameterTable(schema ?? {}).parameters.map((p) => ({
    name: p.path,
    type: p.type,
    ...(p.default === undefined ? {} : { default: p.default }),
    ...(p.description ? { description: p.description } : {}),
    required: p.required,
  }));
}

function description(d: ComponentDefinition | TraitDefinition): string | undefined {
  const text = d.metadata.annotations?.[ANNOTATION_DESCRIPTION]?.replace(/\s+/g, " ").trim();
  return text ? text : undefined;
}

function byName<T extends { metadata: { name: string } }>(list: readonly T[]): T[] {
  return [...list].sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : 1));
}

export function definitionsView(components: readonly ComponentDefinition[], traits: readonly TraitDefinition[]): DefinitionsResponse {
  const item = (d: ComponentDefinition | TraitDefinition, workload: string): Definition => {
    const text = description(d);
    return { name: d.metadata.name, ...(text ? { description: text } : {}), workload, parameters: parameters(d.spec?.schema) };
  };
  return {
    components: byName(components).map((d) => item(d, `${d.spec?.workload?.apiVersion ?? "?"}/${d.spec?.workload?.kind ?? "?"}`)),
    traits: byName(traits).map((d) => item(d, d.spec?.appliesTo?.length ? d.spec.appliesTo.join(",") : "*")),
  };
}
