// TypeScript types of the Flotilla API (ARCHITECTURE §2). They mirror the JSON Schemas in
// `schemas.ts`; `test/unit/api/types.test.ts` checks the two agree on every example.

export type JsonObject = { [key: string]: unknown };

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  generation?: number;
  uid?: string;
  resourceVersion?: string;
  finalizers?: string[];
  deletionTimestamp?: string;
  creationTimestamp?: string;
  /** Which field manager set which fields (server-side apply's record); read, never written. */
  managedFields?: ManagedFieldsEntry[];
}

export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  apiVersion?: string;
  time?: string;
  fieldsV1?: unknown;
}

export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

// ---------- ApplicationDeployment ----------

export interface TraitSpec {
  name: string;
  properties?: JsonObject;
}

export interface ComponentSpec {
  name: string;
  type: string;
  settings?: JsonObject;
  traits?: TraitSpec[];
}

export interface RolloutBatch {
  /** Cumulative replicas of the target revision: a count or a percentage such as `"50%"`. */
  replicas: number | string;
  pause?: boolean;
  /** Soak time after the batch is healthy, e.g. `30s`. */
  wait?: string;
}

export interface RolloutAnalysis {
  successCondition?: string;
  failureCondition?: string;
  /** How often the conditions are evaluated while neither holds, e.g. `10s`. */
  interval?: string;
}

export interface RolloutSpec {
  replicas?: number;
  batches?: RolloutBatch[];
  analysis?: RolloutAnalysis;
  progressDeadline?: string;
  autoRollback?: boolean;
}

export interface AppRevision {
  name: string;
  template: { spec: { components: ComponentSpec[] } };
  rollout?: RolloutSpec;
}

export type SelectorOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

export interface MatchExpression {
  key: string;
  operator: SelectorOperator;
  values?: string[];
}

export interface ClusterSelector {
  labels?: Record<string, string>;
  matchExpressions?: MatchExpression[];
  names?: string[];
  /** CEL over the Cluster object (`cluster.name`, `cluster.labels`, ...). */
  condition?: string;
}

export interface ComponentOverride {
  component: string;
  settings?: JsonObject;
  traits?: TraitSpec[];
}

export interface Distribution {
  mode: "Duplicated" | "Divided";
  weights?: Record<string, number>;
}

export interface PlacementStrategy {
  /** Wave name; defaults to `wave-<n>` (1-based position in the list). */
  name?: string;
  clusterSelector?: ClusterSelector;
  maxConcurrency?: number;
  /**
   * The batches of this wave's clusters, replacing the target revision's `rollout.batches` there
   * (e.g. a canary with a pause in staging, one step per cluster in production).
   */
  batches?: RolloutBatch[];
  overrides?: ComponentOverride[];
  distribution?: Distribution;
}

export interface ApplicationDeploymentSpec {
  appRevisions: AppRevision[];
  placementStrategies?: PlacementStrategy[];
  suspend?: boolean;
}

export type DeploymentPhase = "Pending" | "Progressing" | "Paused" | "Healthy" | "Degraded" | "Failed";
/** Suspended: stopped on purpose (a paused Deployment, a suspended Job); neither moving nor failing. */
export type HealthState = "Healthy" | "Suspended" | "Progressing" | "Degraded" | "Missing" | "Unknown";

export interface RevisionReplicas {
  name: string;
  replicas: number;
  readyReplicas: number;
  /** Container restarts summed over the revision's pods (for rollout analysis). */
  restarts?: number;
}

export interface ClusterDeploymentStatus {
  name: string;
  appliedCommit?: string;
  health: HealthState;
  revisions?: RevisionReplicas[];
  lastSyncTime?: string;
  message?: string;
}

export interface PlacementDecisionStatus {
  cluster: string;
  wave?: string;
  selected: boolean;
  reason?: string;
}

/** Replicas the planner gave one revision in one cluster. */
export interface PlannedRevisionReplicas {
  name: string;
  replicas: number;
}

