// TenantPolicies end to end on the local fleet: a controller on the hub keeps a namespace off the
// clusters its policies refuse (with the reason in status.placement and in `flotilla placement
// explain`), refuses a rendered kind naming the policy, intersects two policies, follows a
// namespace's labels, and deploys as before once the policies are gone. TenantPolicies are
// cluster-scoped: every policy here matches only this file's own namespaces and is deleted after.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AppsV1Api, CoreV1Api, CustomObjectsApi, RbacAuthorizationV1Api } from "@kubernetes/client-node";
import { destination, pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseYamlStream, toYaml } from "../../src/api/serialize.js";
import type { ApplicationDeployment, PlacementDecisionStatus, TenantPolicy, TenantPolicySpec } from "../../src/api/types.js";
import { builtinDefinitionsDir } from "../../src/cli/inputs.js";
import { installToHub, registerClusterFiles } from "../../src/cli/install.js";
import { Controller } from "../../src/controller/controller.js";
import { kubeConfig, kubectl, members, orAbsent, uniqueName, waitFor, withNamespace } from "./support/fleet.js";

const ROOT = join(import.meta.dirname, "..", "..");
const CLI = join(ROOT, "dist", "src", "cli", "main.js");
const GROUP = { group: "flotilla.dev", version: "v1alpha1" };
let dataDir: string;
let controller: Controller;
const policies = new Set<string>();
const custom = () => kubeConfig("hub").makeApiClient(CustomObjectsApi);

async function applyOnHub(doc: unknown): Promise<void> {
  await kubectl("hub", ["apply", "--server-side", "--force-conflicts", "--field-manager=test", "-f", "-"], { input: toYaml(doc) });
}

async function applyPolicy(name: string, spec: TenantPolicySpec): Promise<TenantPolicy> {
  const policy: TenantPolicy = { apiVersion: "flotilla.dev/v1alpha1", kind: "TenantPolicy", metadata: { name }, spec };
  policies.add(name);
  await applyOnHub(policy);
  return policy;
}

async function deletePolicy(name: string): Promise<void> {
  await orAbsent(custom().deleteClusterCustomObject({ ...GROUP, plural: "tenantpolicies", name }));
  policies.delete(name);
}

async function getDeployment(namespace: string, name: string): Promise<ApplicationDeployment | undefined> {
  return (await orAbsent(custom().getNamespacedCustomObject({ ...GROUP, namespace, plural: "applicationdeployments", name }))) as
    | ApplicationDeployment
    | undefined;
}

/** The quickstart deployment (backend on every cluster labelled usage=production), in `namespace`, selecting `usage`. */
/**
 * The fleet's three members. Other files on the shared fleet register Clusters of their own for a
 * while, so "every cluster" is these three by name, and assertions look at these three only.
 */
const MEMBERS = ["prod-eu", "prod-us", "staging"];

const ofMembers = (placement: readonly PlacementDecisionStatus[] | undefined) => (placement ?? []).filter((p) => MEMBERS.includes(p.cluster));

