import { describe, expect, it } from "vitest";
import type { RolloutSpec } from "../../../src/api/types.js";
import type { ObservedCluster } from "../../../src/rollout/planner.js";
import { FakeFleet, type Harness, replicasOf, singleStaging } from "./planner-builders.js";

/** A fleet where the revisions named in `suspended` report Suspended (a paused Deployment, a suspended Job). */
class SuspendingFleet extends FakeFleet {
  readonly suspended = new Set<string>();
  /** Ready replicas of a suspended revision: `all` (paused after its pods came up) or `none`. */
  readyWhenSuspended: "all" | "none" = "none";

  override observe(clusters: string[]): ObservedCluster[] {
    return super.observe(clusters).map((o) => {
      if (!o.revisions.some((r) => this.suspended.has(r.name) && r.replicas > 0)) return o;
      const revisions = o.revisions.map((r) =>
        this.suspended.has(r.name) ? { ...r, health: "Suspended" as const, readyReplicas: this.readyWhenSuspended === "all" ? r.replicas : 0 } : r,
      );
      return { ...o, health: "Suspended" as const, message: "Deployment/team-a/shop-v2: Suspended (rollout paused (spec.paused))", revisions };
    });
  }
}

function single(rollout: RolloutSpec): Harness & { fleet: SuspendingFleet } {
  return singleStaging(rollout, new SuspendingFleet());
}

describe("planRollout: a Suspended target", () => {
  it.each(["none", "all"] as const)("holds the batch, Paused and never Failed, past the progress deadline (ready replicas: %s)", (ready) => {
    const h = single({ batches: [{ replicas: 2 }, { replicas: "100%" }], progressDeadline: "5m" });
    h.fleet.suspended.add("v2");
    h.fleet.readyWhenSuspended = ready;
    h.step();
    const held = h.step();
    expect([held.phase, held.waitingFor, held.changed]).toEqual(["Paused", "resume", false]);
    expect(held.message).toContain("suspended: Deployment/team-a/shop-v2: Suspended (rollout paused (spec.paused)); resume it to continue");
    h.clock.advance("1h");
    const later = h.step();
    expect([later.phase, later.state.state, later.requeueAfterMs]).toEqual(["Paused", "Progressing", undefined]);
    expect(replicasOf(later, "stage-1")).toEqual({ v1: 8, v2: 2 });
  });

  it("does not count a Suspended batch as healthy and done", () => {
    const h = single({ batches: [{ replicas: 2 }, { replicas: "100%" }] });
    h.fleet.suspended.add("v2");
    h.fleet.readyWhenSuspended = "all";
    const plans = h.run({ max: 5 });
    expect(plans.map((p) => replicasOf(p, "stage-1"))).toEqual(Array(5).fill({ v1: 8, v2: 2 }));
  });

  it("counts the progress deadline from the resume, not from the batch's start", () => {
    const h = single({ batches: [{ replicas: 2 }, { replicas: "100%" }], progressDeadline: "5m" });
    h.fleet.suspended.add("v2");
    h.step();
    h.step();
    h.clock.advance("1h");
    h.fleet.broken.add("v2"); // once resumed, its pods do not get ready
    h.step();
    h.fleet.suspended.delete("v2");
    const resumed = h.step();
    expect([resumed.phase, resumed.waitingFor]).toEqual(["Degraded", "healthy replicas"]);
    h.clock.advance("4m");
    expect(h.step().phase).toBe("Degraded");
    h.clock.advance("2m");
    const failed = h.step();
    expect(failed.phase).toBe("Failed");
    expect(failed.message).toMatch(/batch 1\/2 not healthy within progressDeadline 5m/);
  });

  it("reports a completed rollout whose target is later suspended as Paused, not Progressing", () => {
    const h = single({ batches: [{ replicas: "100%" }] });
    const done = h.run({ until: (p) => p.phase === "Healthy" }).at(-1);
    expect(done?.phase).toBe("Healthy");
    h.fleet.suspended.add("v2");
    h.fleet.readyWhenSuspended = "all";
    const paused = h.step();
    expect([paused.phase, paused.state.state]).toEqual(["Paused", "Completed"]);
    expect(paused.message).toMatch(/is rolled out; stage-1: v2 10\/10 ready, suspended: /);
  });
});
