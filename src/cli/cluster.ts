// `flotilla cluster add|remove`: registers a member the way a platform team would by hand, with
// least privilege. On the member it creates Flotilla's own ServiceAccount, the rights the sync
// loop needs (src/sync/member-access.ts says which and why) and a token; on the hub, the Secret
// holding a kubeconfig with that token and the `Cluster`. The admin credentials the command runs
// with never leave the machine it runs on.

import { readFileSync } from "node:fs";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import { FlotillaError, KubeApiError } from "../api/errors.js";
import { API_VERSION } from "../api/labels.js";
import { toYaml } from "../api/serialize.js";
import type { Cluster, Manifest } from "../api/types.js";
import { KubeClient } from "../kube/client.js";
import {
  ACCESS_LABEL,
  RBAC,
  MEMBER_NAMESPACE,
  memberAccessManifests,
  memberKubeconfig,
  SYNC_ACCOUNT,
  SYNC_NAMESPACES_ROLE,
  SYNC_ROLE,
  SYNC_TOKEN_SECRET,
} from "../sync/member-access.js";
import { checkClusterName, parseLabel, parseNamespaces } from "./cluster-args.js";
import { clusterTable, formatClusterList } from "./cluster-view.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { registerClusters } from "./install.js";
import { loadKubeConfig } from "./kubeconfig.js";
import { addOutputOption, isDataFormat, TABLE_FORMATS, type TableFormat } from "./output.js";

