// `flotilla install`: puts Flotilla's API on a hub — the CRDs (waiting until they are
// established) and the built-in definitions — with server-side apply, so running it again
// updates in place. Also registers clusters for `flotilla up`.

import type { KubeConfig } from "@kubernetes/client-node";
import { customResourceDefinitions } from "../api/crds.js";
import { backoffDelay } from "../support/backoff.js";
import { FlotillaError, KubeApiError } from "../api/errors.js";
import { API_VERSION } from "../api/labels.js";
import type { Cluster, Manifest } from "../api/types.js";
import { FileDefinitionSource } from "../definitions/loader.js";
import { waitForCrds } from "../sync/apply.js";
import { KubeClient } from "../kube/client.js";

export interface InstallOptions {
  kubeConfig: KubeConfig;
  /** Definition folders; default the built-in `definitions/`. */
  definitionDirs: string[];
  log?: (line: string) => void;
}

/** Apply with a few retries: a fresh API server may drop connections while CRDs settle. */
async function applyWithRetry(client: KubeClient, obj: Manifest, attempts = 6): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await client.apply(obj);
      return;
    } catch (e) {
      if (!(e instanceof KubeApiError) || !e.retryable || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, backoffDelay(i, { initialMs: 500, maxMs: Number.POSITIVE_INFINITY })));
    }
  }
}

export async function installToHub(options: InstallOptions): Promise<{ crds: number; definitions: number }> {
  const log = options.log ?? (() => {});
  const client = new KubeClient({ kubeConfig: options.kubeConfig });
  try {
    const crds = customResourceDefinitions() as Manifest[];
    for (const crd of crds) await applyWithRetry(client, crd);
    const pending = await waitForCrds(client, crds, { timeoutMs: 60_000 });
    if (pending.length) {
      throw new FlotillaError(`CRDs not established within 60 s: ${pending.map((c) => c.metadata.name).join(", ")}`);
    }
    log(`installed ${crds.length} CRDs`);
    const definitions = (await new FileDefinitionSource(options.definitionDirs).loadDocuments()) as Manifest[];
    for (const d of definitions) await applyWithRetry(client, d);
    log(`installed ${definitions.length} definitions`);
    return { crds: crds.length, definitions: definitions.length };
  } finally {
    client.close();
  }
}

export interface ClusterRegistration {
  name: string;
  labels: Record<string, string>;
  /** The member's kubeconfig (contains a token: it goes into a Secret, never into a Cluster). */
  kubeconfig: string;
}

/** Create the `flotilla-system` namespace, one kubeconfig Secret and one Cluster per member. */
export async function registerClusters(kubeConfig: KubeConfig, clusters: ClusterRegistration[], namespace = "flotilla-system"): Promise<void> {
  const client = new KubeClient({ kubeConfig });
  try {
    await applyWithRetry(client, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
    for (const c of clusters) {
      await applyWithRetry(client, {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: `cluster-${c.name}`, namespace, labels: { "app.kubernetes.io/part-of": "flotilla" } },
        type: "Opaque",
        stringData: { kubeconfig: c.kubeconfig },
      });
      const cluster: Cluster = {
        apiVersion: API_VERSION,
        kind: "Cluster",
        metadata: { name: c.name, labels: c.labels },
        spec: { kubeconfigSecretRef: { namespace, name: `cluster-${c.name}`, key: "kubeconfig" } },
      };
      await applyWithRetry(client, cluster as unknown as Manifest);
    }
  } finally {
    client.close();
  }
}

/** Apply any manifests (e.g. an example deployment) to the hub. */
export async function applyManifests(kubeConfig: KubeConfig, manifests: Manifest[]): Promise<void> {
  const client = new KubeClient({ kubeConfig });
  try {
    for (const m of manifests) await applyWithRetry(client, m);
  } finally {
    client.close();
  }
}
