// The template context (ARCHITECTURE §3): what a definition's JSONata sees besides its
// parameters. Built once per revision, component and cluster.

import { appLabelValue, LABEL_APP, LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_REVISION, MANAGED_BY_VALUE } from "../api/labels.js";

export interface ClusterInfo {
  name: string;
  labels: Record<string, string>;
  /** Kubernetes version of the cluster, e.g. `v1.20.2`; unknown → templates assume a recent one. */
  version?: string;
}

export interface TemplateContext {
  appName: string;
  namespace: string;
  component: string;
  revision: string;
  /** `<component>-<revision>`: the name of per-revision objects. */
  name: string;
  replicas: number;
  cluster: { name: string; labels: Record<string, string>; version: string };
  wave: string;
  /** Standard labels of per-revision objects (put them on pod templates). */
  labels: Record<string, string>;
  /** App + component + revision: selectors of per-revision workloads. */
  selectorLabels: Record<string, string>;
  /** App + component: selectors of component-scoped objects (a Service over all revisions). */
  componentSelectorLabels: Record<string, string>;
}

/** Version assumed when a cluster's is unknown (e.g. `flotilla render` without cluster status). */
export const DEFAULT_CLUSTER_VERSION = "v1.30.0";

export function componentLabels(namespace: string, app: string, component: string): Record<string, string> {
  return {
    [LABEL_MANAGED_BY]: MANAGED_BY_VALUE,
    [LABEL_APP]: appLabelValue(namespace, app),
    [LABEL_COMPONENT]: component,
  };
}

export function buildContext(options: {
  namespace: string;
  app: string;
  component: string;
  revision: string;
  replicas: number;
  cluster: ClusterInfo;
  wave: string;
}): TemplateContext {
  const { namespace, app, component, revision } = options;
  const base = componentLabels(namespace, app, component);
  const selectorBase = { [LABEL_APP]: appLabelValue(namespace, app), [LABEL_COMPONENT]: component };
  return {
    appName: app,
    namespace,
    component,
    revision,
    name: `${component}-${revision}`,
    replicas: options.replicas,
    cluster: {
      name: options.cluster.name,
      labels: { ...options.cluster.labels },
      version: options.cluster.version ?? DEFAULT_CLUSTER_VERSION,
    },
    wave: options.wave,
    labels: { ...base, [LABEL_REVISION]: revision },
    selectorLabels: { ...selectorBase, [LABEL_REVISION]: revision },
    componentSelectorLabels: selectorBase,
  };
}
