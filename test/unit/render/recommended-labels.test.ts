// Kubernetes' recommended labels (app.kubernetes.io/name, instance, version): what the renderer
// adds, where, and where it must keep out (selectors, keys someone else already set).

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ApplicationDeployment, JsonObject, Manifest } from "../../../src/api/types.js";
import { FileDefinitionSource } from "../../../src/definitions/loader.js";
import { buildRegistry } from "../../../src/definitions/registry.js";
import { enforcePolicy } from "../../../src/render/policy.js";
import { imageVersion, recommendedLabels } from "../../../src/render/recommended-labels.js";
import { type RenderTarget, renderDeployment } from "../../../src/render/render.js";
import { aComponent, aComponentDefinition, aDeployment, aRevision, aTraitDefinition, registryOf } from "../builders.js";

const NAME = "app.kubernetes.io/name";
const INSTANCE = "app.kubernetes.io/instance";
const VERSION = "app.kubernetes.io/version";

/** A workload of `kind` with a selector (unless told otherwise) and a pod template. */
const workloadTemplate = (apiVersion: string, kind: string, options: { selector?: string; podLabels?: string } = {}) => `{
  "apiVersion": "${apiVersion}", "kind": "${kind}", "metadata": {"name": context.name},
  "spec": {
    ${options.selector === undefined ? '"selector": {"matchLabels": context.selectorLabels},' : options.selector}
    "template": {
      "metadata": {"labels": ${options.podLabels ?? "context.labels"}},
      "spec": {"containers": [{"name": context.component, "image": settings.image}]}
    }
  }
}`;

const registry = registryOf(
  aComponentDefinition("worker"),
  aComponentDefinition("stateful").withWorkload("apps/v1", "StatefulSet").withTemplate(workloadTemplate("apps/v1", "StatefulSet")),
  aComponentDefinition("daemon").withWorkload("apps/v1", "DaemonSet").withoutReplicasPath().withTemplate(workloadTemplate("apps/v1", "DaemonSet")),
  aComponentDefinition("replicas").withWorkload("apps/v1", "ReplicaSet").withTemplate(workloadTemplate("apps/v1", "ReplicaSet")),
  aComponentDefinition("job")
    .withWorkload("batch/v1", "Job")
    .withoutReplicasPath()
    .withTemplate(workloadTemplate("batch/v1", "Job", { selector: "" })),
  aComponentDefinition("cron")
    .withWorkload("batch/v1", "CronJob")
    .withoutReplicasPath()
    .withTemplate(`{
      "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": context.name},
      "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {
        "metadata": {"labels": context.labels},
        "spec": {"containers": [{"name": context.component, "image": settings.image}]}
      }}}}
    }`),
  aComponentDefinition("config")
    .withWorkload("v1", "ConfigMap")
    .withoutReplicasPath()
    .withSchema({ type: "object", properties: { data: { type: "object" } } })
    .withTemplate('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": context.name}, "data": settings.data}'),
  aComponentDefinition("pinned-name").withTemplate(
    workloadTemplate("apps/v1", "Deployment", {
      selector: `"selector": {
        "matchLabels": $merge([context.selectorLabels, {"app.kubernetes.io/name": "custom"}]),
        "matchExpressions": [{"key": "app.kubernetes.io/version", "operator": "DoesNotExist"}]
      },`,
      podLabels: '$merge([context.labels, {"app.kubernetes.io/name": "custom"}])',
    }),
  ),
  // apps/v1beta1 filled a missing selector in from the template's labels.
  aComponentDefinition("old-deployment")
    .withWorkload("apps/v1beta1", "Deployment")
    .withTemplate(workloadTemplate("apps/v1beta1", "Deployment", { selector: "" })),
  aComponentDefinition("widget")
    .withWorkload("example.com/v1", "Widget")
    .withoutReplicasPath()
    .withTemplate('{"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": context.name}, "spec": {"template": {"metadata": {"labels": {}}}}}'),
  aComponentDefinition("named-workload").withTemplate(
    `$merge([${workloadTemplate("apps/v1", "Deployment")}, {"metadata": {"name": context.name, "labels": {"app.kubernetes.io/name": "shop-api"}}}])`,
  ),
  aTraitDefinition("own-labels").withPatch(`{
    "metadata": {"labels": {"app.kubernetes.io/name": "storefront", "app.kubernetes.io/instance": "shop-eu", "app.kubernetes.io/version": "2024.06"}},
    "spec": {"template": {"metadata": {"labels": {"app.kubernetes.io/version": "2024.06"}}}}
  }`),
  aTraitDefinition("new-image").withPatch(`{"spec": {"template": {"spec": {"containers": [{"name": context.component, "image": properties.image}]}}}}`),
  aTraitDefinition("sidecar-image").withPatch(`{"spec": {"template": {"spec": {"containers": [{"name": "proxy", "image": "envoy:1.30"}]}}}}`),
  aTraitDefinition("service")
    .componentScoped()
    .withOutputs('{"apiVersion": "v1", "kind": "Service", "metadata": {"name": context.component}, "spec": {"selector": context.selectorLabels}}'),
);

