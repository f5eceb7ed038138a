// Small pieces every view uses: health dots, phase badges, label chips, error boxes.

import type { ComponentChildren } from "preact";
import type { ApiRequestError } from "./api.js";
import type { Health } from "../contract.js";

const HEALTH_TEXT: Record<Health, string> = {
  Healthy: "healthy",
  Progressing: "progressing",
  Degraded: "degraded",
  Missing: "missing",
  Unknown: "unknown",
  Suspended: "suspended",
};

/** A coloured dot with the health in its title and in text for screen readers. */
export function HealthDot({ health, title }: { health: Health | string; title?: string }) {
  const text = HEALTH_TEXT[health as Health] ?? String(health).toLowerCase();
  const label = title ?? text;
  return <span class={`dot health-${health}`} title={label} role="img" aria-label={label} />;
}

export function PhaseBadge({ phase }: { phase: string }) {
  return <span class={`badge phase-${phase || "Unknown"}`}>{phase || "Unknown"}</span>;
}

export function Labels({ labels }: { labels: Readonly<Record<string, string>> }) {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return <span class="muted">—</span>;
  return (
    <span class="labels">
      {entries.map(([k, v]) => (
        <code class="chip" key={k}>
          {k}={v}
        </code>
      ))}
    </span>
  );
}

export function ErrorBox({ error, what }: { error: ApiRequestError; what: string }) {
  return (
    <div class="error-box" role="alert">
      <strong>
        Could not load {what}: {error.message}
      </strong>
      {error.reason ? <div>{error.reason}</div> : null}
    </div>
  );
}

export function Section({ title, children, testid }: { title: string; children: ComponentChildren; testid?: string }) {
  return (
    <section class="section" data-testid={testid}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export const Loading = ({ what }: { what: string }) => <p class="muted">Loading {what}…</p>;
