// What the web UI's server reads and does, as the controller provides it: its own informer caches
// (no new watch of the hub), the Events of one deployment on demand, the environment repository,
// and the one write — a rollout action's patch, sent with the controller's identity once the
// user's SubjectAccessReview allowed it. A small interface so the server is tested with plain data.

import type { ApplicationDeployment, Cluster, ComponentDefinition, TraitDefinition } from "../../api/types.js";
import type { HistorySource } from "./history.js";
import type { EventRow } from "../contract.js";

export interface UiSource {
  /** False while the caches are not filled: a replica that does not lead, or one still starting. */
  ready(): boolean;
  deployments(): readonly ApplicationDeployment[];
  deployment(namespace: string, name: string): ApplicationDeployment | undefined;
  clusters(): readonly Cluster[];
  componentDefinitions(): readonly ComponentDefinition[];
  traitDefinitions(): readonly TraitDefinition[];
  /** The core/v1 Events whose involvedObject is the deployment (a list on the hub per call). */
  events(namespace: string, name: string): Promise<EventRow[]>;
  /** A merge patch of the deployment, as the controller. Rejects with the API error (its `code` the HTTP status). */
  patchDeployment(namespace: string, name: string, body: object): Promise<void>;
  /** The environment repository, while the controller has it open. */
  history(): HistorySource | undefined;
}

/** The informer events the server turns into stream events; the controller calls them. */
export interface UiFeed {
  deploymentChanged(ad: ApplicationDeployment): void;
  deploymentDeleted(ad: ApplicationDeployment): void;
  clusterChanged(cluster: Cluster): void;
  clusterDeleted(cluster: Cluster): void;
}