/** One cluster's progress through the rollout (persisted so a restarted controller resumes). */
export interface RolloutClusterStatus {
  name: string;
  wave: string;
  /** 1-based batch currently applied; 0 before the cluster started, `batches` once completed. */
  batch: number;
  /** Pending | Progressing | Soaking | Analyzing | Paused | Completed | Failed | RolledBack */
  state: string;
  /** When the cluster entered `state`. */
  since: string;
  /** When the current batch was applied (the progress deadline and `elapsed` count from here). */
  batchStartedAt?: string;
  /** Number of batches of the cluster's wave (its own `batches`, else the target revision's). */
  batches?: number;
  /** Revisions planned for the cluster at this step, oldest first. */
  revisions: PlannedRevisionReplicas[];
  /** Revisions in the cluster before the rollout started: what a rollback restores. */
  sources: PlannedRevisionReplicas[];
  message?: string;
  /**
   * Fingerprint of what the deployment renders for this cluster (every revision, replicas aside)
   * that the rollout brings it: a different one means the spec, a definition or an override
   * changed what the cluster gets, and the change goes through the waves.
   */
  rendering?: string;
  /**
   * Generation of the deployment whose in-place update this cluster takes part in (a change of
   * the running revision's rendering, not a new revision); absent in a revision rollout.
   */
  update?: number;
  /**
   * The restore point of an update: the environment commit whose files this cluster keeps while
   * the update waits for its wave, and gets back when the update is rolled back; `rendering` is
   * the fingerprint of those files.
   */
  held?: HeldRendering;
}

/** A cluster's files as one commit of the environment repository holds them. */
export interface HeldRendering {
  commit: string;
  rendering: string;
}

/** The last analysis evaluation. */
export interface RolloutAnalysisStatus {
  cluster: string;
  batch: number;
  /** Successful | Failed | Running | Error */
  result: string;
  message?: string;
  at: string;
}

export interface RolloutStatus {
  wave?: string;
  batch?: number;
  batches?: number;
  state?: string;
  message?: string;
  since?: string;
  /** The revision this rollout drives (the target when it started). */
  revision?: string;
  /** When the rollout of `revision` started. */
  startedAt?: string;
  /** Set while the rollout is an in-place update of `revision`: the generation that started it. */
  update?: number;
  /** What the rollout waits for now: `promote`, `resume`, `healthy replicas`, `analysis`, `soak 20s`, ... */
  waitingFor?: string;
  clusters?: RolloutClusterStatus[];
  analysis?: RolloutAnalysisStatus;
  /**
   * Set only in the status written just before a step's commit (the write-ahead record): the
   * step's commit message. A controller stopped before the commit makes it on its next reconcile
   * with this message, so the step keeps its line in the Git history.
   */
  pendingCommit?: string;
}

export interface ApplicationDeploymentStatus {
  observedGeneration?: number;
  phase?: DeploymentPhase;
  targetRevision?: string;
  stableRevision?: string;
  conditions?: Condition[];
  commit?: string;
  /** The GitSource commit the spec came from when `commit` was made (absent: applied by hand). */
  sourceCommit?: string;
  /** Short progress for the PROGRESS printer column, e.g. `production 2/3`. */
  progress?: string;
  rollout?: RolloutStatus;
  placement?: PlacementDecisionStatus[];
  clusters?: ClusterDeploymentStatus[];
}

export interface ApplicationDeployment {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "ApplicationDeployment";
  metadata: ObjectMeta;
  spec: ApplicationDeploymentSpec;
  status?: ApplicationDeploymentStatus;
}

// ---------- Definitions ----------

export interface WorkloadType {
  apiVersion: string;
  kind: string;
}

export interface ComponentDefinitionSpec {
  workload: WorkloadType;
  /** Dotted path where the planner writes replica counts; omitted for unscalable workloads. */
  replicasPath?: string;
  /** JSON Schema for `settings`. */
  schema?: JsonObject;
  /** JSONata; input `{settings, context}`; returns one object or an array (the first is the workload). */
  template: string;
  /** CEL over the live workload; omitted → the built-in rule for the kind. */
  health?: string;
  /** Traits every component of this type gets, as if listed first; its own trait of the same name merges over. */
  defaultTraits?: TraitSpec[];
}

export interface ComponentDefinition {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "ComponentDefinition";
  metadata: ObjectMeta;
  spec: ComponentDefinitionSpec;
}

export type TraitScope = "revision" | "component";

/** RFC 6902 (`properties.operations`) or RFC 7386 (the properties themselves). */
export type WorkloadPatchFormat = "json-patch" | "json-merge-patch";

/** When a trait runs: in the component's order, or after every listed trait. */
export type TraitOrder = "listed" | "last";

export interface TraitDefinitionSpec {
  /** `group/version/Kind` of workloads the trait fits, or `"*"`. Default: any. */
  appliesTo?: string[];
  conflictsWith?: string[];
  schema?: JsonObject;
  /** JSONata; input `{properties, context, workload}`; merged into the workload. */
  patch?: string;
  /** JSONata; extra objects (one or an array). */
  outputs?: string;
  /** The properties are a raw patch of the workload, applied after every other trait's patch (see render/json-patch.ts). */
  workloadPatch?: WorkloadPatchFormat;
  scope?: TraitScope;
  /** Default `listed`. */
  order?: TraitOrder;
  /** CEL health for the outputs. */
  health?: string;
}