async function waitForToken(member: KubeClient, timeoutMs: number): Promise<{ token: string; caData?: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const secret = await member.get({ apiVersion: "v1", kind: "Secret", namespace: MEMBER_NAMESPACE, name: SYNC_TOKEN_SECRET });
    const data = (secret?.data ?? {}) as Record<string, string>;
    if (data.token) return { token: Buffer.from(data.token, "base64").toString("utf8"), ...(data["ca.crt"] ? { caData: data["ca.crt"] } : {}) };
    if (Date.now() > deadline) {
      throw new FlotillaError(
        `the member did not fill the token of Secret ${MEMBER_NAMESPACE}/${SYNC_TOKEN_SECRET} within ${timeoutMs / 1000} s. Its kube-controller-manager must run the token controller (--service-account-private-key-file).`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The member's API server and CA as the given kubeconfig reaches it. */
function endpointOf(kc: KubeConfig): { server: string; caData?: string; insecureSkipTlsVerify?: boolean } {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new FlotillaError("--kubeconfig: the member's kubeconfig has no current cluster. Pass --context NAME.");
  let caData = cluster.caData;
  if (!caData && cluster.caFile) caData = readFileSync(cluster.caFile).toString("base64");
  return { server: cluster.server, ...(caData ? { caData } : {}), ...(cluster.skipTLSVerify ? { insecureSkipTlsVerify: true } : {}) };
}

/** Objects `cluster add` created earlier that `wanted` does not hold (e.g. a wider binding after --namespaces). */
async function staleAccess(member: KubeClient, wanted: readonly Manifest[]): Promise<Manifest[]> {
  const key = (o: Pick<Manifest, "kind" | "metadata">) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;
  const keep = new Set(wanted.map(key));
  const found: Manifest[] = [];
  for (const kind of ["RoleBinding", "ClusterRoleBinding", "ClusterRole"]) {
    // List items carry no kind of their own: name it from the request.
    for (const o of await member.list(RBAC, kind, { labelSelector: `${ACCESS_LABEL}=${SYNC_ACCOUNT}` })) found.push({ ...o, apiVersion: RBAC, kind });
  }
  return found.filter((o) => !keep.has(key(o)));
}

async function deleteAll(member: KubeClient, objects: readonly Manifest[]): Promise<void> {
  for (const o of objects) {
    await member.delete({
      apiVersion: o.apiVersion,
      kind: o.kind,
      name: o.metadata.name,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    });
  }
}

/** Delete the Cluster and its kubeconfig Secret from the hub; false when there was no Cluster. */
export async function unregisterCluster(hub: KubeConfig, name: string, namespace = MEMBER_NAMESPACE): Promise<boolean> {
  const client = new KubeClient({ kubeConfig: hub });
  try {
    const existed = await client.delete({ apiVersion: API_VERSION, kind: "Cluster", name });
    await client.delete({ apiVersion: "v1", kind: "Secret", namespace, name: `cluster-${name}` });
    return existed;
  } finally {
    client.close();
  }
}

export interface AddClusterOptions {
  name: string;
  member: KubeConfig;
  hub: KubeConfig;
  labels: Record<string, string>;
  namespaces?: string[];
  /** The member's API server as the hub's controller reaches it, when it differs from the kubeconfig's. */
  server?: string;
  log?: (line: string) => void;
  tokenTimeoutMs?: number;
}

/** Everything `flotilla cluster add` does; returns the Cluster's name. */
export async function addCluster(o: AddClusterOptions): Promise<void> {
  checkClusterName(o.name);
  const log = o.log ?? (() => {});
  const member = new KubeClient({ kubeConfig: o.member, fieldManager: "flotilla-cluster-add" });
  try {
    const wanted = memberAccessManifests(o.namespaces ? { namespaces: o.namespaces } : {});
    for (const m of wanted) await member.apply(m);
    // Kinds are listed per kind: the list includes RoleBindings and ClusterRoles of another layout.
    const stale = await staleAccess(member, wanted);
    await deleteAll(member, stale);
    for (const o of stale) log(`removed ${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name} (no longer wanted)`);
    log(
      o.namespaces
        ? `member: ServiceAccount ${MEMBER_NAMESPACE}/${SYNC_ACCOUNT}, bound to ClusterRole ${SYNC_ROLE} in ${o.namespaces.join(", ")} only (+ ${SYNC_NAMESPACES_ROLE})`
        : `member: ServiceAccount ${MEMBER_NAMESPACE}/${SYNC_ACCOUNT}, bound to ClusterRole ${SYNC_ROLE} cluster-wide`,
    );
    const { token, caData: tokenCa } = await waitForToken(member, o.tokenTimeoutMs ?? 30_000);
    const endpoint = endpointOf(o.member);
    const kubeconfig = memberKubeconfig({
      name: o.name,
      server: o.server ?? endpoint.server,
      ...((endpoint.caData ?? tokenCa) ? { caData: endpoint.caData ?? tokenCa } : {}),
      ...(endpoint.insecureSkipTlsVerify ? { insecureSkipTlsVerify: true } : {}),
      token,
    });
    await registerClusters(o.hub, [{ name: o.name, labels: o.labels, kubeconfig: toYaml(kubeconfig) }]);
    log(`hub: Secret ${MEMBER_NAMESPACE}/cluster-${o.name} (kubeconfig with the ${SYNC_ACCOUNT} token) and Cluster ${o.name}`);
  } finally {
    member.close();
  }
}

/** Everything `flotilla cluster remove` does: the hub's Cluster and Secret, and with the member's kubeconfig Flotilla's access there. */
export async function removeCluster(o: { name: string; hub: KubeConfig; member?: KubeConfig; log?: (line: string) => void }): Promise<void> {
  const log = o.log ?? (() => {});
  const removed = await unregisterCluster(o.hub, o.name);
  log(removed ? `hub: Cluster ${o.name} and its Secret removed` : `hub: no Cluster ${o.name}`);
  if (!o.member) return;
  const member = new KubeClient({ kubeConfig: o.member });
  try {
    const identity = memberAccessManifests().filter((m) => m.kind === "ServiceAccount" || m.kind === "Secret");
    await deleteAll(member, [...(await staleAccess(member, [])), ...identity]);
    log(`member: ${SYNC_ACCOUNT}'s token, ServiceAccount and bindings removed (the ${MEMBER_NAMESPACE} namespace and deployed workloads stay)`);
  } catch (e) {
    if (e instanceof KubeApiError) throw new FlotillaError(`removing Flotilla's access from the member failed: ${e.message}`, { cause: e });
    throw e;
  } finally {
    member.close();
  }
}

/** The Clusters on the hub, optionally only those matching a label selector. */
export async function listClusters(hub: KubeConfig, labelSelector?: string): Promise<Cluster[]> {
  const client = new KubeClient({ kubeConfig: hub });
  try {
    const items = await client.list(API_VERSION, "Cluster", labelSelector ? { labelSelector } : {});
    return items as unknown as Cluster[];
  } finally {
    client.close();
  }
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerClusterCommands(program: Command): void {
  const cluster = program.command("cluster").description(summaryOf("cluster"));
  cluster
    .command("add <name>")
    .description("register a member: a least-privilege ServiceAccount and token on it, the kubeconfig Secret and the Cluster on the hub")
    .addHelpText(
      "after",
      examples(
        "flotilla cluster add prod-eu --kubeconfig ~/.kube/prod-eu.yaml --label usage=production --label region=eu",
        "flotilla cluster add shared-1 --kubeconfig shared.yaml --context admin@shared-1 --namespaces team-a,team-b",
        "flotilla cluster add kind-dev --kubeconfig kind.yaml --server https://kind-dev-control-plane:6443 --hub-kubeconfig hub.yaml",
      ),
    )
    .requiredOption("--kubeconfig <file>", "the MEMBER's kubeconfig, with rights to create a namespace, a ServiceAccount and RBAC there")
    .option("--context <name>", "the context of the member's kubeconfig (default: its current context)")
    .option("--hub-kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--hub-context <name>", "the context of the hub's kubeconfig")
    .option("-l, --label <key=value>", "a label of the Cluster, for placement (repeatable)", collect, [])
    .option("--namespaces <a,b>", "restrict Flotilla to these namespaces of the member (RoleBindings instead of a ClusterRoleBinding)")
    .option("--server <url>", "the member's API server as the hub's controller reaches it (default: the kubeconfig's)")
    .action(
      async (
        name: string,
        opts: { kubeconfig: string; context?: string; hubKubeconfig?: string; hubContext?: string; label: string[]; namespaces?: string; server?: string },
      ) => {
        const labels = Object.fromEntries(opts.label.map((l) => parseLabel(l)));
        const namespaces = opts.namespaces === undefined ? undefined : parseNamespaces(opts.namespaces);
        await addCluster({
          name,
          member: loadKubeConfig(opts.kubeconfig, opts.context),
          hub: loadKubeConfig(opts.hubKubeconfig, opts.hubContext),
          labels,
          ...(namespaces ? { namespaces } : {}),
          ...(opts.server ? { server: opts.server } : {}),
          log: (line) => process.stdout.write(`${line}\n`),
        });
        process.stdout.write(`cluster ${name} added; \`kubectl get clusters\` shows when the controller reaches it\n`);
      },
    );
  const list = cluster
    .command("list")
    .alias("ls")
    .description("the members on the hub: Ready, Kubernetes version, labels and why one is not Ready, as kubectl get clusters")
    .option("--hub-kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--hub-context <name>", "the context of the hub's kubeconfig")
    .option("-l, --selector <selector>", "only the clusters matching this label selector, as kubectl's -l (usage=production,region in (eu,us))");
  addOutputOption(list, TABLE_FORMATS, "table, wide (paused, resync period, last probe), json or yaml (the Cluster objects)")
    .addHelpText(
      "after",
      examples("flotilla cluster list", "flotilla cluster list -l usage=production -o wide", "flotilla cluster list -o json | jq -r '.items[].metadata.name'"),
    )
    .action(async (opts: { hubKubeconfig?: string; hubContext?: string; selector?: string; output: TableFormat }) => {
      const items = await listClusters(loadKubeConfig(opts.hubKubeconfig, opts.hubContext), opts.selector);
      const format = opts.output;
      process.stdout.write(isDataFormat(format) ? formatClusterList(items, format) : clusterTable(items, Date.now(), format === "wide"));
    });
  cluster
    .command("remove <name>")
    .alias("rm")
    .description("unregister a member: its Cluster and Secret on the hub; with --kubeconfig, also Flotilla's ServiceAccount, token and bindings on it")
    .addHelpText("after", examples("flotilla cluster remove prod-eu", "flotilla cluster remove prod-eu --kubeconfig ~/.kube/prod-eu.yaml"))
    .option("--kubeconfig <file>", "the MEMBER's kubeconfig: also revoke Flotilla's access there")
    .option("--context <name>", "the context of the member's kubeconfig")
    .option("--hub-kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--hub-context <name>", "the context of the hub's kubeconfig")
    .action(async (name: string, opts: { kubeconfig?: string; context?: string; hubKubeconfig?: string; hubContext?: string }) => {
      await removeCluster({
        name,
        hub: loadKubeConfig(opts.hubKubeconfig, opts.hubContext),
        ...(opts.kubeconfig ? { member: loadKubeConfig(opts.kubeconfig, opts.context) } : {}),
        log: (line) => process.stdout.write(`${line}\n`),
      });
    });
}
