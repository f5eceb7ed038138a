// `flotilla secret seal` and `flotilla secret rekey`: values encrypted on the user's machine to the
// keys the hub publishes (each target cluster's status.sealing and the rekey recipient), printed as
// a sealed-secret component for an ApplicationDeployment. The plaintext is read from the command
// line or files into memory, sealed, and never printed, logged or put in an error.

import { readFile, writeFile } from "node:fs/promises";
import { basename } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import type { Command } from "commander";
import yaml from "js-yaml";
import { FlotillaError, KubeApiError } from "../api/errors.js";
import { parseYamlStream, toJson, toYaml } from "../api/serialize.js";
import type { ApplicationDeployment } from "../api/types.js";
import { KubeClient } from "../kube/client.js";
import { kubeKeyObjects, readKeySecret, REKEY_RECIPIENT_KEY, REKEY_SECRET, SEALING_CONFIGMAP } from "../secrets/keys.js";
import { dataKeyProblem, recipientsFor, rekeyDocuments, type SealingSource, type SealTarget, sealComponent, targetClusters } from "../secrets/sealing.js";
import { listClusters } from "./cluster.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { formatFileProblem, readInputs } from "./inputs.js";
import { loadKubeConfig } from "./kubeconfig.js";
import { addOutputOption } from "./output.js";
import { collect } from "./repeatable.js";

const DEFAULT_NAMESPACE = "flotilla-system";

/** The hub's published keys, read with the user's kubeconfig. */
export function hubSealingSource(hub: KubeConfig, namespace: string): SealingSource {
  const client = () => new KubeClient({ kubeConfig: hub });
  return {
    clusters: () => listClusters(hub),
    async rekeyRecipient() {
      const c = client();
      try {
        const map = await c.get({ apiVersion: "v1", kind: "ConfigMap", namespace, name: SEALING_CONFIGMAP });
        const recipient = (map?.data as Record<string, unknown> | undefined)?.[REKEY_RECIPIENT_KEY];
        if (typeof recipient !== "string")
          throw new FlotillaError(
            `ConfigMap ${namespace}/${SEALING_CONFIGMAP} ${map ? `has no ${REKEY_RECIPIENT_KEY}` : "does not exist"}: the controller publishes the hub's rekey recipient there when it starts. Is it running in ${namespace} (--controller-namespace)?`,
          );
        return recipient;
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 403)
          throw new FlotillaError(`may not read ConfigMap ${namespace}/${SEALING_CONFIGMAP} (the hub's rekey recipient): sealing needs "get" on it`, {
            cause: e,
          });
        throw e;
      } finally {
        c.close();
      }
    },
    async rekeyIdentity() {
      const c = client();
      try {
        const key = await readKeySecret(kubeKeyObjects(c), namespace, REKEY_SECRET);
        if (!key)
          throw new FlotillaError(
            `Secret ${namespace}/${REKEY_SECRET} does not exist: the controller creates the hub's rekey key when it starts. Is it running?`,
          );
        return key.identity;
      } catch (e) {
        if (e instanceof KubeApiError && e.status === 403)
          throw new FlotillaError(
            `may not read Secret ${namespace}/${REKEY_SECRET}, the hub's rekey key: rekey needs "get" on it, e.g. ` +
              `kubectl -n ${namespace} create role flotilla-rekey --verb=get --resource=secrets --resource-name=${REKEY_SECRET} && ` +
              `kubectl -n ${namespace} create rolebinding flotilla-rekey --role=flotilla-rekey --user=YOU`,
            { cause: e },
          );
        throw e;
      } finally {
        c.close();
      }
    },
  };
}

