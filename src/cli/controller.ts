// `flotilla controller` (run the controller against a hub) and `flotilla install` (put the
// controller, or only the CRDs, and the built-in definitions on a hub).

import { readFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { parseDuration } from "../api/duration.js";
import { FlotillaError } from "../api/errors.js";
import type { AdmissionSettings } from "../admission/admission.js";
import type { CertificatePolicy } from "../admission/certificates.js";
import { Controller } from "../controller/controller.js";
import { builtinDefinitionsDir } from "./inputs.js";
import { bundleDir, installToHub } from "./install.js";
import { createLogger } from "./logger.js";
import { loadKubeConfig, untilSignal } from "./kubeconfig.js";
import { summaryOf } from "./command-index.js";
import { examples } from "./help.js";
import { collect } from "./repeatable.js";

/** The Git server's certificate and key, read now so that a wrong path stops the start with its name. */
export function readServeTls(certFile: string | undefined, keyFile: string | undefined): { cert: Buffer; key: Buffer } | undefined {
  if (certFile === undefined && keyFile === undefined) return undefined;
  if (certFile === undefined || keyFile === undefined) {
    throw new FlotillaError(
      `${certFile === undefined ? "--git-serve-tls-cert" : "--git-serve-tls-key"} is missing: HTTPS needs both --git-serve-tls-cert and --git-serve-tls-key (PEM files).`,
    );
  }
  const read = (file: string, flag: string) => {
    try {
      return readFileSync(file);
    } catch (err) {
      throw new FlotillaError(`${flag}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}). Give the path of a PEM file.`);
    }
  };
  return { cert: read(certFile, "--git-serve-tls-cert"), key: read(keyFile, "--git-serve-tls-key") };
}

/** `k=v,k2=v2` as matchLabels. */
function parseMatchLabels(text: string, flag: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const i = pair.indexOf("=");
    if (i <= 0) throw new FlotillaError(`${flag}: "${pair}" is not key=value. Write labels as k=v,k2=v2.`);
    labels[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
  }
  return labels;
}

/** The webhook's settings from the flags (see AdmissionSettings). */
export function admissionSettings(opts: {
  admissionService: string;
  admissionConfigName: string;
  admissionObjectSelector?: string;
  admissionCertValidity?: string;
  admissionCaValidity?: string;
}): AdmissionSettings {
  const certificates: Partial<CertificatePolicy> = {};
  if (opts.admissionCertValidity) certificates.servingValidityMs = parseDuration(opts.admissionCertValidity, "--admission-cert-validity");
  if (opts.admissionCaValidity) {
    certificates.caValidityMs = parseDuration(opts.admissionCaValidity, "--admission-ca-validity");
    // A short-lived CA (tests) switches to its certificates sooner than the minute a real one waits.
    certificates.propagationMs = Math.min(60_000, Math.floor(certificates.caValidityMs / 10));
  }
  return {
    service: { name: opts.admissionService, port: 443 },
    configName: opts.admissionConfigName,
    ...(opts.admissionObjectSelector ? { objectSelector: { matchLabels: parseMatchLabels(opts.admissionObjectSelector, "--admission-object-selector") } } : {}),
    ...(Object.keys(certificates).length ? { certificates } : {}),
  };
}

export function registerControllerCommands(program: Command): void {
  program
    .command("controller")
    .description(summaryOf("controller"))
    .addHelpText(
      "after",
      examples(
        "flotilla controller --kubeconfig hub.kubeconfig",
        "FLOTILLA_GIT_TOKEN=… flotilla controller --git-url https://git.example.com/platform/env.git",
        "FLOTILLA_GIT_URL=https://git.example.com/platform/env.git FLOTILLA_GIT_TOKEN=… flotilla controller",
      ),
    )
    .option("--kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "the kubeconfig context to use (default: its current context)")
    .option("--data-dir <dir>", "where the embedded Git environment repository lives", ".flotilla/controller")
    .addOption(new Option("--git-url <url>", "push the environment repository to this HTTPS remote (token from FLOTILLA_GIT_TOKEN)").env("FLOTILLA_GIT_URL"))
    .option("--resync <duration>", "drift-check period per cluster", "5m")
    .option("--metrics-addr <addr>", "address of /metrics, /healthz and /readyz", ":8080")
    .option(
      "--git-serve-addr <addr>",
      'address of the controller\'s HTTP server: the read-only Git server for pull-mode agents (/env.git; embedded repository only) and GitSource webhooks (POST /hooks/<namespace>/<name>); "off" disables both',
      ":8082",
    )
    .option(
      "--ui-addr <addr>",
      'address of the web UI (the dashboard and its JSON API under /api/; users sign in with a Kubernetes token, checked by TokenReview and SubjectAccessReview on the hub); "off" disables it',
      ":8081",
    )
    .option("--git-serve-tls-cert <file>", "PEM certificate of that server (Git and webhooks): serve HTTPS (with --git-serve-tls-key)")
    .option("--git-serve-tls-key <file>", "PEM private key of that server (with --git-serve-tls-cert)")
    .option(
      "--admission-addr <addr>",
      'address of the validating admission webhook (HTTPS, POST /validate): kubectl apply of an invalid object fails with the status message; on loopback it registers https://127.0.0.1:<port>/validate, elsewhere the Service --admission-service; "off" disables it',
      "off",
    )
    .option("--admission-service <name>", "the Service in --namespace through which the API server reaches the webhook (port 443)", "flotilla-webhook")
    .option("--admission-config-name <name>", "name of the ValidatingWebhookConfiguration the controller owns", "flotilla")
    .option("--admission-object-selector <k=v,...>", "send only objects with these labels to the webhook (default: every object of Flotilla's kinds)")
    .addOption(new Option("--admission-cert-validity <duration>", "lifetime of the webhook's serving certificate (testing; default 90 days)").hideHelp())
    .addOption(new Option("--admission-ca-validity <duration>", "lifetime of the webhook's CA (testing; default 10 years)").hideHelp())
    .option("--ports-file <file>", "once the servers listen, write their ports to this JSON file (metrics, git, admission, ui): for scripts that give port 0")
    .option("--namespace <ns>", "namespace of the leader Lease, and of the webhook's TLS Secret", "flotilla-system")
    .option("--no-leader-elect", "act without taking the leader Lease (a single replica)")
    .option("--no-notifications", "watch no Notification and send no webhook (docs/notifications.md)")
    .option(
      "--lease-duration <duration>",
      "how long the leader Lease holds without renewal: a standby takes over this long after the leader stops renewing",
      "15s",
    )
    .action(
      async (
        opts: {
          kubeconfig?: string;
          context?: string;
          dataDir: string;
          gitUrl?: string;
          resync: string;
          metricsAddr: string;
          gitServeAddr: string;
          uiAddr: string;
          notifications: boolean;
          admissionAddr: string;
          admissionService: string;
          admissionConfigName: string;
          admissionObjectSelector?: string;
          admissionCertValidity?: string;
          admissionCaValidity?: string;
          gitServeTlsCert?: string;
          gitServeTlsKey?: string;
          namespace: string;
          leaderElect: boolean;
          leaseDuration: string;
          portsFile?: string;
        },
        command: Command,
      ) => {
        const leaseMs = parseDuration(opts.leaseDuration, "--lease-duration");
        if (leaseMs < 1000 || leaseMs % 1000 !== 0)
          throw new FlotillaError(`--lease-duration: "${opts.leaseDuration}" must be a whole number of seconds, at least 1s (a Lease counts in seconds).`);
        const gitServeTls = readServeTls(opts.gitServeTlsCert, opts.gitServeTlsKey);
        const logger = createLogger();
        const controller = new Controller({
          kubeConfig: loadKubeConfig(opts.kubeconfig, opts.context),
          dataDir: opts.dataDir,
          ...(opts.gitUrl ? { gitUrl: opts.gitUrl } : {}),
          ...(process.env.FLOTILLA_GIT_TOKEN ? { gitToken: process.env.FLOTILLA_GIT_TOKEN } : {}),
          resyncIntervalMs: parseDuration(opts.resync, "--resync"),
          metricsAddr: opts.metricsAddr,
          ...(opts.gitServeAddr === "off" ? {} : { gitServeAddr: opts.gitServeAddr }),
          ...(opts.uiAddr === "off" ? {} : { uiAddr: opts.uiAddr, uiAddrIsDefault: command.getOptionValueSource("uiAddr") === "default" }),
          ...(gitServeTls ? { gitServeTls } : {}),
          ...(opts.admissionAddr === "off" ? {} : { admissionAddr: opts.admissionAddr, admission: admissionSettings(opts) }),
          ...(opts.portsFile ? { portsFile: opts.portsFile } : {}),
          namespace: opts.namespace,
          leaderElection: opts.leaderElect,
          leaseDurationSeconds: leaseMs / 1000,
          // In a Pod (deploy/base sets both from the downward API): the leader label on it.
          ...(process.env.POD_NAME && process.env.POD_NAMESPACE ? { pod: { name: process.env.POD_NAME, namespace: process.env.POD_NAMESPACE } } : {}),
          ...(opts.notifications ? {} : { notifications: false as const }),
          // Fault tests kill the process between a step's status record and its commit (see ControllerOptions).
          ...(process.env.FLOTILLA_FAULT_PAUSE_AFTER_RECORD_MS ? { pauseAfterStepRecordMs: Number(process.env.FLOTILLA_FAULT_PAUSE_AFTER_RECORD_MS) } : {}),
          logger,
          onFatal: () => {
            logger.flush();
            process.exit(1);
          },
        });
        await controller.start();
        const signal = await untilSignal();
        logger.info({ signal }, "stopping");
        await controller.stop();
        logger.flush();
      },
    );

  program
    .command("install")
    .description(summaryOf("install"))
    .addHelpText(
      "after",
      examples(
        "flotilla install --image registry.example.org/platform/flotilla:0.1.0",
        "flotilla install --git-remote --image registry.example.org/platform/flotilla:0.1.0 --context prod-hub",
        "flotilla install --without-controller --definitions platform/definitions/",
      ),
    )
    .option("--kubeconfig <file>", "the hub's kubeconfig (default: KUBECONFIG or ~/.kube/config)")
    .option("--context <name>", "the kubeconfig context to use (default: its current context)")
    .option("--definitions <dir>", "extra definitions folder (repeatable)", collect, [])
    .option("--image <ref>", "the controller image: build and push it from the Dockerfile (no image is published)")
    .option(
      "--git-remote",
      "apply deploy/git-remote: the environment repository on the Git remote named by Secret flotilla-git (keys url, token), two replicas",
    )
    .addOption(
      new Option("--without-controller", "apply only the CRDs (crds/) and the definitions, for a controller run outside the cluster").conflicts([
        "image",
        "gitRemote",
      ]),
    )
    .option("--dry-run", "server-side dry run: the API server checks every object and stores none")
    .action(
      async (opts: {
        kubeconfig?: string;
        context?: string;
        definitions: string[];
        image?: string;
        gitRemote?: boolean;
        withoutController?: boolean;
        dryRun?: boolean;
      }) => {
        await installToHub({
          kubeConfig: loadKubeConfig(opts.kubeconfig, opts.context),
          definitionDirs: [builtinDefinitionsDir(), ...opts.definitions],
          bundleDir: bundleDir(opts.withoutController ? "crds" : opts.gitRemote ? "gitRemote" : "controller"),
          ...(opts.image ? { image: opts.image } : {}),
          ...(opts.dryRun ? { dryRun: true } : {}),
          log: (line) => process.stdout.write(`${line}\n`),
        });
      },
    );
}
