// The fleet's clusters: delivery mode, Kubernetes version, readiness, last sync, labels and the
// deployments placed on each; kept current by the store's `cluster` events.

import { useMemo } from "preact/hooks";
import { HealthDot, Labels } from "../components.js";
import { ago, localTime, plural } from "../format.js";
import { useLive } from "../hooks.js";
import type { LiveStore } from "../live.js";
import { deploymentHref } from "../routes.js";

/** Deployments listed on a cluster's row before the rest fold into "and N more". */
const SHOWN_DEPLOYMENTS = 5;

export function ClustersView({ live }: { live: LiveStore }) {
  const version = useLive(live);
  const clusters = useMemo(() => [...live.clusters.values()].sort((a, b) => a.name.localeCompare(b.name)), [version, live]);
  return (
    <main>
      <div class="page-head">
        <h1>Clusters</h1>
        <span class="muted">{live.clustersLoaded ? plural(clusters.length, "cluster") : "loading…"}</span>
      </div>
      <div class="table-wrap">
        <table class="list" data-testid="clusters-table">
          <thead>
            <tr>
              <th>Cluster</th>
              <th>Mode</th>
              <th>Version</th>
              <th>Ready</th>
              <th>Last sync</th>
              <th>Labels</th>
              <th>Deployments</th>
            </tr>
          </thead>
          <tbody>
            {clusters.map((c) => (
              <tr key={c.name} data-testid={`cluster-row-${c.name}`}>
                <td class="nowrap">
                  <strong>{c.name}</strong>
                </td>
                <td>{c.mode}</td>
                <td>{c.version ?? <span class="muted">—</span>}</td>
                <td class="nowrap">
                  <HealthDot health={c.ready ? "Healthy" : "Degraded"} title={c.ready ? "ready" : "not ready"} /> {c.ready ? "yes" : "no"}
                </td>
                <td class="nowrap" title={localTime(c.lastSync)}>
                  {ago(c.lastSync)}
                </td>
                <td>
                  <Labels labels={c.labels} />
                </td>
                <td>
                  {c.deployments.length === 0 ? <span class="muted">none</span> : null}
                  {c.deployments.slice(0, SHOWN_DEPLOYMENTS).map((key, i) => {
                    const [ns = "", name = ""] = key.split("/");
                    return (
                      <span key={key}>
                        {i > 0 ? ", " : ""}
                        <a href={deploymentHref(ns, name)}>{key}</a>
                      </span>
                    );
                  })}
                  {c.deployments.length > SHOWN_DEPLOYMENTS ? <span class="muted"> and {c.deployments.length - SHOWN_DEPLOYMENTS} more</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </main>
  );
}