/** `KEY=VALUE` of --from-literal; the value is never shown, even in an error. */
export function parseLiteral(arg: string, index: number): [string, Uint8Array] {
  const eq = arg.indexOf("=");
  if (eq <= 0) throw new FlotillaError(`--from-literal #${index + 1}: expected KEY=VALUE (the value is not shown)`);
  const key = arg.slice(0, eq);
  const problem = dataKeyProblem(key);
  if (problem) throw new FlotillaError(`--from-literal #${index + 1}: ${problem}`);
  return [key, new TextEncoder().encode(arg.slice(eq + 1))];
}

/** `KEY=PATH` or `PATH` (the key is the file's name) of --from-file. */
export async function readFromFile(arg: string): Promise<[string, Uint8Array]> {
  const eq = arg.indexOf("=");
  const [key, path] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [basename(arg), arg];
  const problem = dataKeyProblem(key);
  if (problem) throw new FlotillaError(`--from-file ${arg}: ${problem}${eq > 0 ? "" : "; name the key with KEY=PATH"}`);
  try {
    return [key, new Uint8Array(await readFile(path))];
  } catch (e) {
    throw new FlotillaError(`--from-file: cannot read ${path} (${(e as { code?: string }).code ?? "error"})`);
  }
}

async function deploymentsIn(file: string): Promise<ApplicationDeployment[]> {
  const inputs = await readInputs([file]);
  if (inputs.problems.length) throw new FlotillaError(`${file}: ${inputs.problems.map((p) => formatFileProblem(p)).join("; ")}`);
  if (!inputs.deployments.length) throw new FlotillaError(`--deployment ${file}: no ApplicationDeployment found`);
  return inputs.deployments.map((d) => d.doc);
}

export interface SealFlags {
  name: string;
  fromLiteral: string[];
  fromFile: string[];
  cluster: string[];
  selector?: string;
  deployment?: string;
  type?: string;
  output: "yaml" | "json";
}

/** The target of `seal`: exactly one of --cluster, --selector and --deployment. */
export async function sealTarget(flags: Pick<SealFlags, "cluster" | "selector" | "deployment">): Promise<SealTarget> {
  const given = [flags.cluster.length > 0, flags.selector !== undefined, flags.deployment !== undefined].filter(Boolean).length;
  if (given !== 1) throw new FlotillaError("give exactly one of --cluster NAME (repeatable), --selector k=v[,k=v] and --deployment APP.yaml");
  if (flags.cluster.length) return { clusters: flags.cluster };
  if (flags.selector !== undefined) return { selector: flags.selector };
  return { deployments: await deploymentsIn(flags.deployment as string) };
}

/** `seal`, with the hub as a source: the component text. */
export async function sealCommand(flags: SealFlags, source: SealingSource): Promise<string> {
  const target = await sealTarget(flags);
  const data: Array<[string, Uint8Array]> = flags.fromLiteral.map((l, i) => parseLiteral(l, i));
  for (const f of flags.fromFile) data.push(await readFromFile(f));
  const clusters = targetClusters(target, await source.clusters());
  const recipients = recipientsFor(clusters, await source.rekeyRecipient());
  const component = await sealComponent({ name: flags.name, data, recipients, ...(flags.type ? { type: flags.type } : {}) });
  for (const [, bytes] of data) bytes.fill(0);
  return flags.output === "json" ? toJson(component) : toYaml([component]);
}

/** `rekey`: the file's text with every sealed value re-sealed, and one line per component for stderr. */
export async function rekeyCommand(text: string, file: string, source: SealingSource, options: { force?: boolean } = {}) {
  const docs = parseYamlStream(text, { filename: file });
  const done = await rekeyDocuments(docs, source, options);
  const out = docs.map((d) => yaml.dump(d, { noRefs: true, lineWidth: -1, quotingType: '"' })).join("---\n");
  const lines = done.map(
    (c) => `${c.deployment}: ${c.component} (${c.path}): ${c.changed ? `${c.values} value(s) re-sealed` : "recipients already current, unchanged"}`,
  );
  return { text: out, lines, changed: done.some((c) => c.changed) };
}

