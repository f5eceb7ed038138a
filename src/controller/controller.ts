// The Flotilla controller: watches the hub, and for each ApplicationDeployment resolves
// definitions → validates → places → plans → renders → commits → hands the commit to the
// per-cluster sync workers → aggregates health → writes status. One reconcile at a time per
// deployment; invalid input never changes what is already deployed.

import { hostname } from "node:os";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type Admission, type AdmissionSettings, startAdmission } from "../admission/admission.js";
import { type FieldProblem, FlotillaError, type ValidationError } from "../api/errors.js";
import { FINALIZER } from "../api/labels.js";
import type { ApplicationDeployment, ApplicationDeploymentStatus, Cluster, ComponentDefinition, Manifest, SyncReport, TraitDefinition } from "../api/types.js";
import { runEachWithDeadline } from "../definitions/deadline.js";
import { buildRegistry, type DefinitionRegistry } from "../definitions/registry.js";
import { CommitBatcher } from "../gitops/commit-batcher.js";
import { clusterFolders, folderFiles, manifestFiles } from "../gitops/layout.js";
import { EnvRepo } from "../gitops/repo.js";
import { place as evaluatePlacement, PLACEMENT_CEL_BUDGET_MS, type Placement } from "../placement/select.js";
import { deploymentProblems } from "../render/deployment-problems.js";
import { type RenderTarget, renderDeployment } from "../render/render.js";
import { TemplateCache } from "../render/template-cache.js";
import { type ObservedCluster, planRollout, type RolloutPlan } from "../rollout/planner.js";
import { toRenderTargets } from "../rollout/targets.js";
import type { SyncEvent, WorkerStatus } from "../sync/worker.js";
import { ClusterManager } from "./clusters.js";
import { KubeClient } from "../kube/client.js";
import { kubeKeyObjects } from "../secrets/keys.js";
import { type HubSealingKeys, hubSealingKeys } from "./sealing-keys.js";
import { EventRecorder, type EventTarget } from "./events.js";
import { GitSourceLoop } from "./git-sources.js";
import { Hub, type SupervisedInformer } from "./hub.js";
import { type KeepAliveKubeConfig, keepAliveKubeConfig } from "../kube/keep-alive.js";
import { LeaderElector } from "./leader.js";
import { LEADER_LABEL, LeaderPodLabel } from "./leader-label.js";
import { ControllerMetrics, parseAddress, startOpsServer } from "./metrics.js";
import { type Authorize, gitAvailable, gitServeHandler, startHttpServer } from "../gitops/serve.js";
import { hubAccessReviews, tokenAuthorizer } from "./token-access.js";
import { backoffDelay } from "../support/backoff.js";
import { WorkQueue } from "../support/queue.js";
import {
  type Committed,
  commitSummary,
  stepPosition,
  describeRenderError,
  kubeSchemaError,
  type Folders,
  folderHashes,
  heldFolders,
  holdsStatusBack,
  needsStepRecord,
  type Planned,
  type RenderFailure,
  type Rendered,
  type Resolved,
  requeuePolicy,
  sourceCommitOf,
  statusOf,
  targetName,
  usageOf,
  validate,
} from "./reconcile-steps.js";
import type { ClusterObservation } from "./status.js";
import { StatusWriter } from "./status-writer.js";
import { routeHooks, type WebhookReceiver, type WebhookTarget, webhookReceiver } from "./webhook-receiver.js";
import { type Key, TermState } from "./term-state.js";
import { TenantPolicyWatch } from "./tenant-policies.js";
import { TenantPolicyStatusWriter } from "./tenant-policy-status.js";
import { refusedClusters } from "../tenancy/policy.js";
import { tenancyError } from "../tenancy/problems.js";
import { hubNotificationStore, Notifier } from "./notifier.js";
import { hubUiSource } from "../ui/server/hub-source.js";
import { startUiServer, type UiServer } from "../ui/server/server.js";
import type { AccessReviews } from "./token-access.js";
import { type ListeningPorts, writePortsFile } from "./ports-file.js";

export interface ControllerOptions {
  kubeConfig: KubeConfig;
  /** Where the embedded environment repository lives (`<dataDir>/env.git`). */
  dataDir: string;
  /** Optional Git remote (HTTPS) and its token. */
  gitUrl?: string;
  gitToken?: string;
  /** Default drift-check period, ms. Default 300 000. */
  resyncIntervalMs?: number;
  /** `host:port` of /metrics, /healthz, /readyz; undefined disables. */
  metricsAddr?: string;
  /**
   * `host:port` of the controller's HTTP server; undefined disables it. It serves the embedded
   * repository read-only to pull-mode agents at `/env.git` (not with {@link gitUrl}: agents read
   * the remote) and GitSource webhooks at `/hooks/<namespace>/<name>` (see {@link webhooks}).
   */
  gitServeAddr?: string;
  /**
   * The GitSources a webhook may trigger: `POST /hooks/<namespace>/<name>` on
   * {@link gitServeAddr} verifies the request with `secretOf` and calls `trigger` (see
   * webhook-receiver.ts). Default: this controller's own GitSources (a replica that does not lead
   * answers 503, and the interval fetch catches up); false: no webhooks (/hooks/ answers 404).
   */
  webhooks?: WebhookTarget | false;
  /** PEM certificate and key of the HTTP server (Git and webhooks): HTTPS instead of HTTP. Default: plain HTTP. */
  gitServeTls?: { cert: string | Buffer; key: string | Buffer };
  /** Who may fetch from the Git server. Default: TokenReview + SubjectAccessReview on the hub. */
  gitServeAuthorize?: Authorize;
  /**
   * `host:port` of the validating admission webhook (HTTPS, `POST /validate`; docs/admission.md);
   * undefined disables it. On loopback it registers a URL, elsewhere the Service of
   * {@link AdmissionSettings.service}.
   */
  admissionAddr?: string;
  /** The webhook's other settings (configuration name, URL, certificate lifetimes, added checks). Default: see AdmissionSettings. */
  admission?: AdmissionSettings;
  /**
   * `host:port` of the web UI (its bundle, the JSON API under /api/ and the live stream); undefined
   * disables it. Every API request is checked with a TokenReview and a SubjectAccessReview.
   */
  uiAddr?: string;
  /**
   * When {@link uiAddr} is only the default (the user named none): a busy port is logged and the
   * controller runs without the UI, instead of failing to start. Default false.
   */
  uiAddrIsDefault?: boolean;
  /**
   * A file the controller writes the ports of its servers to once they all listen (ports-file.ts),
   * for a script that started it with port 0. Default: none.
   */
  portsFile?: string;
  /** The web UI's built bundle. Default `<package root>/dist/ui`. */
  uiBundleDir?: string;
  /** The reviews of the web UI's users. Default: TokenReview and SubjectAccessReview on the hub. */
  uiReviews?: AccessReviews;
  /** Namespace of the leader Lease. Default `flotilla-system`. */
  namespace?: string;
  /** Replica identity for leader election. Default hostname + pid. */
  identity?: string;
  /**
   * The controller's own Pod (downward API: POD_NAME, POD_NAMESPACE): labelled
   * `flotilla.dev/leader: "true"` while this replica leads and its caches are filled, so the
   * Services of the web UI and the Git server reach the leader only (leader-label.ts). Unset
   * outside a Pod: nothing is labelled.
   */
  pod?: { name: string; namespace: string };
  /** Run leader election. Default true. */
  leaderElection?: boolean;
  /** How long the leader Lease is valid without renewal, seconds (a standby takes over after it). Default 15. */
  leaseDurationSeconds?: number;
  /** How long deletion waits for unreachable clusters before releasing the finalizer, ms. Default 120 000. */
  deletionTimeoutMs?: number;
  /** Cluster probe period, ms. Default 30 000. */
  probeIntervalMs?: number;
  /** Deployments reconciled at once (their commits are batched). Default 16. */
  concurrency?: number;
  /**
   * How often a deployment that is not yet Healthy is looked at again, ms. Default 10 000. A
   * fallback only: sync and health events of its clusters requeue it as they happen. These looks
   * wait behind every reconcile an event asked for (they are low priority in the queue).
   */
  progressRequeueMs?: number;
  /**
   * Fault testing only: wait this long, ms, between a rollout step's status record and its commit,
   * so that a test can kill the process between the two on every try. Default 0.
   */
  pauseAfterStepRecordMs?: number;
  /**
   * Called when this replica won the lease but cannot start work for a reason that will not pass
   * on its own (a data directory it cannot write, credentials refused). The controller has stopped
   * and released the lease by then, so a standby can lead; the CLI exits non-zero, so the Pod
   * restarts and shows it (CrashLoopBackOff) instead of holding the lease while doing nothing.
   */
  onFatal?: (error: unknown) => void;
  /**
   * Send rollout and sync events to the webhooks of Notification objects (see notifier.ts and
   * docs/notifications.md). Default: on; false: no Notification is watched or sent.
   */
  notifications?: false;
  logger: Logger;
}

