// What makes a rendered Secret a sealed one, shared by the renderer (which lets only such Secrets
// reach Git) and the sync loop (which opens them at apply time). Pure: no keys, no I/O; nothing
// here ever reads, returns or prints a value beyond saying whether it is sealed.

import type { Manifest } from "../api/types.js";
import { ANNOTATION_SEALED, isSealedValue, SEALED_SCHEME } from "./age.js";

/** The recipients a sealed Secret's values were sealed to, comma-separated (informational, for errors). */
export const ANNOTATION_SEALED_RECIPIENTS = "flotilla.dev/sealed-recipients";

/** The annotations a sealed Secret may carry although flotilla.dev/ keys are otherwise Flotilla's own. */
export const SEALED_ANNOTATIONS: readonly string[] = [ANNOTATION_SEALED, ANNOTATION_SEALED_RECIPIENTS];

/** A core v1 Secret (any spelling of the core group the renderer normalises is `v1` by then). */
export function isCoreSecret(o: { apiVersion?: unknown; kind?: unknown }): boolean {
  return o.kind === "Secret" && (o.apiVersion === "v1" || o.apiVersion === "core/v1");
}

/** The Secret carries the sealed marker (whatever its scheme): its data must then be sealed. */
export function isMarkedSecret(o: Manifest): boolean {
  return isCoreSecret(o) && o.metadata.annotations?.[ANNOTATION_SEALED] !== undefined;
}

/** Why a marked Secret may not go to Git, naming the key but never the value; undefined when it may. */
export function sealedSecretProblem(o: Manifest): { message: string; fix: string } | undefined {
  const scheme = o.metadata.annotations?.[ANNOTATION_SEALED];
  if (scheme !== SEALED_SCHEME) {
    return {
      message: `carries ${ANNOTATION_SEALED}: ${JSON.stringify(scheme)}, a scheme Flotilla cannot open`,
      fix: `Set ${ANNOTATION_SEALED}: "${SEALED_SCHEME}" and seal the values with \`flotilla secret seal\`.`,
    };
  }
  if (o.stringData !== undefined) {
    return {
      message: "has stringData, whose values would reach Git in plain text",
      fix: "Remove stringData; put every value, sealed with `flotilla secret seal`, under data.",
    };
  }
  const data = o.data;
  if (data === undefined || data === null) return undefined;
  if (typeof data !== "object" || Array.isArray(data)) {
    return { message: "has data that is not a map of keys to sealed values", fix: "Give data as KEY: <armored age value> pairs." };
  }
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    if (typeof value !== "string" || !isSealedValue(value)) {
      return {
        message: `has data key "${key}" whose value is not sealed (an armored age file, -----BEGIN AGE ENCRYPTED FILE-----); it is not shown`,
        fix: `Seal the value of "${key}" with \`flotilla secret seal\` and paste the output; never put plain values in a deployment.`,
      };
    }
  }
  return undefined;
}
