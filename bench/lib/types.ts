// The shape every benchmark file exports (bench/<name>.ts: `export const benchmark: Benchmark`): the runner
// (bench/run.ts) finds them by that export, runs the ones asked for and prints/saves their rows.

/** One measured figure: Shipmate's and the baseline's, from the same run. */
export interface BenchRow {
  /** What was measured, e.g. `/deploy --dry-run · 50 conn`. */
  case: string;
  /** e.g. `req/s`, `p99 ms`, `Redis cmds/deploy`. */
  metric: string;
  shipmate: number | null;
  baseline: number | null;
  /** shipmate / baseline unless the benchmark says otherwise (null when there is no baseline figure). */
  ratio?: number | null;
  /** The target for this figure, in words (`≥ 0.5× floor`), when it has one. */
  target?: string;
  note?: string;
}

export interface BenchContext {
  /** Progress lines (stderr): benchmarks run for minutes. */
  log(message: string): void;
}

export interface Benchmark {
  /** What `npm run bench -- <name>` selects. */
  name: string;
  title: string;
  /** What the baseline column is. */
  baseline: string;
  run(ctx: BenchContext): Promise<BenchRow[]>;
}

export function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}