export function registerSecretCommands(program: Command): void {
  const secret = program.command("secret").description(summaryOf("secret"));
  const seal = secret
    .command("seal")
    .description(
      "encrypt values to the sealing keys of the target clusters (and the hub's rekey key) and print a sealed-secret component to paste under an ApplicationDeployment's components",
    )
    .requiredOption("--name <name>", "the component's name: the Secret it renders on each cluster")
    .option("--from-literal <key=value>", "a value (repeatable); it stays in this process's memory and is never printed", collect, [])
    .option("--from-file <key=path>", "a value read from a file, KEY=PATH or PATH (the key is the file's name; repeatable)", collect, [])
    .option("--cluster <name>", "seal for this cluster (repeatable)", collect, [])
    .option("--selector <k=v,...>", "seal for the clusters with these labels")
    .option("--deployment <file>", "seal for the clusters this deployment's placement selects (in any wave)")
    .option("--type <type>", "the Secret's type (default Opaque), e.g. kubernetes.io/dockerconfigjson")
    .option("--kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "the context of the hub's kubeconfig")
    .option("--controller-namespace <ns>", "the controller's namespace on the hub (its rekey recipient's ConfigMap)", DEFAULT_NAMESPACE);
  addOutputOption(seal, ["yaml", "json"], "yaml (a one-item list, to paste under components:) or json (the component)")
    .addHelpText(
      "after",
      examples(
        "flotilla secret seal --name db --from-literal password=s3cret --cluster prod-eu --cluster prod-us",
        "flotilla secret seal --name tls --from-file tls.crt=cert.pem --from-file tls.key=key.pem --type kubernetes.io/tls --selector usage=production",
        'flotilla secret seal --name db --from-literal password="$DB_PASSWORD" --deployment app.yaml',
      ),
    )
    .action(async (opts: SealFlags & { kubeconfig?: string; context?: string; controllerNamespace: string }) => {
      const source = hubSealingSource(loadKubeConfig(opts.kubeconfig, opts.context), opts.controllerNamespace);
      process.stdout.write(await sealCommand(opts, source));
    });
  secret
    .command("rekey")
    .description(
      "re-encrypt every sealed-secret value of a deployment file to the clusters its placement selects now (after a cluster joined or a key was rotated), opening them with the hub's rekey key; the plaintext is never shown",
    )
    .requiredOption("-f, --filename <file>", "the ApplicationDeployment file")
    .option("--in-place", "rewrite the file instead of printing it (YAML comments and formatting are not kept)")
    .option("--force", "re-seal even the components whose recorded recipients are already current")
    .option("--kubeconfig <file>", "the hub's kubeconfig; needs get on Secret flotilla-sealing-rekey in the controller's namespace")
    .option("--context <name>", "the context of the hub's kubeconfig")
    .option("--controller-namespace <ns>", "the controller's namespace on the hub (its rekey key's Secret)", DEFAULT_NAMESPACE)
    .addHelpText(
      "after",
      `\nThe file is read and written back with js-yaml: its comments are lost and its formatting normalized.${examples(
        "flotilla secret rekey -f app.yaml > app.rekeyed.yaml",
        "flotilla secret rekey -f app.yaml --in-place && git diff app.yaml",
      )}`,
    )
    .action(async (opts: { filename: string; inPlace?: boolean; force?: boolean; kubeconfig?: string; context?: string; controllerNamespace: string }) => {
      const source = hubSealingSource(loadKubeConfig(opts.kubeconfig, opts.context), opts.controllerNamespace);
      const text = await readFile(opts.filename, "utf8");
      const result = await rekeyCommand(text, opts.filename, source, { force: opts.force ?? false });
      for (const line of result.lines) process.stderr.write(`${line}\n`);
      if (!result.lines.length) process.stderr.write(`${opts.filename}: no sealed-secret component\n`);
      if (opts.inPlace) {
        if (result.changed) await writeFile(opts.filename, result.text);
      } else process.stdout.write(result.text);
    });
}
