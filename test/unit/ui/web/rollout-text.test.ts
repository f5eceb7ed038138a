import { describe, expect, it } from "vitest";
import { waitingHeadline } from "../../../../src/ui/web/rollout-text.js";

describe("the deployment view's banner", () => {
  it.each([
    [{ waitingFor: "promote", state: "Paused" }, "Waiting for promote", "wait"],
    [{ waitingFor: "soak 20s", state: "Soaking" }, "Soaking: 20s left", "wait"],
    [{ waitingFor: "analysis", state: "Analyzing" }, "Waiting for analysis", "wait"],
    [{ waitingFor: "healthy replicas", state: "Progressing" }, "Waiting for healthy replicas", "wait"],
    [{ waitingFor: "spec.suspend: false", state: "Suspended" }, "Waiting for spec.suspend: false", "wait"],
    [{ waitingFor: "", state: "Failed" }, "Rollout Failed", "bad"],
    [{ waitingFor: "", state: "RolledBack" }, "Rollout RolledBack", "bad"],
    [{ waitingFor: "", state: "Completed" }, "Rollout complete", "ok"],
    [{ waitingFor: "", state: "" }, "No rollout in progress", "idle"],
  ])("says %j as %j", (rollout, headline, tone) => {
    expect(waitingHeadline(rollout)).toEqual({ headline, tone });
  });
});
