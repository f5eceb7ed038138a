import { describe, expect, it } from "vitest";
import { type FieldProblem, ValidationError } from "../../../src/api/errors.js";
import { toYaml } from "../../../src/api/serialize.js";
import type { ApplicationDeployment, ComponentOverride, Manifest } from "../../../src/api/types.js";
import type { DefinitionRegistry } from "../../../src/definitions/registry.js";
import { getPath } from "../../../src/render/merge.js";
import { type RenderedCluster, type RenderTarget, renderDeployment } from "../../../src/render/render.js";
import { TemplateCache } from "../../../src/render/template-cache.js";
import { aComponent, aComponentDefinition, aDeployment, aRevision, aTraitDefinition, registryOf } from "../builders.js";

const C0 = "spec.appRevisions[0].template.spec.components[0]";

const containerPatch = (container: string) => `{"spec": {"template": {"spec": {"containers": [${container}]}}}}`;

const registry: DefinitionRegistry = registryOf(
  aComponentDefinition("worker"),
  aComponentDefinition("unscalable").withoutReplicasPath(),
  aComponentDefinition("with-config").withTemplate(`[
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": context.name},
     "spec": {"template": {"spec": {"containers": [{"name": context.component, "image": settings.image}]}}}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": context.name & "-config"}, "data": {"wave": context.wave}},
    {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": context.component}}
  ]`),
  aComponentDefinition("secret-maker").withTemplate(`[
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": context.name}},
    {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db-password"}, "stringData": {"password": "hunter2"}}
  ]`),
  aComponentDefinition("elsewhere").withTemplate(
    '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": context.name, "namespace": "kube-system"}}',
  ),
  aComponentDefinition("same-namespace").withTemplate(
    '{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": context.name, "namespace": context.namespace}}',
  ),
  aComponentDefinition("namespace-maker").withTemplate(`[
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": context.name}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "extra-" & context.namespace, "namespace": "ignored"}}
  ]`),
  aComponentDefinition("trusted-namespace-maker")
    .clusterScoped()
    .withTemplate(`[
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": context.name}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "extra-" & context.namespace, "namespace": "ignored"}}
  ]`),
  aComponentDefinition("cluster-role").withTemplate(`[
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": context.name}},
    {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": context.name}}
  ]`),
  aComponentDefinition("stateful")
    .withWorkload("apps/v1", "StatefulSet")
    .withTemplate(
      '{"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": context.name}, "spec": {"template": {"spec": {"containers": [{"name": context.component, "image": settings.image}]}}}}',
    ),
  aComponentDefinition("fixed-name").withTemplate('{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "fixed"}}'),
  aComponentDefinition("nested-replicas").withReplicasPath("spec.scale.count"),
  aComponentDefinition("with-health").withHealth("status.ready == true"),
  aComponentDefinition("endless").withTemplate("($loop := function($i) { $loop($i + 1) }; $loop(0))"),
  aTraitDefinition("sidecar").appliesTo("apps/v1/Deployment", "apps/v1/StatefulSet").withPatch(containerPatch('{"name": "proxy", "image": properties.image}')),
  aTraitDefinition("env-a").withPatch(containerPatch('{"name": context.component, "env": [{"name": "A", "value": "1"}]}')),
  aTraitDefinition("env-b").withPatch(containerPatch('{"name": context.component, "env": [{"name": "B", "value": "2"}]}')),
  aTraitDefinition("hpa")
    .appliesTo("apps/v1/Deployment")
    .conflictsWith("manual-scaler")
    .withSchema({ type: "object", properties: { min: { type: "integer", default: 1 }, max: { type: "integer", default: 10 } } })
    .withOutputs(`{
      "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": context.name},
      "spec": {"scaleTargetRef": {"apiVersion": workload.apiVersion, "kind": workload.kind, "name": workload.metadata.name},
               "minReplicas": properties.min, "maxReplicas": properties.max}
    }`),
  aTraitDefinition("manual-scaler").withPatch('{"metadata": {"annotations": {"scaler": "manual"}}}'),
  aTraitDefinition("statefulset-only").appliesTo("apps/v1/StatefulSet").withPatch('{"metadata": {"annotations": {"x": "y"}}}'),
  aTraitDefinition("service")
    .componentScoped()
    .withSchema({ type: "object", properties: { port: { type: "integer", default: 80 } } })
    .withOutputs(`{
      "apiVersion": "v1", "kind": "Service", "metadata": {"name": context.component},
      "spec": {"selector": context.selectorLabels, "ports": [{"port": properties.port}], "revision": context.revision}
    }`),
  aTraitDefinition("monitor")
    .withHealth("status.up == true")
    .withOutputs('{"apiVersion": "monitoring.coreos.com/v1", "kind": "ServiceMonitor", "metadata": {"name": context.name}}'),
  aTraitDefinition("move-namespace").withPatch('{"metadata": {"namespace": "kube-system"}}'),
  aTraitDefinition("user-labels").withPatch(
    '{"metadata": {"labels": {"team": "payments", "flotilla.dev/revision": "forged", "flotilla.dev/component": "forged"}}}',
  ),
  aTraitDefinition("broken-trait").withPatch("{"),
  aTraitDefinition("secret-output").withOutputs('{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "token"}}'),
  aTraitDefinition("foreign-output").withOutputs('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "other"}}'),
  aTraitDefinition("role-output").withOutputs('{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": context.name}}'),
  aTraitDefinition("trusted-role-output")
    .clusterScoped()
    .withOutputs('{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": context.name}}'),
  aTraitDefinition("failing").withOutputs('properties.min > properties.max ? $error("min must not exceed max")'),
  aTraitDefinition("shared-config")
    .componentScoped()
    .withOutputs('{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "shared"}, "data": {"from": context.component}}'),
  aComponentDefinition("job")
    .withWorkload("batch/v1", "Job")
    .withoutReplicasPath()
    .withTemplate(
      '{"apiVersion": $versionAtLeast(context.cluster.version, "1.21") ? "batch/v1" : "batch/v1beta1", "kind": "Job", "metadata": {"name": context.name}}',
    ),
  aComponentDefinition("liar").withWorkload("apps/v1", "StatefulSet"),
  aComponentDefinition("context-dump").withTemplate(`[
    {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": context.name}},
    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": context.name & "-context"}, "data": {"context": $string(context)}}
  ]`),
);

