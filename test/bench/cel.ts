// CEL benchmarks: compile (parse) and evaluation cost per expression for `cel-js` 0.8.2 and
// `@marcbachmann/cel-js` 8.0.0, on the kinds of expressions Flotilla evaluates (workload health,
// rollout analysis, placement conditions, macros, strings and timestamps), plus the evaluation cost
// through Flotilla's wrapper, which converts the JSON context to CEL values on every call.

import { Environment } from "@marcbachmann/cel-js";
import { evaluate as celJsEvaluate, parse as celJsParse } from "cel-js";
import { compileCel, toCelValue } from "../../src/definitions/cel.js";
import { CEL_SAMPLE_DATA } from "../fixtures/cel-data.js";
import type { BenchCase, BenchFigure } from "./types.js";

interface Expression {
  /** Short label used in figure names. */
  label: string;
  source: string;
  /** cel-js cannot run it (see test/unit/definitions/cel-library-compatibility.test.ts). */
  celJsUnsupported?: boolean;
}

const EXPRESSIONS: Expression[] = [
  { label: "health", source: "status.observedGeneration >= metadata.generation && status.availableReplicas >= spec.replicas" },
  { label: "analysis", source: "revision.readyReplicas == revision.replicas && !(revision.restarts > 3)" },
  { label: "placement", source: 'cluster.labels["usage"] == "production" && "region" in cluster.labels' },
  { label: "exists() macro", source: 'status.conditions.exists(c, c.type == "Available" && c.status == "True")' },
  { label: "filter()+size()", source: 'size(status.conditions.filter(c, c.status != "True")) == 0' },
  {
    label: "string+timestamp",
    source: 'metadata.name.startsWith("web-") && timestamp(now) - timestamp(status.conditions[0].lastTransitionTime) > duration("5m")',
    celJsUnsupported: true,
  },
];

const DATA = CEL_SAMPLE_DATA;

const WARMUP_OPS = 2_000;
const BATCH = 100;
const BATCHES = 100;
const HOW = `median over ${BATCHES} batches of ${BATCH} calls (${BATCH * BATCHES} timed calls) after ${WARMUP_OPS} warm-up calls; process.hrtime.bigint around each batch`;

/** Median cost of one call of `fn`, in microseconds. `sink` keeps results alive so nothing is optimised away. */
function medianMicros(fn: () => unknown): number {
  let sink = 0;
  for (let i = 0; i < WARMUP_OPS; i++) sink += fn() === undefined ? 0 : 1;
  const samples: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < BATCH; i++) sink += fn() === undefined ? 0 : 1;
    samples.push(Number(process.hrtime.bigint() - start) / 1_000 / BATCH);
  }
  if (sink < 0) throw new Error("unreachable");
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN;
}

function figure(name: string, value: number, how: string): BenchFigure {
  return { name, value, unit: "µs/op", how };
}

/** Measure one expression in every library that can run it. */
function measure(expression: Expression): BenchFigure[] {
  const figures: BenchFigure[] = [];
  const { label, source } = expression;

  const env = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false });
  const celData = toCelValue(DATA) as Record<string, unknown>;
  const program = env.parse(source);
  if (program(celData) !== true) throw new Error(`bench expression "${label}" is not true under @marcbachmann/cel-js`);
  figures.push(
    figure(
      `cel: parse ${label} (@marcbachmann/cel-js)`,
      medianMicros(() => env.parse(source)),
      `Environment.parse; ${HOW}`,
    ),
  );
  figures.push(
    figure(
      `cel: evaluate ${label} (@marcbachmann/cel-js)`,
      medianMicros(() => program(celData)),
      `parsed once, context pre-converted (ints as bigint); ${HOW}`,
    ),
  );
  const wrapped = compileCel(source, { definition: "bench", field: label });
  figures.push(
    figure(
      `cel: evaluate ${label} (Flotilla wrapper, alone)`,
      medianMicros(() => wrapped.evaluate(DATA)),
      `compileCel(...).evaluate on plain JSON, including the JSON→CEL conversion and back and a deadline of its own (a watchdog thread per call; passes over many objects share one); ${HOW}`,
    ),
  );

  if (!expression.celJsUnsupported) {
    const parsed = celJsParse(source);
    if (!parsed.isSuccess) throw new Error(`cel-js cannot parse bench expression "${label}": ${parsed.errors.join("; ")}`);
    if (celJsEvaluate(parsed.cst, DATA) !== true) throw new Error(`bench expression "${label}" is not true under cel-js`);
    const cst = parsed.cst;
    figures.push(
      figure(
        `cel: parse ${label} (cel-js)`,
        medianMicros(() => celJsParse(source)),
        `parse (Chevrotain CST); ${HOW}`,
      ),
    );
    figures.push(
      figure(
        `cel: evaluate ${label} (cel-js)`,
        medianMicros(() => celJsEvaluate(cst, DATA)),
        `evaluate(cst, json), parsed once; ${HOW}`,
      ),
    );
  }
  return figures;
}

export const celBench: BenchCase = {
  group: "cel",
  async run() {
    return EXPRESSIONS.flatMap(measure);
  },
};
