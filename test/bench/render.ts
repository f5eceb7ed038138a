// Render benchmarks: one component with three traits, one whole example, and a batch of
// deployments — with compiled definitions cached, measured cold (template cache cleared before
// each render: every JSONata evaluation runs) and warm (unchanged input: no evaluation at all).

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseYamlStream } from "../../src/api/serialize.js";
import type { ApplicationDeployment } from "../../src/api/types.js";
import jsonata from "jsonata";
import type { CompiledComponent, CompiledTrait } from "../../src/definitions/compile.js";
import { type CompiledTemplate, DEFAULT_BUDGET, versionAtLeast } from "../../src/definitions/jsonata.js";
import { copyJson } from "../../src/api/json.js";
import { FileDefinitionSource } from "../../src/definitions/loader.js";
import { buildRegistry, type DefinitionRegistry } from "../../src/definitions/registry.js";
import { type RenderTarget, renderDeployment } from "../../src/render/render.js";
import { TemplateCache } from "../../src/render/template-cache.js";
import type { BenchCase, BenchFigure } from "./types.js";

const ROOT = join(import.meta.dirname, "..", "..", "..");

function threeTraitDeployment(name: string): ApplicationDeployment {
  return {
    apiVersion: "flotilla.dev/v1alpha1",
    kind: "ApplicationDeployment",
    metadata: { name, namespace: "bench" },
    spec: {
      appRevisions: [
        {
          name: "v1",
          template: {
            spec: {
              components: [
                {
                  name: "backend",
                  type: "worker",
                  settings: { image: "myimage-v1", cmd: ["sleep", "3600"] },
                  traits: [
                    { name: "autoscaler", properties: { min: 1, max: 10 } },
                    { name: "env", properties: { env: { LOG_LEVEL: "info", MODE: "bench" } } },
                    { name: "labels", properties: { team: "bench" } },
                  ],
                },
              ],
            },
          },
          rollout: { replicas: 3 },
        },
      ],
    },
  };
}

const TARGET: RenderTarget = {
  cluster: { name: "prod-eu", labels: { usage: "production" }, version: "v1.20.2" },
  wave: "production",
  revisions: [{ name: "v1", replicas: 3 }],
};

/** Median of `iterations` timings of `fn`, in microseconds, after `warmup` runs. */
async function medianMicros(fn: () => Promise<unknown>, iterations: number, warmup: number, before?: () => void): Promise<number> {
  for (let i = 0; i < warmup; i++) {
    before?.();
    await fn();
  }
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    before?.();
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? 0;
}

async function loadRegistry(): Promise<DefinitionRegistry> {
  return buildRegistry(await new FileDefinitionSource([join(ROOT, "definitions")]).loadDocuments());
}

interface TemplateCall {
  source: string;
  input: unknown;
}

/** The same registry with every template replaced by `wrap(template)`. */
function wrapTemplates(registry: DefinitionRegistry, wrap: (t: CompiledTemplate) => CompiledTemplate): DefinitionRegistry {
  const each = (t: CompiledTemplate | undefined) => t && wrap(t);
  const wrapDef = <T extends CompiledComponent | CompiledTrait>(def: T): T =>
    def.kind === "ComponentDefinition" ? { ...def, template: each(def.template) } : { ...def, patch: each(def.patch), outputs: each(def.outputs) };
  const copy = <T extends CompiledComponent | CompiledTrait>(m: DefinitionRegistry["components"] | DefinitionRegistry["traits"]) =>
    new Map([...m].map(([k, v]) => [k, "broken" in v ? v : wrapDef(v as T)]));
  return { components: copy(registry.components), traits: copy(registry.traits) } as DefinitionRegistry;
}

/** The same registry, with every template recording the input it is evaluated with. */
function recordingRegistry(registry: DefinitionRegistry, calls: TemplateCall[]): DefinitionRegistry {
  return wrapTemplates(registry, (t) => ({
    source: t.source,
    evaluate: (input, options) => {
      calls.push({ source: t.source, input: copyJson(input) });
      return t.evaluate(input, options);
    },
  }));
}

/**
 * The same registry, with every template evaluated once and its result replayed (a copy) after
 * that: a render with it costs everything but JSONata — Flotilla's own share of the cold render.
 */
function replayingRegistry(registry: DefinitionRegistry): DefinitionRegistry {
  return wrapTemplates(registry, (t) => {
    let result: { value: unknown } | undefined;
    return {
      source: t.source,
      async evaluate(input, options) {
        result ??= { value: await t.evaluate(input, options) };
        return copyJson(result.value);
      },
    };
  });
}

