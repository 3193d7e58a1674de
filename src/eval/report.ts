// Reports of an evaluation: a markdown table with the methods side by side (per lesion-kind group),
// and the JSON document with per-case and mean values.
import type { Interval } from './bootstrap';
import type { MeanValues, MethodResult } from './evaluate';
import type { LesionResponseSummary } from './lesion-response';
import { METRIC_NAMES, type MetricName } from './metrics';

export const ALL_CASES = 'all lesions';

const HEADERS: Record<MetricName, string> = {
  auroc: 'AUROC',
  auroc30: 'AUROC30',
  aupro30: 'AUPRO30',
  diceBest: 'Dice best',
  diceFixed: 'Dice fixed',
  lesionRecall: 'lesion recall',
};

function cell(v: number | null): string {
  return v === null ? '-' : v.toFixed(3);
}

/** A mean with its 95 % interval, e.g. "0.761 [0.70, 0.82]". */
function withInterval(value: number | null, interval: Interval | undefined): string {
  return interval ? `${cell(value)} [${interval[0].toFixed(2)}, ${interval[1].toFixed(2)}]` : cell(value);
}

function cellWithInterval(mean: MeanValues, name: MetricName): string {
  return withInterval(mean[name], mean.intervals?.[name]);
}

/**
 * One markdown table: a row per (lesion group, method), groups in order, methods in the order given;
 * each mean with its 95 % bootstrap interval over cases.
 */
export function markdownTable(methods: MethodResult[]): string {
  const groupNames = [ALL_CASES, ...new Set(methods.flatMap((m) => Object.keys(m.groups)))];
  const rows: string[][] = [];
  for (const group of groupNames) {
    for (const m of methods) {
      const mean: MeanValues | undefined = group === ALL_CASES ? m.mean : m.groups[group];
      if (!mean) continue;
      rows.push([m.name, group, String(mean.cases), ...METRIC_NAMES.map((k) => cellWithInterval(mean, k))]);
    }
  }
  const header = ['method', 'lesions', 'cases', ...METRIC_NAMES.map((k) => HEADERS[k])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

/** Per-case AUROC spread of each method: min, quartiles, max (the means alone hide it). */
export function spreadTable(methods: MethodResult[], metric: MetricName = 'auroc'): string {
  const q = (sorted: number[], p: number) => sorted[Math.round(p * (sorted.length - 1))]!;
  const lines = [`| method | ${HEADERS[metric]} min | 25 % | median | 75 % | max |`, '|---|---:|---:|---:|---:|---:|'];
  for (const m of methods) {
    const values = m.cases.map((c) => c[metric]).filter((v): v is number => v !== null).sort((a, b) => a - b);
    if (!values.length) continue;
    lines.push(`| ${m.name} | ${[0, 0.25, 0.5, 0.75, 1].map((p) => q(values, p).toFixed(3)).join(' | ')} |`);
  }
  return lines.join('\n');
}

/**
 * Lesion presence and placement per method (lesion-response.ts), when the scans without lesions were
 * scored; empty when no method has them.
 */
export function responseTable(methods: MethodResult[]): string {
  const withResponse = methods.filter((m) => m.response);
  if (withResponse.length === 0) return '';
  const value = (r: LesionResponseSummary, key: 'presence' | 'placement') => withInterval(r[key], r.intervals[key]);
  const lines = ['| method | lesions | cases | lesion presence AUROC | placement AUROC |', '|---|---|---:|---:|---:|'];
  const row = (name: string, lesions: string, r: LesionResponseSummary) => lines.push(`| ${name} | ${lesions} | ${r.cases} | ${value(r, 'presence')} | ${value(r, 'placement')} |`);
  for (const m of withResponse) {
    row(m.name, ALL_CASES, m.response!);
    for (const [group, r] of Object.entries(m.response!.groups ?? {})) row(m.name, group, r);
  }
  return lines.join('\n');
}

/** What the columns of responseTable mean, for the reader of a report. */
export const RESPONSE_NOTE =
  'Lesion presence: AUROC of the lesions\' voxels scored with the lesions against the same voxels in the scan without them (0.5: the map does not change where a lesion appears). ' +
  'Placement: AUROC of the map of the scan without lesions against the lesion masks (what a method blind to the lesions gets from where they were put).';

export interface EvaluationReport {
  data: string;
  date: string;
  /** How diceFixed's threshold was chosen. */
  thresholdSelection: string;
  /** Which voxels count. */
  voxels: string;
  methods: Record<
    string,
    { description: string; mean: MeanValues; groups: Record<string, MeanValues>; cases: MethodResult['cases']; response?: MethodResult['response'] }
  >;
  /** Cases that could not be scored, with the reason; they count in no mean. */
  failed: { id: string; error: string }[];
}

export function jsonReport(data: string, thresholdSelection: string, methods: MethodResult[], failed: { id: string; error: string }[] = []): EvaluationReport {
  const round = (v: unknown): unknown =>
    typeof v === 'number' ? (Number.isInteger(v) ? v : Number(v.toPrecision(6))) : Array.isArray(v) ? v.map(round) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)])) : v;
  return {
    data,
    date: new Date().toISOString(),
    thresholdSelection,
    voxels: 'every metric counts only voxels inside the body mask of preprocessing, on the original grid',
    methods: Object.fromEntries(
      methods.map((m) => [
        m.name,
        round({ description: m.description, mean: m.mean, groups: m.groups, cases: m.cases, ...(m.response ? { response: m.response } : {}) }) as EvaluationReport['methods'][string],
      ]),
    ),
    failed,
  };
}