function target(revisions: RenderTarget["revisions"] = [{ name: "v1", replicas: 2 }]): RenderTarget {
  return { cluster: { name: "prod-eu", labels: {} }, wave: "production", revisions };
}

function deploymentWith(type: string, settings: JsonObject, traits: string[] = []): ApplicationDeployment {
  const component = aComponent("backend", type).withSettings(settings);
  for (const t of traits) component.withTrait(t);
  return aDeployment("shop").inNamespace("team-a").withRevision(aRevision("v1").withComponent(component)).build();
}

async function render(deployment: ApplicationDeployment, t: RenderTarget = target()): Promise<Manifest[]> {
  const [cluster] = await renderDeployment({ deployment, registry, targets: [t] });
  return cluster!.manifests;
}

async function workloadOf(type: string, settings: JsonObject, traits: string[] = []): Promise<Manifest> {
  const [first] = await render(deploymentWith(type, settings, traits));
  return first!;
}

const at = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
const podLabels = (m: Manifest) => at(m, "spec", "template", "metadata", "labels") as Record<string, string> | undefined;
const recommendedOf = (labels: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => k === NAME || k === INSTANCE || k === VERSION));

describe("imageVersion: the version label is the image's tag", () => {
  it.each([
    ["shop:1.4.2", "1.4.2"],
    ["registry.example.com/team/shop:1.4.2", "1.4.2"],
    ["registry.example.com:5000/team/shop:v2.0.0-rc.1", "v2.0.0-rc.1"],
    ["shop:1.4.2@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "1.4.2"],
    [`shop:${"a".repeat(63)}`, "a".repeat(63)],
  ])("reads %s as version %s", (image, version) => {
    expect(imageVersion(image)).toBe(version);
  });

  it.each([
    ["a digest-only reference", "shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"],
    ["an image without a tag (implicitly latest)", "shop"],
    ["a registry port that is no tag", "registry.example.com:5000/shop"],
    ["the moving tag latest", "shop:latest"],
    ["a tag longer than a label value may be", `shop:${"a".repeat(64)}`],
    ["a tag that does not end alphanumeric", "shop:1.0_"],
    ["an empty tag", "shop:"],
    ["an image that is not a string", 42],
    ["no image at all", undefined],
  ])("gives no version for %s", (_what, image) => {
    expect(imageVersion(image)).toBeUndefined();
  });

  it("leaves out a name or instance that is not a valid label value rather than render it", () => {
    expect(recommendedLabels({ app: "-bad-", component: "backend", image: "shop:1" })).toEqual({ [NAME]: "backend", [VERSION]: "1" });
  });
});

describe("renderDeployment: Kubernetes' recommended labels", () => {
  it("labels the workload and its pods with the component, the deployment and the image's tag, and leaves the selector as the template wrote it", async () => {
    const workload = await workloadOf("worker", { image: "registry.example.com:5000/shop:1.4.2" });
    const expected = { [NAME]: "backend", [INSTANCE]: "shop", [VERSION]: "1.4.2" };
    expect(recommendedOf(workload.metadata.labels)).toEqual(expected);
    expect(recommendedOf(podLabels(workload))).toEqual(expected);
    expect(at(workload, "spec", "selector")).toEqual({
      matchLabels: { "flotilla.dev/app": "team-a.shop", "flotilla.dev/component": "backend", "flotilla.dev/revision": "v1" },
    });
  });

  it("gives no version label for a digest-only image, only name and instance", async () => {
    const workload = await workloadOf("worker", { image: "registry.example.com/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" });
    expect(recommendedOf(workload.metadata.labels)).toEqual({ [NAME]: "backend", [INSTANCE]: "shop" });
    expect(recommendedOf(podLabels(workload))).toEqual({ [NAME]: "backend", [INSTANCE]: "shop" });
  });

  it("reads the version from the main container's image as the traits left it", async () => {
    const component = aComponent("backend", "worker").withSettings({ image: "shop:1.4.2" }).withTrait("new-image", { image: "mirror.example.com/shop:1.5.0" });
    const [workload] = await render(aDeployment("shop").inNamespace("team-a").withRevision(aRevision("v1").withComponent(component)).build());
    expect(recommendedOf(workload!.metadata.labels)[VERSION]).toBe("1.5.0");
    expect(recommendedOf(podLabels(workload!))[VERSION]).toBe("1.5.0");
  });

  it("gives no version when a trait sets the main container to an image without a tag, whatever the settings say", async () => {
    const component = aComponent("backend", "worker").withSettings({ image: "shop:1.4.2" }).withTrait("new-image", { image: "shop" });
    const [workload] = await render(aDeployment("shop").inNamespace("team-a").withRevision(aRevision("v1").withComponent(component)).build());
    expect(recommendedOf(workload!.metadata.labels)).toEqual({ [NAME]: "backend", [INSTANCE]: "shop" });
  });

  it("ignores the images of other containers", async () => {
    const workload = await workloadOf("worker", { image: "shop:1.4.2" }, ["sidecar-image"]);
    expect(recommendedOf(workload.metadata.labels)[VERSION]).toBe("1.4.2");
  });

  it("gives a component whose type has no image name and instance only", async () => {
    const config = await workloadOf("config", { data: { mode: "fast" } });
    expect(recommendedOf(config.metadata.labels)).toEqual({ [NAME]: "backend", [INSTANCE]: "shop" });
  });

  it("keeps the value a trait set, on the workload and on its pods", async () => {
    const workload = await workloadOf("worker", { image: "shop:1.4.2" }, ["own-labels"]);
    expect(recommendedOf(workload.metadata.labels)).toEqual({ [NAME]: "storefront", [INSTANCE]: "shop-eu", [VERSION]: "2024.06" });
    // The pods set only the version themselves; name and instance follow the workload's values.
    expect(recommendedOf(podLabels(workload))).toEqual({ [NAME]: "storefront", [INSTANCE]: "shop-eu", [VERSION]: "2024.06" });
  });

  it("keeps the value a template set on the workload and gives its pods the same", async () => {
    const workload = await workloadOf("named-workload", { image: "shop:1.4.2" });
    expect(workload.metadata.labels?.[NAME]).toBe("shop-api");
    expect(podLabels(workload)?.[NAME]).toBe("shop-api");
  });

  it("never adds to the pods a key their selector mentions, and never writes the selector", async () => {
    const workload = await workloadOf("pinned-name", { image: "shop:1.4.2" });
    expect(at(workload, "spec", "selector")).toEqual({
      matchLabels: { "flotilla.dev/app": "team-a.shop", "flotilla.dev/component": "backend", "flotilla.dev/revision": "v1", [NAME]: "custom" },
      matchExpressions: [{ key: VERSION, operator: "DoesNotExist" }],
    });
    expect(recommendedOf(podLabels(workload))).toEqual({ [NAME]: "custom", [INSTANCE]: "shop" });
    expect(recommendedOf(workload.metadata.labels)).toEqual({ [NAME]: "backend", [INSTANCE]: "shop", [VERSION]: "1.4.2" });
  });

  it.each([
    ["stateful", "StatefulSet"],
    ["daemon", "DaemonSet"],
    ["replicas", "ReplicaSet"],
  ])("labels the pod template of a %s's %s", async (type, kind) => {
    const workload = await workloadOf(type, { image: "shop:3.1" });
    expect(workload.kind).toBe(kind);
    expect(recommendedOf(podLabels(workload))).toEqual({ [NAME]: "backend", [INSTANCE]: "shop", [VERSION]: "3.1" });
  });

  it("labels a Job but not its pod template, which is immutable once the Job exists", async () => {
    const job = await workloadOf("job", { image: "shop:3.1" });
    expect(job.kind).toBe("Job");
    expect(recommendedOf(job.metadata.labels)).toEqual({ [NAME]: "backend", [INSTANCE]: "shop", [VERSION]: "3.1" });
    expect(recommendedOf(podLabels(job))).toEqual({});
  });

  it("labels a CronJob's job template and the pod template inside it", async () => {
    const cron = await workloadOf("cron", { image: "shop:3.1" });
    const expected = { [NAME]: "backend", [INSTANCE]: "shop", [VERSION]: "3.1" };
    expect(recommendedOf(at(cron, "spec", "jobTemplate", "metadata", "labels") as Record<string, string>)).toEqual(expected);
    expect(recommendedOf(at(cron, "spec", "jobTemplate", "spec", "template", "metadata", "labels") as Record<string, string>)).toEqual(expected);
    expect(at(cron, "spec", "jobTemplate", "spec", "selector")).toBeUndefined();
  });

  it("leaves the pod template of an apps workload without a selector alone, since old API versions derive the selector from it", async () => {
    const workload = await workloadOf("old-deployment", { image: "shop:1.4.2" });
    expect(at(workload, "spec", "selector")).toBeUndefined();
    expect(recommendedOf(podLabels(workload))).toEqual({});
    expect(recommendedOf(workload.metadata.labels)).toEqual({ [NAME]: "backend", [INSTANCE]: "shop", [VERSION]: "1.4.2" });
  });

  it("labels only the metadata of kinds it does not know to run pods", async () => {
    const widget = await workloadOf("widget", { image: "shop:1.4.2" });
    expect(at(widget, "spec", "template", "metadata", "labels")).toEqual({});
    expect(recommendedOf(widget.metadata.labels)).toEqual({ [NAME]: "backend", [INSTANCE]: "shop", [VERSION]: "1.4.2" });
  });

  it("gives each revision's pods their own image's version, and a shared Service the newest one's, during a rollout", async () => {
    const component = (image: string) => aComponent("backend", "worker").withSettings({ image }).withTrait("service");
    const deployment = aDeployment("shop")
      .inNamespace("team-a")
      .withRevision(aRevision("v1").withComponent(component("shop:1.0")))
      .withRevision(aRevision("v2").withComponent(component("shop:2.0")))
      .build();
    const list = await render(
      deployment,
      target([
        { name: "v1", replicas: 3 },
        { name: "v2", replicas: 1 },
      ]),
    );
    const versionOf = (kind: string, name: string) => {
      const m = list.find((o) => o.kind === kind && o.metadata.name === name);
      return { object: m?.metadata.labels?.[VERSION], pods: m && podLabels(m)?.[VERSION] };
    };
    expect(versionOf("Deployment", "backend-v1")).toEqual({ object: "1.0", pods: "1.0" });
    expect(versionOf("Deployment", "backend-v2")).toEqual({ object: "2.0", pods: "2.0" });
    expect(versionOf("Service", "backend")).toEqual({ object: "2.0", pods: undefined });
    expect(
      at(
        list.find((o) => o.kind === "Service"),
        "spec",
        "selector",
      ),
    ).toEqual({ "flotilla.dev/app": "team-a.shop", "flotilla.dev/component": "backend" });
  });

  it("is accepted by the reserved-key policy when a definition sets the keys itself", () => {
    const labels = { [NAME]: "x", [INSTANCE]: "y", [VERSION]: "1" };
    const checked = enforcePolicy({
      object: { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", labels } },
      namespace: "team-a",
      definition: "raw",
      clusterScopedAllowed: false,
      path: "p",
    });
    expect(checked).toEqual({ manifest: expect.objectContaining({ metadata: expect.objectContaining({ labels }) }) });
  });
});

describe("the built-in component types", () => {
  const builtins = (async () => buildRegistry(await new FileDefinitionSource([join(import.meta.dirname, "..", "..", "..", "definitions")]).loadDocuments()))();

  it.each<[string, JsonObject]>([
    ["worker", { image: "shop:1.4.2" }],
    ["webservice", { image: "shop:1.4.2", ports: [{ port: 80 }] }],
    ["stateful", { image: "shop:1.4.2", ports: [{ port: 6379 }], storage: { mountPath: "/data" } }],
    ["daemon", { image: "shop:1.4.2" }],
    ["task", { image: "shop:1.4.2" }],
    ["cron-task", { image: "shop:1.4.2", schedule: "@daily" }],
  ])("%s labels every object and every mutable pod template, and no selector carries a recommended label", async (type, settings) => {
    const deployment = aDeployment("shop")
      .inNamespace("team-a")
      .withRevision(aRevision("v1").withComponent(aComponent("backend", type).withSettings(settings)))
      .build();
    const [cluster] = await renderDeployment({ deployment, registry: await builtins, targets: [target()] });
    const expected = { [NAME]: "backend", [INSTANCE]: "shop", [VERSION]: "1.4.2" };
    const text = JSON.stringify(cluster!.manifests);
    for (const m of cluster!.manifests) {
      expect(recommendedOf(m.metadata.labels), `${m.kind} ${m.metadata.name}`).toEqual(expected);
      const pods = at(m, "spec", "template", "metadata", "labels") ?? at(m, "spec", "jobTemplate", "spec", "template", "metadata", "labels");
      // A Job's pod template is immutable, so it is left as written (see the Job test above).
      if (pods !== undefined) expect(recommendedOf(pods as Record<string, string>), `pods of ${m.kind}`).toEqual(m.kind === "Job" ? {} : expected);
    }
    // Every selector (workload matchLabels, Service selector) is exactly Flotilla's own keys.
    const selectors = [...text.matchAll(/"(?:matchLabels|selector)":(\{[^{}]*\})/g)].map((m) => JSON.parse(m[1]!) as Record<string, string>);
    if (type !== "task" && type !== "cron-task") expect(selectors.length).toBeGreaterThan(0);
    for (const selector of selectors) expect(Object.keys(selector).filter((k) => !k.startsWith("flotilla.dev/"))).toEqual([]);
  });

  it("k8s-objects gets name and instance only, and the objects given in settings stay as they were", async () => {
    const objects = [
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "raw" },
        spec: { selector: { matchLabels: { a: "b" } }, template: { metadata: { labels: { a: "b" } } } },
      },
    ];
    const settings = { objects } as unknown as JsonObject;
    const before = structuredClone(settings);
    const deployment = aDeployment("shop")
      .inNamespace("team-a")
      .withRevision(aRevision("v1").withComponent(aComponent("backend", "k8s-objects").withSettings(settings)))
      .build();
    const [cluster] = await renderDeployment({ deployment, registry: await builtins, targets: [target()] });
    const [raw] = cluster!.manifests;
    expect(recommendedOf(raw!.metadata.labels)).toEqual({ [NAME]: "backend", [INSTANCE]: "shop" });
    expect(podLabels(raw!)).toEqual({ a: "b", [NAME]: "backend", [INSTANCE]: "shop" });
    expect(at(raw, "spec", "selector")).toEqual({ matchLabels: { a: "b" } });
    expect(settings).toEqual(before);
  });
});