async function quickstart(namespace: string, name: string, usage?: string): Promise<ApplicationDeployment> {
  const doc = parseYamlStream(await readFile(join(ROOT, "examples", "quickstart", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
  const spec = { ...doc.spec };
  if (usage === undefined) spec.placementStrategies = [{ name: "wave-1", clusterSelector: { names: MEMBERS } }];
  else spec.placementStrategies = [{ name: usage, clusterSelector: { labels: { usage } } }];
  return { ...doc, metadata: { name, namespace }, spec };
}

async function healthy(namespace: string, name: string): Promise<ApplicationDeployment> {
  return waitFor(
    async () => {
      const ad = await getDeployment(namespace, name);
      return ad?.status?.phase === "Healthy" && ad.status.observedGeneration === ad.metadata.generation ? ad : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 1_000, message: `${namespace}/${name} to become Healthy` },
  );
}

async function deploymentOn(cluster: string, namespace: string, name: string) {
  return orAbsent(kubeConfig(cluster).makeApiClient(AppsV1Api).readNamespacedDeployment({ namespace, name }));
}

describe("TenantPolicy on the fleet", () => {
  beforeAll(async () => {
    const hub = kubeConfig("hub");
    await installToHub({ kubeConfig: hub, definitionDirs: [builtinDefinitionsDir()] });
    await registerClusterFiles(hub, members());
    dataDir = await mkdtemp(join(tmpdir(), "flotilla-tenancy-"));
    controller = new Controller({
      kubeConfig: hub,
      dataDir,
      resyncIntervalMs: 5_000,
      probeIntervalMs: 3_000,
      leaderElection: false,
      deletionTimeoutMs: 20_000,
      progressRequeueMs: 1_000,
      logger: pino({ level: "debug" }, destination({ dest: join(dataDir, "controller.log"), sync: true })),
    });
    await controller.start();
  }, 180_000);

  afterAll(async () => {
    for (const name of [...policies]) await deletePolicy(name).catch(() => undefined);
    await controller?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("keeps a namespace on staging: production is placed on none with the reason, staging deploys, a RoleBinding to cluster-admin is refused, and deleting the policy opens it again", async () => {
    await withNamespace(
      "hub",
      async (ns) => {
        const policy = uniqueName("restricted-clusters");
        await applyPolicy(policy, { namespaces: { names: [ns] }, clusters: { matchLabels: { usage: "staging" } } });

        // Selecting production: every production cluster is left out, with the policy named.
        await applyOnHub(await quickstart(ns, "to-prod", "production"));
        const placed = await waitFor(
          async () => {
            const ad = await getDeployment(ns, "to-prod");
            return ad?.status?.placement?.some((p) => p.reason?.includes(policy)) ? ad : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 500, message: "status.placement to name the policy" },
        );
        expect(ofMembers(placed.status?.placement)).toEqual([
          { cluster: "prod-eu", wave: "production", selected: false, reason: `namespace ${ns} may not deploy to cluster prod-eu (policy ${policy})` },
          { cluster: "prod-us", wave: "production", selected: false, reason: `namespace ${ns} may not deploy to cluster prod-us (policy ${policy})` },
          { cluster: "staging", selected: false, reason: "label usage=staging does not match usage=production" },
        ]);
        expect(placed.status?.clusters ?? []).toEqual([]);

        // Selecting staging: deploys as it always did.
        await applyOnHub(await quickstart(ns, "to-staging", "staging"));
        const staged = await healthy(ns, "to-staging");
        expect(staged.status?.placement?.find((p) => p.cluster === "staging")).toMatchObject({ selected: true });
        expect((await deploymentOn("staging", ns, "backend-v1"))?.status?.availableReplicas).toBe(10);
        expect(await deploymentOn("prod-eu", ns, "backend-v1")).toBeUndefined();

        // `flotilla placement explain` with the same policy, clusters and deployment says the same.
        const files = await mkdtemp(join(tmpdir(), "flotilla-tenancy-explain-"));
        try {
          const clusters = (await kubectl("hub", ["get", "clusters.flotilla.dev", "-o", "json"])).stdout;
          const docs = (JSON.parse(clusters) as { items: Array<{ metadata: { name: string; labels?: Record<string, string> }; spec: unknown }> }).items
            .filter((c) => ["staging", "prod-eu", "prod-us"].includes(c.metadata.name))
            .map((c) => ({
              apiVersion: "flotilla.dev/v1alpha1",
              kind: "Cluster",
              metadata: { name: c.metadata.name, labels: c.metadata.labels },
              spec: c.spec,
            }));
          await writeFile(join(files, "clusters.yaml"), docs.map((d) => toYaml(d)).join("---\n"));
          await writeFile(join(files, "app.yaml"), toYaml(await quickstart(ns, "to-prod", "production")));
          const live = await custom().getClusterCustomObject({ ...GROUP, plural: "tenantpolicies", name: policy });
          await writeFile(join(files, "policy.yaml"), toYaml({ ...(live as TenantPolicy), metadata: { name: policy } }));
          const { stdout } = await promisify(execFile)(process.execPath, [
            CLI,
            "placement",
            "explain",
            "-f",
            join(files, "app.yaml"),
            "--clusters",
            join(files, "clusters.yaml"),
            "--policies",
            join(files, "policy.yaml"),
          ]);
          expect(stdout).toContain(`✗ prod-eu        namespace ${ns} may not deploy to cluster prod-eu (policy ${policy})`);
          expect(stdout).toContain("wave production: (no cluster)");
        } finally {
          await rm(files, { recursive: true, force: true });
        }

        // A RoleBinding to cluster-admin through k8s-objects: refused at render, naming the object and the policy.
        await applyOnHub({
          apiVersion: "flotilla.dev/v1alpha1",
          kind: "ApplicationDeployment",
          metadata: { name: "grants", namespace: ns },
          spec: {
            appRevisions: [
              {
                name: "v1",
                template: {
                  spec: {
                    components: [
                      {
                        name: "rbac",
                        type: "k8s-objects",
                        settings: {
                          objects: [
                            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "grants-v1" }, data: { a: "b" } },
                            {
                              apiVersion: "rbac.authorization.k8s.io/v1",
                              kind: "RoleBinding",
                              metadata: { name: "make-me-admin" },
                              roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
                              subjects: [{ kind: "ServiceAccount", name: "default", namespace: ns }],
                            },
                          ],
                        },
                      },
                    ],
                  },
                },
              },
            ],
            placementStrategies: [{ name: "staging", clusterSelector: { labels: { usage: "staging" } } }],
          },
        });
        const refused = await waitFor(
          async () => {
            const ad = await getDeployment(ns, "grants");
            const ready = ad?.status?.conditions?.find((c) => c.type === "Ready");
            return ready?.message.includes("TenantPolicy") ? ready : undefined;
          },
          { timeoutMs: 60_000, intervalMs: 500, message: "the RoleBinding to be refused" },
        );
        expect(refused.status).toBe("False");
        expect(refused.message).toContain(
          `spec.appRevisions[0].template.spec.components[0]: renders RoleBinding/${ns}/make-me-admin, which TenantPolicy ${policy} refuses: RoleBinding grants ClusterRole cluster-admin`,
        );
        const events = (await kubeConfig("hub").makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: ns })).items;
        expect(events.some((e) => e.involvedObject.name === "grants" && e.type === "Warning" && e.message?.includes(`TenantPolicy ${policy} refuses`))).toBe(
          true,
        );
        const bindings = await kubeConfig("staging").makeApiClient(RbacAuthorizationV1Api).listNamespacedRoleBinding({ namespace: ns });
        expect(bindings.items.map((b) => b.metadata?.name)).not.toContain("make-me-admin");

        // No policy: the open default, and production is deployed as the quickstart always was.
        await deletePolicy(policy);
        const opened = await waitFor(
          async () => {
            const ad = await getDeployment(ns, "to-prod");
            const selected = ad?.status?.placement?.filter((p) => p.selected).map((p) => p.cluster);
            return ad?.status?.phase === "Healthy" && selected?.length === 2 ? ad : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 1_000, message: "to-prod to be Healthy on prod-eu and prod-us once the policy is gone" },
        );
        expect(opened.status?.placement?.filter((p) => p.selected).map((p) => p.cluster)).toEqual(["prod-eu", "prod-us"]);
        expect((await deploymentOn("prod-us", ns, "backend-v1"))?.status?.availableReplicas).toBe(10);
      },
      { prefix: "tenancy-a" },
    );
  }, 300_000);

  it("intersects two policies (one by name, one by namespace label) and follows the namespace's labels", async () => {
    const tenant = uniqueName("tenant");
    await withNamespace(
      "hub",
      async (ns) => {
        const byName = uniqueName("any-stage");
        const byLabel = uniqueName("eu-only");
        await applyPolicy(byName, {
          namespaces: { names: [ns] },
          clusters: { matchExpressions: [{ key: "usage", operator: "In", values: ["staging", "production"] }] },
        });
        await applyPolicy(byLabel, {
          namespaces: { selector: { matchLabels: { "flotilla.dev/tenant": tenant } } },
          clusters: { matchLabels: { region: "eu" } },
        });

        // Every member, but what both policies allow (eu: staging and prod-eu).
        await applyOnHub(await quickstart(ns, "everywhere"));
        const placed = await healthy(ns, "everywhere");
        expect(ofMembers(placed.status?.placement).map((p) => [p.cluster, p.selected, p.reason])).toEqual([
          ["prod-eu", true, "selected by wave wave-1"],
          ["prod-us", false, `namespace ${ns} may not deploy to cluster prod-us (policy ${byLabel})`],
          ["staging", true, "selected by wave wave-1"],
        ]);
        expect(await deploymentOn("prod-us", ns, "backend-v1")).toBeUndefined();

        // Each policy's status says what it governs and allows now (other files' Clusters may be
        // registered on the shared fleet: the members are looked at by name).
        const members = ["prod-eu", "prod-us", "staging"];
        const statusOf = async (name: string) => ((await custom().getClusterCustomObject({ ...GROUP, plural: "tenantpolicies", name })) as TenantPolicy).status;
        const labelled = await waitFor(async () => ((await statusOf(byLabel))?.namespaces?.includes(ns) ? await statusOf(byLabel) : undefined), {
          timeoutMs: 30_000,
          intervalMs: 500,
          message: `TenantPolicy ${byLabel}'s status to list ${ns}`,
        });
        expect(labelled.namespaces).toEqual([ns]);
        expect(labelled.namespaceCount).toBe(1);
        expect(labelled.observedGeneration).toBe(1);
        expect(labelled.clusters?.filter((c) => members.includes(c))).toEqual(["prod-eu", "staging"]);
        expect(labelled.clusterTotal).toBeGreaterThanOrEqual(3);
        const named = await waitFor(async () => ((await statusOf(byName))?.namespaceCount === 1 ? await statusOf(byName) : undefined), {
          timeoutMs: 30_000,
          intervalMs: 500,
          message: `TenantPolicy ${byName}'s status`,
        });
        expect(named.namespaces).toEqual([ns]);
        expect(named.clusters?.filter((c) => members.includes(c))).toEqual(members);
        // kubectl shows the counts in its columns.
        const row = (await kubectl("hub", ["get", "tenantpolicy", byLabel, "--no-headers"])).stdout.trim().split(/\s+/);
        expect(row.slice(0, 2)).toEqual([byLabel, "1"]);

        // The namespace loses the label: the label policy no longer governs it, prod-us is allowed.
        await kubectl("hub", ["label", "namespace", ns, "flotilla.dev/tenant-"]);
        await waitFor(
          async () => {
            const ad = await getDeployment(ns, "everywhere");
            return ad?.status?.phase === "Healthy" && ofMembers(ad.status.placement).every((p) => p.selected) ? ad : undefined;
          },
          { timeoutMs: 120_000, intervalMs: 1_000, message: "prod-us to be selected once the label is gone" },
        );
        expect((await deploymentOn("prod-us", ns, "backend-v1"))?.status?.availableReplicas).toBe(10);
        await waitFor(async () => (await statusOf(byLabel))?.namespaceCount === 0, {
          timeoutMs: 30_000,
          intervalMs: 500,
          message: `TenantPolicy ${byLabel}'s status to govern no namespace once the label is gone`,
        });
        expect((await statusOf(byLabel))?.namespaces).toEqual([]);
        await deletePolicy(byName);
        await deletePolicy(byLabel);
      },
      { prefix: "tenancy-b", labels: { "flotilla.dev/tenant": tenant } },
    );
  }, 300_000);
});
