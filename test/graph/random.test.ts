// Random tensors from the counter-based Philox4x32-10 hash (its kernel is tested in
// test/kernels/random.test.ts): the derived distributions against the same bits in float64 and
// against their moments, determinism.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { referenceBits } from '../helpers/philox';
import { expectClose } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

function moments(values: Float32Array): { mean: number; variance: number; skew: number; kurtosis: number } {
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length;
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (const v of values) {
    const d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= values.length;
  m3 /= values.length;
  m4 /= values.length;
  return { mean, variance: m2, skew: m3 / m2 ** 1.5, kurtosis: m4 / (m2 * m2) };
}

const read = (make: () => g.Tensor) => g.tidyAsync(async () => make().read());

describe('random tensors', () => {
  it('uniform [0, 1) is the top 24 bits of the hash, exactly', async () => {
    const n = 3001;
    const u = await read(() => g.randomUniform(rt, [n], 77));
    const bits = referenceBits(n, 77);
    const expected = Float32Array.from(bits, (b) => (b >>> 8) / 2 ** 24);
    let mismatch = -1;
    for (let i = 0; i < n && mismatch < 0; i++) if (u[i] !== expected[i]) mismatch = i;
    expect(mismatch, 'first element that differs from the CPU').toBe(-1);
  });

  it('uniform [low, high) matches the float64 reference and its moments', async () => {
    const [low, high] = [-3, 5];
    const shape = [7, 11, 13, 9];
    const u = await read(() => g.randomUniform(rt, shape, 2024, low, high));
    const bits = referenceBits(u.length, 2024);
    expectClose(u, Float64Array.from(bits, (b) => low + (high - low) * ((b >>> 8) / 2 ** 24)), 1e-6, 1e-6, 'uniform');
    expect(Math.min(...u)).toBeGreaterThanOrEqual(low);
    expect(Math.max(...u)).toBeLessThan(high);
    const m = moments(u);
    const variance = (high - low) ** 2 / 12;
    expect(Math.abs(m.mean - (low + high) / 2)).toBeLessThan(5 * Math.sqrt(variance / u.length));
    expect(Math.abs(m.variance / variance - 1)).toBeLessThan(0.02);
  });

  it('normal matches Box-Muller of the same bits in float64, and the normal moments', async () => {
    const [mean, std] = [1.5, 0.25];
    const n = 40_001;
    const z = await read(() => g.randomNormal(rt, [n], 9, mean, std));
    const bits = referenceBits(n + 1, 9); // the last pair's partner is drawn, not written
    const expected = new Float64Array(n);
    for (let i = 0; i < n; i += 2) {
      const radius = Math.sqrt(-2 * Math.log(((bits[i]! >>> 8) + 1) / 2 ** 24));
      const angle = 2 * Math.PI * (bits[i + 1]! >>> 8) / 2 ** 24;
      expected[i] = mean + std * radius * Math.cos(angle);
      if (i + 1 < n) expected[i + 1] = mean + std * radius * Math.sin(angle);
    }
    // The device's log and sqrt are not correctly rounded; the kernel's own sin/cos are a few ulp.
    expectClose(z, expected, 1e-5, 1e-5 * std, 'normal');
    const m = moments(Float32Array.from(z, (v) => (v - mean) / std));
    expect(Math.abs(m.mean)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs(m.variance - 1)).toBeLessThan(5 * Math.sqrt(2 / n));
    expect(Math.abs(m.skew)).toBeLessThan(5 * Math.sqrt(6 / n));
    expect(Math.abs(m.kurtosis - 3)).toBeLessThan(5 * Math.sqrt(24 / n));
    const withinOne = z.filter((v) => Math.abs(v - mean) < std).length / n;
    expect(Math.abs(withinOne - 0.6826894921)).toBeLessThan(5 * Math.sqrt(0.68 * 0.32 / n));
  });

  it('bernoulli masks are exact comparisons of the bits, with the right rate', async () => {
    const n = 20_003;
    for (const p of [0, 0.1, 0.9, 1]) {
      const mask = await read(() => g.bernoulliMask(rt, [n], 31, p));
      const bits = referenceBits(n, 31);
      const threshold = Math.round(p * 2 ** 24);
      const expected = Float32Array.from(bits, (b) => ((b >>> 8) < threshold ? 1 : 0));
      expect(mask).toEqual(expected);
      const rate = mask.reduce((a, b) => a + b, 0) / n;
      expect(Math.abs(rate - p)).toBeLessThanOrEqual(5 * Math.sqrt((p * (1 - p)) / n));
    }
  });

  it('the same seed gives the same numbers; other seeds and derived seeds give others', async () => {
    const a = await read(() => g.randomNormal(rt, [1001], 5));
    const b = await read(() => g.randomNormal(rt, [1001], 5));
    const c = await read(() => g.randomNormal(rt, [1001], 6));
    const d = await read(() => g.randomNormal(rt, [1001], g.deriveSeed(5, 0)));
    expect(b).toEqual(a);
    const differing = (x: Float32Array, y: Float32Array) => x.filter((v, i) => v !== y[i]).length;
    expect(differing(a, c)).toBeGreaterThan(990);
    expect(differing(a, d)).toBeGreaterThan(990);
    // A prefix of a longer draw is the shorter draw: values depend only on (seed, index).
    const longer = await read(() => g.randomNormal(rt, [2000], 5));
    expect(longer.subarray(0, 1001)).toEqual(a);
  });

  it('deriveSeed is deterministic and spreads nearby inputs', () => {
    expect(g.deriveSeed(123, 4)).toBe(g.deriveSeed(123, 4));
    const seeds = new Set<number>();
    for (let s = 0; s < 20; s++) for (let i = 0; i < 20; i++) seeds.add(g.deriveSeed(s, i));
    expect(seeds.size).toBe(400);
    for (const s of seeds) expect(Number.isSafeInteger(s) && s >= 0).toBe(true);
  });

  it('rejects bad seeds and parameters', () => {
    expect(() => g.randomUniform(rt, [3], -1)).toThrow(/seed/);
    expect(() => g.randomUniform(rt, [3], 1.5)).toThrow(/seed/);
    expect(() => g.bernoulliMask(rt, [3], 1, 1.5)).toThrow(/p must be/);
    expect(() => g.randomUniform(rt, [3], 1, 2, 1)).toThrow(/below/);
  });
});
