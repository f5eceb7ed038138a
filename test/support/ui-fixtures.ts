// The data the UI mock serves (test/support/ui-mock-api.ts): the webservice-canary example as a
// real controller shows it (v2 paused at batch 1/3 in the staging wave, production still on v1),
// its history and diffs, four clusters, the built-in definitions' shape, and any number of
// generated deployments for the list's 1,000-row case. Plain data built by functions of a clock,
// so every mock starts from the same picture.

import type {
  ClusterItem,
  CommitDiff,
  DefinitionsResponse,
  DeploymentDetail,
  DeploymentSummary,
  EventRow,
  Health,
  HistoryItem,
  PlacementRow,
  RolloutView,
  Wave,
} from "../../src/ui/contract.js";

/** One deployment the mock holds: the detail it serves, its history and a diff per commit. */
export interface MockDeployment {
  detail: DeploymentDetail;
  history: HistoryItem[];
  diffs: Record<string, CommitDiff>;
}

export const CANARY = { namespace: "shop", name: "storefront" } as const;

const iso = (now: number, secondsAgo: number) => new Date(now - secondsAgo * 1000).toISOString();

/** A fixed-width hex id per seed, shaped like a Git commit. */
export function fakeCommit(seed: string): string {
  let h = 0x811c9dc5;
  let out = "";
  while (out.length < 40) {
    for (const ch of `${seed}${out.length}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 40);
}

function deploymentYamlDiff(cluster: string, from: { image: string; replicas: number } | undefined, to: { image: string; replicas: number; revision: string }) {
  const path = `clusters/${cluster}/${CANARY.namespace}/${CANARY.name}/Deployment.storefront-${to.revision}.yaml`;
  if (!from) {
    return [
      `--- /dev/null`,
      `+++ b/${path}`,
      "@@ -0,0 +1,14 @@",
      "+apiVersion: apps/v1",
      "+kind: Deployment",
      "+metadata:",
      `+  name: storefront-${to.revision}`,
      `+  namespace: ${CANARY.namespace}`,
      "+  labels:",
      `+    flotilla.dev/revision: ${to.revision}`,
      "+spec:",
      `+  replicas: ${to.replicas}`,
      "+  template:",
      "+    spec:",
      "+      containers:",
      "+        - name: storefront",
      `+          image: ${to.image}`,
      "",
    ].join("\n");
  }
  return [
    `--- a/${path}`,
    `+++ b/${path}`,
    "@@ -8,7 +8,7 @@ metadata:",
    "   labels:",
    `     flotilla.dev/revision: ${to.revision}`,
    " spec:",
    `-  replicas: ${from.replicas}`,
    `+  replicas: ${to.replicas}`,
    "   template:",
    "     spec:",
    "       containers:",
    "",
  ].join("\n");
}

/** The canary's history, newest first, with a per-cluster diff for each commit. */
function canaryHistory(now: number): { history: HistoryItem[]; diffs: Record<string, CommitDiff> } {
  const ns = `${CANARY.namespace}/${CANARY.name}`;
  const steps: Array<HistoryItem & { diff: CommitDiff }> = [
    {
      commit: fakeCommit("v2-b1-staging"),
      time: iso(now, 240),
      message: `${ns}: v2 supersedes v1; v2 batch 1/3 in wave staging (staging)\n\nFlotilla-Deployment: ${ns}\nFlotilla-Revision: v2\nFlotilla-Wave: staging\nFlotilla-Batch: 1/3`,
      revision: "v2",
      wave: "staging",
      batch: "1/3",
      clusters: ["staging"],
      sourceCommit: fakeCommit("source-v2"),
      diff: {
        clusters: [
          {
            cluster: "staging",
            diff:
              deploymentYamlDiff("staging", undefined, { image: "nginx:1.27", replicas: 1, revision: "v2" }) +
              deploymentYamlDiff("staging", { image: "nginx:1.26", replicas: 4 }, { image: "nginx:1.26", replicas: 3, revision: "v1" }),
          },
        ],
      },
    },
    {
      commit: fakeCommit("v1-prod-us"),
      time: iso(now, 86_400),
      message: `${ns}: v1 completed in wave production (prod-us)\n\nFlotilla-Deployment: ${ns}\nFlotilla-Revision: v1\nFlotilla-Wave: production\nFlotilla-Batch: 1/1`,
      revision: "v1",
      wave: "production",
      batch: "1/1",
      clusters: ["prod-us"],
      diff: { clusters: [{ cluster: "prod-us", diff: deploymentYamlDiff("prod-us", undefined, { image: "nginx:1.26", replicas: 4, revision: "v1" }) }] },
    },
    {
      commit: fakeCommit("v1-prod-eu"),
      time: iso(now, 87_000),
      message: `${ns}: v1 completed in wave production (prod-eu)\n\nFlotilla-Deployment: ${ns}\nFlotilla-Revision: v1\nFlotilla-Wave: production\nFlotilla-Batch: 1/1`,
      revision: "v1",
      wave: "production",
      batch: "1/1",
      clusters: ["prod-eu"],
      diff: { clusters: [{ cluster: "prod-eu", diff: deploymentYamlDiff("prod-eu", undefined, { image: "nginx:1.26", replicas: 4, revision: "v1" }) }] },
    },
    {
      commit: fakeCommit("v1-staging"),
      time: iso(now, 88_000),
      message: `${ns}: v1 completed in wave staging (staging)\n\nFlotilla-Deployment: ${ns}\nFlotilla-Revision: v1\nFlotilla-Wave: staging\nFlotilla-Batch: 1/1`,
      revision: "v1",
      wave: "staging",
      batch: "1/1",
      clusters: ["staging"],
      diff: { clusters: [{ cluster: "staging", diff: deploymentYamlDiff("staging", undefined, { image: "nginx:1.26", replicas: 4, revision: "v1" }) }] },
    },
  ];
  return {
    history: steps.map(({ diff: _diff, ...item }) => item),
    diffs: Object.fromEntries(steps.map((s) => [s.commit, s.diff])),
  };
}

/** The canary paused for a promote after its first batch in staging; production still on v1. */
export function canaryDeployment(now: number = Date.now()): MockDeployment {
  const waves: Wave[] = [
    {
      name: "staging",
      clusters: [
        {
          name: "staging",
          health: "Healthy",
          revisions: [
            { revision: "v1", ready: 3, desired: 3 },
            { revision: "v2", ready: 1, desired: 1 },
          ],
          message: "batch 1/3 paused: 1 of 4 replicas on v2",
        },
      ],
    },
    {
      name: "production",
      clusters: [
        { name: "prod-eu", health: "Healthy", revisions: [{ revision: "v1", ready: 4, desired: 4 }], message: "waits for wave staging" },
        { name: "prod-us", health: "Healthy", revisions: [{ revision: "v1", ready: 4, desired: 4 }], message: "waits for wave staging" },
      ],
    },
  ];
  const rollout: RolloutView = {
    state: "Paused",
    wave: "staging",
    batch: 1,
    batches: 3,
    waitingFor: "promote",
    message: "staging: batch 1/3 paused, annotate flotilla.dev/promote=true to continue",
    since: iso(now, 230),
    analysis: {
      cluster: "staging",
      batch: 1,
      result: "Successful",
      message: "revision.readyReplicas == revision.replicas (1 == 1)",
      at: iso(now, 225),
    },
  };
  const placement: PlacementRow[] = [
    { cluster: "staging", selected: true, reason: "wave staging: labels usage=staging match" },
    { cluster: "prod-eu", selected: true, reason: "wave production: labels usage=production match; region In (eu, us)" },
    { cluster: "prod-us", selected: true, reason: "wave production: labels usage=production match; region In (eu, us)" },
    {
      cluster: "edge-ap",
      selected: false,
      reason: "no wave selects it: staging needs usage=staging (has usage=edge); production needs usage=production (has usage=edge)",
    },
  ];
  const events: EventRow[] = [
    { type: "Normal", reason: "BatchPaused", message: "v2 batch 1/3 in wave staging is paused: promote to continue", time: iso(now, 230), count: 1 },
    { type: "Normal", reason: "AnalysisSucceeded", message: "staging batch 1: revision.readyReplicas == revision.replicas", time: iso(now, 225), count: 1 },
    {
      type: "Normal",
      reason: "Committed",
      message: `environment commit ${fakeCommit("v2-b1-staging").slice(0, 8)}: v2 batch 1/3 in wave staging`,
      time: iso(now, 240),
      count: 1,
    },
    { type: "Normal", reason: "RolloutStarted", message: "rollout of v2 started (supersedes v1)", time: iso(now, 241), count: 1 },
  ];
  const summary: DeploymentSummary = {
    namespace: CANARY.namespace,
    name: CANARY.name,
    labels: { app: "storefront", team: "web" },
    phase: "Paused",
    targetRevision: "v2",
    stableRevision: "v1",
    progress: "staging 1/3",
    waitingFor: "promote",
    generation: 2,
    observedGeneration: 2,
    clusters: [
      { name: "staging", wave: "staging", health: "Healthy", phase: "Paused" },
      { name: "prod-eu", wave: "production", health: "Healthy", phase: "Pending" },
      { name: "prod-us", wave: "production", health: "Healthy", phase: "Pending" },
    ],
  };
  const { history, diffs } = canaryHistory(now);
  return {
    detail: {
      summary,
      spec: { appRevisions: [{ name: "v1" }, { name: "v2" }], placementStrategies: [{ name: "staging" }, { name: "production" }] },
      status: { phase: "Paused", targetRevision: "v2", stableRevision: "v1", progress: "staging 1/3" },
      waves,
      rollout,
      placement,
      events,
      can: { promote: true, abort: true, retry: false, pause: true, resume: false },
    },
    history,
    diffs,
  };
}

const PHASES = ["Healthy", "Healthy", "Healthy", "Progressing", "Paused", "Degraded"] as const;
const MEMBER_WAVES = [
  { name: "staging", wave: "staging" },
  { name: "prod-eu", wave: "production" },
  { name: "prod-us", wave: "production" },
] as const;

/** The i-th generated deployment (1-based): spread over 10 namespaces and the phases above. */
export function generatedDeployment(i: number, now: number = Date.now()): MockDeployment {
  const namespace = `team-${String(i % 10).padStart(2, "0")}`;
  const name = `app-${String(i).padStart(4, "0")}`;
  const phase = PHASES[i % PHASES.length] ?? "Healthy";
  const health: Health = phase === "Degraded" ? "Degraded" : phase === "Progressing" ? "Progressing" : "Healthy";
  const settled = phase === "Healthy";
  const summary: DeploymentSummary = {
    namespace,
    name,
    labels: { app: name, tier: i % 3 === 0 ? "batch" : "web" },
    phase,
    targetRevision: settled ? "v1" : "v2",
    stableRevision: "v1",
    progress: settled ? "3/3 clusters" : "staging 1/3",
    ...(phase === "Paused" ? { waitingFor: "promote" } : phase === "Progressing" ? { waitingFor: "healthy replicas" } : {}),
    generation: settled ? 1 : 2,
    observedGeneration: settled ? 1 : 2,
    clusters: MEMBER_WAVES.map((m, k) => ({ name: m.name, wave: m.wave, health: k === 0 ? health : "Healthy" })),
  };
  const waves: Wave[] = ["staging", "production"].map((wave) => ({
    name: wave,
    clusters: MEMBER_WAVES.filter((m) => m.wave === wave).map((m) => ({
      name: m.name,
      health: m.name === "staging" ? health : ("Healthy" as Health),
      revisions: [{ revision: "v1", ready: 2, desired: 2 }],
    })),
  }));
  return {
    detail: {
      summary,
      spec: {},
      status: {},
      waves,
      rollout: {
        state: settled ? "Completed" : phase,
        wave: settled ? "production" : "staging",
        batch: 1,
        batches: settled ? 1 : 3,
        waitingFor: summary.waitingFor ?? "",
        message: "",
        since: iso(now, 3600),
      },
      placement: MEMBER_WAVES.map((m) => ({ cluster: m.name, selected: true, reason: `wave ${m.wave}: labels usage=${m.wave} match` })),
      events: [],
      can: { promote: phase === "Paused", abort: !settled, retry: phase === "Degraded", pause: !settled, resume: false },
    },
    history: [],
    diffs: {},
  };
}

export function fixtureClusters(deployments: readonly DeploymentSummary[], now: number = Date.now()): ClusterItem[] {
  const on = (cluster: string) => deployments.filter((d) => d.clusters.some((c) => c.name === cluster)).map((d) => `${d.namespace}/${d.name}`);
  return [
    {
      name: "edge-ap",
      mode: "Pull",
      version: "v1.32.4",
      ready: false,
      lastSync: iso(now, 5400),
      labels: { usage: "edge", region: "ap" },
      deployments: on("edge-ap"),
    },
    {
      name: "prod-eu",
      mode: "Push",
      version: "v1.33.1",
      ready: true,
      lastSync: iso(now, 12),
      labels: { usage: "production", region: "eu" },
      deployments: on("prod-eu"),
    },
    {
      name: "prod-us",
      mode: "Pull",
      version: "v1.33.1",
      ready: true,
      lastSync: iso(now, 20),
      labels: { usage: "production", region: "us" },
      deployments: on("prod-us"),
    },
    {
      name: "staging",
      mode: "Push",
      version: "v1.33.1",
      ready: true,
      lastSync: iso(now, 8),
      labels: { usage: "staging", region: "eu" },
      deployments: on("staging"),
    },
  ];
}

export function fixtureDefinitions(): DefinitionsResponse {
  return {
    components: [
      {
        name: "webservice",
        description: "A long-running, replicated HTTP service with a Service in front of it.",
        workload: "apps/v1 Deployment",
        parameters: [
          { name: "image", type: "string", required: true, description: "Container image, e.g. nginx:1.27." },
          { name: "ports", type: "array of {port, protocol}", required: false, default: [{ port: 80 }], description: "Ports the Service exposes." },
          { name: "env", type: "map of string", required: false, description: "Environment variables of the container." },
          { name: "cpu", type: "string", required: false, default: "100m", description: "CPU request." },
          { name: "memory", type: "string", required: false, default: "128Mi", description: "Memory request and limit." },
        ],
      },
      {
        name: "worker",
        description: "A replicated background process without a Service.",
        workload: "apps/v1 Deployment",
        parameters: [
          { name: "image", type: "string", required: true, description: "Container image." },
          { name: "cmd", type: "array of string", required: false, description: "Command and arguments." },
        ],
      },
    ],
    traits: [
      {
        name: "autoscaler",
        description: "A HorizontalPodAutoscaler for the workload.",
        workload: "autoscaling/v2 HorizontalPodAutoscaler",
        parameters: [
          { name: "min", type: "integer", required: false, default: 1, description: "Fewest replicas." },
          { name: "max", type: "integer", required: true, description: "Most replicas." },
          { name: "cpu", type: "integer", required: false, default: 80, description: "Target CPU utilisation in percent." },
        ],
      },
      {
        name: "probes",
        description: "Readiness and liveness probes of the main container.",
        workload: "patch",
        parameters: [
          { name: "readiness", type: "object", required: false, description: "A Kubernetes probe." },
          { name: "liveness", type: "object", required: false, description: "A Kubernetes probe." },
        ],
      },
    ],
  };
}