export interface TraitDefinition {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "TraitDefinition";
  metadata: ObjectMeta;
  spec: TraitDefinitionSpec;
}

// ---------- Cluster ----------

export interface SecretKeyRef {
  namespace: string;
  name: string;
  key: string;
}

export interface ClusterSpec {
  kubeconfigSecretRef?: SecretKeyRef;
  /** The hub itself. */
  local?: boolean;
  /** Nothing is synced to a paused cluster. */
  paused?: boolean;
  /** Drift-check period for this cluster, e.g. `5m`; overrides the controller's default. */
  resyncInterval?: string;
  /**
   * Push (default): the controller applies to the member with the kubeconfig of
   * kubeconfigSecretRef. Pull: an agent inside the member applies its folder of the environment
   * repository and reports in SyncReports; the hub holds no credential of the member.
   */
  mode?: ClusterMode;
}

export type ClusterMode = "Push" | "Pull";

export interface ClusterStatus {
  conditions?: Condition[];
  version?: string;
  lastProbeTime?: string;
  /** Pull mode: the environment-repository commit the agent is asked to apply (written by the controller). */
  desiredCommit?: string;
  /** Pull mode: deployments (`<namespace>/<name>`) with spec.suspend, which the agent must not touch. */
  suspendedDeployments?: string[];
  /** The cluster's sealing key: values sealed to `recipient` are opened where the cluster is synced. */
  sealing?: ClusterSealing;
}

/** The public half of a cluster's age key pair (the private half never leaves where it was made). */
export interface ClusterSealing {
  /** The age recipient (`age1…`) that `flotilla secret seal` encrypts to for this cluster. */
  recipient: string;
  /** Since when the cluster has this key (RFC 3339). */
  since: string;
}

export interface Cluster {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "Cluster";
  metadata: ObjectMeta;
  spec: ClusterSpec;
  status?: ClusterStatus;
}

// ---------- SyncReport ----------

/** One object's health as an agent reports it. */
export interface ReportedObjectHealth {
  object: string;
  health: string;
  message?: string;
}

export interface ReportedRevision {
  name: string;
  replicas: number;
  readyReplicas: number;
  restarts?: number;
}

/** A deployment's state on a pull-mode cluster, as its agent saw it. */
export interface DeploymentReport {
  /** The environment-repository commit this deployment's objects are applied at. */
  commit?: string;
  health: string;
  message?: string;
  objects?: ReportedObjectHealth[];
  revisions?: ReportedRevision[];
  /** Objects the last sync could not apply: `Kind/namespace/name` and why. */
  failed?: Array<{ object: string; message: string }>;
  /** The agent's latest sync events about the deployment, oldest first (at most a few). */
  events?: ReportedSyncEvent[];
}

export interface ReportedSyncEvent {
  /** Synced, SyncFailed, DriftCorrected, Pruned or Skipped. */
  type: string;
  message: string;
  commit?: string;
  /** When the agent saw it (RFC 3339 with milliseconds); tells a new event from one already recorded. */
  time: string;
}

/** The agent's own state: the sync loop's commit bookkeeping and the member's version. */
export interface AgentReport {
  /** Who is reporting: the agent replica holding the member's Lease. */
  identity?: string;
  version?: string;
  desiredCommit?: string;
  appliedCommit?: string;
  attemptedCommit?: string;
  /** The newest commit the agent has fetched. */
  fetchedCommit?: string;
  paused?: boolean;
  error?: string;
  failures?: number;
  lastSyncTime?: string;
  nextRetryAt?: string;
  /** Written at least every heartbeat period while the agent runs (RFC 3339). */
  heartbeatTime?: string;
  /** The age recipient of the member's sealing key (its identity stays in the member's Secret). */
  sealingRecipient?: string;
}

export interface SyncReportSpec {
  /** The Cluster reported on. */
  cluster: string;
  /** `<namespace>/<name>` of the ApplicationDeployment; absent in the agent's own report. */
  deployment?: string;
}

export interface SyncReport {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "SyncReport";
  metadata: ObjectMeta;
  spec: SyncReportSpec;
  status?: { agent?: AgentReport; deployment?: DeploymentReport };
}

// ---------- GitSource ----------

/** Exactly one of branch, tag or commit. */
export interface GitSourceRef {
  branch?: string;
  tag?: string;
  commit?: string;
}

export interface GitSourceSpec {
  /** https:// URL, or a local path / file:// URL of a repository on a mounted volume. */
  url: string;
  /** Default `{ branch: "main" }`. */
  ref?: GitSourceRef;
  /** Folder of the repository to read. Default ".". */
  path?: string;
  /** Fetch period, e.g. `1m` (default). */
  interval?: string;
  /** Secret in the GitSource's namespace with `token`, or `username` and `password`. */
  secretRef?: { name: string };
  /** Shared secret of the webhook receiver (key default `token`). */
  webhook?: { secretRef: { name: string; key?: string } };
  suspend?: boolean;
  /** Default true. */
  prune?: boolean;
}

