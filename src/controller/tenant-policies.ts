// The controller's view of tenancy on the hub: an informer on TenantPolicies, and one on
// Namespaces only while some policy selects namespaces by label (a hub without such policies is
// not listed and watched for nothing). Answers the effective policy of a namespace; the decisions
// themselves are src/tenancy/'s, pure.

import type { KubernetesObject, V1Namespace } from "@kubernetes/client-node";
import type { TenantPolicy } from "../api/types.js";
import { type EffectivePolicy, effectivePolicy, policyFingerprint, type TenantNamespace, usesNamespaceSelector } from "../tenancy/policy.js";
import { type Hub, type SupervisedInformer, type SupervisorOptions, supervisedInformer } from "./hub.js";

export interface TenantPolicyWatchOptions {
  hub: Hub;
  /**
   * What tenancy changed for: a namespace's labels (its name), or the policies (undefined: any
   * namespace may be affected). The controller requeues the deployments concerned.
   */
  onChange: (namespace: string | undefined) => void;
  supervisor?: SupervisorOptions;
}

export class TenantPolicyWatch {
  private readonly policies: SupervisedInformer<TenantPolicy>;
  private namespaces: SupervisedInformer<V1Namespace> | undefined;
  /** Labels of each namespace as last seen, to tell a label change from any other update. */
  private readonly labelsSeen = new Map<string, string>();

  constructor(private readonly o: TenantPolicyWatchOptions) {
    const changed = () => {
      this.watchNamespacesIfNeeded();
      o.onChange(undefined);
    };
    this.policies = o.hub.informer<TenantPolicy>("TenantPolicy", { onChange: changed, onDelete: changed }, o.supervisor ?? {});
  }

  private watchNamespacesIfNeeded(): void {
    if (this.namespaces || !usesNamespaceSelector(this.policies.list())) return;
    const seen = (ns: V1Namespace) => {
      const name = ns.metadata?.name;
      if (!name) return;
      const labels = JSON.stringify(ns.metadata?.labels ?? {});
      if (this.labelsSeen.get(name) === labels) return;
      this.labelsSeen.set(name, labels);
      this.o.onChange(name);
    };
    this.namespaces = supervisedInformer<KubernetesObject>(
      this.o.hub.kc,
      "/api/v1/namespaces",
      () => this.o.hub.core.listNamespace() as Promise<{ items: KubernetesObject[] }>,
      {
        onChange: (ns) => seen(ns as V1Namespace),
        onDelete: (ns) => {
          const name = ns.metadata?.name;
          if (!name) return;
          this.labelsSeen.delete(name);
          this.o.onChange(name);
        },
      },
      { ...this.o.supervisor, name: "Namespace" },
    ) as SupervisedInformer<V1Namespace>;
  }

  /**
   * Both caches listed (the namespaces' only when watched): decisions before that could be too
   * open. A hub without the TenantPolicy CRD (an upgrade that did not apply it yet) has no policy
   * by construction, so it counts as listed and empty: the open default, not a stalled controller.
   */
  get synced(): boolean {
    return (this.policies.synced || this.policies.notServed) && (this.namespaces?.synced ?? true);
  }

  get watching(): boolean {
    return this.policies.watching && (this.namespaces?.watching ?? true);
  }

  /** Every TenantPolicy on the hub. */
  policyList(): readonly TenantPolicy[] {
    return this.policies.notServed ? [] : this.policies.list();
  }

  /** The hub's namespaces with their labels, or undefined while no policy selects by label (they are not watched then). */
  namespaceList(): TenantNamespace[] | undefined {
    return this.namespaces?.list().flatMap((ns) => (ns.metadata?.name ? [{ name: ns.metadata.name, labels: ns.metadata.labels }] : []));
  }

  /** The policies that govern a namespace now. */
  effective(namespace: string): EffectivePolicy {
    const policies = this.policies.notServed ? [] : this.policies.list();
    const labels = this.namespaces?.get(namespace)?.metadata?.labels;
    return effectivePolicy(policies, { name: namespace, labels });
  }

  /** What a cached answer about a namespace depends on: its policies (by resourceVersion). */
  fingerprint(effective: EffectivePolicy): string {
    return policyFingerprint(effective);
  }

  async stop(): Promise<void> {
    await Promise.all([this.policies.stop(), this.namespaces?.stop()]);
  }
}
