// The bad-input corpus (test/fixtures/bad): every invalid input a user could write must be refused
// with a Flotilla error that names the field, and never with a TypeError, a hang or an
// out-of-memory crash. Inputs go through the same functions as `flotilla validate` and `render`.
// How fast is the business of the code under test (the template evaluator's worker deadline,
// CEL's deadline, the loader's size and alias limits) and of the bench; here a per-test timeout
// only turns a hang into a failure.

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type FieldProblem, FlotillaError, TemplateError, ValidationError } from "../../../src/api/errors.js";
import type { ApplicationDeployment, Cluster } from "../../../src/api/types.js";
import { deploymentProblems } from "../../../src/render/deployment-problems.js";
import { builtinDefinitionsDir, readInputs } from "../../../src/cli/inputs.js";
import { FileDefinitionSource, readDocuments } from "../../../src/definitions/loader.js";
import { brokenDefinitions, buildRegistry } from "../../../src/definitions/registry.js";
import { type Placement, place } from "../../../src/placement/select.js";
import { type RenderedCluster, renderDeployment } from "../../../src/render/render.js";
import { fullRolloutTargets } from "../../../src/rollout/targets.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const CORPUS = join(ROOT, "test", "fixtures", "bad");
const MAIN = join(ROOT, "dist", "src", "cli", "main.js");
/**
 * Per-test timeout: the hang guard. Generous on purpose (a refusal takes well under a second; the
 * template budget is 1 s), so a loaded machine never fails a test that would pass, while an input
 * that hangs the evaluator or the loader still fails instead of stalling the run.
 */
const HANG_GUARD_MS = 30_000;

interface Expectation {
  file: string;
  name: string;
  description: string;
  outcome: "error" | "renders-nothing";
  path?: string;
  message?: string;
  fix?: string;
}

/** The leading `# key: value` comment block of a fixture (see test/fixtures/bad/README.md). */
function expectationOf(name: string): Expectation {
  const file = join(CORPUS, name);
  const header: string[] = [];
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (!line.startsWith("#")) break;
    header.push(line.replace(/^# ?/, ""));
  }
  const fields = new Map<string, string>();
  for (const line of header.slice(1)) {
    const m = /^(path|message|fix|outcome):(.*)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) fields.set(m[1], m[2].trim().replaceAll("$FILE", file));
  }
  const outcome = fields.get("outcome") === "renders-nothing" ? "renders-nothing" : "error";
  return {
    file,
    name,
    description: header[0] ?? name,
    outcome,
    ...(fields.has("path") ? { path: fields.get("path") as string } : {}),
    ...(fields.has("message") ? { message: fields.get("message") as string } : {}),
    ...(fields.has("fix") ? { fix: fields.get("fix") as string } : {}),
  };
}

const corpus = readdirSync(CORPUS)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map(expectationOf);

let builtins: unknown[] = [];

const LOCAL: Cluster = { apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: "local" }, spec: {} };

interface Run {
  placement: Placement[];
  rendered: RenderedCluster[][];
}

/**
 * `flotilla validate` (schema problems, broken definitions, deploymentProblems), then what
 * `flotilla render --clusters` does with a valid deployment (placement, full rollout, render).
 * Throws the error the user would see.
 */
async function runLikeTheCli(file: string): Promise<Run> {
  const inputs = await readInputs([file]);
  const problems: FieldProblem[] = [...inputs.problems];
  const registry = buildRegistry([...builtins, ...inputs.definitions]);
  for (const broken of brokenDefinitions(registry)) {
    problems.push(...(broken.error instanceof ValidationError ? broken.error.problems : [{ path: "", message: broken.error.message }]));
  }
  for (const { doc } of inputs.deployments) problems.push(...(await deploymentProblems(doc, registry)));
  if (problems.length) throw new ValidationError(problems);
  const run: Run = { placement: [], rendered: [] };
  const clusters = inputs.clusters.length ? inputs.clusters : [LOCAL];
  for (const { doc } of inputs.deployments) {
    const placement = place(doc.spec.placementStrategies, clusters, { deployment: doc.metadata.name });
    run.placement.push(placement);
    run.rendered.push(await renderDeployment({ deployment: doc, registry, targets: fullRolloutTargets(doc, placement, clusters) }));
  }
  return run;
}

