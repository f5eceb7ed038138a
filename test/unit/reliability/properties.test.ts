// Property-based robustness of validation and rendering (fast-check, fixed seed so a failure
// reproduces): whatever the input, the outcome is a result or a Flotilla error with a path,
// never another exception, and the same input renders the same bytes. Known-valid inputs must be
// accepted and known-invalid ones refused, so a validator that accepted (or refused) everything
// fails here. Time budgets are enforced by the code under test (the template evaluator's worker
// deadline, CEL's deadline), not asserted here; the per-test timeout only guards against a hang.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { FlotillaError, TemplateError, ValidationError } from "../../../src/api/errors.js";
import { parseYamlStream, toYaml } from "../../../src/api/serialize.js";
import type { ApplicationDeployment, Cluster, ComponentDefinition, Manifest } from "../../../src/api/types.js";
import { FLOTILLA_KINDS } from "../../../src/api/schemas.js";
import { resourceProblems, validateResource } from "../../../src/api/validate.js";
import { deploymentProblems } from "../../../src/render/deployment-problems.js";
import { builtinDefinitionsDir } from "../../../src/cli/inputs.js";
import { FileDefinitionSource } from "../../../src/definitions/loader.js";
import { buildRegistry, type DefinitionRegistry } from "../../../src/definitions/registry.js";
import { place } from "../../../src/placement/select.js";
import { renderDeployment } from "../../../src/render/render.js";
import { isClusterScoped } from "../../../src/render/scope.js";
import { isMarkedSecret, sealedSecretProblem } from "../../../src/secrets/sealed-secret.js";
import { fullRolloutTargets } from "../../../src/rollout/targets.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");
/** Fixed so that a failure prints a counterexample that reproduces on every machine. */
const SEED = 20_240_611;
const NAMESPACE = "team-a";

function readExample(name: string, file: string): unknown[] {
  return parseYamlStream(readFileSync(join(ROOT, "examples", name, file), "utf8"));
}

function example(name: string): { deployment: ApplicationDeployment; clusters: Cluster[] } {
  const read = (file: string) => readExample(name, file);
  const [deployment] = read("app.yaml") as ApplicationDeployment[];
  if (!deployment) throw new Error(`examples/${name}/app.yaml holds no document`);
  deployment.metadata.namespace = NAMESPACE;
  return { deployment, clusters: read("clusters.yaml") as Cluster[] };
}

let registry: DefinitionRegistry;
let componentDefinitions: ComponentDefinition[] = [];
let builtinDocuments: unknown[] = [];

beforeAll(async () => {
  builtinDocuments = await new FileDefinitionSource([builtinDefinitionsDir()]).loadDocuments();
  registry = buildRegistry(builtinDocuments);
  componentDefinitions = builtinDocuments.filter((d): d is ComponentDefinition => (d as { kind?: unknown }).kind === "ComponentDefinition");
});

