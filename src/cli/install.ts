// `flotilla install`: puts Flotilla on a hub with server-side apply, so running it again updates
// in place. It applies one kustomization folder of the package, read as `kubectl apply -k` reads
// it (bundle.ts): deploy/ (the controller with its Namespace, RBAC, storage, Service, budget and
// network policy), deploy/git-remote/, or crds/ alone; CRDs first, until they are established.
// Then the built-in definitions, which are not in the bundle: they are custom resources, and
// `kubectl apply -k` cannot create a CRD and its resources in one run. Also registers clusters
// for `flotilla up`.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { backoffDelay } from "../support/backoff.js";
import { FlotillaError, KubeApiError } from "../api/errors.js";
import { API_VERSION } from "../api/labels.js";
import type { Cluster, Manifest } from "../api/types.js";
import { FileDefinitionSource } from "../definitions/loader.js";
import { established, waitForCrds } from "../sync/apply.js";
import { sortForApply } from "../sync/order.js";
import { KubeClient } from "../kube/client.js";
import { controllerImage, objectLabel, PLACEHOLDER_REGISTRY, readBundle, requiredSecretKeys, withControllerImage } from "./bundle.js";
import { packageRoot } from "./package-root.js";

/** The package's kustomization folders. */
export const BUNDLES = {
  /** The controller on the hub, its environment repository on a PersistentVolumeClaim. */
  controller: "deploy",
  /** The controller with its environment repository on a Git remote (two replicas on emptyDir). */
  gitRemote: join("deploy", "git-remote"),
  /** The CRDs alone, for a controller that runs outside the cluster. */
  crds: "crds",
  /** The pull-mode agent, for a MEMBER cluster (`flotilla cluster add --mode pull` applies or prints it). */
  agent: join("deploy", "agent"),
} as const;

export function bundleDir(bundle: keyof typeof BUNDLES): string {
  return join(packageRoot(), BUNDLES[bundle]);
}

export interface InstallOptions {
  kubeConfig: KubeConfig;
  /** Definition folders; default the built-in `definitions/`. */
  definitionDirs: string[];
  /**
   * The kustomization folder to apply. Default: the package's crds/ — the API without the
   * controller, which then runs elsewhere (`flotilla up` runs it as a process: the local fleet
   * has no container runtime).
   */
  bundleDir?: string;
  /** The controller's image, replacing the bundle's (which is a placeholder: no image is published). */
  image?: string;
  /** Server-side dry run: the API server checks every object and stores none. */
  dryRun?: boolean;
  log?: (line: string) => void;
}

export interface InstallResult {
  crds: number;
  /** Objects of the bundle other than CRDs. */
  objects: number;
  definitions: number;
}

/** Apply with a few retries: a fresh API server may drop connections while CRDs settle. */
async function applyWithRetry(client: KubeClient, obj: Manifest, attempts = 6, dryRun = false): Promise<void> {
  for (let i = 1; ; i++) {
    try {
      await client.apply(obj, dryRun ? { dryRun: true } : {});
      return;
    } catch (e) {
      if (!(e instanceof KubeApiError) || !e.retryable || i >= attempts) throw e;
      await new Promise((r) => setTimeout(r, backoffDelay(i, { initialMs: 500, maxMs: Number.POSITIVE_INFINITY })));
    }
  }
}

/** The bundle's objects as they will be applied: the image set, and a placeholder image refused. */
export function installObjects(dir: string, image: string | undefined): Manifest[] {
  const objects = image === undefined ? readBundle(dir) : withControllerImage(readBundle(dir), image);
  const current = controllerImage(objects);
  if (current?.startsWith(`${PLACEHOLDER_REGISTRY}/`)) {
    throw new FlotillaError(
      `the controller image is ${current}, a placeholder: no Flotilla image is published. ` +
        "Build and push one from the Dockerfile and pass --image REF (or set it with kustomize edit set image), or install with --without-controller.",
    );
  }
  return objects;
}

async function allEstablished(client: KubeClient, crds: readonly Manifest[]): Promise<boolean> {
  const live = await Promise.all(crds.map((c) => client.get({ apiVersion: c.apiVersion, kind: c.kind, name: c.metadata.name }).catch(() => undefined)));
  return live.every(established);
}

