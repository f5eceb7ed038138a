// A request body read whole, within a size and a time limit: what every handler of untrusted
// uploads needs (the Git server, the webhook receiver), so a large or slow body costs neither
// memory nor a slot for long.

import type { IncomingMessage } from "node:http";

export type BodyRead = { body: Buffer } | { failed: "too-large" | "timeout" | "aborted" };

/** The request body, stopping at `limit` bytes or `timeoutMs`; never rejects. */
export function readRequestBody(req: IncomingMessage, limit: number, timeoutMs: number): Promise<BodyRead> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyRead) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onAbort);
      req.off("close", onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) finish({ failed: "too-large" });
      else chunks.push(chunk);
    };
    const onEnd = () => finish({ body: Buffer.concat(chunks) });
    const onAbort = () => finish({ failed: "aborted" });
    const timer = setTimeout(() => finish({ failed: "timeout" }), timeoutMs);
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onAbort);
    req.on("close", onAbort);
  });
}
