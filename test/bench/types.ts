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
  /**
   * A cost per deployment of a case run at several scales: `series` names it without N, so
   * `npm run bench` can set the figures of one series side by side and show how the cost grows.
   */
  perDeployment?: { series: string; n: number };
  /** The fleet-scale case's delivery mode (`--mode push|pull|mixed`) the figure was measured in. */
  mode?: string;
}

/** What `npm run bench` hands every case besides the scale. */
export interface BenchOptions {
  /** `--mode`: how the fleet case's members are delivered to (push: the controller applies; pull: an agent per member). */
  mode: "push" | "pull" | "mixed";
}

export interface BenchCase {
  /** Short group id, e.g. `render`, `git`, `sync`, `fleet`. */
  group: string;
  /** Whether the case needs the local fleet (skipped unless `--fleet` is given). */
  needsFleet?: boolean;
  /** Whether the case runs once per `--scale` count (N deployments); `scale` is then that count. */
  scaled?: boolean;
  /** Whether the case runs once per `--mode` (push, pull, mixed); `options.mode` is then that mode. */
  moded?: boolean;
  run(scale: number, options: BenchOptions): Promise<BenchFigure[]>;
}
