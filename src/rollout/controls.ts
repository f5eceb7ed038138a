// The one-shot control annotations of a deployment (ARCHITECTURE §2): promote, abort, retry.
// Read here, acted on by the planner, removed by the controller once reported as consumed.

import { ANNOTATION_ABORT, ANNOTATION_PROMOTE, ANNOTATION_RETRY } from "../api/labels.js";

export interface Controls {
  promote: boolean;
  abort: boolean;
  retry: boolean;
  /**
   * Every control annotation present. All are consumed on the call that sees them, acted on or
   * not: a stale `promote` must not approve a pause reached days later, and a stale `abort` must
   * not roll back the next revision the moment it starts. An ignored one is named in the message.
   */
  present: string[];
}

export function readControls(annotations: Record<string, string> | undefined): Controls {
  const has = (key: string) => annotations?.[key] !== undefined;
  return {
    promote: has(ANNOTATION_PROMOTE),
    abort: has(ANNOTATION_ABORT),
    retry: has(ANNOTATION_RETRY),
    present: [ANNOTATION_PROMOTE, ANNOTATION_ABORT, ANNOTATION_RETRY].filter(has),
  };
}
