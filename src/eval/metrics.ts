// Voxel-level anomaly-segmentation metrics as in the Screener paper and MVTec-AD, counted over voxels
// inside the body only (air outside the body as negatives inflates every AUROC):
//   auroc      area under the ROC curve (ties count one half, as Mann-Whitney);
//   auroc30    area under the ROC curve for FPR in [0, 0.3], divided by 0.3;
//   aupro30    area under the per-region-overlap curve for FPR in [0, 0.3], divided by 0.3: PRO is
//              the mean, over the lesions (26-connected components of the mask), of the fraction of
//              the lesion's voxels at or above the threshold;
//   diceBest   the best Dice over all thresholds;
//   diceFixed  Dice at a threshold chosen beforehand (on other cases);
//   lesionRecall  the fraction of lesions detected at that threshold: a lesion counts as detected when
//              at least DETECTION_OVERLAP of its voxels are at or above the threshold.
// A case without lesion voxels (or without any other body voxels) has no curve: its metrics are null.
import type { Shape3 } from '../data/geometry/volume';
import { labelComponents } from '../data/preprocess/components';

export const FPR_LIMIT = 0.3;
export const DETECTION_OVERLAP = 0.1;

export interface CaseMetrics {
  auroc: number | null;
  auroc30: number | null;
  aupro30: number | null;
  diceBest: number | null;
  /** Scores at or above this give diceBest. */
  bestThreshold: number | null;
  diceFixed: number | null;
  lesionRecall: number | null;
  lesions: number;
  positives: number;
  negatives: number;
}

interface Split {
  negatives: Float32Array; // sorted descending
  positives: Float32Array; // sorted descending
  weights: Float64Array; // per positive: 1 / (lesions * size of its lesion)
  labels: Int32Array;
  sizes: number[];
}

function split(scores: ArrayLike<number>, lesion: ArrayLike<number>, body: ArrayLike<number>, shape: Shape3): Split {
  const n = shape[0] * shape[1] * shape[2];
  for (const [name, a] of [['scores', scores], ['lesion', lesion], ['body', body]] as const) {
    if (a.length !== n) throw new RangeError(`metrics: ${name} has ${a.length} voxels, the grid ${shape.join('x')} has ${n}`);
  }
  const inside = new Uint8Array(n);
  let negativeCount = 0;
  for (let i = 0; i < n; i++) {
    if (!body[i]) continue;
    if (!Number.isFinite(scores[i]!)) throw new RangeError(`metrics: the score at voxel ${i} is ${scores[i]}`);
    if (lesion[i]) inside[i] = 1;
    else negativeCount++;
  }
  const { labels, sizes } = labelComponents(inside, shape, 26);
  const negatives = new Float32Array(negativeCount);
  const positiveIndex: number[] = [];
  let k = 0;
  for (let i = 0; i < n; i++) {
    if (!body[i]) continue;
    if (inside[i]) positiveIndex.push(i);
    else negatives[k++] = scores[i]!;
  }
  negatives.sort().reverse();
  positiveIndex.sort((a, b) => scores[b]! - scores[a]!);
  const positives = Float32Array.from(positiveIndex, (i) => scores[i]!);
  const weights = Float64Array.from(positiveIndex, (i) => 1 / (sizes.length * sizes[labels[i]! - 1]!));
  return { negatives, positives, weights, labels, sizes };
}

/**
 * The ROC / PRO / Dice curve, one point per distinct score, from the highest threshold down. Typed
 * arrays rather than a point object each: a case has about a million distinct scores.
 */
interface Curve {
  threshold: Float64Array;
  fpr: Float64Array;
  tpr: Float64Array;
  pro: Float64Array;
  dice: Float64Array;
}

function sweep(s: Split): Curve {
  const P = s.positives.length;
  const N = s.negatives.length;
  const capacity = P + N + 1;
  const c: Curve = {
    threshold: new Float64Array(capacity),
    fpr: new Float64Array(capacity),
    tpr: new Float64Array(capacity),
    pro: new Float64Array(capacity),
    dice: new Float64Array(capacity),
  };
  c.threshold[0] = Infinity; // the first point selects nothing
  let m = 1;
  let ip = 0;
  let ineg = 0;
  let pro = 0;
  while (ip < P || ineg < N) {
    const t = Math.max(ip < P ? s.positives[ip]! : -Infinity, ineg < N ? s.negatives[ineg]! : -Infinity);
    while (ip < P && s.positives[ip] === t) pro += s.weights[ip++]!;
    while (ineg < N && s.negatives[ineg] === t) ineg++;
    c.threshold[m] = t;
    c.fpr[m] = N ? ineg / N : 0;
    c.tpr[m] = P ? ip / P : 0;
    c.pro[m] = Math.min(pro, 1);
    c.dice[m] = (2 * ip) / (ip + ineg + P);
    m++;
  }
  return {
    threshold: c.threshold.subarray(0, m),
    fpr: c.fpr.subarray(0, m),
    tpr: c.tpr.subarray(0, m),
    pro: c.pro.subarray(0, m),
    dice: c.dice.subarray(0, m),
  };
}

/** The point of highest Dice (the first, from the highest threshold down, where several tie). */
function bestDicePoint(c: Curve): number {
  let best = 0;
  for (let i = 1; i < c.dice.length; i++) if (c.dice[i]! > c.dice[best]!) best = i;
  return best;
}

