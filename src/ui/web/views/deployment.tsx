// One deployment: what its rollout waits for (prominent, first), the actions the user may take,
// its waves left to right with a card per cluster and replicas per revision, the analysis gate,
// placement with the reason for every cluster, the environment repository's history with a
// per-cluster diff on click, and recent events. An SSE event for this deployment refetches the
// detail and the history (debounced); nothing is polled.

import { useEffect, useState } from "preact/hooks";
import { ApiRequestError, api } from "../api.js";
import { ErrorBox, HealthDot, Loading, PhaseBadge, Section } from "../components.js";
import { ACTIONS, type ActionName, type Can, type DeploymentDetail, type HistoryItem, type RolloutView, type Wave, type WaveCluster } from "../../contract.js";
import { UnifiedDiff } from "../diff.js";
import { ago, firstLine, localTime, shortCommit } from "../format.js";
import { useLoad } from "../hooks.js";
import { waitingHeadline } from "../rollout-text.js";
import { deploymentKey, type LiveStore } from "../live.js";
import { href } from "../routes.js";

/** Events come in bursts while a rollout moves: refetch once they settle. */
const REFETCH_DEBOUNCE_MS = 300;

const ACTION_TEXT: Record<ActionName, { label: string; title: string }> = {
  promote: { label: "Promote", title: "Release every cluster paused at a batch now" },
  abort: { label: "Abort", title: "Stop the rollout and roll the target revision back" },
  retry: { label: "Retry", title: "Retry a failed or aborted rollout" },
  pause: { label: "Pause", title: "Hold the rollout where it is" },
  resume: { label: "Resume", title: "Continue a paused rollout" },
};

function WaitingBanner({ rollout }: { rollout: RolloutView }) {
  const { headline, tone } = waitingHeadline(rollout);
  const where = [rollout.wave ? `wave ${rollout.wave}` : "", rollout.batches ? `batch ${rollout.batch}/${rollout.batches}` : ""].filter(Boolean).join(", ");
  return (
    <div class={`banner tone-${tone}`} data-testid="waiting-for">
      <div class="banner-head">
        <strong>{headline}</strong>
        {where ? <span>{where}</span> : null}
        {rollout.state ? <span class="badge">{rollout.state}</span> : null}
        {rollout.since ? <span title={localTime(rollout.since)}>since {ago(rollout.since)}</span> : null}
      </div>
      {rollout.message ? <p class="banner-message">{rollout.message}</p> : null}
    </div>
  );
}

type Outcome = { kind: "ok"; text: string } | { kind: "error"; text: string; reason?: string };

/**
 * Why an action's button is disabled. The `can` flags are the hub's answer to "may this user patch
 * applicationdeployments here", so the reason is that RBAC answer, said as the server says it on a
 * refused request.
 */
export function refusedReason(action: ActionName, username: string, namespace: string): string {
  return `you may not ${action}: ${username} may not patch applicationdeployments in ${namespace}`;
}

function Actions({
  can,
  busy,
  onAction,
  username,
  namespace,
}: {
  can: Can;
  busy: ActionName | undefined;
  onAction: (a: ActionName) => void;
  username: string;
  namespace: string;
}) {
  // The server asks RBAC once for all five actions; a server that refuses only some refuses them
  // for the rollout's state, not for who the user is.
  const forbidden = ACTIONS.every((a) => !can[a]);
  const why = (a: ActionName) => (forbidden ? refusedReason(a, username, namespace) : "not possible now");
  return (
    <div class="actions">
      {ACTIONS.map((a) => (
        <button
          key={a}
          type="button"
          class={a === "promote" ? "primary" : a === "abort" ? "danger" : ""}
          disabled={!can[a] || busy !== undefined}
          title={can[a] ? ACTION_TEXT[a].title : `${ACTION_TEXT[a].title} (${why(a)})`}
          onClick={() => onAction(a)}
          data-testid={`${a}-button`}
        >
          {busy === a ? `${ACTION_TEXT[a].label}…` : ACTION_TEXT[a].label}
        </button>
      ))}
      {forbidden ? (
        <p class="muted small actions-note" data-testid="actions-note">
          You may not {ACTIONS.join(", ")}: {username} may not patch applicationdeployments in {namespace}
        </p>
      ) : null}
    </div>
  );
}

