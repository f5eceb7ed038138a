// The web UI's server on the fleet: the controller (compiled CLI) serves the API on --ui-addr; the
// viewer and operator identities are made as `flotilla up` makes them (ServiceAccounts with token
// Secrets, ClusterRoles), and the hub's own TokenReview and SubjectAccessReview decide: no token
// is 401, the viewer reads but may not promote (403 naming the user and the verb), the operator's
// actions reach the ApplicationDeployment, the live stream delivers a change, and history lists
// the environment commits with their per-cluster diff.

import { CustomObjectsApi } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import type { UiIdentity } from "../../src/ui/server/identities.js";
import { kubeConfig, kubectl, waitFor, withNamespace } from "./support/fleet.js";
import { startUiController, type UiController } from "./support/ui-controller.js";

let ui: UiController | undefined;
let base: string;
let viewer: UiIdentity;
let operator: UiIdentity;
let failed = false;

function app(namespace: string): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: "shop", namespace, labels: { team: "ui-test" } },
    spec: {
      appRevisions: [
        {
          name: "v1",
          template: { spec: { components: [{ name: "shop", type: "worker", settings: { image: "shop:1", cmd: ["sleep", "3600"] } }] } },
          rollout: { replicas: 1 },
        },
      ],
      placementStrategies: [
        { name: "staging", clusterSelector: { labels: { usage: "staging" } } },
        { name: "production", clusterSelector: { labels: { usage: "production" } } },
      ],
    },
  };
}

const as = (who: UiIdentity | undefined, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(who ? { authorization: `Bearer ${who.token}` } : {}), ...(init.headers ?? {}) },
});

