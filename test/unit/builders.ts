// Small builders for the unit tests: readable fixtures such as
// `aCluster("prod-eu").withLabel("usage", "production").build()`. Builders only make data;
// they never call the code under test.

import { KubeConfig } from "@kubernetes/client-node";
import type {
  ApplicationDeployment,
  AppRevision,
  Cluster,
  ComponentDefinition,
  ComponentOverride,
  ComponentSpec,
  JsonObject,
  PlacementStrategy,
  RolloutBatch,
  TraitDefinition,
  TraitSpec,
} from "../../src/api/types.js";
import { buildRegistry, type DefinitionRegistry } from "../../src/definitions/registry.js";

// ---------- Cluster ----------

export class ClusterBuilder {
  private readonly cluster: Cluster;
  constructor(name: string) {
    this.cluster = { apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name, labels: {} }, spec: {} };
  }
  withLabel(key: string, value: string): this {
    this.cluster.metadata.labels = { ...this.cluster.metadata.labels, [key]: value };
    return this;
  }
  paused(): this {
    this.cluster.spec.paused = true;
    return this;
  }
  ready(status: "True" | "False" | "Unknown" = "True"): this {
    this.cluster.status = {
      ...this.cluster.status,
      conditions: [{ type: "Ready", status, reason: status === "True" ? "Reachable" : "Unreachable", message: "" }],
    };
    return this;
  }
  notReady(): this {
    return this.ready("False");
  }
  withVersion(version: string): this {
    this.cluster.status = { ...this.cluster.status, version };
    return this;
  }
  build(): Cluster {
    return structuredClone(this.cluster);
  }
}

export function aCluster(name: string): ClusterBuilder {
  return new ClusterBuilder(name);
}

// ---------- ApplicationDeployment ----------

export class ComponentBuilder {
  private readonly spec: ComponentSpec;
  constructor(name: string, type: string) {
    this.spec = { name, type };
  }
  withSettings(settings: JsonObject): this {
    this.spec.settings = settings;
    return this;
  }
  withTrait(name: string, properties?: JsonObject): this {
    const trait: TraitSpec = properties === undefined ? { name } : { name, properties };
    this.spec.traits = [...(this.spec.traits ?? []), trait];
    return this;
  }
  build(): ComponentSpec {
    return structuredClone(this.spec);
  }
}

export function aComponent(name = "backend", type = "worker"): ComponentBuilder {
  return new ComponentBuilder(name, type);
}

export class RevisionBuilder {
  private readonly revision: AppRevision;
  constructor(name: string) {
    this.revision = { name, template: { spec: { components: [] } } };
  }
  withComponent(component: ComponentBuilder | ComponentSpec): this {
    const spec = component instanceof ComponentBuilder ? component.build() : component;
    this.revision.template.spec.components.push(spec);
    return this;
  }
  withReplicas(replicas: number): this {
    this.revision.rollout = { ...this.revision.rollout, replicas };
    return this;
  }
  withBatches(...batches: Array<RolloutBatch | number | string>): this {
    this.revision.rollout = {
      ...this.revision.rollout,
      batches: batches.map((b) => (typeof b === "object" ? b : { replicas: b })),
    };
    return this;
  }
  build(): AppRevision {
    const rev = structuredClone(this.revision);
    if (rev.template.spec.components.length === 0) {
      rev.template.spec.components.push(
        aComponent()
          .withSettings({ image: `myimage-${rev.name}` })
          .build(),
      );
    }
    return rev;
  }
}

export function aRevision(name = "v1"): RevisionBuilder {
  return new RevisionBuilder(name);
}

export class StrategyBuilder {
  private readonly strategy: PlacementStrategy = {};
  constructor(name?: string) {
    if (name !== undefined) this.strategy.name = name;
  }
  selectingLabel(key: string, value: string): this {
    const sel = this.strategy.clusterSelector ?? {};
    sel.labels = { ...sel.labels, [key]: value };
    this.strategy.clusterSelector = sel;
    return this;
  }
  selectingNames(...names: string[]): this {
    this.strategy.clusterSelector = { ...this.strategy.clusterSelector, names };
    return this;
  }
  matching(key: string, operator: "In" | "NotIn" | "Exists" | "DoesNotExist", values?: string[]): this {
    const sel = this.strategy.clusterSelector ?? {};
    sel.matchExpressions = [...(sel.matchExpressions ?? []), values === undefined ? { key, operator } : { key, operator, values }];
    this.strategy.clusterSelector = sel;
    return this;
  }
  withCondition(condition: string): this {
    this.strategy.clusterSelector = { ...this.strategy.clusterSelector, condition };
    return this;
  }
  withOverride(override: ComponentOverride): this {
    this.strategy.overrides = [...(this.strategy.overrides ?? []), override];
    return this;
  }
  build(): PlacementStrategy {
    return structuredClone(this.strategy);
  }
}

export function aWave(name?: string): StrategyBuilder {
  return new StrategyBuilder(name);
}