export async function installToHub(options: InstallOptions): Promise<InstallResult> {
  const log = options.log ?? (() => {});
  const dir = options.bundleDir ?? bundleDir("crds");
  const dryRun = options.dryRun ?? false;
  const objects = installObjects(dir, options.image);
  const crds = objects.filter((o) => o.kind === "CustomResourceDefinition");
  const rest = sortForApply(objects.filter((o) => o.kind !== "CustomResourceDefinition"));
  const suffix = dryRun ? " (server dry run)" : "";
  const client = new KubeClient({ kubeConfig: options.kubeConfig });
  try {
    for (const crd of crds) await applyWithRetry(client, crd, 6, dryRun);
    if (!dryRun) {
      const pending = await waitForCrds(client, crds, { timeoutMs: 60_000 });
      if (pending.length) {
        throw new FlotillaError(`CRDs not established within 60 s: ${pending.map((c) => c.metadata.name).join(", ")}`);
      }
    }
    log(`installed ${crds.length} CRDs${suffix}`);
    for (const obj of rest) await applyWithRetry(client, obj, 6, dryRun);
    if (rest.length) log(`applied ${rest.length} objects${suffix}: ${rest.map(objectLabel).join(", ")}`);
    const image = controllerImage(objects);
    if (image) log(`controller image ${image}`);
    for (const { secret, key } of requiredSecretKeys(objects)) {
      const live = await client.get({ apiVersion: "v1", kind: "Secret", namespace: secret.namespace, name: secret.name }).catch(() => undefined);
      if (!Object.hasOwn((live?.data as Record<string, string> | undefined) ?? {}, key)) {
        log(
          `the controller waits for key "${key}" of Secret ${secret.namespace}/${secret.name}: ` +
            `create it (kubectl -n ${secret.namespace} create secret generic ${secret.name} --from-literal=${key}=…); see docs/install.md`,
        );
      }
    }
    let definitions = 0;
    // A dry run stores no CRD: the definitions can be checked only against CRDs already there.
    if (!dryRun || (await allEstablished(client, crds))) {
      const docs = (await new FileDefinitionSource(options.definitionDirs).loadDocuments()) as Manifest[];
      for (const d of docs) await applyWithRetry(client, d, 6, dryRun);
      definitions = docs.length;
      log(`installed ${definitions} definitions${suffix}`);
    } else log("definitions not checked: their CRDs are not on the hub yet, and a dry run stores none");
    return { crds: crds.length, objects: rest.length, definitions };
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

/**
 * The controller's namespace: its Lease, the webhook's certificate, the hub's sealing keys and push
 * members' kubeconfigs live there. deploy/ creates it on a real hub; the local fleet needs it made,
 * also when no member is pushed.
 */
export async function ensureControllerNamespace(kubeConfig: KubeConfig, namespace = "flotilla-system"): Promise<void> {
  const client = new KubeClient({ kubeConfig });
  try {
    await applyWithRetry(client, { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  } finally {
    client.close();
  }
}

/** Create the `flotilla-system` namespace, one kubeconfig Secret and one Cluster per member. */
export async function registerClusters(kubeConfig: KubeConfig, clusters: ClusterRegistration[], namespace = "flotilla-system"): Promise<void> {
  await ensureControllerNamespace(kubeConfig, namespace);
  const client = new KubeClient({ kubeConfig });
  try {
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

/**
 * Register clusters by the kubeconfig files they come with (the local fleet's members, whose
 * admin kubeconfigs are fine in a sandbox; real members go through `cluster add` instead).
 */
export async function registerClusterFiles(
  kubeConfig: KubeConfig,
  clusters: readonly { name: string; labels: Record<string, string>; kubeconfigPath: string }[],
): Promise<void> {
  const registrations = await Promise.all(
    clusters.map(async (c) => ({ name: c.name, labels: c.labels, kubeconfig: await readFile(c.kubeconfigPath, "utf8") })),
  );
  await registerClusters(kubeConfig, registrations);
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
