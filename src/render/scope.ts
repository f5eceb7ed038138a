// What the renderer knows of kinds without asking a cluster: the scope of Kubernetes' built-in
// kinds (up to 1.32) and of well-known add-ons' cluster-scoped kinds, and their exact spelling.
// It is the early, offline check only: a kind it does not know is treated as namespaced here, and
// the sync loop refuses it at apply time if the cluster's discovery says it is cluster-scoped
// (sync/scope-check.ts). Never used to allow anything the cluster would say is cluster-wide.

/** Kinds by API group (`""` is the core group), split by scope. */
interface GroupKinds {
  namespaced?: readonly string[];
  cluster?: readonly string[];
}

const BUILT_IN: Readonly<Record<string, GroupKinds>> = {
  "": {
    namespaced: [
      "Binding",
      "ConfigMap",
      "Endpoints",
      "Event",
      "LimitRange",
      "PersistentVolumeClaim",
      "Pod",
      "PodTemplate",
      "ReplicationController",
      "ResourceQuota",
      "Secret",
      "Service",
      "ServiceAccount",
    ],
    cluster: ["ComponentStatus", "Namespace", "Node", "PersistentVolume"],
  },
  apps: { namespaced: ["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"] },
  autoscaling: { namespaced: ["HorizontalPodAutoscaler"] },
  batch: { namespaced: ["CronJob", "Job"] },
  policy: { namespaced: ["PodDisruptionBudget"], cluster: ["PodSecurityPolicy"] },
  "networking.k8s.io": { namespaced: ["Ingress", "NetworkPolicy"], cluster: ["IngressClass", "IPAddress", "ServiceCIDR"] },
  "rbac.authorization.k8s.io": { namespaced: ["Role", "RoleBinding"], cluster: ["ClusterRole", "ClusterRoleBinding"] },
  "storage.k8s.io": { namespaced: ["CSIStorageCapacity"], cluster: ["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment", "VolumeAttributesClass"] },
  "admissionregistration.k8s.io": {
    cluster: [
      "MutatingAdmissionPolicy",
      "MutatingAdmissionPolicyBinding",
      "MutatingWebhookConfiguration",
      "ValidatingAdmissionPolicy",
      "ValidatingAdmissionPolicyBinding",
      "ValidatingWebhookConfiguration",
    ],
  },
  "apiextensions.k8s.io": { cluster: ["CustomResourceDefinition"] },
  "apiregistration.k8s.io": { cluster: ["APIService"] },
  "scheduling.k8s.io": { cluster: ["PriorityClass"] },
  "node.k8s.io": { cluster: ["RuntimeClass"] },
  "certificates.k8s.io": { cluster: ["CertificateSigningRequest", "ClusterTrustBundle"] },
  "coordination.k8s.io": { namespaced: ["Lease", "LeaseCandidate"] },
  "discovery.k8s.io": { namespaced: ["EndpointSlice"] },
  "events.k8s.io": { namespaced: ["Event"] },
  "flowcontrol.apiserver.k8s.io": { cluster: ["FlowSchema", "PriorityLevelConfiguration"] },
  "resource.k8s.io": { namespaced: ["ResourceClaim", "ResourceClaimTemplate"], cluster: ["DeviceClass", "ResourceSlice"] },
  "authentication.k8s.io": { cluster: ["SelfSubjectReview", "TokenReview"] },
  "authorization.k8s.io": { namespaced: ["LocalSubjectAccessReview"], cluster: ["SelfSubjectAccessReview", "SelfSubjectRulesReview", "SubjectAccessReview"] },
  "storagemigration.k8s.io": { cluster: ["StorageVersionMigration"] },
  "internal.apiserver.k8s.io": { cluster: ["StorageVersion"] },
  "snapshot.storage.k8s.io": { namespaced: ["VolumeSnapshot"], cluster: ["VolumeSnapshotClass", "VolumeSnapshotContent"] },
  "gateway.networking.k8s.io": {
    namespaced: ["Gateway", "GRPCRoute", "HTTPRoute", "ReferenceGrant", "TCPRoute", "TLSRoute", "UDPRoute"],
    cluster: ["GatewayClass"],
  },
  "flotilla.dev": { namespaced: ["ApplicationDeployment"], cluster: ["Cluster", "ComponentDefinition", "TraitDefinition"] },
  // Add-ons whose cluster-wide kinds a tenant could otherwise name (the sync loop's discovery
  // check catches every other one; listing these makes the error appear at render time).
  "cert-manager.io": { namespaced: ["Certificate", "CertificateRequest", "Issuer"], cluster: ["ClusterIssuer"] },
  "kyverno.io": { namespaced: ["CleanupPolicy", "Policy", "PolicyException"], cluster: ["ClusterCleanupPolicy", "ClusterPolicy"] },
  "external-secrets.io": { namespaced: ["ExternalSecret", "SecretStore"], cluster: ["ClusterExternalSecret", "ClusterSecretStore"] },
  "templates.gatekeeper.sh": { cluster: ["ConstraintTemplate"] },
  "argoproj.io": { namespaced: ["Rollout", "Workflow", "WorkflowTemplate"], cluster: ["ClusterWorkflowTemplate"] },
  "crd.projectcalico.org": { cluster: ["GlobalNetworkPolicy", "GlobalNetworkSet"] },
  "cilium.io": { namespaced: ["CiliumNetworkPolicy"], cluster: ["CiliumClusterwideNetworkPolicy"] },
  "karpenter.sh": { cluster: ["NodeClaim", "NodePool"] },
};