/** The problems a Flotilla error tells the user about, whatever its family. */
function problemsOf(error: FlotillaError): FieldProblem[] {
  if (error instanceof ValidationError) return error.problems;
  if (error instanceof TemplateError) return [{ path: error.path || error.field, message: error.message }];
  return [{ path: "", message: error.message }];
}

/** Runs `fn`: what it returned, or what it threw. */
async function settle<T>(fn: () => Promise<T>): Promise<{ value?: T; error?: unknown }> {
  try {
    return { value: await fn() };
  } catch (error) {
    return { error };
  }
}

beforeAll(async () => {
  builtins = await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments();
  // Warm the compile caches of the built-ins so the first case is not charged for them.
  expect(brokenDefinitions(buildRegistry(builtins))).toEqual([]);
});

describe("the bad-input corpus", () => {
  it("holds at least 50 invalid inputs, each with an expected path and message", () => {
    const errors = corpus.filter((c) => c.outcome === "error");
    expect(errors.length).toBeGreaterThanOrEqual(50);
    for (const c of errors) {
      expect(c.path, `${c.name} names no path`).toBeDefined();
      expect(c.message, `${c.name} names no message`).toBeTruthy();
    }
  });

  it.each(corpus.filter((c) => c.outcome === "error").map((c) => [c.name, c] as const))(
    "refuses %s with a Flotilla error naming the field",
    async (_name, c) => {
      const { error } = await settle(() => runLikeTheCli(c.file));
      expect(error, `${c.description}: expected an error, but the input was accepted`).toBeDefined();
      if (!(error instanceof FlotillaError)) {
        throw new Error(`${c.description}: expected a FlotillaError, got ${String(error)}`, { cause: error });
      }
      const problems = problemsOf(error);
      expect(problems.length).toBeGreaterThan(0);
      for (const p of problems) expect(p.path !== "" || p.message !== "", "a problem with neither path nor message").toBe(true);
      expect(problems).toContainEqual(
        expect.objectContaining({
          path: c.path,
          message: expect.stringContaining(c.message ?? ""),
          ...(c.fix ? { fix: expect.stringContaining(c.fix) } : {}),
        }),
      );
    },
    HANG_GUARD_MS,
  );

  it.each(corpus.filter((c) => c.outcome === "renders-nothing").map((c) => [c.name, c] as const))(
    "renders %s for zero clusters and gives every cluster a reason",
    async (_name, c) => {
      const { value, error } = await settle(() => runLikeTheCli(c.file));
      expect(error).toBeUndefined();
      const run = value as Run;
      expect(run.rendered).toEqual([[]]);
      const [placement] = run.placement;
      expect(placement?.waves.map((w) => w.clusters)).toEqual([[], []]);
      expect(placement?.decisions.length).toBeGreaterThan(0);
      for (const d of placement?.decisions ?? []) {
        expect(d.selected).toBe(false);
        expect(d.reason).toMatch(/\S/);
      }
      expect(placement?.decisions).toContainEqual({
        cluster: "edge-1",
        selected: false,
        reason: "staging: label usage=edge does not match usage=staging; canary: label region=eu is not in [us]",
      });
    },
    HANG_GUARD_MS,
  );
});

