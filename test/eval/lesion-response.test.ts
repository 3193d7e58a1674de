// Lesion presence and placement (src/eval/lesion-response.ts) against a brute-force Mann-Whitney count.
import { describe, expect, it } from 'vitest';
import { lesionResponse, summariseResponses, twoSampleAuroc } from '../../src/eval/lesion-response';
import { Rng } from '../../src/data/rng';

/** P(positive > negative) + P(equal) / 2 over every pair. */
function bruteAuroc(positives: number[], negatives: number[]): number {
  let wins = 0;
  for (const p of positives) for (const n of negatives) wins += p > n ? 1 : p === n ? 0.5 : 0;
  return wins / (positives.length * negatives.length);
}

describe('twoSampleAuroc', () => {
  it('matches the pairwise count, ties included', () => {
    const rng = new Rng(3);
    for (const [np, nn] of [[1, 1], [5, 9], [40, 23]] as const) {
      // Scores on a coarse grid, so that many of them tie.
      const p = Array.from({ length: np }, () => Math.round(rng.next() * 6) / 2);
      const n = Array.from({ length: nn }, () => Math.round(rng.next() * 6) / 2 - 0.5);
      expect(twoSampleAuroc(Float32Array.from(p), Float32Array.from(n))).toBeCloseTo(bruteAuroc(p, n), 12);
    }
  });

  it('is 1, 0 and 0.5 at the extremes, and null for an empty sample', () => {
    expect(twoSampleAuroc(Float32Array.of(3, 4), Float32Array.of(1, 2))).toBe(1);
    expect(twoSampleAuroc(Float32Array.of(1, 2), Float32Array.of(3, 4))).toBe(0);
    expect(twoSampleAuroc(Float32Array.of(2, 2), Float32Array.of(2, 2, 2))).toBe(0.5);
    expect(twoSampleAuroc(new Float32Array(0), Float32Array.of(1))).toBeNull();
  });
});

describe('lesionResponse', () => {
  // Eight voxels: 0-1 outside the body, 2-3 lesion, 4-7 other body voxels.
  const body = Uint8Array.of(0, 0, 1, 1, 1, 1, 1, 1);
  const lesion = Uint8Array.of(0, 0, 1, 1, 0, 0, 0, 0);

  it('presence compares the lesion voxels with and without the lesions; placement the map without them over the body', () => {
    const without = Float32Array.of(99, 99, 1, 5, 2, 3, 4, 6);
    const withLesions = Float32Array.of(-99, -99, 7, 5, 2, 3, 4, 6);
    const r = lesionResponse(withLesions, without, lesion, body);
    expect(r.presence).toBe(bruteAuroc([7, 5], [1, 5]));
    expect(r.placement).toBe(bruteAuroc([1, 5], [2, 3, 4, 6]));
  });

  it('is 0.5 presence for a map blind to the lesions, whatever their placement', () => {
    const map = Float32Array.of(0, 0, 9, 8, 1, 2, 3, 4);
    expect(lesionResponse(map, map, lesion, body)).toEqual({ presence: 0.5, placement: 1 });
  });

  it('refuses maps of another size, and summarises cases with their intervals', () => {
    expect(() => lesionResponse(new Float32Array(7), new Float32Array(8), lesion, body)).toThrow(/7 voxels/);
    const s = summariseResponses([{ presence: 0.5, placement: 0.2 }, { presence: 0.7, placement: null }, { presence: 0.9, placement: 0.4 }]);
    expect(s.cases).toBe(3);
    expect(s.presence).toBeCloseTo(0.7, 12);
    expect(s.placement).toBeCloseTo(0.3, 12);
    expect(s.intervals.presence![0]).toBeGreaterThanOrEqual(0.5);
    expect(s.intervals.presence![1]).toBeLessThanOrEqual(0.9);
  });
});
