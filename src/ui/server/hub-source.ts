// The controller's side of UiSource: reads from the informer caches the controller already keeps
// (no watch of its own), lists one deployment's Events on the hub when its page is opened, and
// sends a rollout action's merge patch with the controller's credentials — only ever after the
// API checked the user's SubjectAccessReview for `patch` on that deployment.

import { CoreV1Api, CustomObjectsApi, type KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { GROUP, VERSION } from "../../api/labels.js";
import type { ApplicationDeployment, Cluster, ComponentDefinition, TraitDefinition } from "../../api/types.js";
import type { HistorySource } from "./history.js";
import type { UiSource } from "./source.js";
import { eventItem } from "./views.js";

/** The informer caches, as the controller has them while it works; undefined otherwise. */
export interface UiCaches {
  deployments: { list(): readonly ApplicationDeployment[]; get(name: string, namespace?: string): ApplicationDeployment | undefined };
  clusters: { list(): readonly Cluster[] };
  componentDefinitions: { list(): readonly ComponentDefinition[] };
  traitDefinitions: { list(): readonly TraitDefinition[] };
}

export interface HubUiSourceOptions {
  kubeConfig: KubeConfig;
  /** The caches while they are filled; undefined before (or on a replica that does not lead). */
  caches: () => UiCaches | undefined;
  history: () => HistorySource | undefined;
}

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

export function hubUiSource(o: HubUiSourceOptions): UiSource {
  const core = o.kubeConfig.makeApiClient(CoreV1Api);
  const custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
  return {
    ready: () => o.caches() !== undefined,
    deployments: () => o.caches()?.deployments.list() ?? [],
    deployment: (namespace, name) => o.caches()?.deployments.get(name, namespace),
    clusters: () => o.caches()?.clusters.list() ?? [],
    componentDefinitions: () => o.caches()?.componentDefinitions.list() ?? [],
    traitDefinitions: () => o.caches()?.traitDefinitions.list() ?? [],
    async events(namespace, name) {
      const list = await core.listNamespacedEvent({
        namespace,
        fieldSelector: `involvedObject.kind=ApplicationDeployment,involvedObject.name=${name}`,
        limit: 200,
      });
      return list.items.map(eventItem);
    },
    async patchDeployment(namespace, name, body) {
      await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: "applicationdeployments", name, body }, merge);
    },
    history: () => o.history(),
  };
}