/** Run `fn`, classify what it threw: a FlotillaError is an expected outcome, anything else a bug. */
async function outcome<T>(fn: () => Promise<T> | T): Promise<{ value?: T; error?: FlotillaError }> {
  try {
    return { value: await fn() };
  } catch (e) {
    if (!(e instanceof FlotillaError)) {
      throw new Error(`expected a result or a FlotillaError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, { cause: e });
    }
    return { error: e };
  }
}

/**
 * What validate + render may refuse a document with, and what the user must learn from it: a
 * ValidationError names the field of every problem and says what is wrong; a TemplateError (a
 * budget overrun included) names the definition, the field of the expression and what failed.
 */
function expectProblemsAddressed(error: FlotillaError): void {
  expect(error.message, `${error.name} without a message`).toMatch(/\S/);
  if (error instanceof ValidationError) {
    expect(error.problems.length).toBeGreaterThan(0);
    for (const p of error.problems) {
      // The documents here are mappings, so every problem lies at a field of them.
      expect(p.path, `a problem without a path: ${p.message}`).toMatch(/\S/);
      expect(p.message, `a problem at ${p.path} without a message`).toMatch(/\S/);
    }
  } else if (error instanceof TemplateError) {
    expect(error.definition, `a TemplateError without a definition: ${error.message}`).toMatch(/\S/);
    expect(error.field, `a TemplateError without a field: ${error.message}`).toMatch(/\S/);
  } else {
    throw new Error(`validate and render refuse with a ValidationError or a TemplateError, got ${error.name}: ${error.message}`, { cause: error });
  }
}

/** Everything a render must never produce, whatever the settings. */
function expectSafeManifests(manifests: Manifest[]): void {
  for (const m of manifests) {
    expect(typeof m.apiVersion).toBe("string");
    expect(typeof m.kind).toBe("string");
    expect(typeof m.metadata.name).toBe("string");
    // A Secret only sealed: marked, every value an age ciphertext, no stringData.
    if (m.kind === "Secret" && m.apiVersion === "v1") expect(isMarkedSecret(m) && sealedSecretProblem(m) === undefined).toBe(true);
    expect(isClusterScoped(m.apiVersion, m.kind)).toBe(false);
    expect(m.metadata.namespace).toBe(NAMESPACE);
    for (const [key, value] of Object.entries(m.metadata.labels ?? {})) {
      expect(LABEL_VALUE.test(value), `label ${key}=${value} is not a valid Kubernetes label value`).toBe(true);
    }
  }
}

/** What the API server accepts as a label value: at most 63 characters, alphanumeric at both ends. */
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

/** Validate like `flotilla validate`, then render like `flotilla render --clusters`, twice. */
async function validateAndRenderTwice(doc: unknown, clusters: Cluster[]): Promise<{ manifests: Manifest[]; yaml: string; again: string }> {
  const problems = resourceProblems(doc);
  if (problems.length) throw new ValidationError(problems);
  const deployment = doc as ApplicationDeployment;
  const found = await deploymentProblems(deployment, registry);
  if (found.length) throw new ValidationError(found);
  const renderOnce = async (): Promise<{ manifests: Manifest[]; yaml: string }> => {
    const placement = place(deployment.spec.placementStrategies, clusters);
    const rendered = await renderDeployment({ deployment, registry, targets: fullRolloutTargets(deployment, placement, clusters) });
    return {
      manifests: rendered.flatMap((c) => c.manifests),
      yaml: rendered.map((c) => `# ${c.cluster}\n${c.manifests.map((m) => `---\n${toYaml(m)}`).join("")}`).join(""),
    };
  };
  const first = await renderOnce();
  const second = await renderOnce();
  return { manifests: first.manifests, yaml: first.yaml, again: second.yaml };
}

/** A successful render: byte-identical when repeated, and only objects a deployment may create. */
function expectGoodRender(run: { manifests: Manifest[]; yaml: string; again: string }): void {
  expect(run.again).toBe(run.yaml);
  expectSafeManifests(run.manifests);
}

describe("validation of arbitrary JSON", () => {
  const flotillaShaped = fc.record(
    {
      apiVersion: fc.oneof(fc.constant("flotilla.dev/v1alpha1"), fc.jsonValue()),
      kind: fc.oneof(fc.constantFrom(...FLOTILLA_KINDS), fc.jsonValue()),
      metadata: fc.oneof(fc.record({ name: fc.oneof(fc.string(), fc.jsonValue()) }, { requiredKeys: [] }), fc.jsonValue()),
      spec: fc.jsonValue(),
    },
    { requiredKeys: ["kind"] },
  );
  const anyInput = fc.oneof(fc.jsonValue(), flotillaShaped, fc.constantFrom(undefined, null, [], {}, "", 0));

  /** An input and what validation must do with it: anything (arbitrary JSON), accept it, or refuse it at `path`. */
  type Sample = { value: unknown; must: "either" } | { value: unknown; must: "accept" } | { value: unknown; must: "refuse"; path: string };

  /** Every example document and every built-in definition: validation must accept each. */
  function validSamples(): Sample[] {
    const examples = ["multi-component", "overrides", "quickstart", "webservice-canary"].flatMap((name) => [
      ...readExample(name, "app.yaml"),
      ...readExample(name, "clusters.yaml"),
    ]);
    return [...examples, ...builtinDocuments].map((value) => ({ value, must: "accept" }));
  }

  /** One mistake each in the quickstart deployment (or no mapping at all): validation must refuse each at its path. */
  function invalidSamples(): Sample[] {
    const [d] = readExample("quickstart", "app.yaml") as ApplicationDeployment[];
    if (!d) throw new Error("examples/quickstart/app.yaml holds no document");
    const { metadata: _dropped, ...withoutMetadata } = d;
    const wrong: Array<[string, unknown]> = [
      ["", "kind: ApplicationDeployment"],
      ["", [d]],
      ["kind", { ...d, kind: "Widget" }],
      ["apiVersion", { ...d, apiVersion: "flotilla.dev/v9" }],
      ["metadata", withoutMetadata],
      ["metadata.name", { ...d, metadata: { ...d.metadata, name: "Not_A_Name" } }],
      ["metadata.namespace", { ...d, metadata: { ...d.metadata, namespace: "Team A" } }],
      ["spec.appRevisions", { ...d, spec: { ...d.spec, appRevisions: "v1" } }],
    ];
    return wrong.map(([path, value]) => ({ value, must: "refuse", path }));
  }

  /** Arbitrary JSON, with every fixed sample run first (fast-check `examples`) and drawn again among the rest. */
  function samples(): { arbitrary: fc.Arbitrary<Sample>; fixed: Sample[] } {
    const fixed = [...validSamples(), ...invalidSamples()];
    return {
      arbitrary: fc.oneof(
        anyInput.map((value): Sample => ({ value, must: "either" })),
        fc.constantFrom(...fixed),
      ),
      fixed,
    };
  }

  it("never throws from resourceProblems, accepts every valid sample, refuses every invalid one at its path, and messages every problem", () => {
    const { arbitrary, fixed } = samples();
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(arbitrary, (sample) => {
        const problems = resourceProblems(sample.value);
        for (const p of problems) {
          expect(typeof p.path).toBe("string");
          expect(p.message).toMatch(/\S/);
        }
        if (sample.must === "accept") expect(problems).toEqual([]);
        if (sample.must === "refuse") expect(problems.map((p) => p.path)).toContain(sample.path);
        if (problems.length) refused++;
        else accepted++;
      }),
      { seed: SEED, numRuns: 300, examples: fixed.map((f) => [f]) },
    );
    // Both outcomes occurred: a validator that accepted, or refused, everything fails above or here.
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it("returns a valid document as it is and throws a ValidationError naming the problems of an invalid one", () => {
    const { arbitrary, fixed } = samples();
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(arbitrary, (sample) => {
        let error: unknown;
        try {
          expect(validateResource(sample.value)).toBe(sample.value);
          accepted++;
        } catch (e) {
          error = e;
          refused++;
        }
        if (sample.must === "accept") expect(error).toBeUndefined();
        if (sample.must === "refuse") expect(error, `accepted although ${sample.path || "the document"} is wrong`).toBeDefined();
        if (error === undefined) return;
        expect(error).toBeInstanceOf(ValidationError);
        const { problems, message } = error as ValidationError;
        expect(problems.length).toBeGreaterThan(0);
        expect(message).toMatch(/\S/);
        if (sample.must === "refuse") {
          expect(problems.map((p) => p.path)).toContain(sample.path);
          expect(message).toContain(sample.path);
        }
      }),
      { seed: SEED, numRuns: 300, examples: fixed.map((f) => [f]) },
    );
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

type Path = Array<string | number>;

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  const out: Path[] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...pathsOf(v, [...prefix, i]));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...prefix, k]));
  }
  return out;
}