/**
 * The floor under the cold render: the JSONata evaluations one render of `deployment` makes, run
 * straight on the jsonata library with the same inputs and budget options, nothing of Flotilla's
 * around them (no plain-JSON copy, no merge, no policy, no cache).
 */
async function jsonataOnlyMicros(registry: DefinitionRegistry, deployment: ApplicationDeployment): Promise<{ micros: number; evaluations: number }> {
  const calls: TemplateCall[] = [];
  await renderDeployment({ deployment, registry: recordingRegistry(registry, calls), targets: [TARGET] });
  const expressions = calls.map((c) => {
    const e = jsonata(c.source, { timeout: DEFAULT_BUDGET.timeoutMs, stack: DEFAULT_BUDGET.maxDepth, sequence: DEFAULT_BUDGET.maxSequence });
    e.registerFunction("versionAtLeast", (v: unknown, m: unknown) => versionAtLeast(v, m), "<xs:b>");
    return { e, input: c.input };
  });
  const micros = await medianMicros(
    async () => {
      for (const x of expressions) await x.e.evaluate(x.input);
    },
    2000,
    200,
  );
  return { micros, evaluations: calls.length };
}

export const renderBench: BenchCase = {
  group: "render",
  async run(): Promise<BenchFigure[]> {
    const registry = await loadRegistry();
    // The controller keeps one cache for its life; "cold" clears it before each render.
    const cache = new TemplateCache();
    const clearTemplateCache = () => cache.clear();
    const one = threeTraitDeployment("one");
    const renderOne = () => renderDeployment({ deployment: one, registry, targets: [TARGET], cache });
    const cold = await medianMicros(renderOne, 2000, 200, clearTemplateCache);
    const warm = await medianMicros(renderOne, 2000, 200);
    const floor = await jsonataOnlyMicros(registry, one);
    const replaying = replayingRegistry(registry);
    const ownShare = await medianMicros(
      () => renderDeployment({ deployment: one, registry: replaying, targets: [TARGET], cache }),
      2000,
      200,
      clearTemplateCache,
    );
    const before = cache.evaluations;
    await renderOne();
    const warmEvaluations = cache.evaluations - before;

    const quick = parseYamlStream(await readFile(join(ROOT, "examples", "quickstart", "app.yaml"), "utf8"))[0] as ApplicationDeployment;
    const example = await medianMicros(() => renderDeployment({ deployment: quick, registry, targets: [TARGET], cache }), 1000, 100, clearTemplateCache);

    const batch = Array.from({ length: 1000 }, (_, i) => threeTraitDeployment(`app-${i}`));
    clearTemplateCache();
    const start = process.hrtime.bigint();
    for (const d of batch) await renderDeployment({ deployment: d, registry, targets: [TARGET], cache });
    const batchMs = Number(process.hrtime.bigint() - start) / 1e6;

    const how = "median of 2,000 renders after 200 warm-up renders, one process, compiled definitions cached";
    return [
      {
        name: "render: 1 component + 3 traits (cold, every template evaluated)",
        value: cold,
        unit: "µs/op",
        how: `${how}; template cache cleared before each render`,
        target: "<= 100 µs",
        met: cold <= 100,
      },
      {
        name: "render: the same case's JSONata evaluations alone (the library's floor)",
        value: floor.micros,
        unit: "µs/op",
        how: `its ${floor.evaluations} template evaluations with the inputs one render gives them, run straight on the jsonata library with the same budget options; median of 2,000 after 200 warm-up`,
      },
      {
        name: "render: the same case with template results replayed (Flotilla's own share)",
        value: ownShare,
        unit: "µs/op",
        how: `each template evaluated once, then its result copied instead of evaluated; ${how}; template cache cleared before each render`,
      },
      { name: "render: 1 component + 3 traits (unchanged input, cached)", value: warm, unit: "µs/op", how },
      {
        name: "render: JSONata evaluations when re-rendering unchanged input",
        value: warmEvaluations,
        unit: "evaluations",
        how: "the cache's evaluation counter around one re-render",
        target: "0",
        met: warmEvaluations === 0,
      },
      { name: "render: examples/quickstart (cold)", value: example, unit: "µs/op", how: "median of 1,000 renders, template cache cleared before each" },
      {
        name: "render: 1,000 distinct deployments (1 component + 3 traits each)",
        value: batchMs,
        unit: "ms",
        how: "one pass over 1,000 deployments with distinct names, cold cache",
      },
    ];
  },
};
