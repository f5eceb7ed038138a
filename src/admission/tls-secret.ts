// The webhook's CA and serving certificate in a Secret of the controller's namespace
// (`flotilla-webhook-tls`), so every replica serves the same certificate and a restart keeps it.
// Writes are conditional (create, or replace at the resourceVersion read): two replicas rotating
// at once cannot both win, the loser reads the winner's certificate instead of overwriting it.

import { KubeApiError } from "../api/errors.js";
import { LABEL_MANAGED_BY, MANAGED_BY_VALUE } from "../api/labels.js";
import type { TlsMaterial } from "./certificates.js";

export const DEFAULT_SECRET_NAME = "flotilla-webhook-tls";
/** When a CA last joined the bundle (see TlsMaterial.bundleChangedAt). */
const ANNOTATION_BUNDLE_CHANGED = "flotilla.dev/ca-bundle-changed-at";

const KEYS = { caCert: "ca.crt", caKey: "ca.key", cert: "tls.crt", key: "tls.key", bundle: "ca-bundle.crt" } as const;

/** What the certificate loop reads and writes. */
export interface TlsStore {
  /** The stored material (undefined when absent or incomplete) and the version to write against (undefined: create). */
  read(): Promise<{ material: TlsMaterial | undefined; resourceVersion: string | undefined }>;
  /** Write at `resourceVersion` (undefined: create); false when someone else wrote first. */
  write(material: TlsMaterial, resourceVersion: string | undefined): Promise<boolean>;
}

/** The few requests the store makes (KubeClient.send fits). */
export interface SecretApi {
  send<T = unknown>(method: string, path: string, options?: { body?: unknown; contentType?: string }): Promise<{ status: number; body: T | undefined }>;
}

interface SecretObject {
  metadata?: { resourceVersion?: string; annotations?: Record<string, string> };
  data?: Record<string, string>;
}

/** Secret data → material; undefined when a key is missing. */
export function materialOf(secret: SecretObject): TlsMaterial | undefined {
  const data = secret.data ?? {};
  const text = (k: string) => (data[k] === undefined ? undefined : Buffer.from(data[k], "base64").toString("utf8"));
  const [caCert, caKey, cert, key, bundle] = [text(KEYS.caCert), text(KEYS.caKey), text(KEYS.cert), text(KEYS.key), text(KEYS.bundle)];
  if (!caCert || !caKey || !cert || !key || !bundle) return undefined;
  const changed = Date.parse(secret.metadata?.annotations?.[ANNOTATION_BUNDLE_CHANGED] ?? "");
  return { ca: { cert: caCert, key: caKey }, serving: { cert, key }, caBundle: bundle, bundleChangedAt: new Date(Number.isNaN(changed) ? 0 : changed) };
}

/** Material → the Secret to write. */
export function secretOf(material: TlsMaterial, name: string, namespace: string, resourceVersion?: string): Record<string, unknown> {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name,
      namespace,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY_VALUE },
      annotations: { [ANNOTATION_BUNDLE_CHANGED]: material.bundleChangedAt.toISOString() },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    data: {
      [KEYS.caCert]: b64(material.ca.cert),
      [KEYS.caKey]: b64(material.ca.key),
      [KEYS.cert]: b64(material.serving.cert),
      [KEYS.key]: b64(material.serving.key),
      [KEYS.bundle]: b64(material.caBundle),
    },
  };
}

/** The store backed by a Secret on the hub. */
export function secretStore(api: SecretApi, namespace: string, name = DEFAULT_SECRET_NAME): TlsStore {
  const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`;
  const object = `Secret/${namespace}/${name}`;
  const failed = (status: number, verb: string) =>
    new KubeApiError(`cannot ${verb} the webhook's TLS Secret (HTTP ${status})`, { object, status, retryable: status >= 500 || status === 429 });
  return {
    async read() {
      const res = await api.send<SecretObject>("GET", `${collection}/${encodeURIComponent(name)}`);
      if (res.status === 404) return { material: undefined, resourceVersion: undefined };
      if (res.status >= 300 || !res.body) throw failed(res.status, "read");
      return { material: materialOf(res.body), resourceVersion: res.body.metadata?.resourceVersion };
    },
    async write(material, resourceVersion) {
      // A conditional replace, not an apply: the Secret is this module's alone, and the
      // resourceVersion is what makes two replicas' rotations exclusive.
      const res =
        resourceVersion === undefined
          ? await api.send("POST", collection, { body: secretOf(material, name, namespace) })
          : await api.send("PUT", `${collection}/${encodeURIComponent(name)}`, { body: secretOf(material, name, namespace, resourceVersion) });
      if (res.status === 409) return false;
      if (res.status >= 300) throw failed(res.status, resourceVersion === undefined ? "create" : "update");
      return true;
    },
  };
}
