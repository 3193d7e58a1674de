// Counter-based random numbers: the GPU's Philox4x32-10 against the published known answers and a
// plain CPU implementation (bit-exact), the derived distributions against their moments, determinism.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { random } from '../../src/kernels/random';
import { expectClose } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

// ---- a CPU Philox4x32-10, written from the paper with BigInt products ---------------------------

const MASK = 0xffffffffn;
function mulhilo(a: number, b: number): [number, number] {
  const product = BigInt(a) * BigInt(b);
  return [Number(product >> 32n), Number(product & MASK)];
}

function philox(counter: readonly number[], key: readonly number[]): number[] {
  let [c0, c1, c2, c3] = counter as [number, number, number, number];
  let [k0, k1] = key as [number, number];
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + 0x9e3779b9) >>> 0;
      k1 = (k1 + 0xbb67ae85) >>> 0;
    }
    const [hi0, lo0] = mulhilo(0xd2511f53, c0);
    const [hi1, lo1] = mulhilo(0xcd9e8d57, c2);
    [c0, c1, c2, c3] = [(hi1 ^ c1 ^ k0) >>> 0, lo1, (hi0 ^ c3 ^ k1) >>> 0, lo0];
  }
  return [c0, c1, c2, c3];
}

/** The bits the kernel writes for element i under `seed`. */
function referenceBits(n: number, seed: number): Uint32Array {
  const key = [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
  const out = new Uint32Array(n);
  for (let block = 0; block * 4 < n; block++) {
    const words = philox([block, 0, 0, 0], key);
    for (let j = 0; j < 4 && block * 4 + j < n; j++) out[block * 4 + j] = words[j]!;
  }
  return out;
}

// Random123's kat_vectors for philox4x32 10: counter, key, expected output.
const KNOWN_ANSWERS: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

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
const readBits = (make: () => g.Tensor) => g.tidyAsync(async () => make().readInt());

describe('Philox4x32-10 on the GPU', () => {
  it('the CPU reference reproduces the published known answers', () => {
    for (const [counter, key, expected] of KNOWN_ANSWERS) expect(philox(counter, key)).toEqual(expected);
  });

  it('the kernel reproduces the published known answers', async () => {
    for (const [counter, key, expected] of KNOWN_ANSWERS) {
      const bits = await g.tidyAsync(async () => {
        const out = g.empty(rt, [4], 'u32');
        random(rt, 'bits', out.buffer, 4, { key: key as [number, number], counter: counter as [number, number, number, number] });
        return out.readInt();
      });
      expect([...bits]).toEqual(expected);
    }
  });

  it('matches the CPU hash bit for bit over thousands of values, odd sizes and 64-bit seeds', async () => {
    for (const [n, seed] of [[4099, 12345], [7, 2 ** 40 + 3], [1, 0]] as const) {
      const bits = await readBits(() => g.randomBits(rt, [n], seed));
      const expected = referenceBits(n, seed);
      let mismatch = -1;
      for (let i = 0; i < n && mismatch < 0; i++) if (bits[i] !== expected[i]) mismatch = i;
      expect(mismatch, `n ${n}, seed ${seed}: first differing element`).toBe(-1);
    }
  });
});

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
