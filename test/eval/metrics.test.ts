// Metrics against hand-worked cases and against brute-force float64 references.
import { describe, expect, it } from 'vitest';
import type { Shape3 } from '../../src/data/geometry/volume';
import { labelComponents } from '../../src/data/preprocess/components';
import { chooseThreshold, evaluateCase, meanMetrics, normalisedArea } from '../../src/eval/metrics';
import { rng } from '../helpers/reference';

const ones = (n: number) => new Uint8Array(n).fill(1);

describe('hand-worked cases', () => {
  // A 1x1x5 grid of five voxels in a row.
  const shape: Shape3 = [1, 1, 5];

  it('counts pairs for AUROC: 5 of 6 positive-negative pairs ordered correctly', () => {
    const m = evaluateCase([0.9, 0.4, 0.8, 0.3, 0.1], [1, 1, 0, 0, 0], ones(5), shape);
    expect(m.auroc).toBeCloseTo(5 / 6, 12);
    expect(m.positives).toBe(2);
    expect(m.negatives).toBe(3);
  });

  it('gives ties half credit and integrates the partial curve exactly', () => {
    const m = evaluateCase([0.5, 0.5, 0.5, 0.5, 0.5], [1, 1, 0, 0, 0], ones(5), shape);
    expect(m.auroc).toBeCloseTo(0.5, 12);
    // The ROC is the diagonal: area up to 0.3 is 0.045, normalised by 0.3 gives 0.15.
    expect(m.auroc30).toBeCloseTo(0.15, 12);
    expect(m.aupro30).toBeCloseTo(0.15, 12);
    // Everything predicted positive: Dice = 2*2 / (2*2 + 3) = 4/7.
    expect(m.diceBest).toBeCloseTo(4 / 7, 12);
  });

  it('scores a perfect map 1 everywhere, including a one-voxel lesion', () => {
    const m = evaluateCase([0.2, 0.9, 0.1, 0.1, 0.3], [0, 1, 0, 0, 0], ones(5), shape, { fixedThreshold: 0.5 });
    expect([m.auroc, m.auroc30, m.aupro30, m.diceBest, m.diceFixed, m.lesionRecall]).toEqual([1, 1, 1, 1, 1, 1]);
    expect(m.bestThreshold).toBeCloseTo(0.9, 6);
  });

  it('averages the overlap per lesion, not per voxel (PRO)', () => {
    // 1x1x9: lesion A = voxel 0 (1 voxel), lesion B = voxels 2..5 (4 voxels), negatives 7 and 8;
    // voxels 1 and 6 separate the lesions and are outside the body.
    const lesion = [1, 0, 1, 1, 1, 1, 0, 0, 0];
    const body = [1, 0, 1, 1, 1, 1, 0, 1, 1];
    const scores = [0.9, 0, 0.2, 0.2, 0.2, 0.2, 0, 0.5, 0.1];
    const m = evaluateCase(scores, lesion, body, [1, 1, 9], { fixedThreshold: 0.85 });
    // Thresholds: 0.9 -> fpr 0, pro 0.5 (A found); 0.5 -> fpr 0.5; 0.2 -> fpr 0.5, pro 1; 0.1 -> fpr 1.
    // PRO over fpr in [0, 0.3] stays 0.5 once A is found at fpr 0: area 0.3*0.5 -> normalised 0.5.
    expect(m.aupro30).toBeCloseTo(0.5, 12);
    // TPR is per voxel: 1/5 over the same range.
    expect(m.auroc30).toBeCloseTo(0.2, 12);
    expect(m.lesions).toBe(2);
    expect(m.lesionRecall).toBe(0.5);
  });

  it('returns null metrics for a scan without lesion voxels, and means skip it', () => {
    const empty = evaluateCase([0.1, 0.2, 0.3, 0.4, 0.5], [0, 0, 0, 0, 0], ones(5), shape);
    expect(empty.auroc).toBeNull();
    expect(empty.aupro30).toBeNull();
    expect(empty.lesions).toBe(0);
    const full = evaluateCase([0.2, 0.9, 0.1, 0.1, 0.3], [0, 1, 0, 0, 0], ones(5), shape);
    const mean = meanMetrics([empty, full]);
    expect(mean.cases).toBe(1);
    expect(mean.auroc).toBe(1);
  });

  it('ignores voxels outside the body', () => {
    // The outside voxel has the highest score and is not a lesion: inside the body the map is perfect.
    const m = evaluateCase([5, 0.9, 0.1, 0.1, 0.3], [0, 1, 0, 0, 0], [0, 1, 1, 1, 1], shape);
    expect(m.auroc).toBe(1);
    expect(m.negatives).toBe(3);
  });

  it('chooses the pooled best-Dice threshold across cases', () => {
    const t = chooseThreshold([
      { scores: [0.9, 0.8, 0.1], lesion: [1, 0, 0], body: [1, 1, 1] },
      { scores: [0.7, 0.2, 0.1], lesion: [1, 0, 0], body: [1, 1, 1] },
    ]);
    // At 0.7 both lesions and one false positive: Dice 4/5, the best available.
    expect(t).toBeCloseTo(0.7, 6);
  });

  it('rejects grids that do not match and non-finite scores', () => {
    expect(() => evaluateCase([1, 2], [0, 1, 0], ones(3), [1, 1, 3])).toThrow(/scores has 2 voxels/);
    expect(() => evaluateCase([1, NaN, 0], [0, 1, 0], ones(3), [1, 1, 3])).toThrow(/NaN/);
  });
});

