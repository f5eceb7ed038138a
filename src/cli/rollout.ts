// `flotilla rollout promote|abort|retry|pause|resume` and `flotilla status`: thin wrappers over
// what kubectl alone can do (the one-shot annotations, spec.suspend) and a live view of status.

import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Command } from "commander";
import { FlotillaError } from "../api/errors.js";
import { GROUP, VERSION } from "../api/labels.js";
import type { ApplicationDeployment } from "../api/types.js";
import { ROLLOUT_ACTIONS, rolloutActionPatch } from "../rollout/actions.js";
import { type ClusterOptions, loadKubeConfig, namespaceOf } from "./kubeconfig.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { addOutputOption, formatDocument, isDataFormat, TABLE_FORMATS, type TableFormat } from "./output.js";
import { deploymentTable, formatDeployment, formatDeploymentList, printedObject, statusView } from "./status-view.js";

const PLURAL = "applicationdeployments";

interface Target extends ClusterOptions {
  namespace?: string;
}

/** The hub's API and the namespace a command works in. */
interface Resolved {
  api: CustomObjectsApi;
  namespace: string;
}

function resolveTarget(opts: Target): Resolved {
  const kc = loadKubeConfig(opts.kubeconfig, opts.context);
  return { api: kc.makeApiClient(CustomObjectsApi), namespace: namespaceOf(kc, opts.namespace) };
}

function failure(t: Resolved, name: string, doing: string, e: unknown): FlotillaError {
  const code = (e as { code?: unknown }).code;
  const message =
    code === 404
      ? `ApplicationDeployment ${t.namespace}/${name} does not exist`
      : `${doing} ${t.namespace}/${name} failed (${typeof code === "number" ? `HTTP ${code}` : e instanceof Error ? e.message : "error"})`;
  return new FlotillaError(message, { cause: e });
}

async function patch(t: Resolved, name: string, body: unknown): Promise<void> {
  try {
    await t.api.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: t.namespace, plural: PLURAL, name, body },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  } catch (e) {
    throw failure(t, name, "patching", e);
  }
}

async function read(t: Resolved, name: string): Promise<ApplicationDeployment> {
  try {
    return (await t.api.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: t.namespace, plural: PLURAL, name })) as ApplicationDeployment;
  } catch (e) {
    throw failure(t, name, "reading", e);
  }
}

async function list(t: Resolved, allNamespaces: boolean): Promise<ApplicationDeployment[]> {
  try {
    const body = (
      allNamespaces
        ? await t.api.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL })
        : await t.api.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: t.namespace, plural: PLURAL })
    ) as { items?: ApplicationDeployment[] };
    return body.items ?? [];
  } catch (e) {
    throw failure(t, "*", "listing", e);
  }
}

export function registerRolloutCommands(program: Command): void {
  const withTarget = (c: Command) =>
    c
      .option("-n, --namespace <ns>", "namespace of the deployment (default: the kubeconfig context's, else default)")
      .option("--kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
      .option("--context <name>", "the kubeconfig context to use (default: its current context)");

  const rollout = program.command("rollout").description(summaryOf("rollout"));
  // Every rollout verb is one merge patch of the deployment (rollout/actions.ts, shared with the web UI).
  const verbs = ROLLOUT_ACTIONS.map((action) => ({ verb: action, ...rolloutActionPatch(action) }));
  for (const { verb, help, body, done } of verbs) {
    withTarget(rollout.command(`${verb} <name>`).description(help))
      .addHelpText("after", examples(`flotilla rollout ${verb} web -n team-a`, `flotilla rollout ${verb} web --context prod-hub`))
      .action(async (name: string, opts: Target) => {
        const t = resolveTarget(opts);
        await patch(t, name, body);
        process.stdout.write(`${t.namespace}/${name}: ${done}\n`);
      });
  }

  const status = withTarget(program.command("status [name]").description(summaryOf("status")))
    .option("-w, --watch", "keep redrawing until Ctrl-C (-o json|yaml: print the object again whenever it changes)", false)
    .option("-A, --all-namespaces", "without a name: list the deployments of every namespace", false);
  addOutputOption(status, TABLE_FORMATS, "table (the list, or the view of NAME), wide (more columns and detail), json or yaml (the objects)")
    .addHelpText(
      "after",
      examples(
        "flotilla status                 # the deployments of the namespace, as kubectl get ad",
        "flotilla status -A -o wide      # every namespace, with clusters, replicas and commit",
        "flotilla status web --watch",
        "flotilla status web -o json | jq -r .status.phase",
        "flotilla status -o yaml > deployments.yaml",
      ),
    )
    .action(async (name: string | undefined, opts: Target & { watch: boolean; allNamespaces: boolean; output: TableFormat }) => {
      const t = resolveTarget(opts);
      const format = opts.output;
      if (name === undefined) {
        const items = await list(t, opts.allNamespaces);
        process.stdout.write(isDataFormat(format) ? formatDeploymentList(items, format) : deploymentTable(items, opts.allNamespaces, format === "wide"));
        return;
      }
      let last = "";
      for (;;) {
        const ad = await read(t, name);
        // Watching -o json|yaml prints a stream, one document a change, as `kubectl get -w -o json` does.
        const text = !isDataFormat(format)
          ? statusView(ad, format === "wide")
          : opts.watch
            ? formatDocument(printedObject(ad), format)
            : formatDeployment(ad, format);
        if (text !== last) {
          if (opts.watch && last && !isDataFormat(format) && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
          process.stdout.write(text);
          last = text;
        }
        if (!opts.watch) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
}
