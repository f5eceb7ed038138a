// Rendering one component with the built-in definitions (definitions/ of the package), for the
// tests of what those definitions render and refuse.

import { join } from "node:path";
import { type FieldProblem, ValidationError } from "../../../src/api/errors.js";
import type { JsonObject, Manifest } from "../../../src/api/types.js";
import { FileDefinitionSource } from "../../../src/definitions/loader.js";
import { buildRegistry, type DefinitionRegistry } from "../../../src/definitions/registry.js";
import { renderDeployment } from "../../../src/render/render.js";
import { aDeployment, aRevision, type ComponentBuilder } from "../builders.js";

const DEFINITIONS = join(import.meta.dirname, "..", "..", "..", "definitions");

/** The path of the first component of the first revision, where problems of `renderOne` are. */
export const C0 = "spec.appRevisions[0].template.spec.components[0]";

let registry: Promise<DefinitionRegistry> | undefined;
/** The built-in definitions, plus `extra` documents (a new registry when extra ones are given). */
export function builtIn(extra: unknown[] = []): Promise<DefinitionRegistry> {
  const load = async () => buildRegistry([...(await new FileDefinitionSource([DEFINITIONS]).loadDocuments()), ...extra]);
  if (extra.length) return load();
  registry ??= load();
  return registry;
}

/** The workload (the object named `<component>-v1`) of one component rendered on a 1.30 cluster. */
export async function renderOne(component: ComponentBuilder, extra: unknown[] = []): Promise<Manifest> {
  const spec = component.build();
  const deployment = aDeployment("shop").inNamespace("team-a").withRevision(aRevision("v1").withComponent(spec)).build();
  const [cluster] = await renderDeployment({
    deployment,
    registry: await builtIn(extra),
    targets: [{ cluster: { name: "prod", labels: {}, version: "1.30.0" }, wave: "w", revisions: [{ name: "v1", replicas: 1 }] }],
  });
  const workload = cluster?.manifests.find((m) => m.metadata.name === `${spec.name}-v1`);
  if (!workload) throw new Error(`no workload ${spec.name}-v1 rendered`);
  return workload;
}

/** The problems of rendering one component; fails when it renders. */
export async function problemsOf(component: ComponentBuilder, extra: unknown[] = []): Promise<FieldProblem[]> {
  try {
    await renderOne(component, extra);
  } catch (e) {
    if (e instanceof ValidationError) return e.problems;
    throw e;
  }
  throw new Error("expected the render to fail");
}

export interface Container {
  name: string;
  env?: JsonObject[];
  envFrom?: JsonObject[];
  securityContext?: JsonObject;
}

export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: JsonObject;
}

/** The pod spec of a workload (the job template's for a CronJob). */
export function podSpecOf(m: Manifest): PodSpec {
  const spec = m.spec as JsonObject;
  const template = m.kind === "CronJob" ? (spec.jobTemplate as { spec: { template: JsonObject } }).spec.template : (spec.template as JsonObject);
  return template.spec as unknown as PodSpec;
}