function RevisionBars({ cluster }: { cluster: WaveCluster }) {
  const max = Math.max(1, ...cluster.revisions.map((r) => r.desired), ...cluster.revisions.map((r) => r.ready));
  if (cluster.revisions.length === 0) return <p class="muted small">no replicas planned</p>;
  return (
    <ul class="bars">
      {cluster.revisions.map((r) => (
        <li key={r.revision} title={`${r.revision}: ${r.ready} of ${r.desired} replicas ready`}>
          <code class="bar-label">{r.revision}</code>
          <span class="bar-track" style={{ width: `${(Math.max(r.desired, r.ready) / max) * 100}%` }}>
            <span class="bar-fill" style={{ width: `${r.desired === 0 ? 0 : Math.min(100, (r.ready / r.desired) * 100)}%` }} />
          </span>
          <span class="bar-count">
            {r.ready}/{r.desired}
          </span>
        </li>
      ))}
    </ul>
  );
}

function Waves({ waves, current }: { waves: Wave[]; current: string }) {
  if (waves.length === 0) return <p class="muted">No cluster is selected by any wave.</p>;
  return (
    <ol class="waves">
      {waves.map((w, i) => (
        <li key={w.name} class={`wave${w.name === current ? " current" : ""}`} data-testid={`wave-${w.name}`}>
          <h3>
            <span class="muted">{i + 1}.</span> {w.name}
            {w.name === current ? <span class="badge">current</span> : null}
          </h3>
          {w.clusters.map((c) => (
            <article key={c.name} class={`card health-border-${c.health}`} data-testid={`cluster-card-${c.name}`}>
              <header>
                <HealthDot health={c.health} title={`${c.name}: ${c.health}`} />
                <strong>{c.name}</strong>
                <span class="muted small">{c.health}</span>
              </header>
              <RevisionBars cluster={c} />
              {c.message ? <p class="small card-message">{c.message}</p> : null}
            </article>
          ))}
          {w.clusters.length === 0 ? <p class="muted small">no clusters</p> : null}
        </li>
      ))}
    </ol>
  );
}

