// Which cluster a command talks to, by kubectl's rules: `--kubeconfig FILE`, else $KUBECONFIG,
// else ~/.kube/config (or in-cluster credentials); `--context NAME` picks a context of it; the
// namespace defaults to the context's. A file that is missing says which file and how to point
// at another.

import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, join } from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { FlotillaError } from "../api/errors.js";

export interface ClusterOptions {
  kubeconfig?: string;
  context?: string;
}

const POINT_AT = "Pass --kubeconfig FILE or set KUBECONFIG (as for kubectl).";

export function loadKubeConfig(file: string | undefined, context?: string): KubeConfig {
  const kc = new KubeConfig();
  if (file) {
    if (!existsSync(file)) throw new FlotillaError(`--kubeconfig: ${file} does not exist. ${POINT_AT}`);
    kc.loadFromFile(file);
  } else {
    // As kubectl: files of KUBECONFIG that do not exist are skipped (client-node would fail on
    // them), the others merged in order, the first one's current context kept; none is an error.
    const listed = (process.env.KUBECONFIG ?? "").split(delimiter).filter(Boolean);
    const existing = listed.filter((f) => existsSync(f));
    if (listed.length > 0 && existing.length === 0) {
      throw new FlotillaError(`KUBECONFIG names ${listed.join(", ")}, none of which exists. ${POINT_AT}`);
    }
    if (existing.length > 0) {
      kc.loadFromFile(existing[0] as string);
      for (const f of existing.slice(1)) {
        const next = new KubeConfig();
        next.loadFromFile(f);
        kc.mergeConfig(next, Boolean(kc.currentContext));
      }
    } else kc.loadFromDefault();
    if (!kc.getCurrentCluster()) {
      throw new FlotillaError(`no kubeconfig found (KUBECONFIG is unset, ${join(homedir(), ".kube", "config")} has no cluster). ${POINT_AT}`);
    }
  }
  if (context !== undefined) {
    if (!kc.getContexts().some((c) => c.name === context)) {
      const known = kc.getContexts().map((c) => c.name);
      throw new FlotillaError(`--context: no context "${context}" in the kubeconfig (it has: ${known.join(", ") || "none"}).`);
    }
    kc.setCurrentContext(context);
  }
  return kc;
}

/** The namespace a command works in: `-n`, else the kubeconfig context's, else `default` (as kubectl). */
export function namespaceOf(kc: KubeConfig, namespace: string | undefined): string {
  if (namespace) return namespace;
  const current = kc.getContextObject(kc.getCurrentContext());
  return current?.namespace || "default";
}

/** Resolves on SIGINT/SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (s: NodeJS.Signals) => resolve(s);
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}
