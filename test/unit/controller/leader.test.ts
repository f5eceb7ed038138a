import type { KubeConfig, V1Lease } from "@kubernetes/client-node";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { LeaderElector } from "../../../src/controller/leader.js";

/** One Lease behind a fake coordination API: updates guarded by resourceVersion; calls can hang. */
class FakeLeaseApi {
  lease: V1Lease | undefined;
  private version = 0;
  /** While true, calls wait until `release()`. */
  hang = false;
  private waiting: Array<() => void> = [];

  private async gate(): Promise<void> {
    if (this.hang) await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    this.hang = false;
    for (const w of this.waiting.splice(0)) w();
  }

  readonly api = {
    readNamespacedLease: async (): Promise<V1Lease> => {
      await this.gate();
      if (!this.lease) throw Object.assign(new Error("not found"), { code: 404 });
      return structuredClone(this.lease);
    },
    createNamespacedLease: async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
      await this.gate();
      if (this.lease) throw Object.assign(new Error("exists"), { code: 409 });
      this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
      return structuredClone(this.lease);
    },
    replaceNamespacedLease: async ({ body }: { body: V1Lease }): Promise<V1Lease> => {
      await this.gate();
      if (body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion) throw Object.assign(new Error("conflict"), { code: 409 });
      this.lease = { ...structuredClone(body), metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
      return structuredClone(this.lease);
    },
  };

  kubeConfig(): KubeConfig {
    return { makeApiClient: () => this.api } as unknown as KubeConfig;
  }
}

describe("LeaderElector", () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.parse("2024-05-01T10:00:00.000Z") });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function replica(fake: FakeLeaseApi, identity: string, log: string[]): LeaderElector {
    return new LeaderElector({
      kc: fake.kubeConfig(),
      namespace: "flotilla-system",
      identity,
      leaseDurationSeconds: 15,
      retryPeriodMs: 2_000,
      onStartedLeading: () => log.push(`${Date.now()} ${identity} leads`),
      onStoppedLeading: () => log.push(`${Date.now()} ${identity} stops`),
    });
  }

  it("stops acting at the renew deadline while a renewal hangs, before anyone may take the lease", async () => {
    const fake = new FakeLeaseApi();
    const log: string[] = [];
    const t0 = Date.now();
    const a = replica(fake, "a", log);
    a.start();
    await vi.advanceTimersByTimeAsync(10);
    expect(a.isLeader).toBe(true);
    const renewedAt = Date.parse(fake.lease!.spec!.renewTime as unknown as string);
    expect(renewedAt).toBe(t0);
    // The API stops answering (an overloaded hub): the renewal 2 s later never returns.
    fake.hang = true;
    await vi.advanceTimersByTimeAsync(9_980);
    expect(a.isLeader).toBe(true);
    await vi.advanceTimersByTimeAsync(20);
    // Two thirds of the 15 s lease after the renewTime it wrote: 5 s before the lease expires.
    expect(a.isLeader).toBe(false);
    expect(log).toEqual([`${t0} a leads`, `${t0 + 10_000} a stops`]);
    fake.release();
    await a.stop();
  });

  it("hands over to a standby only after the lease expired, and the old leader had stopped before", async () => {
    const fake = new FakeLeaseApi();
    const log: string[] = [];
    const a = replica(fake, "a", log);
    a.start();
    await vi.advanceTimersByTimeAsync(10);
    const b = replica(fake, "b", log);
    b.start();
    await vi.advanceTimersByTimeAsync(10);
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    // `a` freezes: its renewals no longer reach the API, but its timers still run.
    const renew = fake.api.replaceNamespacedLease;
    fake.api.replaceNamespacedLease = async (args) => {
      if (args.body.spec?.holderIdentity === "a") return new Promise<V1Lease>(() => undefined);
      return renew(args);
    };
    await vi.advanceTimersByTimeAsync(30_000);
    expect([a.isLeader, b.isLeader]).toEqual([false, true]);
    const times = log.map((l) => l.split(" "));
    const aStops = Number(times.find(([, who, what]) => who === "a" && what === "stops")?.[0]);
    const bLeads = Number(times.find(([, who, what]) => who === "b" && what === "leads")?.[0]);
    expect(aStops).toBeLessThan(bLeads);
    await b.stop();
    await a.stop();
  });
});
