// How a method's map answers inserted lesions, apart from where the lesions were put. When the scans
// the lesions were inserted into (`screener insert-lesions --data`) are scored too, each case gets two
// AUROCs over the same voxels:
//   presence   the lesion's voxels scored with the lesion (positives) against the same voxels scored
//              without it (negatives): 0.5 when the map does not change where a lesion appears.
//   placement  the map of the scan without lesions against the lesion mask, over the body: the AUROC
//              a method blind to the lesions gets from where they sit alone.
// A whole-body AUROC that follows placement while presence stays near 0.5 says the method did not
// see the lesions: what it ranks is the tissue they were put in. With lesion kinds (phantoms), both are
// also given per kind group, other groups' lesions left out, as the metrics are.
import { meanInterval, type Interval } from './bootstrap';

export interface LesionResponseValues {
  presence: number | null;
  placement: number | null;
}

export interface LesionResponse extends LesionResponseValues {
  /** Per kind group present in the case: that group's lesions, other groups' lesions left out. */
  groups?: Record<string, LesionResponseValues>;
}

export interface LesionResponseSummary {
  cases: number;
  presence: number | null;
  placement: number | null;
  /** 95 % bootstrap intervals of the means over cases. */
  intervals: Partial<Record<keyof LesionResponseValues, Interval>>;
  /** The same per kind group, over the cases holding lesions of that group. */
  groups?: Record<string, LesionResponseSummary>;
}

/** Mann-Whitney AUROC of two samples: P(positive > negative) + P(equal) / 2; null if either is empty. */
export function twoSampleAuroc(positives: Float32Array, negatives: Float32Array): number | null {
  if (positives.length === 0 || negatives.length === 0) return null;
  const p = positives.slice().sort();
  const n = negatives.slice().sort();
  let below = 0; // negatives smaller than the current positive
  let wins = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i]!;
    while (below < n.length && n[below]! < v) below++;
    let equal = below;
    while (equal < n.length && n[equal] === v) equal++;
    wins += below + (equal - below) / 2;
  }
  return wins / (p.length * n.length);
}

/** Presence and placement of one case: both maps on the case's grid, lesion and body masks on it too. */
export function lesionResponse(withLesions: ArrayLike<number>, withoutLesions: ArrayLike<number>, lesion: Uint8Array, body: Uint8Array): LesionResponseValues {
  const n = lesion.length;
  for (const [name, a] of [['the map with lesions', withLesions], ['the map without', withoutLesions], ['the body', body]] as const) {
    if (a.length !== n) throw new RangeError(`lesionResponse: ${name} has ${a.length} voxels, the lesion mask ${n}`);
  }
  let lesionCount = 0;
  let otherCount = 0;
  for (let i = 0; i < n; i++) {
    if (!body[i]) continue;
    if (lesion[i]) lesionCount++;
    else otherCount++;
  }
  const inserted = new Float32Array(lesionCount);
  const before = new Float32Array(lesionCount);
  const elsewhere = new Float32Array(otherCount);
  let k = 0;
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (!body[i]) continue;
    if (lesion[i]) {
      inserted[k] = withLesions[i]!;
      before[k++] = withoutLesions[i]!;
    } else elsewhere[m++] = withoutLesions[i]!;
  }
  return { presence: twoSampleAuroc(inserted, before), placement: twoSampleAuroc(before, elsewhere) };
}

/** Means over cases (those with a value) with their bootstrap intervals. */
export function summariseResponses(responses: LesionResponse[]): LesionResponseSummary {
  const summary: LesionResponseSummary = { cases: responses.length, presence: null, placement: null, intervals: {} };
  const groupNames = [...new Set(responses.flatMap((r) => Object.keys(r.groups ?? {})))];
  if (groupNames.length) {
    summary.groups = Object.fromEntries(groupNames.map((g) => [g, summariseResponses(responses.flatMap((r) => (r.groups?.[g] ? [r.groups[g]!] : [])))]));
  }
  for (const key of ['presence', 'placement'] as const) {
    const values = responses.map((r) => r[key]).filter((v): v is number => v !== null);
    if (values.length === 0) continue;
    summary[key] = values.reduce((a, b) => a + b, 0) / values.length;
    const interval = meanInterval(values);
    if (interval) summary.intervals[key] = interval;
  }
  return summary;
}