function target(options: Partial<RenderTarget> & { revisions?: RenderTarget["revisions"] } = {}): RenderTarget {
  return {
    cluster: { name: "prod-eu", labels: { usage: "production" } },
    wave: "production",
    revisions: [{ name: "v1", replicas: 3 }],
    ...options,
  };
}

function deploymentWith(...components: Array<ReturnType<typeof aComponent>>): ApplicationDeployment {
  const rev = aRevision("v1");
  for (const c of components) rev.withComponent(c);
  return aDeployment("shop").inNamespace("team-a").withRevision(rev).build();
}

async function render(deployment: ApplicationDeployment, targets: RenderTarget[] = [target()]): Promise<RenderedCluster[]> {
  return renderDeployment({ deployment, registry, targets });
}

async function manifests(deployment: ApplicationDeployment, t: RenderTarget = target()): Promise<Manifest[]> {
  const [cluster] = await render(deployment, [t]);
  return cluster!.manifests;
}

async function problems(deployment: ApplicationDeployment, t: RenderTarget = target()): Promise<FieldProblem[]> {
  try {
    await render(deployment, [t]);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  throw new Error("expected the render to fail");
}

function find(list: Manifest[], kind: string, name?: string): Manifest {
  const m = list.find((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (!m) throw new Error(`no ${kind} ${name ?? ""} in ${list.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  return m;
}

const backend = () => aComponent("backend", "worker").withSettings({ image: "myimage-v1" });

describe("renderDeployment: labels, names and namespaces", () => {
  it("names the per-revision workload <component>-<revision> and stamps the standard labels", async () => {
    const [deployment] = await manifests(deploymentWith(backend()));
    expect(deployment!.metadata.name).toBe("backend-v1");
    expect(deployment!.metadata.labels).toEqual({
      "app.kubernetes.io/managed-by": "flotilla",
      "app.kubernetes.io/name": "backend",
      "app.kubernetes.io/instance": "shop",
      "flotilla.dev/app": "team-a.shop",
      "flotilla.dev/component": "backend",
      "flotilla.dev/revision": "v1",
    });
  });

  it("stamps the standard labels on every object, and the revision label only on per-revision ones", async () => {
    const list = await manifests(deploymentWith(aComponent("backend", "with-config").withSettings({ image: "x" }).withTrait("service")));
    for (const m of list) {
      expect(m.metadata.labels).toMatchObject({
        "app.kubernetes.io/managed-by": "flotilla",
        "flotilla.dev/app": "team-a.shop",
        "flotilla.dev/component": "backend",
      });
    }
    const revisionOf = (kind: string) => find(list, kind).metadata.labels?.["flotilla.dev/revision"];
    expect(revisionOf("Deployment")).toBe("v1");
    expect(revisionOf("ConfigMap")).toBe("v1");
    expect(revisionOf("ServiceAccount")).toBeUndefined();
    expect(revisionOf("Service")).toBeUndefined();
  });

  it("keeps labels a template sets but never lets it forge the Flotilla labels", async () => {
    const [deployment] = await manifests(deploymentWith(backend().withTrait("user-labels")));
    expect(deployment!.metadata.labels?.team).toBe("payments");
    expect(deployment!.metadata.labels?.["flotilla.dev/revision"]).toBe("v1");
    expect(deployment!.metadata.labels?.["flotilla.dev/component"]).toBe("backend");
  });

  it("puts every namespaced object in the deployment's namespace", async () => {
    const list = await manifests(deploymentWith(aComponent("backend", "with-config").withSettings({ image: "x" })));
    expect(list.map((m) => m.metadata.namespace)).toEqual(["team-a", "team-a", "team-a"]);
  });

  it("uses the default namespace when the deployment has none", async () => {
    const d = aDeployment("shop").inNamespace(undefined).withRevision(aRevision("v1").withComponent(backend())).build();
    const [deployment] = await manifests(d);
    expect(deployment!.metadata.namespace).toBe("default");
    expect(deployment!.metadata.labels?.["flotilla.dev/app"]).toBe("default.shop");
  });

  it("accepts a template that names the deployment's own namespace", async () => {
    const [deployment] = await manifests(deploymentWith(aComponent("backend", "same-namespace").withSettings({ image: "x" })));
    expect(deployment!.metadata.namespace).toBe("team-a");
  });

  it("refuses an object in another namespace", async () => {
    expect(await problems(deploymentWith(aComponent("backend", "elsewhere").withSettings({ image: "x" })))).toEqual([
      expect.objectContaining({
        path: C0,
        message: 'definition "elsewhere" renders Deployment "backend-v1" in namespace "kube-system", outside the deployment\'s namespace "team-a"',
      }),
    ]);
  });

  it("refuses a trait patch that moves the workload into another namespace", async () => {
    const found = await problems(deploymentWith(backend().withTrait("move-namespace")));
    expect(found.map((p) => p.message).join("\n")).toMatch(/namespace "kube-system", outside the deployment's namespace "team-a"/);
  });

  it.each([
    ["namespace-maker", 'cluster-scoped Namespace "extra-team-a"'],
    ["cluster-role", 'cluster-scoped ClusterRole "backend-v1"'],
  ])("refuses cluster-scoped objects from %s, which is not annotated", async (type, what) => {
    const [problem] = await problems(deploymentWith(aComponent("backend", type).withSettings({ image: "x" })));
    expect(problem?.path).toBe(C0);
    expect(problem?.message).toContain(what);
    expect(problem?.fix).toContain('flotilla.dev/cluster-scoped: "true"');
  });

  it("renders cluster-scoped objects without a namespace when the definition is annotated", async () => {
    const list = await manifests(deploymentWith(aComponent("backend", "trusted-namespace-maker").withSettings({ image: "x" })));
    const ns = find(list, "Namespace");
    expect(ns.metadata.name).toBe("extra-team-a");
    expect(ns.metadata.namespace).toBeUndefined();
  });

  it("refuses Secrets with a message that says to reference them instead", async () => {
    const [problem] = await problems(deploymentWith(aComponent("backend", "secret-maker").withSettings({ image: "x" })));
    expect(problem?.message).toBe('definition "secret-maker" renders Secret "db-password"; Secrets are never written to Git');
    expect(problem?.fix).toMatch(/reference it by name/);
  });
});

describe("renderDeployment: trait outputs obey the same policies", () => {
  it.each([
    ["secret-output", 'definition "secret-output" renders Secret "token"; Secrets are never written to Git'],
    ["foreign-output", 'definition "foreign-output" renders ConfigMap "x" in namespace "other", outside the deployment\'s namespace "team-a"'],
    ["role-output", 'definition "role-output" renders cluster-scoped ClusterRole "backend-v1", which a deployment may not create'],
  ])("refuses what trait %s renders, at the trait's path", async (trait, message) => {
    expect(await problems(deploymentWith(backend().withTrait(trait)))).toEqual([expect.objectContaining({ path: `${C0}.traits[0]`, message })]);
  });

  it("renders a cluster-scoped output of an annotated trait without a namespace", async () => {
    const role = find(await manifests(deploymentWith(backend().withTrait("trusted-role-output"))), "ClusterRole");
    expect(role.metadata.namespace).toBeUndefined();
    expect(role.metadata.labels?.["flotilla.dev/component"]).toBe("backend");
  });

  it("reports a trait's runtime error at the path of its properties", async () => {
    const [problem] = await problems(deploymentWith(backend().withTrait("failing", { min: 5, max: 1 })));
    expect(problem?.path).toBe(`${C0}.traits[0].properties`);
    expect(problem?.message).toMatch(/^failing\.spec\.outputs.*min must not exceed max/);
  });
});

describe("renderDeployment: the template context", () => {
  it("gives templates the names, replicas, cluster, wave and labels of ARCHITECTURE §3", async () => {
    const list = await manifests(
      deploymentWith(aComponent("backend", "context-dump").withSettings({ image: "x" })),
      target({ cluster: { name: "prod-eu", labels: { usage: "production" } }, wave: "production", revisions: [{ name: "v1", replicas: 4 }] }),
    );
    const context = JSON.parse((find(list, "ConfigMap").data as { context: string }).context);
    expect(context).toEqual({
      appName: "shop",
      namespace: "team-a",
      component: "backend",
      revision: "v1",
      name: "backend-v1",
      replicas: 4,
      cluster: { name: "prod-eu", labels: { usage: "production" }, version: "v1.30.0" },
      wave: "production",
      labels: {
        "app.kubernetes.io/managed-by": "flotilla",
        "flotilla.dev/app": "team-a.shop",
        "flotilla.dev/component": "backend",
        "flotilla.dev/revision": "v1",
      },
      selectorLabels: { "flotilla.dev/app": "team-a.shop", "flotilla.dev/component": "backend", "flotilla.dev/revision": "v1" },
      componentSelectorLabels: { "flotilla.dev/app": "team-a.shop", "flotilla.dev/component": "backend" },
    });
  });

  it("passes the cluster's Kubernetes version when it is known", async () => {
    const list = await manifests(
      deploymentWith(aComponent("backend", "context-dump").withSettings({ image: "x" })),
      target({ cluster: { name: "old", labels: {}, version: "v1.20.2" } }),
    );
    expect(JSON.parse((find(list, "ConfigMap").data as { context: string }).context).cluster.version).toBe("v1.20.2");
  });
});

describe("renderDeployment: lookups and trait rules", () => {
  it("names an unknown component type with its field path and the known types", async () => {
    const [problem] = await problems(deploymentWith(aComponent("backend", "wroker")));
    expect(problem?.path).toBe(`${C0}.type`);
    expect(problem?.message).toBe('unknown component type "wroker"');
    expect(problem?.fix).toBe(`Use one of: ${[...registry.components.keys()].join(", ")}; or install a ComponentDefinition named "wroker".`);
    expect(problem?.fix).toMatch(/^Use one of: cluster-role, context-dump, elsewhere, .*, worker;/);
  });

  it("names an unknown trait with its field path and the known traits", async () => {
    const [problem] = await problems(deploymentWith(backend().withTrait("sidecar", { image: "envoy" }).withTrait("autoscaler")));
    expect(problem?.path).toBe(`${C0}.traits[1].name`);
    expect(problem?.message).toBe('unknown trait "autoscaler"');
    expect(problem?.fix).toBe(`Use one of: ${[...registry.traits.keys()].join(", ")}; or install a TraitDefinition named "autoscaler".`);
    expect(problem?.fix).toMatch(/^Use one of: broken-trait, env-a, env-b, .*, user-labels;/);
  });

  it("marks a template that ran out of its time budget as a problem that may pass on a later try", async () => {
    const [problem] = await problems(deploymentWith(aComponent("backend", "endless").withSettings({ image: "x" })));
    expect(problem?.message).toMatch(/longer than 1000 ms/);
    expect(problem?.transient).toBe(true);
    const [typo] = await problems(deploymentWith(aComponent("backend", "wroker")));
    expect(typo?.transient).toBeUndefined();
  });

  it("reports a broken trait with the reason, so its users know why", async () => {
    const [problem] = await problems(deploymentWith(backend().withTrait("broken-trait")));
    expect(problem?.path).toBe(`${C0}.traits[0].name`);
    expect(problem?.message).toMatch(/^trait "broken-trait" is broken: broken-trait\.spec\.patch/);
  });

  it("refuses a trait that does not apply to the workload kind", async () => {
    const [problem] = await problems(deploymentWith(backend().withTrait("statefulset-only")));
    expect(problem).toEqual(
      expect.objectContaining({
        path: `${C0}.traits[0].name`,
        message: 'trait "statefulset-only" does not apply to apps/v1/Deployment (it applies to apps/v1/StatefulSet)',
      }),
    );
  });

  it("applies a trait to every workload it lists", async () => {
    const d = deploymentWith(aComponent("db", "stateful").withSettings({ image: "pg" }).withTrait("statefulset-only"));
    expect(find(await manifests(d), "StatefulSet").metadata.annotations).toEqual({ x: "y" });
  });

  it("refuses two traits that conflict", async () => {
    const found = await problems(deploymentWith(backend().withTrait("hpa").withTrait("manual-scaler")));
    expect(found).toContainEqual(
      expect.objectContaining({ path: `${C0}.traits[1].name`, message: 'trait "manual-scaler" conflicts with trait "hpa" on the same component' }),
    );
  });

  it("validates trait properties against the trait's schema with the full path", async () => {
    const [problem] = await problems(deploymentWith(backend().withTrait("hpa", { max: "ten" })));
    expect(problem?.path).toBe(`${C0}.traits[0].properties.max`);
    expect(problem?.message).toBe('must be integer (got "ten")');
  });

  it("validates settings against the component's schema with the full path", async () => {
    const [problem] = await problems(deploymentWith(aComponent("backend", "worker").withSettings({ image: 42 })));
    expect(problem?.path).toBe(`${C0}.settings.image`);
    expect(problem?.message).toBe("must be string (got 42)");
  });

  it("reports every problem of every component at once", async () => {
    const d = deploymentWith(aComponent("a", "nope"), aComponent("b", "worker").withSettings({ image: 1 }));
    expect((await problems(d)).map((p) => p.path)).toEqual([
      "spec.appRevisions[0].template.spec.components[0].type",
      "spec.appRevisions[0].template.spec.components[1].settings.image",
    ]);
  });
});

describe("renderDeployment: traits, replicas and overrides", () => {
  it("sets the planned replicas at the definition's replicasPath", async () => {
    const [deployment] = await manifests(deploymentWith(backend()), target({ revisions: [{ name: "v1", replicas: 7 }] }));
    expect(getPath(deployment, "spec.replicas")).toBe(7);
  });

  it("creates the maps on the way to a nested replicasPath", async () => {
    const [deployment] = await manifests(deploymentWith(aComponent("backend", "nested-replicas").withSettings({ image: "x" })));
    expect(getPath(deployment, "spec.scale.count")).toBe(3);
  });

  it("leaves replicas out for a definition without replicasPath", async () => {
    const [deployment] = await manifests(deploymentWith(aComponent("backend", "unscalable").withSettings({ image: "x" })));
    expect(getPath(deployment, "spec.replicas")).toBeUndefined();
  });

  it("adds a container by name and keeps the others", async () => {
    const [deployment] = await manifests(deploymentWith(backend().withTrait("sidecar", { image: "envoy" })));
    expect(getPath(deployment, "spec.template.spec.containers")).toEqual([
      { name: "backend", image: "myimage-v1" },
      { name: "proxy", image: "envoy" },
    ]);
  });

  it("lands env from two traits in the same container", async () => {
    const [deployment] = await manifests(deploymentWith(backend().withTrait("env-a").withTrait("env-b")));
    expect(getPath(deployment, "spec.template.spec.containers")).toEqual([
      {
        name: "backend",
        image: "myimage-v1",
        env: [
          { name: "A", value: "1" },
          { name: "B", value: "2" },
        ],
      },
    ]);
  });

  it("renders trait outputs against the patched workload, with schema defaults", async () => {
    const hpa = find(await manifests(deploymentWith(backend().withTrait("hpa", { max: 5 }))), "HorizontalPodAutoscaler");
    expect(hpa.metadata.name).toBe("backend-v1");
    expect(hpa.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "backend-v1" },
      minReplicas: 1,
      maxReplicas: 5,
    });
  });

  it("carries the health rules of definitions and traits as annotations", async () => {
    const list = await manifests(deploymentWith(aComponent("backend", "with-health").withSettings({ image: "x" }).withTrait("monitor")));
    expect(find(list, "Deployment").metadata.annotations?.["flotilla.dev/health"]).toBe("status.ready == true");
    expect(find(list, "ServiceMonitor").metadata.annotations?.["flotilla.dev/health"]).toBe("status.up == true");
  });

  it("applies a wave's overrides of settings and trait properties", async () => {
    const overrides: ComponentOverride[] = [{ component: "backend", settings: { image: "myimage-eu" }, traits: [{ name: "hpa", properties: { max: 20 } }] }];
    const list = await manifests(deploymentWith(backend().withTrait("hpa", { min: 2, max: 10 })), target({ overrides }));
    // The one container takes the wave's image; the override adds no container and leaves nothing of the old image.
    expect(getPath(find(list, "Deployment"), "spec.template.spec.containers")).toEqual([{ name: "backend", image: "myimage-eu" }]);
    expect(find(list, "HorizontalPodAutoscaler").spec).toMatchObject({ minReplicas: 2, maxReplicas: 20 });
  });

  it("adds a trait that only the wave's override names", async () => {
    const overrides: ComponentOverride[] = [{ component: "backend", traits: [{ name: "sidecar", properties: { image: "envoy" } }] }];
    const list = await manifests(deploymentWith(backend()), target({ overrides }));
    expect((getPath(find(list, "Deployment"), "spec.template.spec.containers") as unknown[]).length).toBe(2);
  });

  it("leaves other components alone when an override names one", async () => {
    const overrides: ComponentOverride[] = [{ component: "backend", settings: { image: "changed" } }];
    const d = deploymentWith(backend(), aComponent("frontend", "worker").withSettings({ image: "web" }));
    const list = await manifests(d, target({ overrides }));
    const image = (name: string) => (getPath(find(list, "Deployment", name), "spec.template.spec.containers") as Array<{ image: string }>)[0]?.image;
    expect(image("backend-v1")).toBe("changed");
    expect(image("frontend-v1")).toBe("web");
  });

  it("passes the wave and cluster into the template context", async () => {
    const list = await manifests(deploymentWith(aComponent("backend", "with-config").withSettings({ image: "x" })), target({ wave: "canary" }));
    expect(find(list, "ConfigMap").data).toEqual({ wave: "canary" });
  });

  it("hands replicas to the autoscaler only when an HPA is rendered and the rollout is complete", async () => {
    const released = target({ releaseReplicasToAutoscaler: true });
    const withHpa = await manifests(deploymentWith(backend().withTrait("hpa")), released);
    const withoutHpa = await manifests(deploymentWith(backend()), released);
    const notReleased = await manifests(deploymentWith(backend().withTrait("hpa")), target());
    const autoscaled = (m: Manifest) => m.metadata.annotations?.["flotilla.dev/autoscaled-path"];
    // The count stays in Git (dropping it would reset the live object to one replica) ...
    expect(getPath(find(withHpa, "Deployment"), "spec.replicas")).toBe(3);
    // ... and the mark tells the sync loop that the autoscaler owns it.
    expect(autoscaled(find(withHpa, "Deployment"))).toBe("spec.replicas");
    expect(autoscaled(find(withoutHpa, "Deployment"))).toBeUndefined();
    expect(autoscaled(find(notReleased, "Deployment"))).toBeUndefined();
  });
});

describe("renderDeployment: several revisions in one cluster", () => {
  const twoRevisions = () =>
    aDeployment("shop")
      .inNamespace("team-a")
      .withRevision(aRevision("v1").withComponent(aComponent("backend").withSettings({ image: "img-v1" }).withTrait("service", { port: 8080 })))
      .withRevision(aRevision("v2").withComponent(aComponent("backend").withSettings({ image: "img-v2" }).withTrait("service", { port: 9090 })))
      .build();
  const both = target({
    revisions: [
      { name: "v1", replicas: 7 },
      { name: "v2", replicas: 3 },
    ],
  });

  it("renders one workload per revision with its own replicas", async () => {
    const list = await manifests(twoRevisions(), both);
    expect(getPath(find(list, "Deployment", "backend-v1"), "spec.replicas")).toBe(7);
    expect(getPath(find(list, "Deployment", "backend-v2"), "spec.replicas")).toBe(3);
  });

  it("renders one copy of a component-scoped output, from the newest revision", async () => {
    const services = (await manifests(twoRevisions(), both)).filter((m) => m.kind === "Service");
    expect(services).toHaveLength(1);
    expect(services[0]!.metadata.name).toBe("backend");
    expect(services[0]!.spec).toMatchObject({ ports: [{ port: 9090 }], revision: "v2" });
  });

  it("selects every revision of the component from a component-scoped Service", async () => {
    const service = find(await manifests(twoRevisions(), both), "Service");
    expect((service.spec as { selector: Record<string, string> }).selector).toEqual({
      "flotilla.dev/app": "team-a.shop",
      "flotilla.dev/component": "backend",
    });
    expect(service.metadata.labels?.["flotilla.dev/revision"]).toBeUndefined();
  });

  it("refuses two components of one revision rendering the same shared object", async () => {
    const d = aDeployment("shop")
      .withRevision(
        aRevision("v1")
          .withComponent(aComponent("backend").withSettings({ image: "x" }).withTrait("shared-config"))
          .withComponent(aComponent("frontend").withSettings({ image: "y" }).withTrait("shared-config")),
      )
      .build();
    expect(await problems(d)).toContainEqual(
      expect.objectContaining({ path: "spec.appRevisions[0].template.spec.components[1]", message: 'renders ConfigMap "shared" twice' }),
    );
  });

  it("refuses a plan naming a revision that is not in the deployment", async () => {
    await expect(render(twoRevisions(), [target({ revisions: [{ name: "v3", replicas: 1 }] })])).rejects.toThrow(
      'render plan names revision "v3", which is not in spec.appRevisions',
    );
  });

  it("reports a per-revision object that two components render under the same name", async () => {
    const d = aDeployment("shop")
      .withRevision(
        aRevision("v1")
          .withComponent(aComponent("backend", "fixed-name").withSettings({ image: "x" }))
          .withComponent(aComponent("other", "fixed-name").withSettings({ image: "y" })),
      )
      .build();
    expect(await problems(d)).toContainEqual(
      expect.objectContaining({ path: "spec.appRevisions[0].template.spec.components[1]", message: 'renders Deployment "fixed" twice' }),
    );
  });
});

describe("renderDeployment: the workload a definition declares", () => {
  it("accepts another version of the declared group and kind", async () => {
    const d = deploymentWith(aComponent("migrate", "job").withSettings({ image: "x" }));
    const [job] = await manifests(d, target({ cluster: { name: "old", labels: {}, version: "v1.20.2" } }));
    expect(`${job!.apiVersion}/${job!.kind}`).toBe("batch/v1beta1/Job");
  });

  it("refuses a template whose first object is not the declared workload", async () => {
    const [problem] = await problems(deploymentWith(aComponent("backend", "liar").withSettings({ image: "x" })));
    expect(problem).toEqual(
      expect.objectContaining({
        path: C0,
        message: 'definition "liar" declares workload apps/v1/StatefulSet but its template rendered apps/v1/Deployment first',
      }),
    );
  });
});

describe("renderDeployment: determinism", () => {
  const busy = () =>
    aDeployment("shop")
      .withRevision(aRevision("v1").withComponent(aComponent("zeta").withSettings({ image: "z" }).withTrait("hpa")))
      .withRevision(
        aRevision("v2")
          .withComponent(aComponent("zeta").withSettings({ image: "z2" }).withTrait("hpa").withTrait("service"))
          .withComponent(aComponent("alpha", "with-config").withSettings({ image: "a" }).withTrait("sidecar", { image: "s" })),
      )
      .build();
  const targets = () => [
    target({
      cluster: { name: "prod-us", labels: {} },
      revisions: [
        { name: "v1", replicas: 2 },
        { name: "v2", replicas: 1 },
      ],
    }),
    target({ cluster: { name: "prod-eu", labels: {} }, revisions: [{ name: "v2", replicas: 3 }] }),
  ];

  it("returns clusters in the order of the targets and objects sorted by group, kind and name", async () => {
    const out = await render(busy(), targets());
    expect(out.map((c) => c.cluster)).toEqual(["prod-us", "prod-eu"]);
    expect(out[1]!.manifests.map((m) => `${m.apiVersion}/${m.kind}/${m.metadata.name}`)).toEqual([
      "apps/v1/Deployment/alpha-v2",
      "apps/v1/Deployment/zeta-v2",
      "autoscaling/v2/HorizontalPodAutoscaler/zeta-v2",
      "v1/ConfigMap/alpha-v2-config",
      "v1/Service/zeta",
      "v1/ServiceAccount/alpha",
    ]);
  });

  it("gives byte-identical YAML across runs, with and without the cache", async () => {
    const yaml = (out: RenderedCluster[]) => out.map((c) => c.manifests.map(toYaml).join("---\n")).join("\n# next\n");
    const cache = new TemplateCache();
    const first = yaml(await renderDeployment({ deployment: busy(), registry, targets: targets(), cache }));
    const cachedRun = yaml(await renderDeployment({ deployment: busy(), registry, targets: targets(), cache }));
    const fresh = yaml(await render(busy(), targets()));
    expect(cachedRun).toBe(first);
    expect(fresh).toBe(first);
  });

  it("does not change its inputs", async () => {
    const d = busy();
    const before = JSON.stringify(d);
    await render(d, targets());
    expect(JSON.stringify(d)).toBe(before);
  });
});
