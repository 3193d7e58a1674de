// The evaluation on synthetic maps: a perfect map scores 1, a constant map 0.5 AUROC, thresholds come
// from the other fold, kind groups leave other lesions out; the intensity baseline finds a dense blob.
import { describe, expect, it } from 'vitest';
import type { Shape3 } from '../../src/data/geometry/volume';
import { compactScores, evaluateMethod, expandScores, thresholdFromCases } from '../../src/eval/evaluate';
import { BASELINE_SPACING_MM, baselinePreprocess, IntensityAtlas } from '../../src/eval/intensity-baseline';
import { quantile } from '../../src/data/render/overlay';
import { markdownTable, jsonReport } from '../../src/eval/report';
import { evaluateCase } from '../../src/eval/metrics';
import { syntheticCase, shape, n } from '../helpers/eval-case';
import { rng } from '../helpers/reference';

const groups = [
  { name: 'trained kinds', labels: [1, 2, 3, 4, 5, 6] },
  { name: 'held-out kinds', labels: [7] },
];

describe('evaluateMethod', () => {
  it('scores a perfect map 1 on every metric, in every group', () => {
    const cases = [syntheticCase('a'), syntheticCase('b', 1), syntheticCase('c', 2)];
    const scores = cases.map((c) => compactScores(Float32Array.from(c.lesion, (v, i) => v * 5 + (i % 3) * 0.01), c.body));
    const result = evaluateMethod({ name: 'perfect', description: '' }, cases, scores, { kind: 'split' }, { groups });
    for (const mean of [result.mean, result.groups['trained kinds']!, result.groups['held-out kinds']!]) {
      expect(mean.cases).toBe(3);
      for (const k of ['auroc', 'auroc30', 'aupro30', 'diceBest', 'diceFixed', 'lesionRecall'] as const) expect(mean[k], k).toBeCloseTo(1, 12);
    }
  });

  it('gives a constant map 0.5 AUROC and picks thresholds on the other fold', () => {
    const cases = [syntheticCase('a'), syntheticCase('b', 1), syntheticCase('c', 2), syntheticCase('d', 3)];
    const scores = cases.map((c) => compactScores(new Float32Array(n).fill(0.25), c.body));
    const result = evaluateMethod({ name: 'constant', description: '' }, cases, scores, { kind: 'split' }, { groups });
    expect(result.mean.auroc).toBeCloseTo(0.5, 12);
    expect(result.groups['held-out kinds']!.auroc).toBeCloseTo(0.5, 12);
    expect(result.cases.map((c) => c.threshold)).toEqual([0.25, 0.25, 0.25, 0.25]);
    // Everything at the threshold is predicted positive: recall 1, Dice = 2P / (P + body).
    expect(result.mean.lesionRecall).toBe(1);
  });

  it('uses the threshold of the other fold, not the case itself', () => {
    // Fold 0 (cases a, c) scores lesions 2, fold 1 (b, d) scores them 9; normal tissue 0.
    const cases = ['a', 'b', 'c', 'd'].map((id) => syntheticCase(id));
    const scores = cases.map((c, i) => compactScores(Float32Array.from(c.lesion, (v) => v * (i % 2 ? 9 : 2)), c.body));
    const result = evaluateMethod({ name: 'm', description: '' }, cases, scores, { kind: 'split' }, {});
    expect(result.cases.map((c) => c.threshold)).toEqual([9, 2, 9, 2]);
    // Fold 0 at threshold 9 finds nothing; fold 1 at threshold 2 finds everything.
    expect(result.cases.map((c) => c.diceFixed)).toEqual([0, 1, 0, 1]);
    expect(result.cases.map((c) => c.diceBest)).toEqual([1, 1, 1, 1]);
  });

  it('leaves the other group out of a group: positives of one kind are not negatives of the other', () => {
    // Kind 1 scores high, kind 7 scores as normal tissue: the held-out group reads 0.5, the trained one 1.
    const c = syntheticCase('a');
    const scores = Float32Array.from(c.kinds!, (k) => (k === 1 ? 3 : 0));
    const result = evaluateMethod({ name: 'm', description: '' }, [c], [compactScores(scores, c.body)], { kind: 'given', threshold: 1, source: 'test' }, { groups });
    expect(result.groups['trained kinds']!.auroc).toBe(1);
    expect(result.groups['held-out kinds']!.auroc).toBeCloseTo(0.5, 12);
    expect(result.cases[0]!.lesionRecall).toBe(0.5);
    // Direct check of the group's mask: the held-out cube is positive, the kind-1 cube is out of the body.
    const body = Uint8Array.from(c.body, (b, i) => (c.kinds![i] === 1 ? 0 : b));
    expect(evaluateCase(scores, Uint8Array.from(c.kinds!, (k) => (k === 7 ? 1 : 0)), body, shape).auroc).toBeCloseTo(0.5, 12);
  });

  it('round-trips compact scores and chooses no threshold without lesion voxels', () => {
    const c = syntheticCase('a');
    const next = rng(3);
    const full = Float32Array.from({ length: n }, () => next());
    const back = expandScores(compactScores(full, c.body), c.body);
    for (let i = 0; i < n; i++) if (c.body[i]) expect(back[i]).toBe(full[i]);
    const healthy = { ...c, lesion: new Uint8Array(n) };
    expect(thresholdFromCases([healthy], [compactScores(full, c.body)])).toBeNull();
  });

  it('reports markdown and JSON under the metric names', () => {
    const cases = [syntheticCase('a'), syntheticCase('b', 1)];
    const scores = cases.map((c) => compactScores(Float32Array.from(c.lesion), c.body));
    const result = evaluateMethod({ name: 'screener', description: 'd' }, cases, scores, { kind: 'split' }, { groups });
    const table = markdownTable([result]);
    expect(table.split('\n')[0]).toMatch(/\| method .*\| +AUROC \| +AUROC30 \| +AUPRO30 \| +Dice best \| +Dice fixed \| +lesion recall \|/);
    expect(table).toMatch(/screener \| held-out kinds/);
    const json = jsonReport('data', 'split', [result]);
    expect(Object.keys(json.methods.screener!.mean)).toEqual(['cases', 'auroc', 'auroc30', 'aupro30', 'diceBest', 'diceFixed', 'lesionRecall', 'intervals']);
    // Each mean carries its bootstrap interval, which holds the mean; the table prints it beside the mean.
    const { auroc, intervals } = result.mean;
    expect(intervals!.auroc![0]).toBeLessThanOrEqual(auroc!);
    expect(intervals!.auroc![1]).toBeGreaterThanOrEqual(auroc!);
    expect(table).toContain(`${auroc!.toFixed(3)} [${intervals!.auroc![0].toFixed(2)}, ${intervals!.auroc![1].toFixed(2)}]`);
    expect(json.methods.screener!.cases[1]!.id).toBe('b');
  });
});

