// The quality benchmark's table and JSON: per lesion group, Screener (mean over seeds, 95 % interval
// over cases, spread between seeds) and with --combined Screener + intensity, each beside the intensity
// baseline with their paired difference.
import type { MethodResult } from '../../src/eval/evaluate';
import type { MetricName } from '../../src/eval/metrics';
import { ALL_CASES, RESPONSE_NOTE } from '../../src/eval/report';
import { pairedDifference, seedStatistic, type SeedMetric, type SeedStatistic } from '../../src/eval/seeds';
import type { Recipe } from './recipe';

export interface QualityRun {
  /** Null for a given model (no seed of a recipe). */
  seed: number | null;
  trainSeconds: number | null;
  scoreSeconds: number;
  method: MethodResult;
}

/** The metrics the benchmark reports (diceFixed is left to `screener eval`: lesion recall uses the same threshold). */
export const QUALITY_METRICS: MetricName[] = ['auroc', 'auroc30', 'aupro30', 'diceBest', 'lesionRecall'];
/** With --presence (the scans without lesions scored too): whether the map sees the lesions, and where they lie. */
export const RESPONSE_METRICS: SeedMetric[] = ['presence', 'placement'];
const HEADERS: Record<string, string> = {
  auroc: 'AUROC', auroc30: 'AUROC30', aupro30: 'AUPRO30', diceBest: 'Dice best', lesionRecall: 'lesion recall', presence: 'lesion presence', placement: 'placement',
};

/** The benchmark's metrics, and presence and placement where every method has them. */
function metricsOf(methods: MethodResult[]): SeedMetric[] {
  return methods.every((m) => m.response) ? [...QUALITY_METRICS, ...RESPONSE_METRICS] : QUALITY_METRICS;
}

function groupsOf(methods: MethodResult[]): string[] {
  return [ALL_CASES, ...new Set(methods.flatMap((m) => Object.keys(m.groups)))];
}

function statCell(s: SeedStatistic | null, seeds: number): string {
  if (!s) return '-';
  const base = `${s.mean.toFixed(3)} [${s.interval[0].toFixed(2)}, ${s.interval[1].toFixed(2)}]`;
  return seeds > 1 ? `${base} ±${s.seedSd.toFixed(2)}` : base;
}

function signed(v: number, digits: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
}

/** One method of the recipe over its runs (one per seed): "Screener", "Screener + intensity". */
export interface RecipeMethod {
  label: string;
  runs: QualityRun[];
}

export function qualityTable(recipes: RecipeMethod[], baseline: MethodResult): string {
  const runs = recipes[0]!.runs;
  const all = [...recipes.flatMap((r) => r.runs.map((run) => run.method)), baseline];
  const metrics = metricsOf(all);
  const rows: string[][] = [];
  for (const group of groupsOf(all)) {
    const intensity = metrics.map((k) => seedStatistic([baseline], group, k));
    const mine = recipes.map((r) => ({ ...r, stats: metrics.map((k) => seedStatistic(r.runs.map((run) => run.method), group, k)) }));
    if (mine.every((r) => r.stats.every((s) => !s)) && intensity.every((s) => !s)) continue;
    const cases = String(mine[0]!.stats.find((s) => s)?.cases ?? intensity.find((s) => s)?.cases ?? 0);
    rows.push([group, 'intensity baseline', cases, '-', ...intensity.map((s) => statCell(s, 1))]);
    for (const r of mine) {
      rows.push([group, r.label, cases, String(r.runs.length), ...r.stats.map((s) => statCell(s, r.runs.length))]);
      rows.push([group, `${r.label} - baseline`, cases, '', ...metrics.map((k) => {
        const d = pairedDifference(r.runs.map((run) => run.method), baseline, group, k);
        return d ? `${signed(d.mean, 3)} [${signed(d.interval[0], 2)}, ${signed(d.interval[1], 2)}]` : '-';
      })]);
    }
  }
  const header = ['lesions', 'method', 'cases', 'seeds', ...metrics.map((k) => HEADERS[k]!)];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const times = runs.map((r) => `${r.seed === null ? 'model' : `seed ${r.seed}`}: ${r.trainSeconds === null ? '' : `trained ${r.trainSeconds.toFixed(0)} s, `}scored ${r.scoreSeconds.toFixed(0)} s`);
  return [
    line(header),
    rule,
    ...rows.map(line),
    '',
    'Each cell: mean over cases (of the seed-averaged value) [95 % bootstrap interval over cases] ±standard deviation of the seeds\' means.',
    '"- baseline": the method minus the baseline, paired by case, [95 % bootstrap interval]. Voxels inside the body only.',
    ...(metrics.length > QUALITY_METRICS.length ? [RESPONSE_NOTE] : []),
    ...(recipes.length > 1 ? ['Screener + intensity: the mean of both maps, each standardised inside the body (median, MAD); its runs are Screener\'s seeds.'] : []),
    `Time per run: ${times.join('; ')}.`,
  ].join('\n');
}

export function qualityJson(title: string, recipe: Recipe, counts: Record<string, number>, recipes: RecipeMethod[], baseline: { method: MethodResult; scoreSeconds: number }) {
  const runs = recipes[0]!.runs;
  const methods = runs.map((r) => r.method);
  const metrics = metricsOf([...recipes.flatMap((r) => r.runs.map((run) => run.method)), baseline.method]);
  const summary: Record<string, Record<string, unknown>> = {};
  for (const group of groupsOf([...methods, baseline.method])) {
    summary[group] = Object.fromEntries(
      metrics.map((k) => [k, { screener: seedStatistic(methods, group, k), intensity: seedStatistic([baseline.method], group, k), difference: pairedDifference(methods, baseline.method, group, k) }]),
    );
  }
  const combined = recipes[1];
  const combinedSummary = combined && Object.fromEntries(
    groupsOf([...combined.runs.map((r) => r.method), baseline.method]).map((group) => [group, Object.fromEntries(metrics.map((k) => [k, {
      combined: seedStatistic(combined.runs.map((r) => r.method), group, k),
      difference: pairedDifference(combined.runs.map((r) => r.method), baseline.method, group, k),
    }]))]),
  );
  return { title, recipe, counts, date: new Date().toISOString(), summary, runs, ...(combined ? { combinedSummary, combinedRuns: combined.runs } : {}), baseline };
}