type Mutation =
  | { op: "drop" }
  | { op: "set"; value: unknown }
  | { op: "number"; value: number }
  | { op: "nest"; depth: number; asArray: boolean }
  | { op: "huge"; length: number }
  | { op: "unicode"; value: string };

const mutation: fc.Arbitrary<{ at: number; change: Mutation }> = fc.record({
  at: fc.nat(),
  change: fc.oneof(
    fc.constant<Mutation>({ op: "drop" }),
    fc.jsonValue({ maxDepth: 3 }).map((value): Mutation => ({ op: "set", value })),
    fc.oneof(fc.integer(), fc.double({ noNaN: false })).map((value): Mutation => ({ op: "number", value })),
    fc.record({ depth: fc.integer({ min: 1, max: 400 }), asArray: fc.boolean() }).map((r): Mutation => ({ op: "nest", ...r })),
    fc.integer({ min: 10_000, max: 2_000_000 }).map((length): Mutation => ({ op: "huge", length })),
    fc.string({ unit: "binary", maxLength: 40 }).map((value): Mutation => ({ op: "unicode", value })),
  ),
});

function mutate(root: unknown, at: number, change: Mutation): unknown {
  const doc = structuredClone(root);
  const paths = pathsOf(doc).filter((p) => p.length > 0);
  const path = paths[at % paths.length] as Path;
  let parent = doc as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, unknown>;
  const key = path[path.length - 1] as string | number;
  const old = parent[key];
  switch (change.op) {
    case "drop":
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      break;
    case "set":
      parent[key] = change.value;
      break;
    case "number":
      parent[key] = change.value;
      break;
    case "nest": {
      let v: unknown = old;
      for (let i = 0; i < change.depth; i++) v = change.asArray ? [v] : { a: v };
      parent[key] = v;
      break;
    }
    case "huge":
      parent[key] = "x".repeat(change.length);
      break;
    case "unicode":
      parent[key] = typeof old === "string" ? `${old}${change.value}` : change.value;
      break;
  }
  return doc;
}