describe('intensity baseline', () => {
  it('preprocesses at its own voxel size, with the HU window and the rest of a model\'s preprocessing beside it', () => {
    const model = { targetSpacing: [4, 4, 4] as [number, number, number], huWindow: [-200, 300] as [number, number], clahe: false as const };
    expect(baselinePreprocess(model)).toEqual({ targetSpacing: [BASELINE_SPACING_MM, BASELINE_SPACING_MM, BASELINE_SPACING_MM], huWindow: [-200, 300], clahe: false });
    expect(baselinePreprocess(model, 3).targetSpacing).toEqual([3, 3, 3]);
    expect(baselinePreprocess(undefined)).toEqual({ targetSpacing: [2.5, 2.5, 2.5] });
    expect(model.targetSpacing).toEqual([4, 4, 4]);
  });

  /** A smooth "anatomy": a bright ellipsoid in a mid-grey body, plus noise; optionally a dense blob. */
  function scan(seed: number, blob: boolean) {
    const s: Shape3 = [20, 22, 24];
    const next = rng(seed);
    const data = new Float32Array(20 * 22 * 24);
    const body = new Uint8Array(data.length);
    const lesion = new Uint8Array(data.length);
    let i = 0;
    for (let d = 0; d < 20; d++)
      for (let h = 0; h < 22; h++)
        for (let w = 0; w < 24; w++, i++) {
          const organ = ((d - 10) / 6) ** 2 + ((h - 11) / 5) ** 2 + ((w - 12) / 7) ** 2 < 1;
          data[i] = (organ ? 0.6 : 0.4) + 0.03 * (next() - 0.5);
          body[i] = 1;
          if (blob && (d - 5) ** 2 + (h - 15) ** 2 + (w - 6) ** 2 <= 5) {
            data[i] = 0.9;
            lesion[i] = 1;
          }
        }
    return { data, shape: s, body, lesion };
  }

  it('finds an obvious hyperdense blob that healthy scans never show', () => {
    const atlas = IntensityAtlas.fit([1, 2, 3].map((s) => scan(s, false)), [8, 8, 8]);
    const test = scan(9, true);
    const z = atlas.score(test);
    const m = evaluateCase(z, test.lesion, test.body, test.shape);
    expect(m.auroc).toBeGreaterThan(0.99);
    expect(m.diceBest).toBeGreaterThan(0.6);
    // Typical healthy tissue is far more probable (lower -log p) than typical blob tissue.
    expect(quantile(z, Uint8Array.from(test.lesion, (v) => 1 - v), 0.5)).toBeLessThan(quantile(z, test.lesion, 0.5) - 2);
  });

  it('refuses to fit on nothing', () => {
    expect(() => IntensityAtlas.fit([])).toThrow(/no scans/);
  });
});