/** After taking up work, how long a status may wait for this process to see its clusters. */
const STARTUP_GRACE_MS = 60_000;
/**
 * A deployment's sync and health events within this window make one reconcile: its clusters
 * report one after another, and each reconcile costs status writes on the hub.
 */
const SYNC_EVENT_COALESCE_MS = 1_000;

function keyOf(ad: { metadata: { namespace?: string; name: string } }): Key {
  return `${ad.metadata.namespace ?? "default"}/${ad.metadata.name}`;
}

function splitKey(key: Key): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class Controller {
  readonly metrics = new ControllerMetrics();
  private readonly log: Logger;
  private readonly hub: Hub;
  private repo!: EnvRepo;
  /** Commits of deployments reconciled at the same moment are written together. */
  private commits!: CommitBatcher;
  private clusters!: ClusterManager;
  private sealing: { keys: HubSealingKeys; client: KubeClient; rekeyTimer?: NodeJS.Timeout | undefined } | undefined;
  private queue!: WorkQueue;
  private events!: EventRecorder;
  private deployments!: SupervisedInformer<ApplicationDeployment>;
  private clusterInformer!: SupervisedInformer<Cluster>;
  /** Pull-mode clusters' reports. Not part of cachesSynced: a hub without the CRD still serves push mode. */
  private reports: SupervisedInformer<SyncReport> | undefined;
  private componentDefs!: SupervisedInformer<ComponentDefinition>;
  private traitDefs!: SupervisedInformer<TraitDefinition>;
  /** TenantPolicies and, while a policy selects by label, Namespaces (see tenant-policies.ts). */
  private tenancy!: TenantPolicyWatch;
  /** Keeps the TenantPolicies' status current while this replica works. */
  private policyStatus: TenantPolicyStatusWriter | undefined;
  private elector: LeaderElector | undefined;
  /** Delivers Notifications while this replica works (leads); undefined when disabled. */
  private notifier: Notifier | undefined;
  /** The GitSource loop, while this replica works (leads). */
  private sources: GitSourceLoop | undefined;
  private opsServer: import("node:http").Server | undefined;
  private gitServer: import("node:http").Server | undefined;
  private hooks: WebhookReceiver | undefined;
  private admission: Admission | undefined;
  private registry: DefinitionRegistry | undefined;
  /** specProblems' answers under one registry. */
  private specChecks: { registry: DefinitionRegistry; answers: Map<string, Promise<FieldProblem[]>> } | undefined;
  /** The leader label on this replica's Pod (when it runs in one). */
  private leaderLabel: LeaderPodLabel | undefined;
  /** Everything learnt during this leadership term (see TermState). */
  private term = new TermState();
  /**
   * Rendered components by a hash of everything that shapes them: kept across terms, since an
   * entry depends on nothing but its key.
   */
  private readonly templateCache = new TemplateCache();
  private nextSeq = 1;
  /** Clusters with their probed version, by informer object (see withVersion). */
  private readonly versioned = new WeakMap<Cluster, Cluster>();
  private working = false;
  /** When this process last took up work (became leader, or started without election). */
  private workStartedAt = 0;
  /** The env repo's head when this process took up work: every earlier commit is in it. */
  private startHead: string | undefined;
  private stopping = false;
  opsPort: number | undefined;
  /** The port the admission webhook listens on, when it serves. */
  admissionPort: number | undefined;
  /** The port the Git server listens on, when it serves (the environment repository, webhooks or both). */
  gitServePort: number | undefined;
  /** The port the web UI listens on, when it serves. */
  uiPort: number | undefined;
  private ui: UiServer | undefined;
  /** The hub's kubeconfig, with connections kept alive across API calls. */
  private readonly hubConfig: KeepAliveKubeConfig;

  constructor(private readonly o: ControllerOptions) {
    this.log = o.logger;
    this.hubConfig = keepAliveKubeConfig(o.kubeConfig);
    this.hub = new Hub(this.hubConfig);
  }

  /**
   * For the webhook receiver (a WebhookTarget): fetch a GitSource now (false when this replica
   * does not lead or knows no such source), and the webhook's shared secret of a source
   * (undefined likewise).
   */
  readonly gitSources = {
    trigger: (namespace: string, name: string): boolean => this.sources?.trigger(namespace, name) ?? false,
    webhookSecret: (namespace: string, name: string): Promise<Buffer | undefined> => this.sources?.webhookSecret(namespace, name) ?? Promise.resolve(undefined),
    secretOf: (namespace: string, name: string): Promise<Buffer | undefined> => this.gitSources.webhookSecret(namespace, name),
  };

  /** The ports its servers listen on (a server that is off has none). */
  get listeningPorts(): ListeningPorts {
    return {
      ...(this.opsPort === undefined ? {} : { metrics: this.opsPort }),
      ...(this.gitServePort === undefined ? {} : { git: this.gitServePort }),
      ...(this.admissionPort === undefined ? {} : { admission: this.admissionPort }),
      ...(this.uiPort === undefined ? {} : { ui: this.uiPort }),
    };
  }

  get isLeader(): boolean {
    return this.working;
  }

  /** Start the ops server and leader election; work starts when this replica leads. */
  async start(): Promise<void> {
    if (this.o.metricsAddr !== undefined) {
      const { server, port } = await startOpsServer({ address: this.o.metricsAddr, metrics: this.metrics, ready: () => this.ready() });
      this.opsServer = server;
      this.opsPort = port;
      this.log.info({ port }, "serving /metrics, /healthz and /readyz");
    }
    await this.startGitServer();
    await this.startAdmission();
    await this.startUi();
    if (this.o.portsFile) await writePortsFile(this.o.portsFile, this.listeningPorts);
    if (this.o.pod) {
      const pod = this.o.pod;
      this.leaderLabel = new LeaderPodLabel({
        kc: this.hubConfig,
        podName: pod.name,
        podNamespace: pod.namespace,
        onError: (err, leading) =>
          this.log.warn({ err: errorText(err), pod: pod.name, leading }, `cannot ${leading ? "set" : "remove"} the Pod's ${LEADER_LABEL} label; retrying`),
      });
      // A container restarted in the same Pod finds the label of its previous life there.
      void this.leaderLabel.set(false);
    }
    if (this.o.leaderElection === false) {
      // Without election this process is the only one working: it leads, for the alerts too.
      this.metrics.leader.set(1);
      await this.startWork();
      void this.leaderLabel?.set(true);
      return;
    }
    const identity = this.o.identity ?? `${hostname()}-${process.pid}`;
    this.elector = new LeaderElector({
      kc: this.hubConfig,
      namespace: this.o.namespace ?? "flotilla-system",
      identity,
      ...(this.o.leaseDurationSeconds === undefined
        ? {}
        : // The leader renews (and a standby retries) at least three times per lease duration.
          { leaseDurationSeconds: this.o.leaseDurationSeconds, retryPeriodMs: Math.min(2_000, Math.floor((this.o.leaseDurationSeconds * 1000) / 3)) }),
      onStartedLeading: () => {
        this.log.info({ identity }, "became leader");
        this.metrics.leader.set(1);
        void this.startWork().then(
          // Once the caches are filled: the Services send requests here from then on.
          () => (this.working ? this.leaderLabel?.set(true) : undefined),
          async (e: unknown) => {
            this.log.error({ err: errorText(e) }, "cannot start work; releasing the lease");
            await this.stop().catch(() => undefined);
            this.o.onFatal?.(e);
          },
        );
      },
      onStoppedLeading: () => {
        this.log.warn({ identity }, "lost the leader lease; stopping work");
        this.metrics.leader.set(0);
        void this.leaderLabel?.set(false);
        void this.stopWork();
      },
      onError: (e) => this.log.warn({ err: errorText(e) }, "leader election"),
    });
    this.elector.start();
  }

  /**
   * Serve the embedded repository to pull-mode agents, and webhooks. Every replica serves the
   * repository (read-only), whether it leads or not; only the leader's repository is current,
   * hence one replica or --git-url.
   */
  private async startGitServer(): Promise<void> {
    if (this.o.gitServeAddr === undefined) return;
    const target = this.webhookTarget();
    let git: ReturnType<typeof gitServeHandler> | undefined;
    if (this.o.gitUrl) {
      this.log.info("not serving the environment repository: it lives on --git-url, which pull-mode agents read");
    } else {
      const missing = await gitAvailable();
      if (missing) {
        this.log.error(
          { err: missing },
          "cannot serve the environment repository to pull-mode agents: git is not installed; use --git-url, or an image with git",
        );
      } else {
        git = gitServeHandler({
          repoDir: `${this.o.dataDir}/env.git`,
          authorize: this.o.gitServeAuthorize ?? tokenAuthorizer({ reviews: hubAccessReviews(this.hubConfig) }),
          logger: this.log.child({ component: "git-server" }),
          onAnswer: (by, asked) => this.metrics.gitServeAnswers.inc({ by, asked }),
        });
      }
    }
    const hooks =
      target &&
      webhookReceiver({
        secretOf: (namespace, name) => target.secretOf(namespace, name),
        trigger: (namespace, name) => target.trigger(namespace, name),
        logger: this.log.child({ component: "webhooks" }),
      });
    const handler = hooks ? routeHooks(hooks.handle, git) : git;
    if (handler === undefined) return;
    const { host, port } = parseAddress(this.o.gitServeAddr, "--git-serve-addr");
    const { server, port: bound } = await startHttpServer({
      host,
      port,
      handler,
      ...(this.o.gitServeTls ? { tls: this.o.gitServeTls } : {}),
    }).catch((err: unknown) => {
      hooks?.close();
      const code = (err as { code?: unknown }).code;
      throw new FlotillaError(
        `--git-serve-addr: cannot listen on "${this.o.gitServeAddr}" (${typeof code === "string" ? code : errorText(err)}). Choose a free address, or "off" to serve no Git`,
        { cause: err },
      );
    });
    this.gitServer = server;
    this.hooks = hooks;
    this.gitServePort = bound;
    const tls = this.o.gitServeTls !== undefined;
    if (git) this.log.info({ port: bound, tls }, "serving the environment repository read-only at /env.git");
    if (hooks) this.log.info({ port: bound, tls }, "receiving GitSource webhooks at /hooks/<namespace>/<name>");
  }

  /**
   * The admission webhook, on every replica (a standby validates with definitions it watches
   * itself). It validates with this controller's registry while it leads.
   */
  private async startAdmission(): Promise<void> {
    if (this.o.admissionAddr === undefined) return;
    const address = this.o.admissionAddr;
    this.admission = await startAdmission({
      ...this.o.admission,
      address,
      kubeConfig: this.hubConfig,
      namespace: this.o.namespace ?? "flotilla-system",
      registry: () => (this.working && this.cachesSynced() ? this.definitions() : undefined),
      tenancy: () => (this.working && this.cachesSynced() ? (namespace: string) => this.tenancy.effective(namespace) : undefined),
      logger: this.log,
      onReview: (ms, request, verdict) => {
        this.metrics.admissionReviews.inc({ kind: request.kind.kind, operation: request.operation, allowed: String(verdict.allowed) });
        this.metrics.admissionDuration.observe(ms / 1000);
      },
    }).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      throw new FlotillaError(
        `--admission-addr: cannot listen on "${address}" (${typeof code === "string" ? code : errorText(err)}). Choose a free address, or "off" to serve no admission webhook`,
        { cause: err },
      );
    });
    this.admissionPort = this.admission.port;
  }

  /**
   * Serve the web UI from this process's caches. Every replica serves it; one that does not lead
   * has no caches and answers the API with 503 (put the Service in front of the leader, or run one).
   */
  private async startUi(): Promise<void> {
    if (this.o.uiAddr === undefined) return;
    const { host, port } = parseAddress(this.o.uiAddr, "--ui-addr");
    const source = hubUiSource({
      kubeConfig: this.hubConfig,
      caches: () =>
        this.working && this.cachesSynced()
          ? { deployments: this.deployments, clusters: this.clusterInformer, componentDefinitions: this.componentDefs, traitDefinitions: this.traitDefs }
          : undefined,
      history: () => (this.working ? { gitdir: this.repo.dir, head: () => this.repo.head() } : undefined),
    });
    const started = await startUiServer({
      host,
      port,
      source,
      reviews: this.o.uiReviews ?? hubAccessReviews(this.hubConfig),
      ...(this.o.uiBundleDir ? { bundleDir: this.o.uiBundleDir } : {}),
      logger: this.log.child({ component: "ui" }),
    }).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      if (this.o.uiAddrIsDefault && code === "EADDRINUSE") {
        this.log.warn({ address: this.o.uiAddr }, "not serving the web UI: its default address is taken; pass --ui-addr HOST:PORT to choose another");
        return undefined;
      }
      throw new FlotillaError(
        `--ui-addr: cannot listen on "${this.o.uiAddr}" (${typeof code === "string" ? code : errorText(err)}). Choose a free address, or "off" to serve no web UI`,
        { cause: err },
      );
    });
    if (!started) return;
    this.ui = started;
    this.uiPort = started.port;
    this.log.info({ port: started.port }, "serving the web UI");
  }

  /** What a webhook may trigger: undefined serves no webhooks. */
  private webhookTarget(): WebhookTarget | undefined {
    if (this.o.webhooks === false) return undefined;
    return this.o.webhooks ?? this.gitSources;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    // Before the Lease is released: the next leader's label should not meet this one's. Bounded,
    // so a hub that is down does not hold up the shutdown.
    if (this.leaderLabel) {
      await Promise.race([this.leaderLabel.set(false), new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
      this.leaderLabel.close();
    }
    // First: in URL mode the configuration goes with it, before the port stops answering.
    await this.admission?.stop();
    await this.elector?.stop();
    await this.stopWork();
    await new Promise<void>((resolve) => (this.opsServer ? this.opsServer.close(() => resolve()) : resolve()));
    this.hooks?.close();
    await this.ui?.close();
    const git = this.gitServer;
    if (git) {
      const closed = new Promise<void>((resolve) => git.close(() => resolve()));
      git.closeAllConnections(); // a fetch in progress ends with the process; its backend is killed
      await closed;
    }
    this.hubConfig.destroyAgents();
  }

  private ready(): boolean {
    if (!this.working) return this.elector !== undefined; // a standby is ready to take over
    // Not ready while a watch of the hub is down: the caches may be missing changes.
    return this.cachesSynced() && [this.deployments, this.clusterInformer, this.componentDefs, this.traitDefs, this.tenancy].every((i) => i.watching);
  }

  private cachesSynced(): boolean {
    // /readyz can ask while startWork is still opening the repository, before the informers exist.
    const informers = [this.deployments, this.clusterInformer, this.componentDefs, this.traitDefs, this.tenancy] as Array<{ synced: boolean } | undefined>;
    return informers.every((i) => i?.synced === true);
  }

  /** Starts and stops of work, one after another in call order (the lease may come and go fast). */
  private lifecycle: Promise<void> = Promise.resolve();

  private inOrder(step: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(step);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  /** Not stopping, and leading (or running without election). */
  private mayWork(): boolean {
    return !this.stopping && (this.elector === undefined || this.elector.isLeader);
  }

  /**
   * Start work; a failure that passes (the Git remote or the hub unreachable, e.g. a new Pod whose
   * empty repository must wait for the remote's history) is retried with backoff for as long as
   * this replica may work. Any other failure (refused credentials) is thrown.
   */
  private async startWork(): Promise<void> {
    for (let failures = 1; ; failures++) {
      try {
        return await this.inOrder(() => this.doStartWork());
      } catch (e) {
        const passes = (e as { retryable?: unknown }).retryable === true;
        if (!passes || !this.mayWork()) throw e;
        const retryInMs = backoffDelay(failures, { maxMs: 30_000 });
        this.log.warn({ err: errorText(e), retryInMs }, "cannot start work yet; retrying");
        await new Promise((resolve) => setTimeout(resolve, retryInMs));
      }
    }
  }

  private async doStartWork(): Promise<void> {
    if (this.working || !this.mayWork()) return;
    const repo = await EnvRepo.open({
      dir: `${this.o.dataDir}/env.git`,
      ...(this.o.gitUrl ? { remote: { url: this.o.gitUrl, ...(this.o.gitToken ? { token: this.o.gitToken } : {}) } } : {}),
    });
    const head = await repo.head();
    if (!this.mayWork()) return; // the lease was lost while the repository opened
    this.working = true;
    this.workStartedAt = Date.now();
    this.repo = repo;
    this.commits = new CommitBatcher(repo);
    // A new term starts from Git and the hub alone, like a new process: another leader may have
    // committed since this replica last worked.
    this.term = new TermState();
    this.registry = undefined;
    if (head) this.term.commitSeq.set(head, this.nextSeq++);
    this.startHead = head ?? undefined;
    this.events = new EventRecorder({ core: this.hub.core, onError: (e) => this.log.debug({ err: errorText(e) }, "event not recorded") });
    this.queue = new WorkQueue({
      handler: (key) => this.reconcile(key),
      concurrency: this.o.concurrency ?? 16,
      baseBackoffMs: 500,
      maxBackoffMs: 60_000,
      onError: (key, e) => {
        this.metrics.reconciles.inc({ result: "error" });
        this.log.warn({ deployment: key, err: errorText(e) }, "reconcile failed; retrying with backoff");
      },
    });
    const keysClient = new KubeClient({ kubeConfig: this.hubConfig });
    this.sealing = { keys: hubSealingKeys(kubeKeyObjects(keysClient), this.o.namespace ?? "flotilla-system"), client: keysClient };
    this.ensureRekeyKey();
    this.clusters = new ClusterManager({
      sealing: this.sealing.keys,
      hub: this.hub,
      repo: this.repo,
      reportsIn: (namespace) => (this.reports?.list() ?? []).filter((r) => r.metadata.namespace === namespace),
      resyncIntervalMs: this.o.resyncIntervalMs ?? 300_000,
      ...(this.o.probeIntervalMs ? { probeIntervalMs: this.o.probeIntervalMs } : {}),
      onSyncEvent: (ev) => this.onSyncEvent(ev),
      onClusterRequest: (cluster, verb) => this.metrics.clusterRequests.inc({ cluster, verb }),
      onClusterChanged: (name) => this.requeueForCluster(name),
      onError: (cluster, e) => this.log.debug({ cluster, err: errorText(e) }, "cluster probe"),
      onSealingError: (cluster, e) =>
        this.log.warn({ cluster, err: errorText(e) }, "cannot make sure of the cluster's sealing key on the hub; retrying at the next probe"),
    });
    if (head) this.clusters.setHead(head);
    this.metrics.clusterStates = () =>
      this.clusters.names().map((name) => ({ name, ready: this.clusters.isReachable(name), lastSyncTime: this.clusters.worker(name)?.view.lastSyncTime }));
    const onError = (kind: string, e: unknown) => this.log.warn({ kind, err: errorText(e) }, "watch failed; restarting it");
    // Back after a hub outage: reconciles that failed meanwhile wait in backoff (up to a minute);
    // look at every deployment now instead.
    const onRecovered = (kind: string) => {
      this.log.info({ kind }, "watch recovered");
      for (const d of this.deployments?.list() ?? []) this.queue.add(keyOf(d));
    };
    const definitionChanged = (kind: "type" | "trait") => (d: { metadata: { name: string } }) => {
      this.registry = undefined;
      this.requeueUsers(kind, d.metadata.name);
    };
    this.componentDefs = this.hub.informer<ComponentDefinition>(
      "ComponentDefinition",
      { onChange: definitionChanged("type"), onDelete: definitionChanged("type") },
      { onError, onRecovered },
    );
    this.traitDefs = this.hub.informer<TraitDefinition>(
      "TraitDefinition",
      { onChange: definitionChanged("trait"), onDelete: definitionChanged("trait") },
      { onError, onRecovered },
    );
    // Before anything is placed or rendered: a namespace's policies must be known (cachesSynced).
    this.tenancy = new TenantPolicyWatch({
      hub: this.hub,
      onChange: (namespace) => {
        if (!this.working) return;
        this.policyStatus?.changed();
        for (const d of this.deployments?.list() ?? []) if (namespace === undefined || d.metadata.namespace === namespace) this.queue.add(keyOf(d));
      },
      supervisor: { onError, onRecovered },
    });
    this.policyStatus = new TenantPolicyStatusWriter({
      policies: () => this.tenancy.policyList(),
      namespaces: () => this.tenancy.namespaceList(),
      clusters: () => this.clusterInformer?.list() ?? [],
      ready: () => this.working && this.cachesSynced(),
      write: (name, status) => this.hub.patchTenantPolicyStatus(name, status),
      onError: (name, err) => this.log.warn({ err: errorText(err), policy: name }, "cannot write the TenantPolicy's status; retrying"),
    });
    this.clusterInformer = this.hub.informer<Cluster>(
      "Cluster",
      {
        onChange: (c) => {
          this.clusters.upsert(c);
          this.ui?.feed.clusterChanged(c);
          // Status-only updates (probes) must not requeue every deployment on the cluster.
          const seen = JSON.stringify([c.metadata.labels ?? {}, c.spec]);
          if (this.term.clusterShapes.get(c.metadata.name) !== seen) {
            this.term.clusterShapes.set(c.metadata.name, seen);
            this.requeueForCluster(c.metadata.name);
            this.policyStatus?.changed();
          }
        },
        onDelete: (c) => {
          this.ui?.feed.clusterDeleted(c);
          this.policyStatus?.changed();
          this.term.clusterShapes.delete(c.metadata.name);
          void this.clusters.remove(c.metadata.name);
          this.requeueForCluster(c.metadata.name);
        },
      },
      { onError, onRecovered },
    );
    // After the Clusters' informer: a report is matched to its Cluster's entry, and an entry
    // created later replays the reports already cached (see ClusterManager.upsertPull).
    this.reports = this.hub.informer<SyncReport>(
      "SyncReport",
      { onChange: (r) => this.clusters.onReport(r, false), onDelete: (r) => this.clusters.onReport(r, true) },
      { onError, onRecovered },
    );
    this.deployments = this.hub.informer<ApplicationDeployment>(
      "ApplicationDeployment",
      {
        onChange: (d) => {
          this.ui?.feed.deploymentChanged(d);
          const key = keyOf(d);
          const shape = deploymentShape(d);
          if (this.term.deploymentShapes.get(key) === shape) return;
          this.term.deploymentShapes.set(key, shape);
          this.queue.add(key);
        },
        onDelete: (d) => {
          this.ui?.feed.deploymentDeleted(d);
          this.forget(keyOf(d));
        },
      },
      { onError, onRecovered },
    );
    this.sources = new GitSourceLoop({
      hub: this.hub,
      kubeConfig: this.o.kubeConfig,
      dataDir: this.o.dataDir,
      controllerNamespace: this.o.namespace ?? "flotilla-system",
      logger: this.log,
      definitionProblems: (deployment) => this.specProblems(deployment),
    });
    this.sources.start();
    if (this.o.notifications !== false) {
      const store = hubNotificationStore(this.hubConfig, this.hub, {
        onChange: (n) => this.notifier?.changed(n),
        onDelete: (n) => this.notifier?.deleted(n),
        onError,
      });
      this.notifier = new Notifier({
        store,
        logger: this.log.child({ component: "notifications" }),
        onDelivery: (event, result) => this.metrics.notificationDeliveries.inc({ event, result }),
      });
    }
    this.log.info({ repo: this.repo.dir }, "controller started");
  }

  /**
   * The hub's rekey key (Secret and the ConfigMap publishing its recipient), made when missing;
   * tried again every minute while it fails (e.g. the controller may not create ConfigMaps).
   */
  private ensureRekeyKey(): void {
    const sealing = this.sealing;
    if (!sealing) return;
    sealing.keys.ensureRekey().then(
      (recipient) => this.log.info({ recipient }, "hub rekey key ready"),
      (e: unknown) => {
        this.log.warn({ err: errorText(e) }, "cannot make sure of the hub's rekey key; retrying in a minute");
        sealing.rekeyTimer = setTimeout(() => this.ensureRekeyKey(), 60_000);
        sealing.rekeyTimer.unref();
      },
    );
  }

  /**
   * The identity that opens values sealed to a push cluster, from its Secret on the hub; undefined
   * for a pull cluster or when the key does not exist yet. For the cluster's sync loop.
   */
  sealingIdentity(cluster: string): Promise<string | undefined> {
    return this.clusters?.sealingIdentity(cluster) ?? Promise.resolve(undefined);
  }

  private stopWork(): Promise<void> {
    return this.inOrder(() => this.doStopWork());
  }

  private async doStopWork(): Promise<void> {
    if (!this.working) return;
    this.working = false;
    await this.sources?.stop();
    this.sources = undefined;
    await this.notifier?.stop();
    this.notifier = undefined;
    this.policyStatus?.stop();
    this.policyStatus = undefined;
    await this.queue.stop();
    await Promise.all([
      this.deployments.stop(),
      this.clusterInformer.stop(),
      this.componentDefs.stop(),
      this.traitDefs.stop(),
      this.reports?.stop(),
      this.tenancy.stop(),
    ]);
    await this.clusters.stop();
    if (this.sealing?.rekeyTimer) clearTimeout(this.sealing.rekeyTimer);
    this.sealing?.client.close();
    this.sealing = undefined;
    // A standby reports no cluster and no deployment: the leader's gauges are the fleet's, and a
    // frozen copy of them would keep alerts firing after the new leader has cleared them.
    this.metrics.clusterStates = () => [];
    this.metrics.forgetAllDeployments();
  }

  // ---------- requeue bookkeeping ----------

  private forget(key: Key): void {
    const { namespace, name } = splitKey(key);
    this.metrics.forgetDeployment(namespace, name);
    if (this.term.forget(key)) this.pushSuspended();
    this.notifier?.forget(namespace, name);
    this.queue.forget(key);
  }

  private requeueUsers(kind: "type" | "trait", name: string): void {
    for (const [key, u] of this.term.usage) if ((kind === "type" ? u.types : u.traits).has(name)) this.queue.add(key);
  }

  /** A Cluster changed: requeue deployments that place on it now or did before. */
  private requeueForCluster(name: string): void {
    if (!this.working) return;
    const cluster = this.clusterInformer.get(name);
    const toPlace: ApplicationDeployment[] = [];
    for (const d of this.deployments.list()) {
      if (this.term.usage.get(keyOf(d))?.selected.has(name)) this.queue.add(keyOf(d));
      else if (cluster) toPlace.push(d);
    }
    if (!cluster || toPlace.length === 0) return;
    // One deadline for the whole pass (a deadline per place() would cost a watchdog thread per
    // deployment). A condition that runs away or a bad selector requeues its deployment: the
    // reconcile reports it.
    const selected = runEachWithDeadline(toPlace, {
      budgetMs: PLACEMENT_CEL_BUDGET_MS,
      culprit: (d) => ({ definition: `ApplicationDeployment/${keyOf(d)}`, field: "spec.placementStrategies", expression: "" }),
      run: (d) => {
        try {
          return evaluatePlacement(d.spec.placementStrategies, [cluster]).decisions[0]?.selected === true;
        } catch {
          return true;
        }
      },
      stopped: () => true,
      skipped: () => true,
    });
    toPlace.forEach((d, i) => {
      if (selected[i]) this.queue.add(keyOf(d));
    });
  }

  private onSyncEvent(ev: SyncEvent): void {
    // What an operator acts on is logged where they look: a failure at warn, a drift correction at info.
    const level = ev.type === "SyncFailed" ? "warn" : ev.type === "DriftCorrected" ? "info" : "debug";
    this.log[level]({ cluster: ev.cluster, event: ev.type, deployment: ev.deployment, commit: ev.commit?.slice(0, 12), message: ev.message }, "sync event");
    if (ev.type === "SyncFailed" || ev.type === "Synced") this.metrics.syncs.inc({ cluster: ev.cluster, result: ev.type === "Synced" ? "ok" : "failed" });
    if (ev.type === "DriftCorrected") this.metrics.driftCorrections.inc({ cluster: ev.cluster });
    if (ev.deployment) {
      const { namespace, name } = splitKey(ev.deployment);
      const ad = this.deployments.get(name, namespace);
      if (ad && ev.type !== "HealthChanged") {
        const warning = ev.type === "SyncFailed" || ev.type === "Skipped";
        this.events.record(this.eventTarget(ad), warning ? "Warning" : "Normal", ev.type, `${ev.cluster}: ${ev.message}`);
        this.notifier?.syncEvent(ad, ev);
      }
      this.queue.addWithin(ev.deployment, SYNC_EVENT_COALESCE_MS);
    } else if (ev.type === "Synced" || ev.type === "SyncFailed") {
      for (const [key, u] of this.term.usage) if (u.selected.has(ev.cluster)) this.queue.addWithin(key, SYNC_EVENT_COALESCE_MS);
    }
  }

  private pushSuspended(): void {
    this.clusters.setSuspended(this.term.suspended);
  }

  private eventTarget(ad: ApplicationDeployment): EventTarget {
    return {
      kind: "ApplicationDeployment",
      namespace: ad.metadata.namespace ?? "default",
      name: ad.metadata.name,
      ...(ad.metadata.uid ? { uid: ad.metadata.uid } : {}),
    };
  }

  /**
   * For the GitSource loop: what the definitions find wrong with a deployment's spec. Each pass
   * applies a source's whole commit again, so answers are kept per spec while the definitions
   * stay the same (a new registry starts afresh).
   */
  private specProblems(deployment: ApplicationDeployment): Promise<FieldProblem[]> {
    const registry = this.definitions();
    if (this.specChecks?.registry !== registry) this.specChecks = { registry, answers: new Map() };
    const answers = this.specChecks.answers;
    const tenancy = this.tenancy.effective(deployment.metadata.namespace ?? "default");
    const key = JSON.stringify([deployment.metadata.namespace, deployment.metadata.name, deployment.spec, this.tenancy.fingerprint(tenancy)]);
    let answer = answers.get(key);
    if (answer === undefined) {
      if (answers.size >= 1_000) answers.clear();
      // The namespace's TenantPolicies refuse objects here too, so a GitSource commit is refused whole.
      // The effective policy as matched with the namespace's labels (a policy may select by label).
      const objectProblems = (manifests: readonly Manifest[]) => tenancyError(deployment, tenancy, manifests)?.problems ?? [];
      answer = deploymentProblems(deployment, registry, { objectProblems });
      answers.set(key, answer);
    }
    return answer;
  }

  private definitions(): DefinitionRegistry {
    if (!this.registry) this.registry = buildRegistry([...this.componentDefs.list(), ...this.traitDefs.list()]);
    return this.registry;
  }

  /** The cached deployment, with the status this process wrote if the cache does not show it yet. */
  private withOwnStatus(key: Key, cached: ApplicationDeployment): ApplicationDeployment {
    const own = this.term.ownStatus.get(key);
    if (!own) return cached;
    if (cached.metadata.resourceVersion !== undefined && own.stale.has(cached.metadata.resourceVersion)) return { ...cached, status: own.status };
    this.term.ownStatus.delete(key); // the cache caught up (or moved past the write)
    return cached;
  }

  /** Number a commit this process made; deployments batched into one commit share its number. */
  private recordCommit(oid: string): void {
    if (this.term.commitSeq.has(oid)) return;
    this.term.commitSeq.set(oid, this.nextSeq++);
    this.metrics.commits.inc();
  }

  /**
   * The newest commit (as its number) a cluster has for one deployment: the cluster's applied
   * commit, or a newer one a step of a large sync applied to the deployment. -1 when none.
   */
  private syncedSeq(ws: WorkerStatus, key: Key): number {
    const applied = ws.appliedCommit === undefined ? -1 : this.seqOf(ws.appliedCommit);
    const stepped = ws.deploymentCommits[key];
    return stepped === undefined ? applied : Math.max(applied, this.seqOf(stepped));
  }

  /** Has the cluster synced what the deployment has in Git for it, its newest commit being `commit`? */
  private syncedHere(ws: WorkerStatus, key: Key, cluster: string, commit: string | undefined): boolean {
    const have = this.syncedSeq(ws, key);
    return have >= 0 && have >= this.seqOf(this.term.folderCommits.required(key, cluster, commit, (c) => this.seqOf(c)));
  }

  private seqOf(commit: string | undefined): number {
    return commit ? (this.term.commitSeq.get(commit) ?? 0) : -1;
  }

  // ---------- reconcile ----------

  private async reconcile(key: Key): Promise<void> {
    const started = process.hrtime.bigint();
    const { namespace, name } = splitKey(key);
    // Nothing is decided on a partial view: before every cache has listed once, a deployment
    // would see no Clusters (or no definitions) and plan its rollout from scratch.
    if (!this.cachesSynced()) {
      this.queue.addAfter(key, 250);
      return;
    }
    const cached = this.deployments.get(name, namespace);
    this.metrics.queueDepth.set(this.queue.size);
    if (!cached) return;
    const ad = this.withOwnStatus(key, cached);
    try {
      if (ad.metadata.deletionTimestamp) await this.finalize(key, ad);
      else await this.reconcileLive(key, ad);
      this.metrics.reconciles.inc({ result: "ok" });
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      this.metrics.reconcileDuration.observe(seconds);
      this.log.debug({ deployment: key, ms: Math.round(seconds * 1000), queued: this.queue.size }, "reconciled");
      this.metrics.queueDepth.set(this.queue.size);
    }
  }

  /**
   * One reconcile of a live deployment, as named steps: each takes what the one before produced.
   * Their order is the order of side effects the rest of the system relies on: the finalizer
   * before anything else, usage before the render, the render failure's event,
   * the step record before its commit, the status after it, then consumed annotations and requeue.
   */
  private async reconcileLive(key: Key, ad: ApplicationDeployment): Promise<void> {
    const writer = this.statusWriter(key, ad);
    await this.ensureFinalizer(key, ad, writer);
    this.trackSuspend(key, ad);
    const resolved = this.resolve(key, ad);
    const planned = await this.plan(ad, resolved, validate(ad));
    this.term.usage.set(key, usageOf(ad, planned.targets, this.definitions()));
    const rendered = await this.render(ad, planned);
    if (rendered.error) this.events.record(this.eventTarget(ad), "Warning", rendered.error.reason, rendered.error.message);
    const committed = await this.commit(ad, resolved, rendered, writer);
    const status = this.statusAt(ad, resolved, rendered, committed);
    const heldBack = holdsStatusBack(ad, resolved, rendered, committed);
    if (!heldBack && (await writer.write(status))) this.reportPhase(key, ad, status, committed.commit);
    // Never waits: the notifier queues what changed (or, on its first look, what stands) and sends later.
    if (!heldBack) this.notifier?.observe(ad, ad.status, status);
    if (!heldBack)
      this.metrics.setDeploymentInfo(resolved.namespace, resolved.name, {
        phase: status.phase ?? "",
        target: status.targetRevision ?? "",
        stable: status.stableRevision ?? "",
      });
    if (rendered.plan?.consumedAnnotations.length) await this.hub.removeAnnotations(resolved.namespace, resolved.name, rendered.plan.consumedAnnotations);
    this.requeue(key, rendered, status, heldBack);
  }

  /** The one writer of this reconcile's status writes (see status-writer.ts). */
  private statusWriter(key: Key, ad: ApplicationDeployment): StatusWriter {
    const { namespace, name } = splitKey(key);
    return new StatusWriter({
      hub: this.hub,
      key,
      namespace,
      name,
      previous: ad.status,
      resourceVersion: ad.metadata.resourceVersion,
      ownStatus: this.term.ownStatus,
      onWrite: () => this.metrics.statusWrites.inc(),
    });
  }

  private async ensureFinalizer(key: Key, ad: ApplicationDeployment, writer: StatusWriter): Promise<void> {
    if ((ad.metadata.finalizers ?? []).includes(FINALIZER)) return;
    const { namespace, name } = splitKey(key);
    writer.predates(await this.hub.setFinalizers(namespace, name, [...(ad.metadata.finalizers ?? []), FINALIZER], ad.metadata.resourceVersion));
  }

  /** The sync workers stop applying a suspended deployment; they learn it here. */
  private trackSuspend(key: Key, ad: ApplicationDeployment): void {
    const suspended = ad.spec?.suspend === true;
    if (suspended === this.term.suspended.has(key)) return;
    if (suspended) this.term.suspended.add(key);
    else this.term.suspended.delete(key);
    this.pushSuspended();
  }

  /** resolve: what the reconcile works from, read once. */
  private resolve(key: Key, ad: ApplicationDeployment): Resolved {
    const { namespace, name } = splitKey(key);
    return {
      key,
      namespace,
      name,
      generation: ad.metadata.generation ?? 0,
      target: targetName(ad),
      clusters: (this.clusterInformer.list() as Cluster[]).map((c) => this.withVersion(c)),
      // After a restart it is unknown until this process commits for the deployment; see standInCommit.
      commit: this.term.deploymentCommit.get(key) ?? this.standInCommit(ad),
      suspended: ad.spec?.suspend === true,
    };
  }

  /**
   * validate → place → plan. A problem stops here with nothing deployed changed; what was decided
   * before it (the placement, even the plan) is kept for status.
   */
  private async plan(ad: ApplicationDeployment, r: Resolved, invalid: ValidationError | undefined): Promise<Planned> {
    let placement: Placement | undefined;
    let plan: RolloutPlan | undefined;
    let targets: RenderTarget[] = [];
    let unseen = false;
    let error: RenderFailure | undefined;
    try {
      if (invalid) throw invalid;
      // A cluster the namespace's TenantPolicies refuse is not selected, with the reason.
      const refused = refusedClusters(this.tenancy.effective(r.namespace), r.clusters);
      placement = evaluatePlacement(ad.spec.placementStrategies, r.clusters, { deployment: r.key, refused });
      const selected = placement.waves.flatMap((w) => w.clusters);
      unseen = selected.some((c) => this.notSeenYet(c));
      plan = await this.nextStep(ad, r, placement, selected);
      targets = toRenderTargets(plan.targets, placement, r.clusters);
    } catch (e) {
      error = describeRenderError(e);
    }
    return { placement, plan, targets, unseen, error };
  }

  /** plan: the rollout's next step, from what the selected clusters report and what each renders. */
  private async nextStep(ad: ApplicationDeployment, r: Resolved, placement: Placement, selected: string[]): Promise<RolloutPlan> {
    const observed = selected.map((c) => this.observeForPlanner(c, r.key, r.commit));
    const renderings = await this.term.renderings.get(r.key, {
      deployment: ad,
      registry: this.definitions(),
      placement,
      clusters: r.clusters,
      cache: this.templateCache,
    });
    // The files of a cluster whose change waits for its wave stay as this commit holds them.
    const heldAt = r.commit ?? ad.status?.commit;
    return planRollout({
      deployment: ad,
      placement,
      previous: ad.status?.rollout,
      observed,
      now: new Date(),
      renderings,
      ...(heldAt ? { commit: heldAt } : {}),
    });
  }

  /** render: the planned targets as each cluster's folder; a held cluster's folder is read from Git. */
  private async render(ad: ApplicationDeployment, planned: Planned): Promise<Rendered> {
    if (planned.error || !planned.placement) return { ...planned, files: undefined };
    try {
      const held = heldFolders(planned.plan);
      const rendered = await renderDeployment({
        deployment: ad,
        registry: this.definitions(),
        targets: planned.targets.filter((t) => !held.has(t.cluster.name)),
        cache: this.templateCache,
      });
      // What a cluster's API server would refuse stops here, as Rendered=False, not at apply.
      // A kind the namespace's TenantPolicies refuse stops here too, naming the object and the policy.
      const effective = this.tenancy.effective(ad.metadata.namespace ?? "default");
      // Most namespaces have no policy: then no object list is gathered for nothing.
      const tenancy =
        effective.policies.length > 0
          ? tenancyError(
              ad,
              effective,
              rendered.flatMap((c) => c.manifests),
            )
          : undefined;
      if (tenancy) throw tenancy;
      const refused = kubeSchemaError(ad, rendered, planned.targets);
      if (refused) throw refused;
      const files: Folders = clusterFolders(rendered);
      for (const [cluster, at] of held) files[cluster] = await this.heldFiles(ad, cluster, at, planned.targets);
      return { ...planned, files };
    } catch (e) {
      // All folders or none: a commit without the folder that failed would prune the
      // deployment from that cluster.
      return { ...planned, files: undefined, error: describeRenderError(e) };
    }
  }

  /**
   * commit: the folders to Git, once per change. The planner's state goes to status before the
   * commit (a write-ahead log): a controller killed between the two re-renders the same targets
   * and commits them, never a step back. The record carries the step's message: after such a kill
   * the planner sees nothing new (its state already has the step), and the commit still gets the
   * step's line in Git.
   */
  private async commit(ad: ApplicationDeployment, r: Resolved, rendered: Rendered, writer: StatusWriter): Promise<Committed> {
    const { files, plan } = rendered;
    let commit = r.commit;
    let commitError: string | undefined;
    if (!files || !plan) return { commit, commitError };
    const { key } = r;
    const summary = commitSummary(ad, plan, { target: r.target, generation: r.generation, clusters: Object.keys(files) });
    if (needsStepRecord(ad, plan)) {
      this.metrics.rolloutSteps.inc();
      await writer.write(this.statusAt(ad, r, rendered, { commit, commitError: undefined }, summary));
      const pause = this.o.pauseAfterStepRecordMs ?? 0;
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
    // Files identical to the ones this process last committed for the deployment would make no
    // commit; skipping the call keeps reconciles that change nothing off the repository's lock,
    // which real commits of other deployments hold. A commit still queued for the remote is
    // retried through the call, so it is never skipped.
    const hashes = folderHashes(files);
    const fingerprint = JSON.stringify(hashes);
    const unchanged = this.term.committedFiles.get(key) === fingerprint;
    const sourceCommit = sourceCommitOf(ad);
    const result = unchanged
      ? null
      : await this.commits.submit({
          namespace: r.namespace,
          name: r.name,
          clusters: files,
          generation: r.generation,
          revision: r.target,
          summary,
          ...(sourceCommit ? { sourceCommit } : {}),
          ...stepPosition(plan),
        });
    if (result?.state === "queued") this.term.committedFiles.delete(key);
    else this.term.committedFiles.set(key, fingerprint);
    if (result) {
      this.recordCommit(result.oid);
      commit = result.oid;
      // The clusters whose folder changed: where it renders now and where it rendered before.
      this.clusters.setHead(result.oid, new Set([...Object.keys(files), ...(this.term.placedOn.get(key) ?? [])]));
      this.term.placedOn.set(key, Object.keys(files));
      this.events.record(this.eventTarget(ad), "Normal", "Committed", `${summary}; commit ${result.oid.slice(0, 12)}`);
      if (result.state === "queued") this.metrics.gitPushFailures.inc();
      if (result.state === "queued")
        commitError = `the Git remote did not take the commit yet; it is queued locally (${result.error?.message ?? "remote unreachable"})`;
    } else if (!commit) {
      // Git holds what it renders, so the head at start holds it (see standInCommit).
      commit = this.startHead ?? (await this.repo.head()) ?? undefined;
    }
    if (commit) {
      this.term.deploymentCommit.set(key, commit);
      this.term.folderCommits.record(key, hashes, commit);
    }
    return { commit, commitError };
  }

  /** observe → status: the status at `at.commit`; with `pendingStep`, the record of a step not committed yet. */
  private statusAt(ad: ApplicationDeployment, r: Resolved, rendered: Rendered, at: Committed, pendingStep?: string): ApplicationDeploymentStatus {
    return statusOf({
      deployment: ad,
      resolved: r,
      outcome: rendered,
      observations: this.observeClusters(r.key, rendered, at.commit),
      commit: at.commit,
      ...(at.commitError ? { commitError: at.commitError } : {}),
      ...(pendingStep !== undefined ? { pendingStep } : {}),
      now: new Date(),
    });
  }

  /** observe: what each cluster the deployment renders for shows of it, by cluster name; none when it does not render. */
  private observeClusters(key: Key, rendered: Planned, commit: string | undefined): ClusterObservation[] {
    if (rendered.error) return [];
    const planned = new Map(rendered.targets.map((t) => [t.cluster.name, t.revisions]));
    return [...planned.keys()].sort().map((c) => this.observe(c, key, commit, planned.get(c) ?? []));
  }

  private reportPhase(key: Key, ad: ApplicationDeployment, status: ApplicationDeploymentStatus, commit: string | undefined): void {
    if (status.phase === ad.status?.phase) return;
    this.log.info({ deployment: key, phase: status.phase, commit: commit?.slice(0, 12) }, "phase changed");
    const type = status.phase === "Failed" || status.phase === "Degraded" ? "Warning" : "Normal";
    this.events.record(this.eventTarget(ad), type, status.phase ?? "Unknown", status.conditions?.find((c) => c.type === "Ready")?.message ?? "");
  }

  /** requeue: when to look at the deployment again (see requeuePolicy). */
  private requeue(key: Key, rendered: Rendered, status: ApplicationDeploymentStatus, heldBack: boolean): void {
    const next = requeuePolicy({
      error: rendered.error,
      transientFailures: this.term.transientRenderFailures.get(key) ?? 0,
      plan: rendered.plan,
      phase: status.phase,
      heldBack,
      progressRequeueMs: this.o.progressRequeueMs ?? 10_000,
    });
    if (next.transientFailures > 0) this.term.transientRenderFailures.set(key, next.transientFailures);
    else this.term.transientRenderFailures.delete(key);
    if (next.afterMs !== undefined) this.queue.addAfter(key, next.afterMs, next.priority);
  }

  /**
   * A cluster's files of this deployment as commit `at` holds them: a change waiting for the
   * cluster's wave, or one rolled back there. A commit the repository no longer has (it was
   * replaced) cannot be kept: the current spec is rendered there instead, with a Warning event.
   */
  private async heldFiles(ad: ApplicationDeployment, cluster: string, at: string, targets: RenderTarget[]): Promise<Record<string, string>> {
    const { namespace, name } = splitKey(keyOf(ad));
    try {
      const held = await this.repo.readDeployment(cluster, namespace, name, at);
      return folderFiles(held);
    } catch (e) {
      const message = `cannot keep the files of ${cluster} at commit ${at.slice(0, 12)} (${errorText(e)}); rendering the current spec there instead`;
      this.log.warn({ deployment: keyOf(ad), cluster, commit: at }, message);
      this.events.record(this.eventTarget(ad), "Warning", "HeldFilesMissing", message);
      const target = targets.filter((t) => t.cluster.name === cluster);
      const rendered = await renderDeployment({ deployment: ad, registry: this.definitions(), targets: target, cache: this.templateCache });
      return manifestFiles(rendered[0]?.manifests ?? []);
    }
  }

  /**
   * After a (re)start, a stand-in for the commit holding a deployment's manifests: the head when
   * this process took up work, if the last status was written after a commit (no step pending
   * in it) — then Git had the state that status describes, and the deployment's folders change
   * only through this process's commits, which are remembered. Not the current head: a commit of
   * another deployment would make this one wait for a sync that changes nothing for it, and
   * report "waiting for the batch's commit" meanwhile.
   */
  private standInCommit(ad: ApplicationDeployment): string | undefined {
    if (!ad.status?.commit || ad.status.rollout?.pendingCommit !== undefined) return undefined;
    return this.startHead;
  }

  /**
   * Has this process not seen the cluster yet: not probed, or no sync finished? Only within
   * STARTUP_GRACE_MS of taking up work, so a cluster that never answers cannot freeze a status.
   */
  private notSeenYet(cluster: string): boolean {
    if (Date.now() - this.workStartedAt > STARTUP_GRACE_MS || this.clusters.isUnreachable(cluster)) return false;
    const ws = this.clusters.isReachable(cluster) ? this.clusters.worker(cluster)?.view : undefined;
    return ws?.lastSyncTime === undefined;
  }

  /**
   * The Cluster with the version its probe found. The copy is kept per Cluster object and version,
   * so every deployment is placed against the same objects and placement's per-object CEL
   * conversion is reused (a fresh copy per reconcile would convert every Cluster every time).
   */
  private withVersion(cluster: Cluster): Cluster {
    const version = this.clusters.version(cluster.metadata.name);
    if (!version) return cluster;
    const kept = this.versioned.get(cluster);
    if (kept?.status?.version === version) return kept;
    const copy = { ...cluster, status: { ...cluster.status, version } };
    this.versioned.set(cluster, copy);
    return copy;
  }

  /** What the planner sees of one cluster: synced at this deployment's commit, live replicas per revision. */
  private observeForPlanner(cluster: string, key: Key, commit: string | undefined): ObservedCluster {
    const worker = this.clusters.isReachable(cluster) ? this.clusters.worker(cluster) : undefined;
    const ws = worker?.view;
    if (!worker || !ws) return { name: cluster, synced: false, reachable: !this.clusters.isUnreachable(cluster), health: "Unknown", revisions: [] };
    const synced = commit !== undefined && this.syncedHere(ws, key, cluster, commit);
    const h = worker.healthOf(key);
    // The health message names what holds the rollout (e.g. the paused Deployment) in its status.
    return { name: cluster, synced, health: h?.health ?? "Missing", ...(h?.message ? { message: h.message } : {}), revisions: h?.revisions ?? [] };
  }

  /** What one cluster shows of a deployment: `replicas` is the planned count, `readyReplicas` the live one. */
  private observe(cluster: string, key: Key, commit: string | undefined, planned: RenderTarget["revisions"]): ClusterObservation {
    const reachable = this.clusters.isReachable(cluster);
    const worker = this.clusters.worker(cluster);
    const ws = worker?.view;
    if (!reachable || !worker || !ws) {
      const revisions = planned.map((p) => ({ name: p.name, replicas: p.replicas, readyReplicas: 0 }));
      return { name: cluster, reachable: false, synced: false, health: "Unknown", revisions, message: this.clusters.message(cluster) };
    }
    const synced = this.syncedHere(ws, key, cluster, commit);
    const appliedHere = ws.deploymentCommits[key] ?? ws.appliedCommit;
    const h = worker.healthOf(key);
    const failedHere = ws.lastResult?.changes.filter((c) => c.deployment === key && c.action === "failed") ?? [];
    let message = h?.message || undefined;
    if (!synced)
      message = ws.paused ? "the cluster is paused (spec.paused): nothing is synced to it" : ws.error ? `sync failed: ${ws.error}` : "sync in progress";
    if (failedHere.length)
      message = failedHere
        .map((c) => `${c.object}: ${c.message}`)
        .slice(0, 3)
        .join("; ");
    return {
      name: cluster,
      reachable: true,
      synced: synced && failedHere.length === 0,
      ...(appliedHere ? { appliedCommit: appliedHere } : {}),
      health: synced ? (h?.health ?? "Missing") : "Progressing",
      revisions: planned.map((p) => ({
        name: p.name,
        replicas: p.replicas,
        readyReplicas: h?.revisions.find((r) => r.name === p.name)?.readyReplicas ?? 0,
        restarts: h?.revisions.find((r) => r.name === p.name)?.restarts ?? 0,
      })),
      ...(ws.lastSyncTime ? { lastSyncTime: ws.lastSyncTime } : {}),
      ...(message ? { message } : {}),
    };
  }

  // ---------- deletion ----------

  private async finalize(key: Key, ad: ApplicationDeployment): Promise<void> {
    const { namespace, name } = splitKey(key);
    if (!(ad.metadata.finalizers ?? []).includes(FINALIZER)) return;
    let removal = this.term.deletionCommit.get(key);
    if (!removal) {
      const result = await this.commits.submit({ namespace, name, clusters: {}, summary: "delete" });
      removal = result?.oid ?? (await this.repo.head()) ?? undefined;
      if (result) {
        this.recordCommit(result.oid);
        this.clusters.setHead(result.oid);
      }
      if (removal) this.term.deletionCommit.set(key, removal);
    }
    const pending: string[] = [];
    const paused: string[] = [];
    for (const cluster of this.term.usage.get(key)?.selected ?? ad.status?.clusters?.map((c) => c.name) ?? []) {
      const worker = this.clusters.worker(cluster);
      // A paused cluster takes the removal from Git when it resumes: waiting for it would only time out.
      if (worker?.view.paused) {
        paused.push(cluster);
        continue;
      }
      const done = worker !== undefined && this.syncedSeq(worker.view, key) >= this.seqOf(removal) && worker.healthOf(key) === undefined;
      if (!done) pending.push(cluster);
    }
    const since = new Date(ad.metadata.deletionTimestamp as string).getTime();
    const timedOut = Date.now() - since > (this.o.deletionTimeoutMs ?? 120_000);
    if (pending.length && !timedOut) {
      this.queue.addAfter(key, 1_000);
      return;
    }
    if (pending.length) {
      this.events.record(
        this.eventTarget(ad),
        "Warning",
        "CleanupIncomplete",
        `objects may be left on ${pending.join(", ")}: the cluster did not confirm the removal in time`,
      );
      this.log.warn({ deployment: key, clusters: pending }, "released the finalizer with leftovers");
    }
    if (paused.length)
      this.events.record(this.eventTarget(ad), "Normal", "CleanupOnResume", `the removal reaches ${paused.join(", ")} when it resumes (spec.paused)`);
    await this.hub.setFinalizers(
      namespace,
      name,
      (ad.metadata.finalizers ?? []).filter((f) => f !== FINALIZER),
      ad.metadata.resourceVersion,
    );
    this.term.deletionCommit.delete(key);
    this.forget(key);
    this.log.info({ deployment: key }, "deleted from Git and clusters");
  }
}

/** What a reconcile reacts to in a deployment; status is not part of it. */
function deploymentShape(d: ApplicationDeployment): string {
  const m = d.metadata;
  return JSON.stringify([m.generation, m.labels ?? {}, m.annotations ?? {}, m.finalizers ?? [], m.deletionTimestamp ?? null]);
}

function errorText(e: unknown): string {
  if (e instanceof Error) return e.message.split("\n")[0] ?? e.message;
  const body = (e as { body?: unknown } | null)?.body;
  return typeof body === "string" ? body.slice(0, 200) : String(e);
}
