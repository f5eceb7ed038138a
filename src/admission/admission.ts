// The admission webhook as the controller runs it: the HTTPS server, the certificate loop (TLS
// Secret → caBundle in the webhook configuration → served certificate) and the validator on the
// controller's definitions. Every replica serves, leader or not: a standby validates with
// definitions it watches itself, so no request waits for an API call.

import type { KubeConfig } from "@kubernetes/client-node";
import type { Logger } from "pino";
import type { ComponentDefinition, TraitDefinition } from "../api/types.js";
import { parseAddress } from "../controller/metrics.js";
import { Hub, type SupervisedInformer } from "../controller/hub.js";
import { TenantPolicyWatch } from "../controller/tenant-policies.js";
import { compileTemplate } from "../definitions/jsonata.js";
import { buildRegistry, type DefinitionRegistry } from "../definitions/registry.js";
import { KubeClient } from "../kube/client.js";
import type { EffectivePolicy } from "../tenancy/policy.js";
import { type CertificatePolicy, DEFAULT_POLICY, servingIdentity } from "./certificates.js";
import type { AdmissionRequest, Verdict } from "./review.js";
import { startAdmissionServer } from "./server.js";
import { ServingCertificates } from "./serving-certificates.js";
import { DEFAULT_SECRET_NAME, secretStore } from "./tls-secret.js";
import { AdmissionValidator, type AdmissionCheck } from "./validator.js";
import { type ClientConfig, DEFAULT_CONFIG_NAME, type LabelSelector, VALIDATE_PATH, webhookConfiguration } from "./webhook-config.js";

/** What a user or a test may choose; the controller fills in the rest (AdmissionOptions). */
export interface AdmissionSettings {
  /** The ValidatingWebhookConfiguration's name. Default `flotilla`. */
  configName?: string;
  /** The TLS Secret, in the controller's namespace. Default `flotilla-webhook-tls`. */
  secretName?: string;
  /** The Service the API server reaches the webhook through, in the controller's namespace. Default `flotilla-webhook`, port 443. */
  service?: { name: string; port: number };
  /**
   * Register this URL instead of the Service. Default: when the server listens on loopback (the
   * local fleet), `https://127.0.0.1:<port>/validate`; otherwise the Service.
   */
  url?: string;
  /** Send only objects with these labels (tests scope their webhook this way). Default: all. */
  objectSelector?: LabelSelector;
  /** The API server's wait for an answer, seconds. Default 2. */
  timeoutSeconds?: number;
  /** The validator's budget per request, ms (see ValidatorOptions.budgetMs). Default 1 500. */
  budgetMs?: number;
  /** Certificate lifetimes (tests shorten them). Default DEFAULT_POLICY. */
  certificates?: Partial<CertificatePolicy>;
  /** More checks (tenancy). Default none. */
  checks?: readonly AdmissionCheck[];
  /**
   * Delete the configuration when the controller stops. Default: with a URL (nothing answers on a
   * loopback port after the process), not with the Service (another replica still answers).
   */
  deleteOnStop?: boolean;
}

export interface AdmissionOptions extends AdmissionSettings {
  /** `host:port` to listen on, e.g. `:9443` or `127.0.0.1:0`. */
  address: string;
  kubeConfig: KubeConfig;
  /** The controller's namespace (the Secret and the Service live there). */
  namespace: string;
  /** The controller's definitions while it leads; undefined otherwise (the webhook then watches them itself). */
  registry: () => DefinitionRegistry | undefined;
  /**
   * The controller's TenantPolicies of a namespace while it leads (undefined otherwise: the webhook
   * then watches them itself), so that admission refuses a kind exactly when rendering would.
   */
  tenancy: () => ((namespace: string) => EffectivePolicy) | undefined;
  logger: Logger;
  /** Told of every review answered (metrics). */
  onReview?: (ms: number, request: AdmissionRequest, verdict: Verdict) => void;
}

export interface Admission {
  readonly port: number;
  /** The URL registered, when not the Service. */
  readonly url: string | undefined;
  /** Resolves once a certificate is served and its CA published. */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/**
 * Definitions watched by the webhook itself, for a replica that does not lead (its controller has
 * none): started on first use, the registry rebuilt only after a change.
 */
class OwnDefinitions {
  private informers: { components: SupervisedInformer<ComponentDefinition>; traits: SupervisedInformer<TraitDefinition> } | undefined;
  private registry: DefinitionRegistry | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {}

  current(): DefinitionRegistry | undefined {
    if (!this.informers) {
      const hub = new Hub(this.kubeConfig);
      const changed = { onChange: () => this.forget(), onDelete: () => this.forget() };
      this.informers = { components: hub.informer("ComponentDefinition", changed), traits: hub.informer("TraitDefinition", changed) };
    }
    const { components, traits } = this.informers;
    if (!components.synced || !traits.synced) return undefined;
    this.registry ??= buildRegistry([...components.list(), ...traits.list()]);
    return this.registry;
  }

  private forget(): void {
    this.registry = undefined;
  }