describe.each(["quickstart", "webservice-canary"])("arbitrary mutations of examples/%s", (name) => {
  it("render deterministically or fail with a ValidationError or TemplateError that names the field", async () => {
    const { deployment, clusters } = example(name);
    // The unmutated seed must render, or the property would pass vacuously.
    const seed = await validateAndRenderTwice(deployment, clusters);
    expectGoodRender(seed);
    expect(seed.yaml).toContain("kind: Deployment");
    let rendered = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (mutations) => {
        let doc: unknown = deployment;
        for (const m of mutations) doc = mutate(doc, m.at, m.change);
        const run = await outcome(() => validateAndRenderTwice(doc, clusters));
        if (run.error) {
          refused++;
          expectProblemsAddressed(run.error);
        } else {
          rendered++;
          expectGoodRender(run.value as Awaited<ReturnType<typeof validateAndRenderTwice>>);
        }
      }),
      { seed: SEED, numRuns: 300 },
    );
    // Both outcomes must occur, or the mutations test nothing.
    expect(rendered).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  }, 60_000);
});

describe("names that Kubernetes accepts", () => {
  it("refuses a 60-character deployment name, a valid object name, at metadata.name because <namespace>.<name> would not fit a label value", async () => {
    const { deployment, clusters } = example("quickstart");
    deployment.metadata.name = `deploy-${"a".repeat(53)}`;
    expect(resourceProblems(deployment)).toEqual([expect.objectContaining({ path: "metadata.name", message: expect.stringContaining("flotilla.dev/app") })]);
    const run = await outcome(() => validateAndRenderTwice(deployment, clusters));
    expect(run.value).toBeUndefined();
    expect(run.error).toBeInstanceOf(ValidationError);
    expect((run.error as ValidationError).problems).toContainEqual(expect.objectContaining({ path: "metadata.name" }));
  });

  it("renders labels the API server accepts for the longest deployment name that fits", async () => {
    const { deployment, clusters } = example("quickstart");
    // "<namespace>.<name>" is the value of flotilla.dev/app: at most 63 characters.
    deployment.metadata.name = `deploy-${"a".repeat(63 - NAMESPACE.length - 1 - "deploy-".length)}`;
    expect(resourceProblems(deployment)).toEqual([]);
    const run = await outcome(() => validateAndRenderTwice(deployment, clusters));
    expect(run.error).toBeUndefined();
    const rendered = run.value as Awaited<ReturnType<typeof validateAndRenderTwice>>;
    expect(rendered.manifests.length).toBeGreaterThan(0);
    expectGoodRender(rendered);
    expect(rendered.manifests.map((m) => m.metadata.labels?.["flotilla.dev/app"])).toContain(`${NAMESPACE}.${deployment.metadata.name}`);
  });
});