export class DeploymentBuilder {
  private readonly deployment: ApplicationDeployment;
  constructor(name: string) {
    this.deployment = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ApplicationDeployment",
      metadata: { name, namespace: "team-a" },
      spec: { appRevisions: [] },
    };
  }
  inNamespace(namespace: string | undefined): this {
    if (namespace === undefined) delete this.deployment.metadata.namespace;
    else this.deployment.metadata.namespace = namespace;
    return this;
  }
  withRevision(revision: RevisionBuilder | AppRevision): this {
    this.deployment.spec.appRevisions.push(revision instanceof RevisionBuilder ? revision.build() : revision);
    return this;
  }
  withWave(wave: StrategyBuilder | PlacementStrategy): this {
    const strategy = wave instanceof StrategyBuilder ? wave.build() : wave;
    this.deployment.spec.placementStrategies = [...(this.deployment.spec.placementStrategies ?? []), strategy];
    return this;
  }
  build(): ApplicationDeployment {
    const d = structuredClone(this.deployment);
    if (d.spec.appRevisions.length === 0) d.spec.appRevisions.push(aRevision("v1").build());
    return d;
  }
}

export function aDeployment(name = "example-deploy"): DeploymentBuilder {
  return new DeploymentBuilder(name);
}

// ---------- Definitions ----------

/** The smallest useful component: a Deployment named context.name with one container. */
export const DEPLOYMENT_TEMPLATE = `{
  "apiVersion": "apps/v1",
  "kind": "Deployment",
  "metadata": {"name": context.name},
  "spec": {
    "selector": {"matchLabels": context.selectorLabels},
    "template": {
      "metadata": {"labels": context.labels},
      "spec": {"containers": [{"name": context.component, "image": settings.image}]}
    }
  }
}`;

export class ComponentDefinitionBuilder {
  private readonly def: ComponentDefinition;
  constructor(name: string) {
    this.def = {
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ComponentDefinition",
      metadata: { name },
      spec: {
        workload: { apiVersion: "apps/v1", kind: "Deployment" },
        replicasPath: "spec.replicas",
        schema: { type: "object", required: ["image"], properties: { image: { type: "string", minLength: 1 } } },
        template: DEPLOYMENT_TEMPLATE,
      },
    };
  }
  withWorkload(apiVersion: string, kind: string): this {
    this.def.spec.workload = { apiVersion, kind };
    return this;
  }
  withTemplate(template: string): this {
    this.def.spec.template = template;
    return this;
  }
  withSchema(schema: JsonObject | undefined): this {
    if (schema === undefined) delete this.def.spec.schema;
    else this.def.spec.schema = schema;
    return this;
  }
  withoutReplicasPath(): this {
    delete this.def.spec.replicasPath;
    return this;
  }
  withReplicasPath(path: string): this {
    this.def.spec.replicasPath = path;
    return this;
  }
  withHealth(health: string): this {
    this.def.spec.health = health;
    return this;
  }
  withAnnotation(key: string, value: string): this {
    this.def.metadata.annotations = { ...this.def.metadata.annotations, [key]: value };
    return this;
  }
  clusterScoped(): this {
    return this.withAnnotation("flotilla.dev/cluster-scoped", "true");
  }
  withDefaultTrait(name: string, properties?: JsonObject): this {
    this.def.spec.defaultTraits = [...(this.def.spec.defaultTraits ?? []), properties === undefined ? { name } : { name, properties }];
    return this;
  }
  build(): ComponentDefinition {
    return structuredClone(this.def);
  }
}

export function aComponentDefinition(name = "worker"): ComponentDefinitionBuilder {
  return new ComponentDefinitionBuilder(name);
}

export class TraitDefinitionBuilder {
  private readonly def: TraitDefinition;
  constructor(name: string) {
    this.def = { apiVersion: "flotilla.dev/v1alpha1", kind: "TraitDefinition", metadata: { name }, spec: {} };
  }
  appliesTo(...kinds: string[]): this {
    this.def.spec.appliesTo = kinds;
    return this;
  }
  conflictsWith(...names: string[]): this {
    this.def.spec.conflictsWith = names;
    return this;
  }
  withSchema(schema: JsonObject): this {
    this.def.spec.schema = schema;
    return this;
  }
  withPatch(patch: string): this {
    this.def.spec.patch = patch;
    return this;
  }
  withOutputs(outputs: string): this {
    this.def.spec.outputs = outputs;
    return this;
  }
  componentScoped(): this {
    this.def.spec.scope = "component";
    return this;
  }
  last(): this {
    this.def.spec.order = "last";
    return this;
  }
  withHealth(health: string): this {
    this.def.spec.health = health;
    return this;
  }
  clusterScoped(): this {
    this.def.metadata.annotations = { ...this.def.metadata.annotations, "flotilla.dev/cluster-scoped": "true" };
    return this;
  }
  build(): TraitDefinition {
    return structuredClone(this.def);
  }
}

export function aTraitDefinition(name: string): TraitDefinitionBuilder {
  return new TraitDefinitionBuilder(name);
}

/** A registry compiled from builders or raw documents. */
export function registryOf(...defs: Array<ComponentDefinitionBuilder | TraitDefinitionBuilder | unknown>): DefinitionRegistry {
  return buildRegistry(defs.map((d) => (d instanceof ComponentDefinitionBuilder || d instanceof TraitDefinitionBuilder ? d.build() : d)));
}

// ---------- kubeconfig ----------

/**
 * A kubeconfig whose server refuses connections at once (port 1): a client built on it fails every
 * request without waiting for a timeout.
 */
export function unreachableKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kubeConfig;
}
