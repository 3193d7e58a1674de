// From anomaly maps to the paper's numbers: per-case metrics, means, lesion-kind groups, and the
// threshold for diceFixed / lesionRecall chosen on cases other than the one scored.
//
// Maps are kept compactly (scores of body voxels only), so a whole dataset of scored cases fits in
// memory for the threshold choice; outside the body nothing is ever counted.
import type { Shape3 } from '../data/geometry/volume';
import { meanInterval, type Interval } from './bootstrap';
import type { LesionResponseSummary, LesionResponseValues } from './lesion-response';
import { chooseThreshold, evaluateCase, meanMetrics, METRIC_NAMES, type CaseMetrics, type MetricName } from './metrics';

/** The ground truth of one case on its original grid. */
export interface EvalCase {
  id: string;
  shape: Shape3;
  /** Body mask (from preprocessing, on the original grid): every metric counts only these voxels. */
  body: Uint8Array;
  lesion: Uint8Array;
  /** Per-voxel lesion-kind label (phantoms' lesion_kinds.nii.gz), when known. */
  kinds?: Uint8Array;
}

/** A named set of lesion-kind labels, reported separately (e.g. the kinds held out of training). */
export interface KindGroup {
  name: string;
  labels: number[];
}

export type MeanValues = Record<MetricName, number | null> & {
  cases: number;
  /** 95 % bootstrap interval of each mean over the cases (absent where no case has a value). */
  intervals?: Partial<Record<MetricName, Interval>>;
};

/** Means over cases with their bootstrap intervals. */
export function summariseCases(cases: CaseMetrics[]): MeanValues {
  const intervals: Partial<Record<MetricName, Interval>> = {};
  for (const name of METRIC_NAMES) {
    const interval = meanInterval(cases.map((c) => c[name]).filter((v): v is number => v !== null));
    if (interval) intervals[name] = interval;
  }
  return { ...meanMetrics(cases), intervals };
}

export interface CaseResult extends CaseMetrics {
  id: string;
  /** The threshold used for diceFixed and lesionRecall (null when none could be chosen). */
  threshold: number | null;
  seconds?: number;
  /** Metrics of each kind group present in the case: positives are that group's lesion voxels, other lesions are left out. */
  groups?: Record<string, CaseMetrics & Partial<LesionResponseValues>>;
  /** With the scan the lesions were inserted into also scored (lesion-response.ts). */
  presence?: number | null;
  placement?: number | null;
}

export interface MethodResult {
  name: string;
  description: string;
  mean: MeanValues;
  groups: Record<string, MeanValues>;
  cases: CaseResult[];
  /** Lesion presence and placement, when the scans without lesions were scored too. */
  response?: LesionResponseSummary;
}

/** Body-voxel scores of one case (in the order of the body mask's set voxels). */
export function compactScores(scores: ArrayLike<number>, body: Uint8Array): Float32Array {
  let n = 0;
  for (let i = 0; i < body.length; i++) if (body[i]) n++;
  const out = new Float32Array(n);
  let k = 0;
  for (let i = 0; i < body.length; i++) if (body[i]) out[k++] = scores[i]!;
  return out;
}

/** The full grid again; voxels outside the body get the lowest body score. */
export function expandScores(compact: Float32Array, body: Uint8Array): Float32Array {
  let floor = Infinity;
  for (let i = 0; i < compact.length; i++) floor = Math.min(floor, compact[i]!);
  const out = new Float32Array(body.length).fill(Number.isFinite(floor) ? floor : 0);
  let k = 0;
  for (let i = 0; i < body.length; i++) if (body[i]) out[i] = compact[k++]!;
  return out;
}

function lesionInBody(c: EvalCase): Uint8Array {
  const out = new Uint8Array(c.body.reduce((n, b) => n + (b ? 1 : 0), 0));
  let k = 0;
  for (let i = 0; i < c.body.length; i++) if (c.body[i]) out[k++] = c.lesion[i]!;
  return out;
}

export type ThresholdPolicy =
  /** Two folds by case order (even / odd positions among the cases with lesions): each fold's threshold comes from the other fold. */
  | { kind: 'split' }
  /** One threshold chosen beforehand on other data. */
  | { kind: 'given'; threshold: number | null; source: string };

