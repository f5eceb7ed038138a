// Where a client connects and how it proves who it is: from a kubeconfig (tokens, client
// certificates, exec plugins, all through client-node), or from a bearer token the local fleet
// minted itself (which needs no kubeconfig parsing and no client-node import).

import type https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeApiError } from "../api/errors.js";

export interface Credentials {
  server: URL;
  /** Sets TLS material and authentication headers on request options; may refresh a token. */
  applyTo(options: https.RequestOptions): Promise<void>;
}

/** The current context of a kubeconfig. */
export function kubeConfigCredentials(kubeConfig: KubeConfig): Credentials {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new KubeApiError("the kubeconfig has no current cluster; set current-context", { object: "kubeconfig", retryable: false });
  return { server: new URL(cluster.server), applyTo: (options) => kubeConfig.applyToHTTPSOptions(options) };
}

/** A bearer token; without `caPem` the serving certificate is not verified (loopback only). */
export function tokenCredentials(options: { server: string; token: string; caPem?: string }): Credentials {
  return {
    server: new URL(options.server),
    applyTo: async (request) => {
      request.headers = { ...(request.headers ?? {}), Authorization: `Bearer ${options.token}` };
      if (options.caPem) request.ca = options.caPem;
      else request.rejectUnauthorized = false;
    },
  };
}