/** One object a GitSource applied, and the file it came from. */
export interface GitSourceInventoryEntry {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  file: string;
}

export interface GitSourceStatus {
  observedGeneration?: number;
  lastFetchedCommit?: string;
  appliedCommit?: string;
  lastFetchTime?: string;
  inventory?: GitSourceInventoryEntry[];
  conditions?: Condition[];
}

export interface GitSource {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "GitSource";
  metadata: ObjectMeta;
  spec: GitSourceSpec;
  status?: GitSourceStatus;
}

// ---------- TenantPolicy ----------

/** A Kubernetes label selector (`metav1.LabelSelector`): every label and every expression must hold. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: MatchExpression[];
}

/** An API group and kind; `"*"` in either matches any, group `""` is the core group. */
export interface GroupKind {
  group: string;
  kind: string;
}

export interface TenantPolicySpec {
  /** The namespaces the policy governs: those named, and those whose labels the selector matches. */
  namespaces: { names?: string[]; selector?: LabelSelector };
  /** The Clusters those namespaces may place onto (by the Cluster's labels); absent: any cluster. */
  clusters?: LabelSelector;
  /** The kinds their deployments may render; absent allow: every kind, deny wins over allow. */
  kinds?: { allow?: GroupKind[]; deny?: GroupKind[] };
  /** ClusterRoles a RoleBinding or ClusterRoleBinding may not refer to. Default `[cluster-admin, admin]`. */
  deniedClusterRoles?: string[];
}

/** What a TenantPolicy governs and allows now (written by the controller). */
export interface TenantPolicyStatus {
  observedGeneration?: number;
  /** Governed namespaces, sorted, the first 100. */
  namespaces?: string[];
  namespaceCount?: number;
  /** Clusters the policy allows, sorted, the first 100. */
  clusters?: string[];
  clusterCount?: number;
  clusterTotal?: number;
}

export interface TenantPolicy {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "TenantPolicy";
  metadata: ObjectMeta;
  spec: TenantPolicySpec;
  status?: TenantPolicyStatus;
}

// ---------- Notification ----------

/** The rollout and sync events a Notification can ask for. */
export type NotificationEventType = "RolloutStarted" | "BatchPaused" | "RolloutFailed" | "RolledBack" | "RolloutCompleted" | "SyncFailed" | "DriftCorrected";

export type NotificationFormat = "json" | "slack" | "teams";

export interface NotificationWebhook {
  /** https://, or http:// to a loopback or cluster-local host only. Exactly one of `url` and `urlSecretRef`. */
  url?: string;
  /** Secret in the Notification's namespace holding the URL (Slack and Teams URLs are credentials). */
  urlSecretRef?: { name: string; key: string };
  /** Default `json`. */
  format?: NotificationFormat;
  /** Secret in the Notification's namespace whose value signs the body (X-Flotilla-Signature). */
  secretRef?: { name: string; key: string };
}

export interface NotificationSpec {
  /** Deployments of the Notification's namespace; absent or empty: all of them. */
  selector?: { matchLabels?: Record<string, string> };
  events: NotificationEventType[];
  webhook: NotificationWebhook;
}

/** One event delivered (or given up on), for dedupe across restarts. */
export interface NotificationSentEntry {
  /** `<event>/<generation>/<revision>/<wave>/<batch>` (rollout events) or `<event>/<generation>/<cluster>/<commit>` (sync events). */
  key: string;
  /** `<namespace>/<name>` of the deployment. */
  deployment: string;
  /** When the step happened (RFC 3339), for rollout events: a retried rollout that comes back to the same step is a new occurrence. */
  since?: string;
  /** When it was delivered (RFC 3339). */
  time: string;
}

export interface NotificationDeliveryRecord {
  event: NotificationEventType;
  /** `<namespace>/<name>` of the deployment. */
  deployment: string;
  time: string;
}

export interface NotificationStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  delivered?: number;
  failed?: number;
  lastDelivery?: NotificationDeliveryRecord;
  lastFailure?: NotificationDeliveryRecord & { message: string };
  sent?: NotificationSentEntry[];
}

export interface Notification {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "Notification";
  metadata: ObjectMeta;
  spec: NotificationSpec;
  status?: NotificationStatus;
}

export type FlotillaResource = ApplicationDeployment | ComponentDefinition | TraitDefinition | Cluster | TenantPolicy;

/** A rendered Kubernetes object: what ends up in Git and on a cluster. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}
