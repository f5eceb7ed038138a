// Renders components with the built-in definitions (the YAML files under definitions/), through
// renderDeployment as `flotilla render` does, for the tests of one built-in trait each. Builds
// data and runs the renderer; it never checks anything itself.

import { join } from "node:path";
import { type FieldProblem, ValidationError } from "../../../../src/api/errors.js";
import type { Manifest } from "../../../../src/api/types.js";
import { FileDefinitionSource } from "../../../../src/definitions/loader.js";
import { brokenDefinitions, buildRegistry, type DefinitionRegistry } from "../../../../src/definitions/registry.js";
import { renderDeployment } from "../../../../src/render/render.js";
import { aComponent, aDeployment, aRevision, type ComponentBuilder } from "../../builders.js";

const DEFINITIONS = join(import.meta.dirname, "..", "..", "..", "..", "definitions");

let loaded: Promise<DefinitionRegistry> | undefined;

/** The built-in definitions, loaded once per test file; a broken one fails every test that renders. */
export function builtins(): Promise<DefinitionRegistry> {
  loaded ??= (async () => {
    const registry = buildRegistry(await new FileDefinitionSource([DEFINITIONS]).loadDocuments());
    const broken = brokenDefinitions(registry);
    if (broken.length) throw new Error(`broken built-in definitions: ${broken.map((b) => `${b.name}: ${b.error.message}`).join("\n")}`);
    return registry;
  })();
  return loaded;
}

/** Settings that each built-in component type needs besides the image. */
const REQUIRED: Record<string, Record<string, unknown>> = {
  "cron-task": { schedule: "@daily" },
  stateful: { storage: { mountPath: "/data" } },
};

/** A component `backend` of `type` with the image `shop:1.4.2` and what else the type requires. */
export function aBuiltin(type = "worker", settings: Record<string, unknown> = {}): ComponentBuilder {
  return aComponent("backend", type).withSettings({ image: "shop:1.4.2", ...REQUIRED[type], ...settings } as never);
}

export interface RenderOptions {
  /** Kubernetes version of the cluster (`status.version`); default: unknown, so the renderer assumes a recent one. */
  version?: string | undefined;
}

/** Every manifest of deployment `shop` (namespace team-a) holding `component` as revision v1, for cluster prod-eu. */
export async function render(component: ComponentBuilder, options: RenderOptions = {}): Promise<Manifest[]> {
  const deployment = aDeployment("shop").inNamespace("team-a").withRevision(aRevision("v1").withComponent(component)).build();
  const cluster = { name: "prod-eu", labels: {}, ...(options.version === undefined ? {} : { version: options.version }) };
  const [rendered] = await renderDeployment({
    deployment,
    registry: await builtins(),
    targets: [{ cluster, wave: "production", revisions: [{ name: "v1", replicas: 3 }] }],
  });
  return rendered?.manifests ?? [];
}

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"]);

/** The workload (the one object of a pod-template kind) that `component` renders. */
export async function workload(component: ComponentBuilder, options: RenderOptions = {}): Promise<Manifest> {
  const found = (await render(component, options)).filter((m) => WORKLOAD_KINDS.has(m.kind));
  if (found.length !== 1) throw new Error(`expected one workload, got ${found.map((m) => `${m.kind}/${m.metadata.name}`).join(", ")}`);
  return found[0] as Manifest;
}

type Obj = Record<string, unknown>;

/** The pod spec of a workload: `spec.template.spec`, or a CronJob's `spec.jobTemplate.spec.template.spec`. */
export function podSpecOf(m: Manifest): Obj {
  const spec = m.spec as Obj;
  const holder = m.kind === "CronJob" ? ((spec.jobTemplate as Obj).spec as Obj) : spec;
  return (holder.template as Obj).spec as Obj;
}

/** The container `name` (default the main one, `backend`) of a workload's pod spec. */
export function containerOf(m: Manifest, name = "backend"): Obj {
  const containers = (podSpecOf(m).containers ?? []) as Obj[];
  const found = containers.find((c) => c.name === name);
  if (!found) throw new Error(`no container ${name} in ${containers.map((c) => c.name).join(", ")}`);
  return found;
}

/** The problems the render of `component` reports; fails the test when it renders. */
export async function problems(component: ComponentBuilder, options: RenderOptions = {}): Promise<FieldProblem[]> {
  try {
    await render(component, options);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  throw new Error("expected the render to be refused");
}

/** The one problem the render of `component` reports. */
export async function refusal(component: ComponentBuilder, options: RenderOptions = {}): Promise<FieldProblem> {
  const found = await problems(component, options);
  if (found.length !== 1) throw new Error(`expected one problem, got ${JSON.stringify(found)}`);
  return found[0] as FieldProblem;
}

/** Path of the n-th trait of the one component, as problems report it. */
export const TRAIT = (n = 0) => `spec.appRevisions[0].template.spec.components[0].traits[${n}]`;

/** The workload kinds with a pod template, by the built-in component type that renders each. */
export const POD_WORKLOADS: Array<[type: string, kind: string]> = [
  ["worker", "Deployment"],
  ["stateful", "StatefulSet"],
  ["daemon", "DaemonSet"],
  ["task", "Job"],
  ["cron-task", "CronJob"],
];