describe("arbitrary settings for every built-in component type", () => {
  const objectsArbitrary = fc.array(
    fc.record(
      {
        apiVersion: fc.oneof(fc.constantFrom("v1", "apps/v1", "rbac.authorization.k8s.io/v1", "batch/v1"), fc.jsonValue()),
        kind: fc.oneof(fc.constantFrom("ConfigMap", "Secret", "Deployment", "ClusterRoleBinding", "Namespace", "Service"), fc.jsonValue()),
        metadata: fc.record(
          {
            name: fc.oneof(fc.constantFrom("a", "b-v1", "settings"), fc.string(), fc.jsonValue()),
            namespace: fc.oneof(fc.constantFrom(NAMESPACE, "kube-system"), fc.jsonValue()),
          },
          { requiredKeys: [] },
        ),
        data: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    ),
    { maxLength: 4 },
  );

  function settingsFor(def: ComponentDefinition): fc.Arbitrary<Record<string, unknown>> {
    const known = Object.keys((def.spec.schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});
    const key = fc.oneof(fc.constantFrom(...known), fc.string({ maxLength: 12 }));
    return fc
      .record({
        // Mostly well-formed required fields, so the schema lets many runs reach the template.
        base: fc.oneof(
          fc.constant({ image: "nginx:1.27", schedule: "@hourly", objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg" } }] }),
          fc.record({ image: fc.jsonValue(), schedule: fc.string(), objects: objectsArbitrary }, { requiredKeys: [] }),
        ),
        extra: fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
      })
      .map(({ base, extra }) => {
        const settings: Record<string, unknown> = { ...base, ...extra };
        for (const k of Object.keys(settings)) if (!known.includes(k) && k in base) delete settings[k];
        return settings;
      });
  }

  it("has every built-in component type to try", () => {
    expect(componentDefinitions.map((d) => d.metadata.name).sort()).toEqual([
      "cron-task",
      "daemon",
      "k8s-objects",
      "sealed-secret",
      "stateful",
      "task",
      "webservice",
      "worker",
    ]);
  });

  // sealed-secret takes only ciphertexts, which random settings never are: its own property below.
  it("refuses sealed-secret values that are not sealed, never showing them", async () => {
    const clusters: Cluster[] = [{ apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: "local" }, spec: {} }];
    const value = fc.oneof(fc.string({ minLength: 6 }), fc.constant("-----BEGIN AGE ENCRYPTED FILE-----\nnot really\n"));
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9._-]{0,8}$/), value, { minKeys: 1, maxKeys: 3 }), async (data) => {
        const deployment: ApplicationDeployment = {
          apiVersion: "flotilla.dev/v1alpha1",
          kind: "ApplicationDeployment",
          metadata: { name: "props", namespace: NAMESPACE },
          spec: {
            appRevisions: [
              { name: "v1", template: { spec: { components: [{ name: "main", type: "sealed-secret", settings: { data } }] } }, rollout: { replicas: 1 } },
            ],
          },
        };
        const run = await outcome(() => validateAndRenderTwice(deployment, clusters));
        expect(run.error).toBeInstanceOf(ValidationError);
        const text = JSON.stringify((run.error as ValidationError).problems) + (run.error as Error).message;
        for (const v of Object.values(data)) if (v.trim().length >= 6) expect(text).not.toContain(v);
      }),
      { seed: SEED, numRuns: 100 },
    );
  });

  it.each(["cron-task", "daemon", "k8s-objects", "stateful", "task", "webservice", "worker"])(
    "renders %s or refuses it with a FlotillaError, never a Secret, a cluster-scoped object or another namespace",
    async (type) => {
      const def = componentDefinitions.find((d) => d.metadata.name === type);
      if (!def) throw new Error(`no built-in ComponentDefinition ${type}`);
      const clusters: Cluster[] = [{ apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: "local" }, spec: {} }];
      let rendered = 0;
      await fc.assert(
        fc.asyncProperty(settingsFor(def), async (settings) => {
          const deployment: ApplicationDeployment = {
            apiVersion: "flotilla.dev/v1alpha1",
            kind: "ApplicationDeployment",
            metadata: { name: "props", namespace: NAMESPACE },
            spec: { appRevisions: [{ name: "v1", template: { spec: { components: [{ name: "main", type, settings }] } }, rollout: { replicas: 2 } }] },
          };
          const run = await outcome(() => validateAndRenderTwice(deployment, clusters));
          if (run.error) expectProblemsAddressed(run.error);
          else {
            rendered++;
            expectGoodRender(run.value as Awaited<ReturnType<typeof validateAndRenderTwice>>);
          }
        }),
        { seed: SEED, numRuns: 200 },
      );
      expect(rendered).toBeGreaterThan(0);
    },
    60_000,
  );
});

