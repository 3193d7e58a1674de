// Bootstrap intervals over cases: exact where nothing varies, the textbook width where the sample is
// large, deterministic, and paired differences that see what two overlapping intervals cannot.
import { describe, expect, it } from 'vitest';
import { bootstrapInterval, meanInterval, pairedDifferenceInterval } from '../../src/eval/bootstrap';
import { rng } from '../helpers/reference';

function normals(count: number, seed: number): number[] {
  const next = rng(seed);
  // Box-Muller from the helper's uniform generator.
  return Array.from({ length: count }, () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next()));
}

describe('bootstrap intervals', () => {
  it('is a point where every case has the same value, and null with no cases', () => {
    const [lo, hi] = meanInterval([0.7, 0.7, 0.7])!;
    expect(lo).toBeCloseTo(0.7, 14);
    expect(hi).toBeCloseTo(0.7, 14);
    expect(meanInterval([])).toBeNull();
  });

  it('matches the normal-theory width of a mean of 400 cases and is the same every run', () => {
    const values = normals(400, 5);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const sd = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1));
    const [lo, hi] = meanInterval(values)!;
    const expected = 1.96 * sd / Math.sqrt(values.length);
    expect(lo).toBeLessThan(mean);
    expect(hi).toBeGreaterThan(mean);
    expect((hi - lo) / 2).toBeGreaterThan(0.85 * expected);
    expect((hi - lo) / 2).toBeLessThan(1.15 * expected);
    expect(meanInterval(values)).toEqual([lo, hi]);
  });

  it('narrows as cases are added', () => {
    const values = normals(200, 8);
    const width = (v: number[]) => { const [lo, hi] = meanInterval(v)!; return hi - lo; };
    expect(width(values)).toBeLessThan(0.6 * width(values.slice(0, 40)));
  });

  it('resamples with replacement: the maximum of a resample reaches the sample maximum only sometimes', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const [lo, hi] = bootstrapInterval(values.length, (idx) => Math.max(...Array.from(idx, (i) => values[i]!)))!;
    expect(hi).toBe(10);
    expect(lo).toBeLessThan(10);
    expect(lo).toBeGreaterThanOrEqual(7);
  });

  it('pairs cases: a constant gain is certain even when both spreads overlap', () => {
    const base = normals(30, 11);
    const better = base.map((v) => v + 0.1);
    const a = meanInterval(better)!;
    const b = meanInterval(base)!;
    expect(a[0]).toBeLessThan(b[1]); // the two intervals overlap ...
    const d = pairedDifferenceInterval(better, base)!;
    expect(d[0]).toBeCloseTo(0.1, 12); // ... but the paired difference is exactly 0.1
    expect(d[1]).toBeCloseTo(0.1, 12);
    expect(() => pairedDifferenceInterval([1], [1, 2])).toThrow(RangeError);
  });
});