describe("flotilla validate on its own (no clusters given)", () => {
  async function validateOnly(doc: ApplicationDeployment): Promise<FieldProblem[]> {
    return deploymentProblems(doc, buildRegistry(builtins));
  }
  const deployment = (extra: Partial<ApplicationDeployment["spec"]>): ApplicationDeployment => ({
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name: "bad", namespace: "team-a" },
    spec: {
      appRevisions: [{ name: "v1", template: { spec: { components: [{ name: "backend", type: "worker", settings: { image: "a" } }] } } }],
      ...extra,
    },
  });

  it("reports a placement condition that does not compile even when no cluster would evaluate it", async () => {
    const problems = await validateOnly(deployment({ placementStrategies: [{ name: "prod", clusterSelector: { condition: 'cluster.labels["tier"] != ' } }] }));
    expect(problems).toContainEqual(
      expect.objectContaining({ path: "spec.placementStrategies[0].clusterSelector.condition", message: expect.stringContaining("CEL") }),
    );
  });
});

describe("oversized and explosive files fed to the loader", () => {
  let tmp = "";
  let huge = "";
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "flotilla-bad-"));
    huge = join(tmp, "huge.yaml");
    // 17 MiB: a valid-looking deployment with one enormous string.
    await writeFile(
      huge,
      `apiVersion: flotilla.dev/v1alpha1\nkind: ApplicationDeployment\nmetadata: {name: huge}\nspec:\n  blob: "${"x".repeat(17 * 1024 * 1024)}"\n`,
    );
  });
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it(
    "refuses a document over 16 MiB with a ValidationError naming the file and the limit",
    async () => {
      const { error } = await settle(() => readDocuments([huge]));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems).toContainEqual(
        expect.objectContaining({ path: huge, message: expect.stringContaining("more than the limit of 16777216") }),
      );
    },
    HANG_GUARD_MS,
  );

  it(
    "refuses a billion-laughs document through readDocuments",
    async () => {
      const bomb = join(CORPUS, "yaml-bomb-billion-laughs.yaml");
      const { error } = await settle(() => readDocuments([bomb]));
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).message).toContain("refusing to load it");
    },
    HANG_GUARD_MS,
  );

  describe("through the compiled CLI with a 128 MiB heap", () => {
    beforeAll(() => {
      // Build only when dist is missing or older than the sources, so a run costs no compile. A
      // failed build fails here, with tsc's diagnostics, rather than testing a stale or partial dist.
      const newest = Math.max(...listFiles(join(ROOT, "src")).map((f) => statSync(f).mtimeMs));
      if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newest) {
        const build = spawnSync("npx", ["tsc", "-p", "."], { cwd: ROOT, encoding: "utf8" });
        if (build.error || build.status !== 0) {
          throw new Error(`npx tsc -p . failed (exit ${build.status}${build.signal ? `, ${build.signal}` : ""}):\n${build.stdout ?? ""}${build.stderr ?? ""}`, {
            cause: build.error,
          });
        }
      }
      if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing after npx tsc -p .`);
    }, 180_000);

    /** Kills the CLI after 30 s: a hang then shows as a signal instead of exit code 1. */
    function validate(file: string): { code: number | null; signal: NodeJS.Signals | null; stderr: string } {
      const run = spawnSync("node", ["--max-old-space-size=128", MAIN, "validate", "-f", file], { cwd: ROOT, encoding: "utf8", timeout: 30_000 });
      return { code: run.status, signal: run.signal, stderr: run.stderr };
    }

    it.each([
      ["a billion-laughs bomb", () => join(CORPUS, "yaml-bomb-billion-laughs.yaml"), "refusing to load it"],
      ["a bomb hidden in settings", () => join(CORPUS, "yaml-bomb-in-settings.yaml"), "refusing to load it"],
      ["a 17 MiB document", () => huge, "more than the limit of 16777216"],
    ])(
      "exits 1 with a clear message for %s, without running out of memory or time",
      (_what, file, message) => {
        const run = validate(file());
        expect(run.signal, "the CLI was killed: it hung or ran out of memory").toBeNull();
        expect(run.stderr).not.toContain("heap out of memory");
        expect(run.stderr).toContain(message);
        expect(run.stderr).toContain(file());
        expect(run.code).toBe(1);
      },
      40_000,
    );
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : [],
  );
}
