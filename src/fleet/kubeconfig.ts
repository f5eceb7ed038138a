// Renders the kubeconfig files of the fleet. Pure: data in, YAML out. The fleet writes one per
// cluster (`<dir>/<cluster>.kubeconfig`) for kubectl, the controller manager and the tests.
import yaml from "js-yaml";

export interface KubeconfigOptions {
  /** Name of the cluster, the user and the context (e.g. `prod-eu`). */
  name: string;
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** Bearer token of the user. */
  token: string;
  /**
   * PEM of the CA that signed the API server's serving certificate. When absent the kubeconfig
   * says `insecure-skip-tls-verify: true` (only acceptable because the server is on loopback).
   */
  caPem?: string;
  /** User name in the file; default `<name>-admin`. */
  user?: string;
}

export function renderKubeconfig(options: KubeconfigOptions): string {
  const user = options.user ?? `${options.name}-admin`;
  const cluster: Record<string, unknown> = { server: options.server };
  if (options.caPem) cluster["certificate-authority-data"] = Buffer.from(options.caPem).toString("base64");
  else cluster["insecure-skip-tls-verify"] = true;
  const doc = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: options.name, cluster }],
    users: [{ name: user, user: { token: options.token } }],
    contexts: [{ name: options.name, context: { cluster: options.name, user } }],
    "current-context": options.name,
    preferences: {},
  };
  return yaml.dump(doc, { lineWidth: -1, noRefs: true });
}

/**
 * Split a PEM bundle into its certificates. kube-apiserver's self-signed `apiserver.crt` holds the
 * serving certificate followed by the CA that signed it; the last one is what clients must trust.
 */
export function pemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g)?.map((c) => (c.endsWith("\n") ? c : `${c}\n`)) ?? [];
}