describe("attackers' spellings and wrappers never carry an object past a rule", () => {
  const CLUSTER_SCOPED = [
    ["rbac.authorization.k8s.io/v1", "ClusterRoleBinding"],
    ["v1", "Namespace"],
    ["admissionregistration.k8s.io/v1", "ValidatingAdmissionPolicyBinding"],
    ["networking.k8s.io/v1", "ServiceCIDR"],
    ["cert-manager.io/v1", "ClusterIssuer"],
    ["external-secrets.io/v1beta1", "ClusterSecretStore"],
  ] as const;
  const forbidden = fc.oneof(
    fc.record({ apiVersion: fc.constantFrom("v1", "core/v1"), kind: fc.mixedCase(fc.constant("secret")) }),
    fc.constantFrom(...CLUSTER_SCOPED).chain(([apiVersion, kind]) => fc.record({ apiVersion: fc.constant(apiVersion), kind: fc.mixedCase(fc.constant(kind)) })),
  );
  /** The object, wrapped in up to three Lists (plain `List` or typed `<Kind>List` whose items omit their kind). */
  const wrapped = fc.record({ target: forbidden, wrappers: fc.array(fc.boolean(), { maxLength: 3 }) }).map(({ target, wrappers }) => {
    let object: Record<string, unknown> = { ...target, metadata: { name: "target" }, data: { a: "b" } };
    for (const [i, typedWish] of wrappers.entries()) {
      // Only the innermost wrapper can be typed: a typed list's items take its kind.
      const typed = typedWish && i === 0;
      const item = typed ? { metadata: object.metadata, data: object.data } : object;
      const kind = typed ? `${String(object.kind)}List` : "List";
      const apiVersion = typed ? object.apiVersion : "v1";
      object = { apiVersion, kind, metadata: { name: `wrapper-${i}` }, items: [item] };
    }
    return object;
  });

  it("refuses a Secret or a cluster-scoped object under any case, apiVersion spelling or List wrapper", async () => {
    const clusters: Cluster[] = [{ apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: "local" }, spec: {} }];
    await fc.assert(
      fc.asyncProperty(wrapped, async (object) => {
        const deployment: ApplicationDeployment = {
          apiVersion: "flotilla.dev/v1alpha1",
          kind: "ApplicationDeployment",
          metadata: { name: "props", namespace: NAMESPACE },
          spec: {
            appRevisions: [
              {
                name: "v1",
                template: {
                  spec: {
                    components: [
                      {
                        name: "raw",
                        type: "k8s-objects",
                        settings: { objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "first-v1" } }, object] },
                      },
                    ],
                  },
                },
              },
            ],
          },
        };
        const run = await outcome(() => validateAndRenderTwice(deployment, clusters));
        expect(run.value, `rendered ${JSON.stringify(run.value?.manifests.map((m) => m.kind))} from ${JSON.stringify(object)}`).toBeUndefined();
        expect(run.error).toBeInstanceOf(ValidationError);
        expect((run.error as ValidationError).problems).toContainEqual(
          expect.objectContaining({ path: expect.stringMatching(/^spec\.appRevisions\[0\]\.template\.spec\.components\[0\]/) }),
        );
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  /** JSON text with keys drawn mostly from the ones that reach the prototype chain; JSON.parse keeps them as own keys. */
  const KEYS = ["__proto__", "constructor", "prototype", "hasOwnProperty", "toString", "image", "env"];
  const hostile: fc.Arbitrary<string> = fc.letrec((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      fc.jsonValue({ maxDepth: 0 }).map((v) => JSON.stringify(v)),
      tie("object"),
    ),
    object: fc
      .array(fc.tuple(fc.constantFrom(...KEYS), tie("node")), { maxLength: 4 })
      .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
  })).object as fc.Arbitrary<string>;

  it("never changes Object.prototype, whatever keys settings, overrides and trait properties hold", async () => {
    const probe = Object.getOwnPropertyNames(Object.prototype).sort();
    const clusters: Cluster[] = [{ apiVersion: "flotilla.dev/v1alpha1", kind: "Cluster", metadata: { name: "local", labels: { usage: "prod" } }, spec: {} }];
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(hostile, hostile, hostile, async (settings, override, properties) => {
        const text = `{"apiVersion":"flotilla.dev/v1alpha1","kind":"ApplicationDeployment","metadata":{"name":"props","namespace":"${NAMESPACE}"},"spec":{
          "appRevisions":[{"name":"v1","template":{"spec":{"components":[{"name":"main","type":"worker","settings":{"image":"nginx:1.27","env":${settings}},"traits":[{"name":"labels","properties":${properties}}]}]}}}],
          "placementStrategies":[{"name":"prod","overrides":[{"component":"main","settings":${override},"traits":[{"name":"labels","properties":${properties}}]}]}]}}`;
        const doc = JSON.parse(text) as ApplicationDeployment;
        const hasForbidden = /"(__proto__|constructor|prototype)":/.test(`${settings}${override}${properties}`);
        expect(resourceProblems(doc).some((p) => /the key "(__proto__|constructor|prototype)" is not allowed/.test(p.message))).toBe(hasForbidden);
        if (hasForbidden) refused++;
        // Straight to the renderer as well, past validation: the merges themselves must not write through.
        const placement = place(doc.spec.placementStrategies, clusters);
        await outcome(() => renderDeployment({ deployment: doc, registry, targets: fullRolloutTargets(doc, placement, clusters) }));
        expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(probe);
        expect(typeof Object.prototype.hasOwnProperty).toBe("function");
        expect(({} as Record<string, unknown>).image).toBeUndefined();
      }),
      { seed: SEED, numRuns: 200 },
    );
    expect(refused).toBeGreaterThan(0);
  }, 60_000);
});
