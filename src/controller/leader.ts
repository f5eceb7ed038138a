// Leader election through a coordination.k8s.io Lease, so two replicas can run and only one acts.
// Taking or renewing the lease is an update guarded by resourceVersion: two candidates can never
// both succeed. A leader that has not renewed within the renew deadline — counted from the time
// it wrote into the Lease, and shorter than the lease — stops acting, on a timer of its own, before
// any other replica may consider the lease expired.

import { CoordinationV1Api, type KubeConfig, type V1Lease } from "@kubernetes/client-node";

export interface LeaderElectionOptions {
  kc: KubeConfig;
  namespace: string;
  /** Lease name. Default `flotilla-controller`. */
  name?: string;
  /** This replica's identity. */
  identity: string;
  /** How long a lease is valid without renewal, seconds. Default 15. */
  leaseDurationSeconds?: number;
  /** How often the leader renews and candidates retry, ms. Default 2 000. */
  retryPeriodMs?: number;
  /**
   * How long the leader keeps acting without a successful renewal, ms, counted from the renewTime
   * it wrote. Must be shorter than the lease duration. Default two thirds of the lease duration.
   */
  renewDeadlineMs?: number;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  onError?: (error: unknown) => void;
  now?: () => Date;
}

/**
 * A Lease's times are MicroTime: RFC 3339 with exactly six fractional digits. The client library
 * would send `Date#toISOString()` (three), which the API server refuses, so we send the string.
 */
export function microTime(date: Date): Date {
  return date.toISOString().replace(/\.(\d{3})Z$/, ".$1000Z") as unknown as Date;
}

function httpStatus(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  private deadlineTimer: NodeJS.Timeout | undefined;
  private leading = false;
  /** The renewTime of this replica's last successful take or renewal (epoch ms). */
  private renewedAt = 0;
  private stopped = false;

  constructor(private readonly o: LeaderElectionOptions) {
    this.api = o.kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    void this.tick();
  }

  /** Stop campaigning; a leader releases the lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (this.leading) {
      this.leading = false;
      try {
        const lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.o.namespace });
        if (lease.spec?.holderIdentity === this.o.identity) {
          lease.spec.holderIdentity = "";
          lease.spec.leaseDurationSeconds = 1;
          await this.api.replaceNamespacedLease({ name: this.name, namespace: this.o.namespace, body: lease });
        }
      } catch (e) {
        this.o.onError?.(e);
      }
    }
  }

  private get name(): string {
    return this.o.name ?? "flotilla-controller";
  }

  private get duration(): number {
    return this.o.leaseDurationSeconds ?? 15;
  }

  private get renewDeadlineMs(): number {
    return Math.min(this.o.renewDeadlineMs ?? Math.floor((this.duration * 1000 * 2) / 3), this.duration * 1000);
  }

  private now(): Date {
    return (this.o.now ?? (() => new Date()))();
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    // What goes into renewTime: others count the lease from here, so this replica does too (a
    // slow request must not stretch its own idea of how long it holds the lease).
    const attempt = this.now();
    try {
      const acquired = await this.tryAcquireOrRenew(attempt);
      if (acquired && !this.stopped) {
        this.renewedAt = attempt.getTime();
        if (!this.leading && !this.pastDeadline()) {
          this.leading = true;
          this.o.onStartedLeading();
        }
        this.armDeadline();
      }
    } catch (e) {
      this.o.onError?.(e);
    }
    this.checkDeadline();
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.o.retryPeriodMs ?? 2_000);
  }

  private pastDeadline(): boolean {
    return this.now().getTime() >= this.renewedAt + this.renewDeadlineMs;
  }

  /** Step down at the renew deadline even while a renewal is still in flight. */
  private armDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    if (!this.leading) return;
    const wait = this.renewedAt + this.renewDeadlineMs - this.now().getTime();
    this.deadlineTimer = setTimeout(() => this.checkDeadline(), Math.max(0, wait));
    this.deadlineTimer.unref?.();
  }

  private checkDeadline(): void {
    if (!this.leading || !this.pastDeadline()) return;
    this.leading = false;
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.o.onStoppedLeading();
  }

  private async tryAcquireOrRenew(now: Date): Promise<boolean> {
    const spec = {
      holderIdentity: this.o.identity,
      leaseDurationSeconds: this.duration,
      renewTime: microTime(now),
    };
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name: this.name, namespace: this.o.namespace });
    } catch (e) {
      if (httpStatus(e) !== 404) throw e;
      try {
        await this.api.createNamespacedLease({
          namespace: this.o.namespace,
          body: { metadata: { name: this.name, namespace: this.o.namespace }, spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 } },
        });
        return true;
      } catch (createError) {
        if (httpStatus(createError) === 409) return false;
        throw createError;
      }
    }
    const holder = lease.spec?.holderIdentity ?? "";
    const renew = lease.spec?.renewTime ? new Date(lease.spec.renewTime).getTime() : 0;
    const expired = renew + (lease.spec?.leaseDurationSeconds ?? this.duration) * 1000 < now.getTime();
    if (holder !== this.o.identity && holder !== "" && !expired) return false;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (holder === this.o.identity ? 0 : 1);
    lease.spec = {
      ...lease.spec,
      ...spec,
      leaseTransitions: transitions,
      ...(holder === this.o.identity ? {} : { acquireTime: microTime(now) }),
    };
    try {
      await this.api.replaceNamespacedLease({ name: this.name, namespace: this.o.namespace, body: lease });
      return true;
    } catch (e) {
      if (httpStatus(e) === 409) return false; // someone else updated it first
      throw e;
    }
  }
}
