// One recipe trained with several seeds, scored on the same cases: per lesion group and metric, the
// mean over seeds, the spread between seeds, and a bootstrap interval over cases of the seed-averaged
// per-case values; and the paired difference to another method (the intensity baseline) on those cases.
import { meanInterval, pairedDifferenceInterval, type Interval } from './bootstrap';
import type { CaseResult, MethodResult } from './evaluate';
import type { CaseMetrics, MetricName } from './metrics';
import type { LesionResponseValues } from './lesion-response';
import { ALL_CASES } from './report';

export interface SeedStatistic {
  /** Mean over cases of the seed-averaged per-case value. */
  mean: number;
  /** 95 % bootstrap interval of that mean over cases. */
  interval: Interval;
  /** Each seed's own mean over cases. */
  perSeed: number[];
  /** Standard deviation of the per-seed means (0 for one seed). */
  seedSd: number;
  cases: number;
}

/** A per-case value: a metric, or lesion presence / placement where the scans without lesions were scored. */
export type SeedMetric = MetricName | keyof LesionResponseValues;

/** A case's metrics in one lesion group (ALL_CASES: every lesion of the case). */
function groupMetrics(c: CaseResult, group: string): (CaseMetrics & Partial<LesionResponseValues>) | undefined {
  return group === ALL_CASES ? c : c.groups?.[group];
}

/** Per case id, the value of a metric in a group averaged over the runs that have it. */
export function seedAveraged(runs: readonly Pick<MethodResult, 'cases'>[], group: string, metric: SeedMetric): Map<string, number> {
  const sums = new Map<string, { sum: number; n: number }>();
  for (const run of runs) {
    for (const c of run.cases) {
      const v = groupMetrics(c, group)?.[metric];
      if (v === null || v === undefined) continue;
      const s = sums.get(c.id) ?? { sum: 0, n: 0 };
      s.sum += v;
      s.n++;
      sums.set(c.id, s);
    }
  }
  return new Map([...sums].map(([id, s]) => [id, s.sum / s.n]));
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;

/** The statistic of one group and metric over runs of one recipe (one run per seed); null when no case has a value. */
export function seedStatistic(runs: readonly Pick<MethodResult, 'cases'>[], group: string, metric: SeedMetric): SeedStatistic | null {
  const perCase = [...seedAveraged(runs, group, metric).values()];
  if (perCase.length === 0) return null;
  const perSeed = runs.map((run) => {
    const values = run.cases.map((c) => groupMetrics(c, group)?.[metric]).filter((v): v is number => v !== null && v !== undefined);
    return values.length ? mean(values) : NaN;
  }).filter((v) => !Number.isNaN(v));
  const m = mean(perSeed);
  const seedSd = perSeed.length > 1 ? Math.sqrt(perSeed.reduce((a, v) => a + (v - m) ** 2, 0) / (perSeed.length - 1)) : 0;
  return { mean: mean(perCase), interval: meanInterval(perCase)!, perSeed, seedSd, cases: perCase.length };
}

/**
 * The paired difference (runs' seed-averaged value minus the other method's) over the cases both
 * have: its mean and 95 % bootstrap interval. Null when they share no case.
 */
export function pairedDifference(runs: MethodResult[], other: MethodResult, group: string, metric: SeedMetric): { mean: number; interval: Interval } | null {
  const ours = seedAveraged(runs, group, metric);
  const theirs = seedAveraged([other], group, metric);
  const ids = [...ours.keys()].filter((id) => theirs.has(id));
  if (ids.length === 0) return null;
  const a = ids.map((id) => ours.get(id)!);
  const b = ids.map((id) => theirs.get(id)!);
  return { mean: mean(a) - mean(b), interval: pairedDifferenceInterval(a, b)! };
}
