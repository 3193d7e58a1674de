// The healthy kNN tail: the kNN search against a float64 brute force, the quantile against numpy's
// rule, and the tail's response to normal tissue that has no match in another body.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/data/rng';
import { healthyKnnTail, meanKnnDistances, quantile, type ScanDescriptors } from '../../src/eval/healthy-knn-tail';

function randomRows(rng: Rng, rows: number, channels: number, scale = 1): Float32Array {
  return Float32Array.from({ length: rows * channels }, () => scale * rng.normal());
}

/** Mean distance to the k nearest by sorting every distance in float64. */
function bruteForce(q: Float32Array, b: Float32Array, c: number, k: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < q.length / c; i++) {
    const d: number[] = [];
    for (let j = 0; j < b.length / c; j++) {
      let s = 0;
      for (let x = 0; x < c; x++) s += (q[i * c + x]! - b[j * c + x]!) ** 2;
      d.push(Math.sqrt(s));
    }
    d.sort((u, v) => u - v);
    out.push(d.slice(0, k).reduce((u, v) => u + v, 0) / k);
  }
  return out;
}

/** n scans of `voxels` voxels (the first `inside` in the body) whose body descriptors are N(0, 1). */
function gaussianScans(rng: Rng, n: number, voxels: number, inside: number, channels: number): ScanDescriptors[] {
  return Array.from({ length: n }, (_, s) => ({
    id: `scan ${s}`,
    features: randomRows(rng, voxels, channels),
    channels,
    body: Uint8Array.from({ length: voxels }, (_, i) => (i < inside ? 1 : 0)),
  }));
}

describe('meanKnnDistances', () => {
  it('matches a float64 brute force, ties and k = bank size included', () => {
    const rng = new Rng(5);
    const c = 3;
    const q = randomRows(rng, 40, c);
    const b = randomRows(rng, 57, c);
    b.set(b.subarray(0, 5 * c), 10 * c); // duplicated rows: equal distances
    q.set(b.subarray(2 * c, 3 * c), 0); // a query on a bank row: distance 0
    for (const k of [1, 4, 10, 57]) {
      const got = meanKnnDistances(q, b, c, k);
      const want = bruteForce(q, b, c, k);
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    }
    expect(meanKnnDistances(q, b, c, 1)[0]).toBe(0);
  });

  it('refuses a k outside the bank and lengths that are not rows', () => {
    const b = new Float32Array(6);
    expect(() => meanKnnDistances(new Float32Array(2), b, 2, 4)).toThrow(/k must be in \[1, 3\]/);
    expect(() => meanKnnDistances(new Float32Array(2), b, 2, 0)).toThrow(/k must be/);
    expect(() => meanKnnDistances(new Float32Array(3), b, 2, 1)).toThrow(/multiples of channels/);
  });
});

describe('quantile', () => {
  it('interpolates between order statistics as numpy does', () => {
    const v = Float64Array.from([4, 1, 3, 2]);
    expect(quantile(v, 0.5)).toBeCloseTo(2.5, 12);
    expect(quantile(v, 0.99)).toBeCloseTo(3.97, 12);
    expect(quantile(v, 0)).toBe(1);
    expect(quantile(Float64Array.from([7]), 0.99)).toBe(7);
  });
});

describe('healthyKnnTail', () => {
  it('rises when some normal tissue has no match in another body, and ignores voxels outside the body', () => {
    const rng = new Rng(1);
    const options = { queries: 400, bank: 1500, seed: 3 };
    const clean = healthyKnnTail(gaussianScans(rng, 3, 3000, 2000, 4), options);
    expect(clean.perScan.map((s) => [s.id, s.bankId])).toEqual([['scan 0', 'scan 1'], ['scan 1', 'scan 2'], ['scan 2', 'scan 0']]);
    // 3 % of each body: descriptors far from everything, each voxel its own.
    const rare = gaussianScans(new Rng(1), 3, 3000, 2000, 4);
    for (const s of rare) for (let i = 0; i < 60; i++) s.features.set(randomRows(rng, 1, 4, 8), i * 4);
    const withRare = healthyKnnTail(rare, options);
    expect(withRare.tail).toBeGreaterThan(clean.tail * 1.5);
    expect(withRare.tail).toBeCloseTo(withRare.perScan.reduce((a, s) => a + s.tail, 0) / 3, 12);
    // Outside the body nothing counts, however strange.
    const outside = gaussianScans(new Rng(1), 3, 3000, 2000, 4);
    for (const s of outside) s.features.fill(1e6, 2000 * 4);
    expect(healthyKnnTail(outside, options)).toEqual(clean);
    // The sample follows the seed.
    expect(healthyKnnTail(gaussianScans(new Rng(1), 3, 3000, 2000, 4), { ...options, seed: 4 }).tail).not.toBe(clean.tail);
  });

  it('refuses fewer than two scans, mismatched scans, a bad quantile and descriptors that are all alike', () => {
    const rng = new Rng(2);
    const scans = gaussianScans(rng, 2, 100, 50, 2);
    expect(() => healthyKnnTail(scans.slice(0, 1))).toThrow(/at least 2 scans/);
    expect(() => healthyKnnTail([scans[0]!, { ...scans[1]!, channels: 4, features: new Float32Array(400) }], { k: 2 })).toThrow(/scan 1 has 4 channels/);
    expect(() => healthyKnnTail([scans[0]!, { ...scans[1]!, features: new Float32Array(10) }])).toThrow(/scan 1: 10 values for 100 voxels/);
    expect(() => healthyKnnTail(scans, { quantile: 1 })).toThrow(/quantile must be in/);
    const flat = scans.map((s) => ({ ...s, features: new Float32Array(s.features.length) }));
    expect(() => healthyKnnTail(flat, { queries: 20, bank: 40 })).toThrow(/scan 0: the median rarity is 0/);
    expect(() => healthyKnnTail([scans[0]!, { ...scans[1]!, body: new Uint8Array(100) }])).toThrow(/scan 1: no voxel inside the body/);
  });
});
