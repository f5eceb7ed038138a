// The rollout verbs' patches, shared by `flotilla rollout` and the web UI.

import { describe, expect, it } from "vitest";
import { isRolloutAction, ROLLOUT_ACTIONS, rolloutActionPatch } from "../../../src/rollout/actions.js";

describe("rolloutActionPatch", () => {
  it.each([
    ["promote", { metadata: { annotations: { "flotilla.dev/promote": "true" } } }],
    ["abort", { metadata: { annotations: { "flotilla.dev/abort": "true" } } }],
    ["retry", { metadata: { annotations: { "flotilla.dev/retry": "true" } } }],
    ["pause", { spec: { suspend: true } }],
    ["resume", { spec: { suspend: false } }],
  ] as const)("%s is the merge patch %j", (action, body) => {
    expect(rolloutActionPatch(action).body).toEqual(body);
  });

  it("knows the five verbs and nothing else", () => {
    expect(ROLLOUT_ACTIONS).toEqual(["promote", "abort", "retry", "pause", "resume"]);
    expect(isRolloutAction("promote")).toBe(true);
    expect(isRolloutAction("delete")).toBe(false);
  });
});
