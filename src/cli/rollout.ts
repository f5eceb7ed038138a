// `flotilla rollout promote|abort|retry|pause|resume` and `flotilla status`: thin wrappers over
// what kubectl alone can do (the one-shot annotations, spec.suspend) and a live view of status.

import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Command } from "commander";
import { FlotillaError } from "../api/errors.js";
import { ANNOTATION_ABORT, ANNOTATION_PROMOTE, ANNOTATION_RETRY, GROUP, VERSION } from "../api/labels.js";
import type { ApplicationDeployment } from "../api/types.js";
import { loadKubeConfig } from "./controller.js";
import { progressLines } from "./progress.js";

const PLURAL = "applicationdeployments";

interface Target {
  kubeconfig?: string;
  namespace: string;
}

function api(opts: Target): CustomObjectsApi {
  return loadKubeConfig(opts.kubeconfig).makeApiClient(CustomObjectsApi);
}

async function patch(opts: Target, name: string, body: unknown): Promise<void> {
  try {
    await api(opts).patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: opts.namespace, plural: PLURAL, name, body },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
  } catch (e) {
    const code = (e as { code?: number }).code;
    throw new FlotillaError(
      code === 404 ? `ApplicationDeployment ${opts.namespace}/${name} does not exist` : `patching ${opts.namespace}/${name} failed (HTTP ${code ?? "error"})`,
    );
  }
}

async function read(opts: Target, name: string): Promise<ApplicationDeployment> {
  try {
    return (await api(opts).getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: opts.namespace,
      plural: PLURAL,
      name,
    })) as ApplicationDeployment;
  } catch (e) {
    const code = (e as { code?: number }).code;
    throw new FlotillaError(
      code === 404 ? `ApplicationDeployment ${opts.namespace}/${name} does not exist` : `reading ${opts.namespace}/${name} failed (HTTP ${code ?? "error"})`,
    );
  }
}

/** The rollout part of the status view: waves, clusters, batch, what it waits for. */
export function rolloutLines(ad: ApplicationDeployment): string[] {
  const r = ad.status?.rollout;
  if (!r) return [];
  const revision = r.revision ?? ad.status?.targetRevision ?? "?";
  const what = r.update === undefined ? revision : `${revision} update (generation ${r.update})`;
  const lines = [`rollout of ${what}: ${r.state ?? "?"}${r.message ? ` — ${r.message}` : ""}`];
  for (const c of r.clusters ?? []) {
    const revisions = (c.revisions ?? []).map((x) => `${x.name}=${x.replicas}`).join(" ");
    lines.push(
      `  ${(c.wave ?? "").padEnd(12)} ${c.name.padEnd(12)} batch ${c.batch ?? 0}/${c.batches ?? r.batches ?? "?"}  ${(c.state ?? "").padEnd(11)} ${revisions}${c.message ? `  (${c.message})` : ""}`,
    );
  }
  if (r.waitingFor === "promote") {
    const paused = (r.clusters ?? []).filter((c) => c.state === "Paused").map((c) => c.name);
    lines.push(
      `  waiting for: promote — \`flotilla rollout promote ${ad.metadata.name}\` releases every cluster paused now (${paused.join(", ")}); each wave pauses where its own batches say`,
    );
  } else if (r.waitingFor) lines.push(`  waiting for: ${r.waitingFor}`);
  if (r.analysis)
    lines.push(`  analysis: ${r.analysis.result} on ${r.analysis.cluster} batch ${r.analysis.batch}${r.analysis.message ? `: ${r.analysis.message}` : ""}`);
  return lines;
}

export function registerRolloutCommands(program: Command): void {
  const withTarget = (c: Command) =>
    c
      .option("-n, --namespace <ns>", "namespace of the deployment", "default")
      .option("--kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)");

  const rollout = program.command("rollout").description("control a deployment's rollout (the same as annotating it with kubectl)");
  const annotations: Array<[string, string, string]> = [
    ["promote", ANNOTATION_PROMOTE, "continue a paused batch"],
    ["abort", ANNOTATION_ABORT, "roll the target revision back now"],
    ["retry", ANNOTATION_RETRY, "restart a failed rollout from its first batch"],
  ];
  for (const [verb, key, help] of annotations) {
    withTarget(rollout.command(`${verb} <name>`).description(help)).action(async (name: string, opts: Target) => {
      await patch(opts, name, { metadata: { annotations: { [key]: "true" } } });
      process.stdout.write(`${opts.namespace}/${name}: ${key}=true set; the controller acts on it and removes it\n`);
    });
  }
  withTarget(rollout.command("pause <name>").description("stop applying to clusters (spec.suspend: true)")).action(async (name: string, opts: Target) => {
    await patch(opts, name, { spec: { suspend: true } });
    process.stdout.write(`${opts.namespace}/${name}: suspended\n`);
  });
  withTarget(rollout.command("resume <name>").description("apply again (spec.suspend: false)")).action(async (name: string, opts: Target) => {
    await patch(opts, name, { spec: { suspend: false } });
    process.stdout.write(`${opts.namespace}/${name}: resumed\n`);
  });

  withTarget(program.command("status <name>").description("phase, clusters, replicas per revision and the rollout's progress"))
    .option("-w, --watch", "keep redrawing until Ctrl-C", false)
    .action(async (name: string, opts: Target & { watch: boolean }) => {
      let last = "";
      for (;;) {
        const ad = await read(opts, name);
        const text = [...progressLines(ad), ...rolloutLines(ad)].join("\n");
        if (text !== last) {
          if (opts.watch && last && process.stdout.isTTY) process.stdout.write("\x1b[2J\x1b[H");
          process.stdout.write(`${text}\n`);
          last = text;
        }
        if (!opts.watch) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
    });
}