function HistoryRow({ namespace, name, item }: { namespace: string; name: string; item: HistoryItem }) {
  const [open, setOpen] = useState(false);
  const [diff, setDiff] = useState<{ clusters: Array<{ cluster: string; diff: string }> } | { error: ApiRequestError } | undefined>(undefined);
  const toggle = () => {
    const next = !open;
    setOpen(next);
    if (next && diff === undefined) {
      api.diff(namespace, name, item.commit).then(
        (d) => setDiff(d),
        (err: unknown) => setDiff({ error: err instanceof ApiRequestError ? err : new ApiRequestError(0, String(err)) }),
      );
    }
  };
  const id = `diff-${item.commit}`;
  return (
    <li class="history-item" data-testid="history-row">
      <button type="button" class="history-summary" aria-expanded={open} aria-controls={id} onClick={toggle}>
        <span class="chevron" aria-hidden="true">
          {open ? "▾" : "▸"}
        </span>
        <code title={item.commit}>{shortCommit(item.commit)}</code>
        <span class="history-message">{firstLine(item.message)}</span>
        <span class="history-meta">
          <code>{item.revision}</code>
          {item.wave ? <span>{item.wave}</span> : null}
          {item.batch !== undefined ? <span>batch {item.batch}</span> : null}
          <span>{item.clusters.join(", ")}</span>
          <span title={localTime(item.time)}>{ago(item.time)}</span>
        </span>
      </button>
      {open ? (
        <div id={id} class="history-diff">
          {diff === undefined ? <Loading what="the diff" /> : null}
          {diff && "error" in diff ? <ErrorBox error={diff.error} what="the diff" /> : null}
          {diff && "clusters" in diff
            ? diff.clusters.map((c) => (
                <div key={c.cluster} class="diff-cluster">
                  <h4>{c.cluster}</h4>
                  <UnifiedDiff diff={c.diff} />
                </div>
              ))
            : null}
          {diff && "clusters" in diff && diff.clusters.length === 0 ? <p class="muted">This commit changed no cluster's files.</p> : null}
        </div>
      ) : null}
    </li>
  );
}

export function DeploymentView({ live, namespace, name, username }: { live: LiveStore; namespace: string; name: string; username: string }) {
  const detail = useLoad(() => api.deployment(namespace, name), [namespace, name]);
  const history = useLoad(() => api.history(namespace, name), [namespace, name]);
  const [busy, setBusy] = useState<ActionName | undefined>(undefined);
  const [outcome, setOutcome] = useState<Outcome | undefined>(undefined);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsubscribe = live.subscribeDeployment(deploymentKey(namespace, name), () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        detail.reload();
        history.reload();
      }, REFETCH_DEBOUNCE_MS);
    });
    return () => {
      clearTimeout(timer);
      unsubscribe();
    };
  }, [live, namespace, name, detail.reload, history.reload]);

  useEffect(() => setOutcome(undefined), [namespace, name]);

  const act = async (action: ActionName) => {
    setBusy(action);
    setOutcome(undefined);
    try {
      const res = await api.action(namespace, name, action);
      setOutcome({ kind: "ok", text: res.message || `${ACTION_TEXT[action].label} requested.` });
      detail.reload();
    } catch (err) {
      const e = err instanceof ApiRequestError ? err : new ApiRequestError(0, String(err));
      setOutcome({ kind: "error", text: `${ACTION_TEXT[action].label} refused: ${e.message}`, ...(e.reason ? { reason: e.reason } : {}) });
    } finally {
      setBusy(undefined);
    }
  };

  const d: DeploymentDetail | undefined = detail.data;
  return (
    <main class="deployment">
      <nav class="crumbs">
        <a href={href({ view: "deployments", namespace: "", phase: "", selector: "" })}>Deployments</a> ›{" "}
        <a href={href({ view: "deployments", namespace, phase: "", selector: "" })}>{namespace}</a> › {name}
      </nav>
      <div class="page-head">
        <h1>{name}</h1>
        {d ? <PhaseBadge phase={d.summary.phase} /> : null}
        {d ? (
          <span class="muted">
            target <code>{d.summary.targetRevision}</code> · stable <code>{d.summary.stableRevision || "—"}</code> · {d.summary.progress}
            {d.summary.observedGeneration < d.summary.generation ? " · reconciling a newer generation" : ""}
          </span>
        ) : null}
      </div>
      {detail.error ? <ErrorBox error={detail.error} what={`${namespace}/${name}`} /> : null}
      {!d && !detail.error ? <Loading what="the deployment" /> : null}
      {d ? (
        <>
          <WaitingBanner rollout={d.rollout} />
          <Actions can={d.can} busy={busy} onAction={(a) => void act(a)} username={username} namespace={namespace} />
          {outcome?.kind === "error" ? (
            <div class="alert error" role="alert" data-testid="action-alert">
              <strong>{outcome.text}</strong>
              {outcome.reason ? <div class="reason">{outcome.reason}</div> : null}
            </div>
          ) : null}
          {outcome?.kind === "ok" ? (
            <div class="alert ok" role="status" data-testid="action-result">
              {outcome.text}
            </div>
          ) : null}
          <Section title="Waves">
            <Waves waves={d.waves} current={d.rollout.wave} />
          </Section>
          {d.rollout.analysis ? (
            <Section title="Analysis" testid="analysis">
              <p>
                <span class={`badge analysis-${d.rollout.analysis.result}`}>{d.rollout.analysis.result}</span> on <strong>{d.rollout.analysis.cluster}</strong>,
                batch {d.rollout.analysis.batch}, <span title={localTime(d.rollout.analysis.at)}>{ago(d.rollout.analysis.at)}</span>
              </p>
              {d.rollout.analysis.message ? <p>{d.rollout.analysis.message}</p> : null}
            </Section>
          ) : null}
          <div class="two-columns">
            <Section title="Placement" testid="placement">
              <table class="list compact">
                <thead>
                  <tr>
                    <th>Cluster</th>
                    <th>Selected</th>
                    <th>Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {d.placement.map((p) => (
                    <tr key={p.cluster} class={p.selected ? "" : "rejected"}>
                      <td>{p.cluster}</td>
                      <td>{p.selected ? "yes" : "no"}</td>
                      <td>{p.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Section>
            <Section title="Recent events" testid="events">
              {d.events.length === 0 ? <p class="muted">No recent events.</p> : null}
              <ul class="events">
                {d.events.map((e, i) => (
                  <li key={i} class={e.type === "Warning" ? "warning" : ""}>
                    <span class="muted small" title={localTime(e.time)}>
                      {ago(e.time)}
                      {e.count > 1 ? ` ×${e.count}` : ""}
                    </span>{" "}
                    <strong>{e.reason}</strong> {e.message}
                  </li>
                ))}
              </ul>
            </Section>
          </div>
        </>
      ) : null}
      <Section title="History" testid="history">
        <p class="muted small">Steps of this deployment in the environment repository, newest first. Open one for its per-cluster diff.</p>
        {history.error ? <ErrorBox error={history.error} what="the history" /> : null}
        {!history.data && !history.error ? <Loading what="the history" /> : null}
        {history.data && history.data.items.length === 0 ? <p class="muted">No commits yet.</p> : null}
        <ol class="history">
          {history.data?.items.map((item) => (
            <HistoryRow key={item.commit} namespace={namespace} name={name} item={item} />
          ))}
        </ol>
      </Section>
      {d ? (
        <details class="section raw">
          <summary>Spec and status (JSON)</summary>
          <pre>{JSON.stringify({ spec: d.spec, status: d.status }, null, 2)}</pre>
        </details>
      ) : null}
    </main>
  );
}