  async stop(): Promise<void> {
    await Promise.all([this.informers?.components.stop(), this.informers?.traits.stop()]);
  }
}

/** TenantPolicies watched by the webhook itself, for a replica that does not lead; started on first use. */
class OwnTenancy {
  private watch: TenantPolicyWatch | undefined;

  constructor(private readonly kubeConfig: KubeConfig) {}

  effective(namespace: string): EffectivePolicy | undefined {
    this.watch ??= new TenantPolicyWatch({ hub: new Hub(this.kubeConfig), onChange: () => {} });
    return this.watch.synced ? this.watch.effective(namespace) : undefined;
  }

  async stop(): Promise<void> {
    await this.watch?.stop();
  }
}

/** A review of a small deployment, repeated until the definitions are known (at most a minute). */
async function warmUp(validator: AdmissionValidator, registry: () => DefinitionRegistry | undefined, log: Logger): Promise<void> {
  void compileTemplate("1", { definition: "admission", field: "warm-up" })
    .evaluate({})
    .catch(() => undefined);
  const object = {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: "warm-up", namespace: "default" },
    spec: { appRevisions: [{ name: "v1", template: { spec: { components: [{ name: "c", type: "worker", settings: { image: "warm-up" } }] } } }] },
  };
  for (let i = 0; i < 60; i++) {
    await new Promise((resolve) => setTimeout(resolve, 1_000).unref());
    if (!registry()) continue;
    const started = Date.now();
    await validator.admit({
      uid: "warm-up",
      kind: { group: "flotilla.dev", version: "v1alpha1", kind: "ApplicationDeployment" },
      operation: "CREATE",
      object,
      dryRun: true,
    });
    log.debug({ ms: Date.now() - started }, "admission webhook warmed up");
    return;
  }
}

export async function startAdmission(o: AdmissionOptions): Promise<Admission> {
  const { host, port } = parseAddress(o.address, "--admission-addr");
  const own = new OwnDefinitions(o.kubeConfig);
  const ownTenancy = new OwnTenancy(o.kubeConfig);
  const validator = new AdmissionValidator({
    registry: () => o.registry() ?? own.current(),
    tenancy: (namespace) => {
      const controllers = o.tenancy();
      return controllers ? controllers(namespace) : ownTenancy.effective(namespace);
    },
    ...(o.checks ? { checks: o.checks } : {}),
    ...(o.budgetMs !== undefined ? { budgetMs: o.budgetMs } : {}),
  });
  const log = o.logger.child({ component: "admission" });
  const server = await startAdmissionServer({
    host,
    port,
    admit: (r) => validator.admit(r),
    logger: log,
    ...(o.onReview ? { onReview: o.onReview } : {}),
  });
  const url = o.url ?? (LOOPBACK.has(host) ? `https://127.0.0.1:${server.port}${VALIDATE_PATH}` : undefined);
  const service = o.service ?? { name: "flotilla-webhook", port: 443 };
  const clientConfig: ClientConfig = url ? { url } : { service: { namespace: o.namespace, ...service } };
  // Its own field manager: `flotilla install` applies the bundle's copy of the configuration as
  // `flotilla`, without caBundle, and must not take away the caBundle applied here.
  const client = new KubeClient({ kubeConfig: o.kubeConfig, fieldManager: "flotilla-webhook" });
  const configName = o.configName ?? DEFAULT_CONFIG_NAME;
  let published: string | undefined;
  const certificates = new ServingCertificates({
    store: secretStore(client, o.namespace, o.secretName ?? DEFAULT_SECRET_NAME),
    identity: servingIdentity(service.name, o.namespace),
    policy: { ...DEFAULT_POLICY, ...o.certificates },
    publish: async (caBundle) => {
      const config = webhookConfiguration(
        {
          name: configName,
          clientConfig,
          ...(o.timeoutSeconds !== undefined ? { timeoutSeconds: o.timeoutSeconds } : {}),
          ...(o.objectSelector ? { objectSelector: o.objectSelector } : {}),
        },
        caBundle,
      );
      await client.apply(config);
      if (published !== caBundle)
        log.info({ configuration: configName, ...(url ? { url } : { service: `${o.namespace}/${service.name}` }) }, "admission webhook registered");
      published = caBundle;
    },
    serve: (pair) => server.setCertificate(pair),
    logger: log,
  });
  certificates.start();
  // The first review would pay for what is made on first use, synchronously, against the API
  // server's timeout: the schemas compiled, the definitions' registry built, the template worker
  // process started. Pay it now, with a review of a sample deployment, once the definitions are known.
  void warmUp(validator, () => o.registry() ?? own.current(), log);
  log.info({ port: server.port }, "serving the admission webhook at POST /validate");
  return {
    port: server.port,
    url,
    ready: certificates.ready,
    async stop() {
      certificates.stop();
      if (o.deleteOnStop ?? url !== undefined) {
        await client.delete({ apiVersion: "admissionregistration.k8s.io/v1", kind: "ValidatingWebhookConfiguration", name: configName }).catch((e: unknown) => {
          log.warn({ err: e instanceof Error ? e.message : String(e) }, "cannot delete the webhook configuration");
        });
      }
      await server.close();
      await Promise.all([own.stop(), ownTenancy.stop()]);
      client.close();
    },
  };
}
