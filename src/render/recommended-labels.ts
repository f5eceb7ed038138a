// Kubernetes' recommended labels on rendered objects and on the pods their workloads create, so
// that `kubectl get pods -l app.kubernetes.io/instance=shop`, dashboards and cost tools find a
// deployment's objects without knowing Flotilla's own keys. They are defaults only: a key the
// template, a trait or the user already set keeps its value. They must never reach a selector:
// a workload's selector is immutable on a real cluster, and `version` changes with every image.

import { LABEL_INSTANCE, LABEL_NAME, LABEL_VERSION } from "../api/labels.js";
import type { Manifest } from "../api/types.js";
import { groupOf } from "./scope.js";

type Obj = Record<string, unknown>;

/** What the API server accepts as a non-empty label value. */
const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** The tag says nothing about the version: Kubernetes itself treats it as moving (pull Always). */
const MOVING_TAG = "latest";

const KEYS = [LABEL_NAME, LABEL_INSTANCE, LABEL_VERSION] as const;

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/**
 * The version label of an image reference: its tag, when it has one that is a valid label value
 * and is not `latest`. `registry:5000/shop:1.4.2@sha256:…` → `1.4.2`; `shop@sha256:…`, `shop`,
 * `shop:latest` and anything that is not a string → none.
 */
export function imageVersion(image: unknown): string | undefined {
  if (typeof image !== "string") return undefined;
  const [named = ""] = image.split("@", 1);
  const colon = named.lastIndexOf(":");
  // A colon before the last slash belongs to the registry's port, not to a tag.
  if (colon === -1 || colon < named.lastIndexOf("/")) return undefined;
  const tag = named.slice(colon + 1);
  return tag !== MOVING_TAG && LABEL_VALUE.test(tag) ? tag : undefined;
}

/**
 * The recommended labels of one component: `name` = the component, `instance` = the
 * ApplicationDeployment (the release, as Helm's release name), `version` = the image's tag
 * (see imageVersion). A value that is not a valid label value is left out rather than rendered.
 */
export function recommendedLabels(options: { app: string; component: string; image: unknown }): Record<string, string> {
  const labels: Record<string, string> = {};
  const version = imageVersion(options.image);
  if (LABEL_VALUE.test(options.component)) labels[LABEL_NAME] = options.component;
  if (LABEL_VALUE.test(options.app)) labels[LABEL_INSTANCE] = options.app;
  if (version !== undefined) labels[LABEL_VERSION] = version;
  return labels;
}

/**
 * The image of the container named `container` in the pod template of a workload (a CronJob's
 * job template included), or undefined: what the version label reads once traits have run, since
 * one (container-image) may have changed the image that the settings name.
 */
export function containerImage(manifest: Manifest, container: string): unknown {
  const spec = manifest.spec;
  if (!isObj(spec)) return undefined;
  const holder = manifest.kind === "CronJob" && isObj(spec.jobTemplate) ? spec.jobTemplate.spec : spec;
  if (!isObj(holder) || !isObj(holder.template) || !isObj(holder.template.spec) || !Array.isArray(holder.template.spec.containers)) return undefined;
  const found: unknown = holder.template.spec.containers.find((c: unknown) => isObj(c) && c.name === container);
  return isObj(found) ? found.image : undefined;
}

/** Keys a label selector (matchLabels and matchExpressions) mentions. */
function selectorKeys(selector: unknown): Set<string> {
  const keys = new Set<string>();
  if (!isObj(selector)) return keys;
  if (isObj(selector.matchLabels)) for (const k of Object.keys(selector.matchLabels)) keys.add(k);
  if (Array.isArray(selector.matchExpressions)) {
    for (const e of selector.matchExpressions) if (isObj(e) && typeof e.key === "string") keys.add(e.key);
  }
  return keys;
}

/**
 * `labels` with `defaults` under it, or undefined when `metadata` is not something labels can be
 * added to (a template that renders nonsense there is left for the API server to refuse).
 */
function withDefaults(metadata: unknown, defaults: Record<string, string>): Obj | undefined {
  if (metadata !== undefined && !isObj(metadata)) return undefined;
  const labels = metadata?.labels;
  if (labels !== undefined && !isObj(labels)) return undefined;
  return { ...metadata, labels: { ...defaults, ...labels } };
}

/**
 * The pod-template holder (`spec` of the object, or of a CronJob's `jobTemplate`) with the labels
 * added to `template.metadata.labels`, leaving out every key the holder's selector mentions.
 */
function labelPodTemplate(holder: Obj, defaults: Record<string, string>): Obj {
  if (!isObj(holder.template)) return holder;
  const skip = selectorKeys(holder.selector);
  const allowed = Object.fromEntries(Object.entries(defaults).filter(([k]) => !skip.has(k)));
  const metadata = withDefaults(holder.template.metadata, allowed);
  return metadata ? { ...holder, template: { ...holder.template, metadata } } : holder;
}

/** apps/* kinds with a pod template. Older versions derive a missing selector from its labels. */
const APPS_WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"]);

/**
 * The object with the recommended labels, as its own `metadata.labels` now hold them (the user's
 * value where one was set, else Flotilla's), added to the pod templates of workloads where not set
 * there already: Deployment, StatefulSet, DaemonSet, ReplicaSet, and a CronJob's job template and
 * its pod template (not a Job's: it is immutable). Selectors are never written, and no key a selector mentions is added to
 * the pods it selects; an apps/* workload without a selector is left alone, since older API
 * versions would fill the selector from the template's labels. The input is never changed.
 */
export function labelPodTemplates(manifest: Manifest): Manifest {
  const own = manifest.metadata.labels ?? {};
  const defaults: Record<string, string> = {};
  for (const k of KEYS) if (typeof own[k] === "string") defaults[k] = own[k];
  const spec = manifest.spec;
  if (Object.keys(defaults).length === 0 || !isObj(spec)) return manifest;
  const group = groupOf(manifest.apiVersion);
  if (group === "apps" && APPS_WORKLOADS.has(manifest.kind)) {
    return spec.selector === undefined ? manifest : { ...manifest, spec: labelPodTemplate(spec, defaults) };
  }
  // A Job's pod template is immutable: labelling it would make every Job an older Flotilla
  // applied fail to apply. The Job itself carries the labels; its pods keep the template as written.
  if (group === "batch" && manifest.kind === "CronJob" && isObj(spec.jobTemplate)) {
    // The job template's own labels go on every Job the CronJob creates.
    const jobTemplate: Obj = { ...spec.jobTemplate };
    const metadata = withDefaults(jobTemplate.metadata, defaults);
    if (metadata) jobTemplate.metadata = metadata;
    if (isObj(jobTemplate.spec)) jobTemplate.spec = labelPodTemplate(jobTemplate.spec, defaults);
    return { ...manifest, spec: { ...spec, jobTemplate } };
  }
  return manifest;
}
