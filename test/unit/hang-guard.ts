// vitest cannot interrupt synchronous code: a test of a CEL deadline that stops working would
// hang the run for hours. `guarded` runs the code under a 5 s `vm` cut-off of its own, which turns
// that hang into a failure. It is a guard, not a timing assertion.

import vm from "node:vm";

export function guarded<T>(fn: () => T): T {
  return vm.runInNewContext("fn()", { fn }, { timeout: 5_000 }) as T;
}
