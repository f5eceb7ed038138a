// Reading a watch: newline-delimited JSON events, an ERROR event turned into a typed error
// (410 Gone: list again), bookmarks passed on so the caller can resume from them.

import { KubeApiError, WatchExpiredError } from "../api/errors.js";
import { httpError, type HttpResult, statusReason } from "./status.js";
import type { StreamReader } from "./transport.js";

export interface WatchEvent<T> {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK";
  object: T;
}

/** A Status in an ERROR event or an error answer that says the version is gone. */
function expired(status: number | undefined, body: unknown): boolean {
  return status === 410 || statusReason(body) === "Expired" || statusReason(body) === "Gone";
}

/**
 * A StreamReader that splits the text into events and hands each to `onEvent`. Throws (ending the
 * watch) WatchExpiredError when the server no longer has the version asked for, and a retryable
 * KubeApiError for an ERROR event or a line that is not JSON.
 */
export function watchReader<T>(object: string, onEvent: (event: WatchEvent<T>) => void): StreamReader {
  let pending = "";
  return {
    onErrorStatus(res: HttpResult) {
      throw expired(res.status, res.body) ? new WatchExpiredError(object) : httpError(res, object, "watch failed");
    },
    onText(text: string) {
      pending += text;
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
        if (!line.trim()) continue;
        let event: { type: WatchEvent<T>["type"] | "ERROR"; object: T };
        try {
          event = JSON.parse(line);
        } catch {
          throw new KubeApiError("watch: the server sent a line that is not JSON", { object, retryable: true });
        }
        if (event.type === "ERROR") {
          const status = event.object as { code?: number; message?: string; reason?: string };
          if (expired(status.code, status)) throw new WatchExpiredError(object);
          throw new KubeApiError(`watch failed: ${status.message ?? "error event"}`, {
            object,
            ...(status.code ? { status: status.code } : {}),
            ...(status.reason ? { reason: status.reason } : {}),
            retryable: true,
          });
        }
        onEvent(event as WatchEvent<T>);
      }
    },
  };
}
