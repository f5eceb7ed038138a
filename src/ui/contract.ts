// The JSON API the web UI reads, as TypeScript types: the server (src/ui/server) builds these
// answers, and the browser app and the development mock (test/support/ui-mock-api.ts) read them,
// so none of the three can drift from the others. Types only: this file must never import anything.

/** A cluster's health for one deployment, as the sync loop aggregates it. */
export type Health = "Healthy" | "Progressing" | "Degraded" | "Missing" | "Unknown" | "Suspended";

/** The actions the deployment view offers; each is a `patch applicationdeployments` on the server. */
export type ActionName = "promote" | "abort" | "retry" | "pause" | "resume";
export const ACTIONS: readonly ActionName[] = ["promote", "abort", "retry", "pause", "resume"];

export interface User {
  username: string;
  groups: string[];
}

/** `POST /api/session` and `GET /api/whoami`. */
export interface SessionResponse {
  user: User;
}

/** Every error answer: 400, 401, 403 (with the SubjectAccessReview's `reason`), 404. */
export interface ApiError {
  error: string;
  reason?: string;
}

export interface SummaryCluster {
  name: string;
  wave?: string;
  health: Health;
  phase?: string;
}

/** One row of the deployments list, and the data of an SSE `deployment` event. */
export interface DeploymentSummary {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  phase: string;
  targetRevision: string;
  stableRevision: string;
  progress: string;
  waitingFor?: string;
  generation: number;
  observedGeneration: number;
  clusters: SummaryCluster[];
}

/** An SSE `deployment` event for a deployment that is gone. */
export interface DeploymentDeleted {
  namespace: string;
  name: string;
  deleted: true;
}

export interface RevisionReplicas {
  revision: string;
  ready: number;
  desired: number;
}

export interface WaveCluster {
  name: string;
  health: Health;
  /** Replicas per revision, oldest first: ready of desired. */
  revisions: RevisionReplicas[];
  message?: string;
  /** The cluster's own progress through the rollout, when it takes part in one. */
  rollout?: { state: string; batch: number; batches?: number; since: string };
  lastSync?: string;
}

export interface Wave {
  name: string;
  clusters: WaveCluster[];
}

/** The analysis gate's last result, as `status.rollout.analysis` has it. */
export interface AnalysisResult {
  cluster: string;
  batch: number;
  /** Successful | Failed | Running | Error */
  result: string;
  message?: string;
  at: string;
}

export interface RolloutView {
  state: string;
  wave: string;
  batch: number;
  batches: number;
  waitingFor: string;
  message: string;
  since: string;
  analysis?: AnalysisResult;
}

export interface PlacementRow {
  cluster: string;
  wave?: string;
  selected: boolean;
  reason: string;
}

export interface EventRow {
  type: string;
  reason: string;
  message: string;
  time: string;
  count: number;
}

export type Can = Record<ActionName, boolean>;

/** `GET /api/deployments/:ns/:name`. `spec` and `status` are the resource's, unchanged. */
export interface DeploymentDetail {
  summary: DeploymentSummary;
  spec: unknown;
  status: unknown;
  waves: Wave[];
  rollout: RolloutView;
  placement: PlacementRow[];
  events: EventRow[];
  can: Can;
}

/** One step of `GET /api/deployments/:ns/:name/history`, newest first. */
export interface HistoryItem {
  commit: string;
  time: string;
  message: string;
  revision: string;
  wave?: string;
  /** `2/3` as the commit's trailer says it (or a bare number). */
  batch?: string | number;
  clusters: string[];
  sourceCommit?: string;
}

export interface CommitDiff {
  clusters: Array<{ cluster: string; diff: string }>;
}

/** `POST /api/deployments/:ns/:name/actions/:action`. */
export interface ActionResponse {
  ok: true;
  message: string;
}

export interface ClusterItem {
  name: string;
  mode: "Push" | "Pull";
  version?: string;
  ready: boolean;
  lastSync?: string;
  labels: Record<string, string>;
  /** `<namespace>/<name>` of the deployments placed on it, sorted. */
  deployments: string[];
  paused?: boolean;
  message?: string;
}

export interface Parameter {
  name: string;
  type: string;
  default?: unknown;
  description?: string;
  required: boolean;
}

export interface Definition {
  name: string;
  description?: string;
  /** A component's `apiVersion/Kind`; a trait's `appliesTo` joined (`*`: any workload). */
  workload: string;
  parameters: Parameter[];
}

export interface DefinitionsResponse {
  components: Definition[];
  traits: Definition[];
}

export interface ListResponse<T> {
  items: T[];
}