async function json<T>(path: string, who: UiIdentity | undefined, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}${path}`, as(who, init));
  return { status: res.status, body: (await res.json()) as T };
}

describe("the web UI's server on a live fleet", () => {
  beforeAll(async () => {
    ui = await startUiController("ui-server");
    ({ base, viewer, operator } = ui);
  }, 120_000);

  afterAll(async () => {
    await ui?.stop(failed);
  });

  it("checks every request against the hub's RBAC, acts for the operator, streams changes and shows history", async () => {
    try {
      await withNamespace(["hub", "staging", "prod-eu", "prod-us"], async (ns) => {
        await kubectl("hub", ["apply", "--server-side", "--field-manager=test", "-f", "-"], { input: toYaml(app(ns)) });

        // No token: 401, with how to sign in.
        const anonymous = await json<{ error: string }>("/api/deployments", undefined);
        expect(anonymous.status).toBe(401);
        expect(anonymous.body.error).toMatch(/Bearer/);
        expect((await json("/api/deployments", { ...viewer, token: "not-a-token" })).status).toBe(401);

        // The viewer reads the list and the detail.
        const listed = await waitFor(
          async () => {
            const r = await json<{ items: Array<{ namespace: string; name: string; phase: string }> }>(`/api/deployments?selector=team%3Dui-test`, viewer);
            return r.status === 200 ? r.body.items.find((i) => i.namespace === ns && i.name === "shop") : undefined;
          },
          { timeoutMs: 30_000, message: "the viewer lists shop" },
        );
        expect(listed.name).toBe("shop");
        const detail = await json<{ summary: { name: string }; can: Record<string, boolean>; waves: Array<{ name: string }> }>(
          `/api/deployments/${ns}/shop`,
          viewer,
        );
        expect(detail.status).toBe(200);
        expect(detail.body.summary.name).toBe("shop");
        expect(detail.body.waves.map((w) => w.name)).toEqual(["staging", "production"]);
        expect(detail.body.can.promote).toBe(false);

        // The viewer's promote is refused, naming the user and the verb.
        const refused = await json<{ error: string; reason?: string }>(`/api/deployments/${ns}/shop/actions/promote`, viewer, { method: "POST" });
        expect(refused.status).toBe(403);
        expect(refused.body.error).toBe(`system:serviceaccount:flotilla-ui:viewer may not patch applicationdeployments in ${ns}`);

        // The live stream (token in the query, as EventSource sends it) delivers a change.
        const stream = await fetch(`${base}/api/events?token=${encodeURIComponent(viewer.token)}`);
        expect(stream.status).toBe(200);
        const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
        let streamed = "";
        const seen = (async () => {
          const decoder = new TextDecoder();
          while (!streamed.includes('"release":"r2"')) {
            const { value, done } = await reader.read();
            if (done) break;
            streamed += decoder.decode(value);
          }
        })();
        await kubectl("hub", ["label", "ad", "shop", "-n", ns, "release=r2"]);
        await Promise.race([seen, new Promise((_, reject) => setTimeout(() => reject(new Error(`no event in: ${streamed.slice(-500)}`)), 20_000))]);
        expect(streamed).toContain("event: deployment");
        await reader.cancel();

        // The operator's actions reach the deployment: pause sets spec.suspend, promote its annotation.
        const api = kubeConfig("hub").makeApiClient(CustomObjectsApi);
        const read = async () =>
          (await api.getNamespacedCustomObject({
            group: "flotilla.dev",
            version: "v1alpha1",
            namespace: ns,
            plural: "applicationdeployments",
            name: "shop",
          })) as ApplicationDeployment;
        const paused = await json<{ ok: boolean; message: string }>(`/api/deployments/${ns}/shop/actions/pause`, operator, { method: "POST" });
        expect(paused).toEqual({ status: 200, body: { ok: true, message: `${ns}/shop: suspended` } });
        expect((await read()).spec.suspend).toBe(true);
        const resumed = await json(`/api/deployments/${ns}/shop/actions/resume`, operator, { method: "POST" });
        expect(resumed.status).toBe(200);
        const before = (await read()).metadata.resourceVersion;
        const promoted = await json<{ ok: boolean; message: string }>(`/api/deployments/${ns}/shop/actions/promote`, operator, { method: "POST" });
        expect(promoted.status).toBe(200);
        expect(promoted.body.message).toContain("flotilla.dev/promote=true set");
        // The controller removes the one-shot annotation once it looked at it: the patch shows as
        // the annotation, or as the object's change that removed it.
        const after = await read();
        expect(after.metadata.annotations?.["flotilla.dev/promote"] === "true" || after.metadata.resourceVersion !== before).toBe(true);

        // History: the environment commits of the deployment, and one commit's diff per cluster.
        const history = await waitFor(
          async () => {
            const r = await json<{ items: Array<{ commit: string; clusters: string[]; message: string }> }>(`/api/deployments/${ns}/shop/history`, viewer);
            return r.status === 200 && r.body.items.some((i) => i.clusters.length > 0) ? r.body.items : undefined;
          },
          { timeoutMs: 90_000, intervalMs: 1000, message: "shop's history has a commit" },
        );
        const step = history.find((i) => i.clusters.length > 0) as { commit: string; clusters: string[] };
        expect(step.commit).toMatch(/^[0-9a-f]{40}$/);
        const diff = await json<{ clusters: Array<{ cluster: string; diff: string }> }>(`/api/deployments/${ns}/shop/history/${step.commit}/diff`, viewer);
        expect(diff.status).toBe(200);
        expect(diff.body.clusters.map((c) => c.cluster)).toEqual(step.clusters);
        expect(diff.body.clusters[0]?.diff).toContain(`+++ b/clusters/${step.clusters[0]}/${ns}/shop/`);
        expect((await json(`/api/deployments/${ns}/shop/history/${"0".repeat(40)}/diff`, viewer)).status).toBe(404);

        await kubectl("hub", ["delete", "ad", "shop", "-n", ns, "--wait=false"]);
      });
    } catch (e) {
      failed = true;
      throw e;
    }
  }, 240_000);
});
