// The shape every benchmark case reports, so `npm run bench` can print one table and write
// `test/bench/results.json`.

export interface BenchFigure {
  /** Case name, e.g. `git: commit of a 10-file change (10,000 files)`. */
  name: string;
  value: number;
  /** Unit of `value`, e.g. `ms/op`, `µs/op`, `objects/s`, `MiB`. */
  unit: string;
  /** How it was measured: iterations, warm-up, what was timed. */
  how: string;
  /** Optional target, e.g. `<= 50 ms`, and whether it was met. */
  target?: string;
  met?: boolean;
}

export interface BenchCase {
  /** Short group id, e.g. `render`, `git`, `sync`, `fleet`. */
  group: string;
  /** Whether the case needs the local fleet (skipped unless `--fleet` is given). */
  needsFleet?: boolean;
  run(): Promise<BenchFigure[]>;
}
