// Web UI server benchmark: `GET /api/deployments` over loopback HTTP with 1,000 deployments in the
// caches (50 namespaces, three clusters each, a canary's status), as a user allowed cluster-wide
// and as one allowed per namespace (a review per namespace on a cold cache, then cached). The hub's
// reviews are a fake answering after 1 ms, so the figure is the server's own cost: the browser's
// "list loads in under 1 s" is measured by the web UI's Playwright test on top of this.

import type { ApplicationDeployment } from "../../src/api/types.js";
import type { AccessReviews } from "../../src/controller/token-access.js";
import { startUiServer } from "../../src/ui/server/server.js";
import type { UiSource } from "../../src/ui/server/source.js";
import type { BenchCase, BenchFigure } from "./types.js";

const DEPLOYMENTS = 1000;
const NAMESPACES = 50;
const WARMUP = 5;
const REQUESTS = 50;
const TARGET_MS = 100;

function deployment(i: number): ApplicationDeployment {
  const namespace = `team-${String(i % NAMESPACES).padStart(2, "0")}`;
  const clusters = ["staging", "prod-eu", "prod-us"];
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: `app-${String(i).padStart(4, "0")}`, namespace, generation: 2, labels: { team: namespace, tier: i % 3 === 0 ? "frontend" : "backend" } },
    spec: {
      appRevisions: [
        { name: "v1", template: { spec: { components: [{ name: "web", type: "webservice", settings: { image: "web:1" } }] } }, rollout: { replicas: 3 } },
        { name: "v2", template: { spec: { components: [{ name: "web", type: "webservice", settings: { image: "web:2" } }] } }, rollout: { replicas: 3 } },
      ],
      placementStrategies: [
        { name: "staging", clusterSelector: { labels: { usage: "staging" } } },
        { name: "production", clusterSelector: { labels: { usage: "production" } } },
      ],
    },
    status: {
      observedGeneration: 2,
      phase: i % 10 === 0 ? "Paused" : "Healthy",
      targetRevision: "v2",
      stableRevision: "v1",
      progress: i % 10 === 0 ? "staging 1/2" : "",
      rollout: { wave: "staging", batch: 1, batches: 2, state: "Paused", since: "2026-12-03T10:00:00Z", ...(i % 10 === 0 ? { waitingFor: "promote" } : {}) },
      placement: clusters.map((c) => ({ cluster: c, wave: c === "staging" ? "staging" : "production", selected: true })),
      clusters: clusters.map((c) => ({
        name: c,
        health: "Healthy" as const,
        revisions: [
          { name: "v1", replicas: 2, readyReplicas: 2 },
          { name: "v2", replicas: 1, readyReplicas: 1 },
        ],
        lastSyncTime: "2026-12-03T10:00:00Z",
      })),
    },
  };
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

export const uiListCase: BenchCase = {
  group: "ui",
  async run(): Promise<BenchFigure[]> {
    const deployments = Array.from({ length: DEPLOYMENTS }, (_, i) => deployment(i));
    const source: UiSource = {
      ready: () => true,
      deployments: () => deployments,
      deployment: () => undefined,
      clusters: () => [],
      componentDefinitions: () => [],
      traitDefinitions: () => [],
      events: async () => [],
      patchDeployment: async () => {},
      history: () => undefined,
    };
    const delay = () => new Promise((r) => setTimeout(r, 1));
    const reviews: AccessReviews = {
      async reviewToken(token) {
        await delay();
        return { authenticated: true, user: { username: token } };
      },
      // "admin" may list everywhere; "member" in every namespace but not cluster-wide.
      async reviewAccess(user, a) {
        await delay();
        return { allowed: user.username === "admin" || ("namespace" in a && a.namespace !== undefined) };
      },
    };
    const ui = await startUiServer({ host: "127.0.0.1", port: 0, source, reviews });
    const url = `http://127.0.0.1:${ui.port}/api/deployments`;
    try {
      const get = async (token: string) => {
        const t0 = performance.now();
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        const text = await res.text();
        const ms = performance.now() - t0;
        if (res.status !== 200) throw new Error(`bench ui: GET /api/deployments answered ${res.status}: ${text.slice(0, 200)}`);
        return { ms, bytes: Buffer.byteLength(text), items: (JSON.parse(text) as { items: unknown[] }).items.length };
      };
      const cold = await get("member");
      for (let i = 0; i < WARMUP; i++) await get("admin");
      const admin: number[] = [];
      const member: number[] = [];
      let bytes = 0;
      for (let i = 0; i < REQUESTS; i++) {
        const a = await get("admin");
        admin.push(a.ms);
        bytes = a.bytes;
        if (a.items !== DEPLOYMENTS) throw new Error(`bench ui: listed ${a.items} deployments, expected ${DEPLOYMENTS}`);
        member.push((await get("member")).ms);
      }
      const median = percentile(admin, 50);
      return [
        {
          name: `ui: GET /api/deployments, ${DEPLOYMENTS} deployments (median)`,
          value: median,
          unit: "ms/request",
          how: `${REQUESTS} requests over loopback HTTP after ${WARMUP} warm-up, user allowed cluster-wide (reviews cached); from the caches to the parsed body`,
          target: `<= ${TARGET_MS} ms`,
          met: median <= TARGET_MS,
        },
        {
          name: `ui: GET /api/deployments, ${DEPLOYMENTS} deployments (p95)`,
          value: percentile(admin, 95),
          unit: "ms/request",
          how: "same requests, 95th percentile",
        },
        {
          name: `ui: GET /api/deployments, ${DEPLOYMENTS} deployments in ${NAMESPACES} namespaces, per-namespace user (median)`,
          value: percentile(member, 50),
          unit: "ms/request",
          how: `${REQUESTS} requests of a user allowed per namespace (1 cluster-wide + ${NAMESPACES} SubjectAccessReviews, cached 10 s)`,
        },
        {
          name: `ui: first GET /api/deployments of a per-namespace user (cold review cache)`,
          value: cold.ms,
          unit: "ms",
          how: `one request: a TokenReview, a cluster-wide and ${NAMESPACES} namespace SubjectAccessReviews (8 at a time) of a fake hub answering in 1 ms`,
        },
        { name: `ui: GET /api/deployments body, ${DEPLOYMENTS} deployments`, value: bytes / 1024, unit: "KiB", how: "JSON body size (uncompressed)" },
      ];
    } finally {
      await ui.close();
    }
  },
};