/**
 * Trapezoidal area under the curve (x[i], y[i]) for x in [0, limit], interpolating at the limit,
 * divided by the limit.
 */
export function normalisedArea(x: ArrayLike<number>, y: ArrayLike<number>, limit = 1): number {
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    const ax = x[i - 1]!;
    const bx = x[i]!;
    const ay = y[i - 1]!;
    const by = y[i]!;
    if (ax >= limit) break;
    if (bx <= limit) {
      area += ((bx - ax) * (ay + by)) / 2;
    } else {
      const yAtLimit = ay + ((by - ay) * (limit - ax)) / (bx - ax);
      area += ((limit - ax) * (ay + yAtLimit)) / 2;
      break;
    }
  }
  return area / limit;
}

function diceAt(scores: ArrayLike<number>, lesion: ArrayLike<number>, body: ArrayLike<number>, threshold: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  for (let i = 0; i < scores.length; i++) {
    if (!body[i]) continue;
    const predicted = scores[i]! >= threshold;
    if (lesion[i]) predicted ? tp++ : fn++;
    else if (predicted) fp++;
  }
  return tp + fp + fn === 0 ? 1 : (2 * tp) / (2 * tp + fp + fn);
}

function recallAt(scores: ArrayLike<number>, s: Split, threshold: number): number {
  const hits = new Array<number>(s.sizes.length).fill(0);
  for (let i = 0; i < s.labels.length; i++) {
    const k = s.labels[i]!;
    if (k && scores[i]! >= threshold) hits[k - 1]!++;
  }
  const detected = hits.filter((h, k) => h > 0 && h >= DETECTION_OVERLAP * s.sizes[k]!).length;
  return detected / s.sizes.length;
}

export function evaluateCase(
  scores: ArrayLike<number>,
  lesion: ArrayLike<number>,
  body: ArrayLike<number>,
  shape: Shape3,
  options: { fixedThreshold?: number } = {},
): CaseMetrics {
  const s = split(scores, lesion, body, shape);
  const base = { lesions: s.sizes.length, positives: s.positives.length, negatives: s.negatives.length };
  if (s.positives.length === 0 || s.negatives.length === 0) {
    return { auroc: null, auroc30: null, aupro30: null, diceBest: null, bestThreshold: null, diceFixed: null, lesionRecall: null, ...base };
  }
  const curve = sweep(s);
  const best = bestDicePoint(curve);
  const fixed = options.fixedThreshold;
  return {
    auroc: normalisedArea(curve.fpr, curve.tpr, 1),
    auroc30: normalisedArea(curve.fpr, curve.tpr, FPR_LIMIT),
    aupro30: normalisedArea(curve.fpr, curve.pro, FPR_LIMIT),
    diceBest: curve.dice[best]!,
    bestThreshold: curve.threshold[best]!,
    diceFixed: fixed === undefined ? null : diceAt(scores, lesion, body, fixed),
    lesionRecall: fixed === undefined ? null : recallAt(scores, s, fixed),
    ...base,
  };
}

/** The threshold that maximises Dice over several cases pooled together (chosen on cases set aside). */
export function chooseThreshold(cases: { scores: ArrayLike<number>; lesion: ArrayLike<number>; body: ArrayLike<number> }[]): number {
  let positiveCount = 0;
  let negativeCount = 0;
  for (const c of cases) {
    for (let i = 0; i < c.scores.length; i++) {
      if (!c.body[i]) continue;
      if (c.lesion[i]) positiveCount++;
      else negativeCount++;
    }
  }
  if (positiveCount === 0) throw new Error('chooseThreshold: the cases hold no lesion voxels inside the body');
  const positives = new Float32Array(positiveCount);
  const negatives = new Float32Array(negativeCount);
  let p = 0;
  let q = 0;
  for (const c of cases) {
    for (let i = 0; i < c.scores.length; i++) {
      if (!c.body[i]) continue;
      if (c.lesion[i]) positives[p++] = c.scores[i]!;
      else negatives[q++] = c.scores[i]!;
    }
  }
  const s: Split = {
    positives: positives.sort().reverse(),
    negatives: negatives.sort().reverse(),
    weights: new Float64Array(positiveCount),
    labels: new Int32Array(0),
    sizes: [],
  };
  const curve = sweep(s);
  return curve.threshold[bestDicePoint(curve)]!;
}

export type MetricName = 'auroc' | 'auroc30' | 'aupro30' | 'diceBest' | 'diceFixed' | 'lesionRecall';
export const METRIC_NAMES: MetricName[] = ['auroc', 'auroc30', 'aupro30', 'diceBest', 'diceFixed', 'lesionRecall'];

/** Means over the cases that have a value (cases without lesions are left out), with the count used. */
export function meanMetrics(cases: CaseMetrics[]): Record<MetricName, number | null> & { cases: number } {
  const out = { cases: 0 } as Record<MetricName, number | null> & { cases: number };
  for (const name of METRIC_NAMES) {
    const values = cases.map((c) => c[name]).filter((v): v is number => v !== null);
    out[name] = values.length ? values.reduce((a, b) => a + b, 0) / values.length : null;
  }
  out.cases = cases.filter((c) => c.auroc !== null).length;
  return out;
}
