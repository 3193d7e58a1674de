// Screener and the baseline as one method: per-scan standardisation inside the body and the mean of the
// standardised maps (the evaluation's runner makes the parts' maps: commands.node.test.ts).
import { describe, expect, it } from 'vitest';
import { combinedScorer, standardiseInBody, withCombination } from '../../src/eval/combined-scorer';
import type { AnomalyScorer } from '../../src/eval/scorers';
import { DEFAULT_PREPROCESS } from '../../src/data/preprocess/preprocess';

function fixedScorer(name: string, map: number[], calls: { n: number }): AnomalyScorer {
  return {
    name,
    description: name,
    identity: name,
    preprocess: { ...DEFAULT_PREPROCESS, targetSpacing: [4, 4, 4] },
    async score() {
      calls.n++;
      return { map: Float32Array.from(map), windows: 1 };
    },
  };
}

describe('standardiseInBody', () => {
  it('subtracts the body median and divides by 1.4826 times the median absolute deviation, over the body only', () => {
    // Body values 1, 2, 3, 4, 100: median 3, deviations 2, 1, 0, 1, 97, MAD 1. The outlier moves neither.
    const out = standardiseInBody(Float32Array.from([1, 2, 3, 4, 100, -50]), Uint8Array.from([1, 1, 1, 1, 1, 0]));
    const expected = [1, 2, 3, 4, 100, -50].map((v) => (v - 3) / 1.4826);
    out.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
  });

  it('only shifts a map with no spread in the body, and uses the whole map when the body is empty', () => {
    expect([...standardiseInBody(Float32Array.from([5, 5, 5, 9]), Uint8Array.from([1, 1, 1, 0]))]).toEqual([0, 0, 0, 4]);
    expect([...standardiseInBody(Float32Array.from([1, 2, 3]), Uint8Array.from([0, 0, 0]))].map((v) => +v.toFixed(4))).toEqual(
      [-1, 0, 1].map((v) => +(v / 1.4826).toFixed(4)),
    );
  });
});

describe('combinedScorer', () => {
  it('averages the standardised maps, whatever the scale of each method', () => {
    const body = Uint8Array.from([1, 1, 1, 1, 0]);
    const a = [10, 20, 30, 40, 0]; // median 25, MAD 10
    const b = [0.1, 0.3, 0.2, 0.4, 9]; // median 0.25, MAD 0.1
    const calls = { n: 0 };
    const combined = combinedScorer([fixedScorer('a', a, calls), fixedScorer('b', b, calls)]);
    expect(combined.name).toBe('a+b');
    const map = combined.combine([Float32Array.from(a), Float32Array.from(b)], body);
    const expected = a.map((v, i) => ((v - 25) / (1.4826 * 10) + (b[i]! - 0.25) / (1.4826 * 0.1)) / 2);
    map.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
    expect(calls.n).toBe(0);
  });

  it('takes parts that preprocess at different voxel sizes, and refuses fewer than two parts or maps', () => {
    const calls = { n: 0 };
    const coarse = { ...fixedScorer('coarse', [0], calls), preprocess: { ...DEFAULT_PREPROCESS, targetSpacing: [6, 6, 6] as [number, number, number] } };
    const combined = combinedScorer([fixedScorer('a', [0], calls), coarse]);
    expect(combined.parts.map((p) => p.name)).toEqual(['a', 'coarse']);
    expect(() => combined.combine([Float32Array.of(1)], Uint8Array.of(1))).toThrow(/1 maps for 2 parts/);
    expect(() => combinedScorer([coarse])).toThrow(/at least two/);
  });

  it('withCombination gives the two scorers and their combination, in that order', () => {
    const calls = { n: 0 };
    const [screener, intensity, combined] = withCombination(fixedScorer('screener', [1, 2, 3], calls), fixedScorer('intensity', [3, 2, 1], calls));
    expect([screener.name, intensity.name, combined.name]).toEqual(['screener', 'intensity', 'screener+intensity']);
    expect(combined.parts).toEqual([screener, intensity]);
  });
});
