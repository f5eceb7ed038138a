// The deployments list: every deployment the user may list, filtered in the browser by namespace,
// phase and label selector, shown a page of 100 rows at a time (the filters and the page live in
// the URL, so a view can be shared). It renders from the live store: no request per row, rows
// keyed by namespace/name, and a row re-renders only when its summary object changed, so an event
// touches one row. The table's rows are laid out as CSS grid rows (style.css), so
// `content-visibility: auto` lets the browser skip laying out and painting the rows off screen.

import { Component } from "preact";
import { useLayoutEffect, useMemo, useState } from "preact/hooks";
import type { DeploymentSummary } from "../../contract.js";
import { plural } from "../format.js";
import { useLive } from "../hooks.js";
import type { LiveStore } from "../live.js";
import { deploymentHref, href } from "../routes.js";
import { LIST_SHOWN_MARK } from "../marks.js";
import { pageOf } from "../paging.js";
import { matches, parseSelector } from "../selector.js";

const KNOWN_PHASES = ["Pending", "Progressing", "Paused", "Healthy", "Degraded", "Failed"];

interface Filters {
  namespace: string;
  phase: string;
  selector: string;
  page?: number;
}

class DeploymentRow extends Component<{ item: DeploymentSummary }> {
  override shouldComponentUpdate(next: { item: DeploymentSummary }): boolean {
    return next.item !== this.props.item;
  }

  override render() {
    const d = this.props.item;
    return (
      <tr data-testid={`deployment-row-${d.namespace}-${d.name}`}>
        <td>
          <a href={deploymentHref(d.namespace, d.name)}>
            <span class="muted">{`${d.namespace}/`}</span>
            {d.name}
          </a>
        </td>
        <td data-testid="phase">
          <span class={`badge phase-${d.phase || "Unknown"}`}>{d.phase || "Unknown"}</span>
        </td>
        <td>
          <code>{d.targetRevision}</code>
        </td>
        <td>
          <code>{d.stableRevision || "—"}</code>
        </td>
        <td>{d.progress}</td>
        <td>{d.waitingFor ? <span class="waiting">{d.waitingFor}</span> : <span class="muted">—</span>}</td>
        <td class="dots">
          {d.clusters.map((c) => {
            // Plain spans, not <HealthDot>: this runs 3,000 times for 1,000 rows.
            const title = `${c.name}${c.wave ? ` (${c.wave})` : ""}: ${c.health}${c.phase ? `, ${c.phase}` : ""}`;
            return <span key={c.name} class={`dot health-${c.health}`} title={title} role="img" aria-label={title} />;
          })}
        </td>
      </tr>
    );
  }
}

