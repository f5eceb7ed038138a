// `flotilla cluster add|remove`: registers a member the way a platform team would by hand, with
// least privilege. On the member it creates Flotilla's own ServiceAccount, the rights the sync
// loop needs (src/sync/member-access.ts says which and why) and a token; on the hub, the Secret
// holding a kubeconfig with that token and the `Cluster`. The admin credentials the command runs
// with never leave the machine it runs on.

import type { KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import { FlotillaError, KubeApiError } from "../api/errors.js";
import { API_VERSION } from "../api/labels.js";
import { toYaml } from "../api/serialize.js";
import type { Cluster, Manifest } from "../api/types.js";
import { KubeClient } from "../kube/client.js";
import {
  ACCESS_LABEL,
  AGENT_NAMESPACE,
  RBAC,
  MEMBER_NAMESPACE,
  memberAccessManifests,
  memberKubeconfig,
  SYNC_ACCOUNT,
  SYNC_NAMESPACES_ROLE,
  SYNC_ROLE,
  SYNC_TOKEN_SECRET,
} from "../sync/member-access.js";
import { PLACEHOLDER_REGISTRY } from "./bundle.js";
import { type AddClusterArgs, type AddClusterFlags, checkClusterName, parseAddClusterArgs, parseLabel } from "./cluster-args.js";
import { clusterTable, formatClusterList } from "./cluster-view.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { registerClusters } from "./install.js";
import { loadKubeConfig } from "./kubeconfig.js";
import { hubKeySecretName } from "../secrets/keys.js";
import { endpointOf, waitForToken } from "./service-account-token.js";
import { addPullCluster, registeredMode, removePullCluster } from "./pull-cluster.js";
import { yamlStream } from "./pull-access.js";
import { addOutputOption, isDataFormat, TABLE_FORMATS, type TableFormat } from "./output.js";
import { collect } from "./repeatable.js";

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

/**
 * Delete the Cluster, its kubeconfig Secret and its sealing key Secret (push mode) from the hub;
 * false when there was no Cluster. (The controller deletes the key too; this covers one not running.)
 */
export async function unregisterCluster(hub: KubeConfig, name: string, namespace = MEMBER_NAMESPACE): Promise<boolean> {
  const client = new KubeClient({ kubeConfig: hub });
  try {
    const existed = await client.delete({ apiVersion: API_VERSION, kind: "Cluster", name });
    await client.delete({ apiVersion: "v1", kind: "Secret", namespace, name: `cluster-${name}` });
    await client.delete({ apiVersion: "v1", kind: "Secret", namespace, name: hubKeySecretName(name) });
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
  if ((await registeredMode(o.hub, o.name)) === "Pull") {
    throw new FlotillaError(
      `cluster ${o.name} is registered in pull mode (an agent in it pulls). Run flotilla cluster remove ${o.name} first, then add it in push mode.`,
    );
  }
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
    const { token, caData: tokenCa } = await waitForToken(
      member,
      { namespace: MEMBER_NAMESPACE, name: SYNC_TOKEN_SECRET },
      { timeoutMs: o.tokenTimeoutMs ?? 30_000, cluster: "member" },
    );
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

/**
 * `cluster add --mode pull`: the hub side, then the agent's install applied to the member
 * (--kubeconfig) or printed on stdout for `> agent.yaml` (everything else on stderr, then).
 */
async function addPullClusterCommand(
  name: string,
  args: Extract<AddClusterArgs, { mode: "Pull" }>,
  o: { hub: KubeConfig; labels: Record<string, string>; context?: string },
): Promise<void> {
  const print = args.kubeconfig === undefined;
  const say = (line: string) => (print ? process.stderr : process.stdout).write(`${line}\n`);
  const result = await addPullCluster({
    name,
    hub: o.hub,
    labels: o.labels,
    gitUrl: args.gitUrl,
    ...(args.hubServer ? { hubServer: args.hubServer } : {}),
    ...(args.image ? { image: args.image } : {}),
    ...(args.kubeconfig ? { member: loadKubeConfig(args.kubeconfig, o.context) } : {}),
    log: say,
  });
  if (result.applied) {
    say(`cluster ${name} added; its agent reports once its Pods run (kubectl -n ${AGENT_NAMESPACE} get pods on the member, flotilla cluster list on the hub)`);
    return;
  }
  process.stdout.write(yamlStream(result.install));
  say(`the agent's install for ${name} is on stdout: apply it on the member (kubectl apply -f FILE). It holds the agent's hub token: keep it as a password.`);
  if (result.image?.startsWith(`${PLACEHOLDER_REGISTRY}/`)) {
    say(`its image ${result.image} is a placeholder (no image is published): build and push one from the Dockerfile, and add --image REF.`);
  }
}

export function registerClusterCommands(program: Command): void {
  const cluster = program.command("cluster").description(summaryOf("cluster"));
  cluster
    .command("add <name>")
    .description(
      "register a member. Push (default): a least-privilege ServiceAccount and token on it, the kubeconfig Secret and the Cluster on the hub. " +
        "Pull: the agent's identity and the Cluster on the hub, and the agent's install for the member (applied with --kubeconfig, else printed)",
    )
    .addHelpText(
      "after",
      examples(
        "flotilla cluster add prod-eu --kubeconfig ~/.kube/prod-eu.yaml --label usage=production --label region=eu",
        "flotilla cluster add shared-1 --kubeconfig shared.yaml --context admin@shared-1 --namespaces team-a,team-b",
        "flotilla cluster add kind-dev --kubeconfig kind.yaml --server https://kind-dev-control-plane:6443 --hub-kubeconfig hub.yaml",
        "flotilla cluster add edge-1 --mode pull --git-url http://flotilla.example.com:8082/env.git --image reg.example.com/flotilla:0.1.0 > agent.yaml",
        "flotilla cluster add edge-2 --mode pull --git-url https://git.example.com/platform/env.git --hub-server https://hub.example.com:6443 --kubeconfig edge-2.yaml --image REF",
      ),
    )
    .option("--mode <push|pull>", "push: the hub's controller applies to the member; pull: an agent in the member pulls and applies (default push)")
    .option(
      "--kubeconfig <file>",
      "the MEMBER's kubeconfig, with rights to create a namespace, a ServiceAccount and RBAC there (required in push mode; in pull mode, apply the agent there instead of printing it)",
    )
    .option("--context <name>", "the context of the member's kubeconfig (default: its current context)")
    .option("--hub-kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--hub-context <name>", "the context of the hub's kubeconfig")
    .option("-l, --label <key=value>", "a label of the Cluster, for placement (repeatable)", collect, [])
    .option("--namespaces <a,b>", "push mode: restrict Flotilla to these namespaces of the member (RoleBindings instead of a ClusterRoleBinding)")
    .option("--server <url>", "push mode: the member's API server as the hub's controller reaches it (default: the kubeconfig's)")
    .option(
      "--git-url <url>",
      `pull mode (required): what the agent fetches, the controller's Git server http(s)://<controller>:8082/env.git or the team's remote`,
    )
    .option("--hub-server <url>", "pull mode: the hub's API server as the agent reaches it (default: the hub kubeconfig's)")
    .option("--image <ref>", "pull mode: the agent's image (none is published; required with --kubeconfig)")
    .action(async (name: string, opts: AddClusterFlags & { context?: string; hubKubeconfig?: string; hubContext?: string; label: string[] }) => {
      const args = parseAddClusterArgs(name, opts);
      const labels = Object.fromEntries(opts.label.map((l) => parseLabel(l)));
      const hub = loadKubeConfig(opts.hubKubeconfig, opts.hubContext);
      if (args.mode === "Pull") {
        await addPullClusterCommand(name, args, { hub, labels, ...(opts.context ? { context: opts.context } : {}) });
        return;
      }
      await addCluster({
        name,
        member: loadKubeConfig(args.kubeconfig, opts.context),
        hub,
        labels,
        ...(args.namespaces ? { namespaces: args.namespaces } : {}),
        ...(args.server ? { server: args.server } : {}),
        log: (line) => process.stdout.write(`${line}\n`),
      });
      process.stdout.write(`cluster ${name} added; \`kubectl get clusters\` shows when the controller reaches it\n`);
    });
  const list = cluster
    .command("list")
    .alias("ls")
    .description("the members on the hub: Ready, Kubernetes version, labels and why one is not Ready, as kubectl get clusters")
    .option("--hub-kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--hub-context <name>", "the context of the hub's kubeconfig")
    .option("-l, --selector <selector>", "only the clusters matching this label selector, as kubectl's -l (usage=production,region in (eu,us))");
  addOutputOption(list, TABLE_FORMATS, "table, wide (mode, paused, resync period, last probe, sealing recipient), json or yaml (the Cluster objects)")
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
    .description(
      "unregister a member: its Cluster and Secret on the hub (pull: the agent's namespace, token and RBAC there); with --kubeconfig, also Flotilla's ServiceAccount, token and bindings on it (pull: the agent)",
    )
    .addHelpText("after", examples("flotilla cluster remove prod-eu", "flotilla cluster remove prod-eu --kubeconfig ~/.kube/prod-eu.yaml"))
    .option("--kubeconfig <file>", "the MEMBER's kubeconfig: also revoke Flotilla's access there")
    .option("--context <name>", "the context of the member's kubeconfig")
    .option("--hub-kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--hub-context <name>", "the context of the hub's kubeconfig")
    .action(async (name: string, opts: { kubeconfig?: string; context?: string; hubKubeconfig?: string; hubContext?: string }) => {
      const hub = loadKubeConfig(opts.hubKubeconfig, opts.hubContext);
      const o = {
        name,
        hub,
        ...(opts.kubeconfig ? { member: loadKubeConfig(opts.kubeconfig, opts.context) } : {}),
        log: (line: string) => process.stdout.write(`${line}\n`),
      };
      if ((await registeredMode(hub, name)) === "Pull") await removePullCluster(o);
      else await removeCluster(o);
    });
}
