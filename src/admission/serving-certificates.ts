// The certificate loop of the admission webhook: read the TLS Secret, take the next rotation step,
// write it, publish the CA bundle (the webhook configuration), then serve the certificate; again
// when the next step is due. Publishing always comes before serving, so the API server never sees
// a certificate from a CA it does not trust yet.

import type { Logger } from "pino";
import { backoffDelay } from "../support/backoff.js";
import { applyRotation, type CertificatePolicy, DEFAULT_POLICY, type KeyPairPem, rotationStep, type ServingIdentity } from "./certificates.js";
import type { TlsStore } from "./tls-secret.js";

export interface ServingCertificatesOptions {
  store: TlsStore;
  identity: ServingIdentity;
  policy?: CertificatePolicy;
  /** Put caBundle (PEM) where the API server reads it: the webhook configuration. */
  publish: (caBundle: string) => Promise<void>;
  /** Serve this certificate from now on. */
  serve: (serving: KeyPairPem) => void;
  /** The clock. Default `new Date()`. */
  now?: () => Date;
  logger?: Logger;
  /**
   * Longest wait between two passes, ms: each pass also re-reads the Secret (another replica may
   * have rotated) and re-applies caBundle (someone may have edited the configuration). Default 300 000.
   */
  maxIntervalMs?: number;
}

export class ServingCertificates {
  private timer: NodeJS.Timeout | undefined;
  private served: string | undefined;
  private stopped = false;
  private failures = 0;
  private firstServed: (() => void) | undefined;
  /** Resolves once a certificate is served. */
  readonly ready: Promise<void>;

  constructor(private readonly o: ServingCertificatesOptions) {
    this.ready = new Promise((resolve) => {
      this.firstServed = resolve;
    });
  }

  /** Run a pass now, then on schedule; failures are retried with backoff. */
  start(): void {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.pass().then(
        (next) => {
          this.failures = 0;
          const now = (this.o.now?.() ?? new Date()).getTime();
          this.schedule(Math.max(1_000, Math.min(next.getTime() - now, this.o.maxIntervalMs ?? 300_000)));
        },
        (e: unknown) => {
          this.failures++;
          const retryInMs = backoffDelay(this.failures, { maxMs: 60_000 });
          this.o.logger?.warn(
            { err: e instanceof Error ? e.message : String(e), retryInMs },
            "admission webhook: cannot make sure of its certificate; retrying",
          );
          this.schedule(retryInMs);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  /** One pass: returns when the next one is due. */
  async pass(): Promise<Date> {
    const policy = this.o.policy ?? DEFAULT_POLICY;
    let { material, resourceVersion } = await this.o.store.read();
    // A few rounds: a write lost to another replica is followed by reading what it wrote.
    for (let round = 0; round < 4; round++) {
      const now = this.o.now?.() ?? new Date();
      const step = rotationStep(material, this.o.identity, now, policy);
      if (step.action === "none" && material) {
        await this.o.publish(material.caBundle);
        this.serve(material.serving);
        return step.nextCheckAt;
      }
      const next = await applyRotation(step, material, this.o.identity, now, policy);
      if (!next) throw new Error("rotation produced no certificate");
      if ((await this.o.store.write(next, resourceVersion)) && step.action !== "none") {
        this.o.logger?.info({ step: step.action, reason: step.reason }, "admission webhook: certificate rotated");
      }
      // Read back what is stored now: ours, or what another replica wrote first.
      ({ material, resourceVersion } = await this.o.store.read());
    }
    throw new Error("the webhook's TLS Secret kept changing while it was being rotated");
  }

  private serve(serving: KeyPairPem): void {
    if (this.served === serving.cert) return;
    this.o.serve(serving);
    this.served = serving.cert;
    this.firstServed?.();
  }
}