export function DeploymentsView({ live, filters }: { live: LiveStore; filters: Filters }) {
  const version = useLive(live);
  const [selectorText, setSelectorText] = useState(filters.selector);
  // Back and forward change the route's selector: show it in the box. In the commit, not after the
  // paint: a deferred effect could overwrite what the user typed right after the list showed.
  useLayoutEffect(() => setSelectorText(filters.selector), [filters.selector]);
  const parsed = useMemo(() => parseSelector(filters.selector), [filters.selector]);

  const all = useMemo(
    () => [...live.deployments.values()].sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
    [version, live],
  );
  const namespaces = useMemo(() => [...new Set(all.map((d) => d.namespace))].sort(), [all]);
  const phases = useMemo(() => [...new Set([...KNOWN_PHASES, ...all.map((d) => d.phase)])], [all]);
  const shown = useMemo(() => {
    const requirements = parsed.ok ? parsed.requirements : [];
    return all.filter(
      (d) => (!filters.namespace || d.namespace === filters.namespace) && (!filters.phase || d.phase === filters.phase) && matches(requirements, d.labels),
    );
  }, [all, filters.namespace, filters.phase, parsed]);
  const page = pageOf(shown, filters.page);

  // A new filter starts again at the first page.
  // A User Timing mark when the loaded list is first on screen (marks.ts).
  const loaded = live.deploymentsLoaded;
  useLayoutEffect(() => {
    // In the frame that paints the list: after this commit, before the paint.
    if (loaded && performance.getEntriesByName(LIST_SHOWN_MARK).length === 0) requestAnimationFrame(() => performance.mark(LIST_SHOWN_MARK));
  }, [loaded]);

  const go = (next: Partial<Filters>) => {
    const { page: _, ...rest } = filters;
    location.hash = href({ view: "deployments", ...rest, ...next });
  };
  const pageHref = (n: number) => href({ view: "deployments", ...filters, page: n });

  return (
    <main>
      <div class="page-head">
        <h1>Deployments</h1>
        <span class="muted" data-testid="deployment-count">
          {live.deploymentsLoaded ? `${shown.length.toLocaleString("en-US")} of ${plural(all.length, "deployment")}` : "loading…"}
        </span>
      </div>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          go({ selector: selectorText.trim() });
        }}
      >
        <label>
          Namespace
          <select value={filters.namespace} onChange={(e) => go({ namespace: (e.target as HTMLSelectElement).value })} data-testid="filter-namespace">
            <option value="">all</option>
            {namespaces.map((ns) => (
              <option key={ns} value={ns}>
                {ns}
              </option>
            ))}
          </select>
        </label>
        <label>
          Phase
          <select value={filters.phase} onChange={(e) => go({ phase: (e.target as HTMLSelectElement).value })} data-testid="filter-phase">
            <option value="">all</option>
            {phases.map((p) => (
              <option key={p} value={p}>
                {p}
              </option>
            ))}
          </select>
        </label>
        <label class="grow">
          Label selector
          <input
            type="search"
            placeholder="app=shop,tier!=batch"
            value={selectorText}
            onInput={(e) => setSelectorText((e.target as HTMLInputElement).value)}
            onBlur={() => selectorText.trim() !== filters.selector && go({ selector: selectorText.trim() })}
            aria-invalid={!parsed.ok}
            data-testid="filter-selector"
          />
        </label>
        <button type="submit">Filter</button>
      </form>
      {parsed.ok ? null : (
        <p class="field-error" role="alert">
          Label selector: {parsed.error}
        </p>
      )}
      {live.loadError ? (
        <div class="error-box" role="alert">
          Could not load deployments: {live.loadError}
        </div>
      ) : null}
      <div class="table-wrap">
        <table class="list deployments-grid" data-testid="deployments-table">
          <thead>
            <tr>
              <th scope="col">Deployment</th>
              <th scope="col">Phase</th>
              <th scope="col">Target</th>
              <th scope="col">Stable</th>
              <th scope="col">Progress</th>
              <th scope="col">Waiting for</th>
              <th scope="col">Clusters</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((d) => (
              <DeploymentRow key={`${d.namespace}/${d.name}`} item={d} />
            ))}
          </tbody>
        </table>
      </div>
      {page.pages > 1 ? (
        <nav class="pager" aria-label="Pages" data-testid="pager">
          {page.page > 1 ? <a href={pageHref(page.page - 1)}>‹ Previous</a> : <span class="muted">‹ Previous</span>}
          <span data-testid="pager-position">{`${page.first.toLocaleString("en-US")}–${page.last.toLocaleString("en-US")} of ${shown.length.toLocaleString("en-US")} · page ${page.page} of ${page.pages}`}</span>
          {page.page < page.pages ? (
            <a href={pageHref(page.page + 1)} data-testid="pager-next">
              Next ›
            </a>
          ) : (
            <span class="muted">Next ›</span>
          )}
        </nav>
      ) : null}
      {live.deploymentsLoaded && shown.length === 0 ? (
        <p class="muted">{all.length === 0 ? "No deployments you may list." : "No deployment matches these filters."}</p>
      ) : null}
    </main>
  );
}