describe('against brute-force float64 references', () => {
  function randomCase(seed: number): { scores: Float64Array; lesion: Uint8Array; body: Uint8Array; shape: Shape3 } {
    const next = rng(seed);
    const shape: Shape3 = [6, 7, 9];
    const n = 6 * 7 * 9;
    const lesion = new Uint8Array(n);
    const body = new Uint8Array(n);
    const scores = new Float64Array(n);
    const blobs = Array.from({ length: 3 }, () => [next() * 6, next() * 7, next() * 9, 0.8 + next() * 1.5]);
    for (let i = 0; i < n; i++) {
      const d = Math.floor(i / 63);
      const h = Math.floor(i / 9) % 7;
      const w = i % 9;
      body[i] = next() < 0.9 ? 1 : 0;
      lesion[i] = blobs.some(([bd, bh, bw, r]) => (d - bd!) ** 2 + (h - bh!) ** 2 + (w - bw!) ** 2 < r! ** 2) ? 1 : 0;
      // Coarse rounding makes many ties.
      scores[i] = Math.round((next() + (lesion[i] ? 0.4 : 0)) * 20) / 20;
    }
    return { scores, lesion, body, shape };
  }

  /** Mean of a piecewise-linear curve (sorted by x, vertical steps allowed) over [0, limit], by dense sampling. */
  function sampledArea(points: [number, number][], limit: number): number {
    const samples = 60_000;
    let area = 0;
    for (let s = 0; s < samples; s++) {
      const x = ((s + 0.5) / samples) * limit;
      let j = points.findIndex(([px]) => px >= x);
      if (j <= 0) j = 1;
      const [x0, y0] = points[j - 1]!;
      const [x1, y1] = points[j]!;
      area += (x1 === x0 ? y1 : y0 + ((y1 - y0) * (x - x0)) / (x1 - x0)) / samples;
    }
    return area;
  }

  it('matches Mann-Whitney AUROC and directly counted partial ROC and PRO curves', () => {
    for (const seed of [1, 2, 3, 4]) {
      const { scores, lesion, body, shape } = randomCase(seed);
      const m = evaluateCase(Float32Array.from(scores), lesion, body, shape);
      const pos: number[] = [];
      const neg: number[] = [];
      scores.forEach((s, i) => body[i] && (lesion[i] ? pos : neg).push(s));
      let pairs = 0;
      for (const p of pos) for (const q of neg) pairs += p > q ? 1 : p === q ? 0.5 : 0;
      expect(m.auroc).toBeCloseTo(pairs / (pos.length * neg.length), 6);

      const inBodyLesion = Uint8Array.from(lesion, (v, i) => (v && body[i] ? 1 : 0));
      const { labels, sizes } = labelComponents(inBodyLesion, shape, 26);
      const thresholds = [...new Set(scores.filter((_, i) => body[i]))].sort((a, b) => b - a);
      const roc: [number, number][] = [[0, 0]];
      const pro: [number, number][] = [[0, 0]];
      let bestDice = 0;
      for (const t of thresholds) {
        let tp = 0;
        let fp = 0;
        const hits = new Array(sizes.length).fill(0);
        scores.forEach((s, i) => {
          if (!body[i] || s < t) return;
          if (lesion[i]) {
            tp++;
            hits[labels[i]! - 1]++;
          } else fp++;
        });
        roc.push([fp / neg.length, tp / pos.length]);
        pro.push([fp / neg.length, hits.reduce((a, h, k) => a + h / sizes[k]!, 0) / sizes.length]);
        bestDice = Math.max(bestDice, (2 * tp) / (tp + fp + pos.length));
      }
      expect(m.auroc30).toBeCloseTo(sampledArea(roc, 0.3), 3);
      expect(m.aupro30).toBeCloseTo(sampledArea(pro, 0.3), 3);
      expect(m.diceBest).toBeCloseTo(bestDice, 9);
      expect(m.lesions).toBe(sizes.length);
    }
  });

  it('normalisedArea interpolates at the limit', () => {
    expect(normalisedArea([0, 1], [0, 1], 0.5)).toBeCloseTo(0.25, 12);
    expect(normalisedArea([0, 0.2, 1], [1, 1, 1], 0.3)).toBeCloseTo(1, 12);
  });
});

describe('labelComponents', () => {
  it('joins diagonal neighbours with 26-connectivity but not with 6', () => {
    const mask = new Uint8Array(8);
    mask[0] = 1; // (0,0,0)
    mask[7] = 1; // (1,1,1): a corner neighbour
    expect(labelComponents(mask, [2, 2, 2], 26).sizes).toEqual([2]);
    expect(labelComponents(mask, [2, 2, 2], 6).sizes).toEqual([1, 1]);
  });
});
