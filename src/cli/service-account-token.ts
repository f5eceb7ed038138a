// A ServiceAccount's long-lived token, as `cluster add` hands it over: a Secret of type
// service-account-token that the cluster's token controller fills (Kubernetes 1.24 and later create
// none by themselves), and the API server address and CA a kubeconfig around it needs.

import { readFileSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import { FlotillaError } from "../api/errors.js";
import type { KubeClient } from "../kube/client.js";

/** The token and the cluster's CA (base64, as in a kubeconfig) once the token controller filled the Secret. */
export async function waitForToken(
  client: KubeClient,
  secret: { namespace: string; name: string },
  options: { timeoutMs: number; cluster?: string },
): Promise<{ token: string; caData?: string }> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    const found = await client.get({ apiVersion: "v1", kind: "Secret", namespace: secret.namespace, name: secret.name });
    const data = (found?.data ?? {}) as Record<string, string>;
    if (data.token) return { token: Buffer.from(data.token, "base64").toString("utf8"), ...(data["ca.crt"] ? { caData: data["ca.crt"] } : {}) };
    if (Date.now() > deadline) {
      throw new FlotillaError(
        `the ${options.cluster ?? "cluster"} did not fill the token of Secret ${secret.namespace}/${secret.name} within ${options.timeoutMs / 1000} s. Its kube-controller-manager must run the token controller (--service-account-private-key-file).`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The API server and CA as the given kubeconfig reaches them; `noCluster` is the error when it names no cluster. */
export function endpointOf(
  kc: KubeConfig,
  noCluster = "--kubeconfig: the member's kubeconfig has no current cluster. Pass --context NAME.",
): { server: string; caData?: string; insecureSkipTlsVerify?: boolean } {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new FlotillaError(noCluster);
  let caData = cluster.caData;
  if (!caData && cluster.caFile) caData = readFileSync(cluster.caFile).toString("base64");
  return { server: cluster.server, ...(caData ? { caData } : {}), ...(cluster.skipTLSVerify ? { insecureSkipTlsVerify: true } : {}) };
}
