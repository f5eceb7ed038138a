// The rollout verbs a user may send a deployment — promote, abort, retry, pause, resume — as the
// merge patch each one is (a one-shot annotation the controller acts on and removes, or
// spec.suspend). One list for `flotilla rollout` and the web UI, so both always do the same thing.
// Pure: builds patches, never sends them.

import { ANNOTATION_ABORT, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from "../api/labels.js";

export const ROLLOUT_ACTIONS = ["promote", "abort", "retry", "pause", "resume"] as const;
export type RolloutAction = (typeof ROLLOUT_ACTIONS)[number];

export interface RolloutActionPatch {
  action: RolloutAction;
  /** What it does, for help texts and buttons. */
  help: string;
  /** The merge patch (RFC 7386) of the ApplicationDeployment. */
  body: { metadata?: { annotations: Record<string, string> }; spec?: { suspend: boolean } };
  /** What was done, once the patch is accepted. */
  done: string;
}

const ANNOTATIONS: Record<"promote" | "abort" | "retry", { key: string; help: string }> = {
  promote: { key: ANNOTATION_PROMOTE, help: "continue a paused batch" },
  abort: { key: ANNOTATION_ABORT, help: "roll the target revision back now" },
  retry: { key: ANNOTATION_RETRY, help: "restart a failed rollout from its first batch" },
};

export function isRolloutAction(value: string): value is RolloutAction {
  return (ROLLOUT_ACTIONS as readonly string[]).includes(value);
}

/** The patch of one verb. */
export function rolloutActionPatch(action: RolloutAction): RolloutActionPatch {
  if (action === "pause") return { action, help: "stop applying to clusters (spec.suspend: true)", body: { spec: { suspend: true } }, done: "suspended" };
  if (action === "resume") return { action, help: "apply again (spec.suspend: false)", body: { spec: { suspend: false } }, done: "resumed" };
  const { key, help } = ANNOTATIONS[action];
  return { action, help, body: { metadata: { annotations: { [key]: "true" } } }, done: `${key}=true set; the controller acts on it and removes it` };
}
