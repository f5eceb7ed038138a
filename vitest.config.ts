import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Two projects: `unit` runs pure modules and the CLI with no cluster (templates still evaluate in
// their worker process, and the CLI tests build dist/); `integration` talks to the real API
// servers of one local fleet that its global setup starts once per run.
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
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // One fleet serves every file: run the files one after another on this 2-core budget.
          pool: "forks",
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