interface KindInfo {
  kind: string;
  clusterScoped: boolean;
}

/** `${group}/${kind}` → info, and `${group}/${lower-case kind}` → the spelling the group uses. */
const EXACT = new Map<string, KindInfo>();
const BY_LOWER = new Map<string, string>();
for (const [group, kinds] of Object.entries(BUILT_IN)) {
  for (const [list, clusterScoped] of [
    [kinds.namespaced ?? [], false],
    [kinds.cluster ?? [], true],
  ] as const) {
    for (const kind of list) {
      EXACT.set(`${group}/${kind}`, { kind, clusterScoped });
      BY_LOWER.set(`${group}/${kind.toLowerCase()}`, kind);
    }
  }
}

/** `apps/v1` → `apps`; `v1` → `` (the core group). */
export function groupOf(apiVersion: string): string {
  const i = apiVersion.indexOf("/");
  return i === -1 ? "" : apiVersion.slice(0, i);
}

/**
 * The spelling the API server serves: `core/v1` (which some tools write) is `v1`. Every rule
 * compares normalised versions, so one object cannot pass a rule under a second spelling.
 */
export function normalizeApiVersion(apiVersion: string): string {
  return apiVersion.startsWith("core/") ? apiVersion.slice("core/".length) : apiVersion;
}

export function isClusterScoped(apiVersion: string, kind: string): boolean {
  return EXACT.get(`${groupOf(normalizeApiVersion(apiVersion))}/${kind}`)?.clusterScoped === true;
}

/** The kind is one the renderer knows to be namespaced (no cluster-scoped mark ever needed). */
export function isKnownNamespaced(apiVersion: string, kind: string): boolean {
  return EXACT.get(`${groupOf(normalizeApiVersion(apiVersion))}/${kind}`)?.clusterScoped === false;
}

/**
 * The known kind that `kind` misspells by case only (`secret`, `SECRET` → `Secret`), or undefined.
 * The API server would refuse such a kind, but rules that compare kinds must never see it.
 */
export function caseVariantOf(apiVersion: string, kind: string): string | undefined {
  const group = groupOf(normalizeApiVersion(apiVersion));
  if (EXACT.has(`${group}/${kind}`)) return undefined;
  return BY_LOWER.get(`${group}/${kind.toLowerCase()}`);
}