export function describeThresholdPolicy(policy: ThresholdPolicy): string {
  return policy.kind === 'split'
    ? 'diceFixed and lesionRecall use a threshold chosen with chooseThreshold (best pooled Dice) on the other half of the cases: cases at even positions (sorted by id) get the threshold of the odd ones and vice versa'
    : `diceFixed and lesionRecall use the threshold ${policy.threshold ?? 'none'} chosen with chooseThreshold (best pooled Dice) on ${policy.source}`;
}

/** The threshold chooseThreshold picks over several cases, from their compact scores; null if they hold no lesion voxels. */
export function thresholdFromCases(cases: EvalCase[], scores: Float32Array[]): number | null {
  const inputs = cases.map((c, i) => {
    const s = scores[i]!;
    return { scores: s, lesion: lesionInBody(c), body: new Uint8Array(s.length).fill(1) };
  });
  if (!inputs.some((c) => c.lesion.some((v) => v))) return null;
  return chooseThreshold(inputs);
}

/** A group's lesions, and the body without other groups' lesions; null when the case has none of the group's. */
export function groupMasks(c: Pick<EvalCase, 'lesion' | 'body' | 'kinds'>, group: KindGroup): { lesion: Uint8Array; body: Uint8Array } | null {
  if (!c.kinds) return null;
  const lesion = new Uint8Array(c.lesion.length);
  const body = Uint8Array.from(c.body);
  let any = false;
  for (let i = 0; i < lesion.length; i++) {
    if (!c.lesion[i]) continue;
    if (group.labels.includes(c.kinds[i]!)) lesion[i] = 1, (any = true);
    else body[i] = 0; // another group's lesion: neither positive nor negative here
  }
  return any ? { lesion, body } : null;
}

/** Metrics of one method over cases it has scored (compact scores, one per case, same order). */
export function evaluateMethod(
  method: { name: string; description: string },
  cases: EvalCase[],
  scores: Float32Array[],
  policy: ThresholdPolicy,
  options: { groups?: KindGroup[]; seconds?: number[] } = {},
): MethodResult {
  if (scores.length !== cases.length) throw new RangeError(`evaluateMethod: ${scores.length} score maps for ${cases.length} cases`);
  const thresholds: (number | null)[] = cases.map(() => (policy.kind === 'given' ? policy.threshold : null));
  if (policy.kind === 'split') {
    const folds = [0, 1].map((f) => cases.map((_, i) => i).filter((i) => i % 2 === f));
    for (const f of [0, 1]) {
      const other = folds[1 - f]!;
      const t = thresholdFromCases(other.map((i) => cases[i]!), other.map((i) => scores[i]!));
      for (const i of folds[f]!) thresholds[i] = t;
    }
  }
  const groups = options.groups ?? [];
  const results: CaseResult[] = cases.map((c, i) => {
    const full = expandScores(scores[i]!, c.body);
    const t = thresholds[i]!;
    const fixed = t === null ? {} : { fixedThreshold: t };
    const metrics = evaluateCase(full, c.lesion, c.body, c.shape, fixed);
    const perGroup: Record<string, CaseMetrics> = {};
    for (const g of groups) {
      const masks = groupMasks(c, g);
      if (masks) perGroup[g.name] = evaluateCase(full, masks.lesion, masks.body, c.shape, fixed);
    }
    return {
      id: c.id,
      ...metrics,
      threshold: t,
      ...(options.seconds ? { seconds: options.seconds[i] } : {}),
      ...(groups.length && c.kinds ? { groups: perGroup } : {}),
    };
  });
  const groupMeans: Record<string, MeanValues> = {};
  for (const g of groups) {
    const inGroup = results.flatMap((r) => (r.groups?.[g.name] ? [r.groups[g.name]!] : []));
    if (inGroup.length) groupMeans[g.name] = summariseCases(inGroup);
  }
  return { name: method.name, description: method.description, mean: summariseCases(results), groups: groupMeans, cases: results };
}

/** The cases a method did best and worst on, by AUROC (cases without a value left out). */
export function bestAndWorst(result: MethodResult, count: number): { best: CaseResult[]; worst: CaseResult[] } {
  const ranked = result.cases.filter((c) => c.auroc !== null).sort((a, b) => b.auroc! - a.auroc!);
  const best = ranked.slice(0, count);
  const worst = ranked.slice(Math.max(count, ranked.length - count)).reverse();
  return { best, worst };
}

export { METRIC_NAMES };
