// Bootstrap intervals over cases: how far a mean over a few dozen cases could move with another
// draw of cases. Percentile intervals from a seeded resampling, so a report is the same every run.
import { Rng } from '../data/rng';

export type Interval = [number, number];

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** Coverage (default 0.95). */
  level?: number;
  seed?: number;
}

/** Percentile of sorted values, linear between order statistics (numpy's default rule). */
export function percentile(sorted: Float64Array, p: number): number {
  const x = p * (sorted.length - 1);
  const i = Math.floor(x);
  const f = x - i;
  return i + 1 < sorted.length ? sorted[i]! * (1 - f) + sorted[i + 1]! * f : sorted[i]!;
}

/**
 * The bootstrap percentile interval of a statistic of cases: `statistic(indices)` is evaluated on
 * resampled case indices (with replacement, as many as there are cases). Null with no cases.
 */
export function bootstrapInterval(caseCount: number, statistic: (indices: Uint32Array) => number, options: BootstrapOptions = {}): Interval | null {
  if (caseCount === 0) return null;
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const rng = new Rng(options.seed ?? 0x5eed);
  const values = new Float64Array(resamples);
  const indices = new Uint32Array(caseCount);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < caseCount; i++) indices[i] = Math.floor(rng.next() * caseCount);
    values[r] = statistic(indices);
  }
  values.sort();
  const tail = (1 - level) / 2;
  return [percentile(values, tail), percentile(values, 1 - tail)];
}

/** The bootstrap interval of the mean of `values` (one per case). */
export function meanInterval(values: readonly number[], options: BootstrapOptions = {}): Interval | null {
  return bootstrapInterval(values.length, (idx) => {
    let s = 0;
    for (const i of idx) s += values[i]!;
    return s / idx.length;
  }, options);
}

/**
 * The interval of the mean difference a - b over paired cases (the same case scored by two methods):
 * resampling pairs keeps what the cases share, so a difference can be clear while both means' own
 * intervals overlap.
 */
export function pairedDifferenceInterval(a: readonly number[], b: readonly number[], options: BootstrapOptions = {}): Interval | null {
  if (a.length !== b.length) throw new RangeError(`pairedDifferenceInterval: ${a.length} values against ${b.length}`);
  return meanInterval(a.map((v, i) => v - b[i]!), options);
}
