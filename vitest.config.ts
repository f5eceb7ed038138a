import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

const OWN_FLEET_FILES = ["test/integration/faults.test.ts", "test/integration/pull-mode.test.ts"];
/** What both integration projects share: real clusters take their time. */
const INTEGRATION = { environment: "node", testTimeout: 120_000, hookTimeout: 300_000, sequence: { groupOrder: 1 } } as const;

// Three projects: `unit` runs pure modules and the CLI with no cluster (templates still evaluate in
// their worker process, and the CLI tests build dist/); `integration` talks to the real API
// servers of one local fleet that its global setup starts once per run; `integration-own-fleet`
// holds the files that start their own fleets, run beside `integration`.
export default defineConfig({
  test: {
    // Unit files run first, in parallel, then the integration files in their single fork. Vitest's
    // default (cores - 1) ran the unit files one at a time on two cores; many wait on child
    // processes (the compiled CLI, git), and two at once took the phase from ~10 to ~4.5 minutes.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts", "test/golden/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          exclude: OWN_FLEET_FILES,
          ...INTEGRATION,
          globalSetup: ["test/integration/global-setup.ts"],
          // One fleet serves every file: run the files one after another on this 2-core budget.
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
        },
      },
      {
        // Files that stop API servers and Git for a minute start fleets of their own; most of their
        // time is waiting (the machine is ~⅓ busy), so they run beside the shared fleet's files, one
        // at a time, in a worker thread: another pool than the shared files' single fork, which
        // is what lets vitest run the two at once.
        test: {
          name: "integration-own-fleet",
          include: OWN_FLEET_FILES,
          ...INTEGRATION,
          globalSetup: ["test/integration/own-fleet-setup.ts"],
          pool: "threads",
          poolOptions: { threads: { singleThread: true } },
        },
      },
    ],
  },
});
