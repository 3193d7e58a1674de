// Batched matmul against a float64 reference: odd sizes around the 32-wide tiles, transposes, batch
// broadcasting, and finite-difference gradients.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forceMatmulVariant } from '../../src/kernels/matmul';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray, stridesOf, unravel } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

interface Case {
  a: number[];
  b: number[];
  transposeA?: boolean;
  transposeB?: boolean;
}

/** float64 op(a) · op(b) with NumPy broadcasting of the batch axes, written element by element. */
function matmulRef(a: Float64Array, b: Float64Array, c: Case): { data: Float64Array; shape: number[] } {
  const [ar, ac] = c.a.slice(-2) as [number, number];
  const [br, bc] = c.b.slice(-2) as [number, number];
  const [m, k] = c.transposeA ? [ac, ar] : [ar, ac];
  const n = c.transposeB ? br : bc;
  const aBatch = c.a.slice(0, -2);
  const bBatch = c.b.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch = Array.from({ length: rank }, (_, i) => Math.max(aBatch[i - rank + aBatch.length] ?? 1, bBatch[i - rank + bBatch.length] ?? 1));
  const batches = batch.reduce((p, d) => p * d, 1);
  // Index of the operand's own batch entry for an output batch coordinate (size-1 axes broadcast).
  const own = (shape: number[], coords: number[]) => {
    const strides = stridesOf(shape);
    return shape.reduce((off, d, i) => off + (d === 1 ? 0 : coords[i + rank - shape.length]! * strides[i]!), 0);
  };
  const data = new Float64Array(batches * m * n);
  for (let bi = 0; bi < batches; bi++) {
    const coords = unravel(bi, batch);
    const aOff = own(aBatch, coords) * ar * ac;
    const bOff = own(bBatch, coords) * br * bc;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          const av = c.transposeA ? a[aOff + p * ac + i]! : a[aOff + i * ac + p]!;
          const bv = c.transposeB ? b[bOff + j * bc + p]! : b[bOff + p * bc + j]!;
          s += av * bv;
        }
        data[(bi * m + i) * n + j] = s;
      }
    }
  }
  return { data, shape: [...batch, m, n] };
}

async function check(c: Case, seed: number, absolute = 1e-5): Promise<void> {
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const a = randomArray(size(c.a), seed);
  const b = randomArray(size(c.b), seed + 1);
  const expected = matmulRef(a, b, c);
  const out = await g.tidyAsync(async () => {
    const t = g.matmul(g.fromArray(rt, a, c.a), g.fromArray(rt, b, c.b), { transposeA: c.transposeA, transposeB: c.transposeB });
    expect(t.shape).toEqual(expected.shape);
    return t.read();
  });
  // Sums of up to 65 products of values in [-1, 1]: an absolute floor for results near zero.
  expectClose(out, expected.data, 1e-4, absolute, `matmul ${JSON.stringify(c)}`);
}

// Both kernels (tiled with workgroup memory for GPUs, blocked without barriers for software adapters)
// against the same references, whichever adapter runs the tests.
for (const variant of ['tiled', 'blocked'] as const) {
  describe(`matmul (${variant} kernel)`, () => {
    const sizes = [1, 7, 33, 65];
    beforeEach(() => forceMatmulVariant(variant));
    afterEach(() => forceMatmulVariant(null));

    it('matches float64 for every M, K, N in {1, 7, 33, 65}', async () => {
      let seed = 1;
      for (const m of sizes) for (const k of sizes) for (const n of sizes) await check({ a: [m, k], b: [k, n] }, (seed += 2));
    });

    it('matches float64 with either operand transposed, or both', async () => {
      let seed = 200;
      for (const [m, k, n] of [[7, 33, 65], [65, 7, 33], [33, 65, 1], [1, 17, 7]] as const) {
        await check({ a: [k, m], b: [k, n], transposeA: true }, (seed += 2));
        await check({ a: [m, k], b: [n, k], transposeB: true }, (seed += 2));
        await check({ a: [k, m], b: [n, k], transposeA: true, transposeB: true }, (seed += 2));
      }
    });

    it('broadcasts batch axes, including a 2-D operand over a batch', async () => {
      const cases: Case[] = [
        { a: [3, 7, 5], b: [3, 5, 9] },
        { a: [3, 7, 5], b: [5, 9] },
        { a: [7, 5], b: [2, 3, 5, 9] },
        { a: [2, 1, 7, 5], b: [3, 5, 9] },
        { a: [2, 1, 5, 7], b: [1, 3, 9, 5], transposeA: true, transposeB: true },
        { a: [5, 66, 3], b: [5, 3, 70] },
      ];
      let seed = 300;
      for (const c of cases) await check(c, (seed += 2));
    });

    it('matches float64 when a long K is split over workgroups (weight-gradient shapes)', async () => {
      // Few output tiles over K = 1000 or 700: partial products per K run, then their sum. Sums of up to
      // 1000 products of values in [-1, 1] reach about 20, hence the looser absolute floor.
      let seed = 500;
      for (const c of [
        { a: [1000, 5], b: [1000, 9], transposeA: true },
        { a: [33, 1000], b: [1000, 40] },
        { a: [2, 3, 700], b: [2, 700, 4] },
      ] as Case[]) {
        await check(c, (seed += 2), 1e-4);
      }
    });
  });
}

describe('matmul', () => {
  it('gives zeros for an empty inner axis and names mismatched shapes', async () => {
    const out = await g.tidyAsync(async () => g.matmul(g.zeros(rt, [3, 0]), g.zeros(rt, [0, 2])).read());
    expectClose(out, new Float64Array(6));
    g.tidy(() => {
      expect(() => g.matmul(g.zeros(rt, [2, 3]), g.zeros(rt, [4, 2]))).toThrow(/inner sizes differ: \[2, 3\] has 3, \[4, 2\] has 4/);
      expect(() => g.matmul(g.zeros(rt, [2, 2, 3]), g.zeros(rt, [3, 3, 2]))).toThrow(/batch axes/);
      expect(() => g.matmul(g.zeros(rt, [3]), g.zeros(rt, [3, 2]))).toThrow(/at least 2 axes/);
    });
  });

  const gradCases: [string, Case][] = [
    ['plain', { a: [3, 4], b: [4, 2] }],
    ['transposed A', { a: [4, 3], b: [4, 2], transposeA: true }],
    ['transposed B', { a: [3, 4], b: [2, 4], transposeB: true }],
    ['both transposed, batched', { a: [2, 4, 3], b: [2, 2, 4], transposeA: true, transposeB: true }],
    ['2-D b broadcast over a batch', { a: [2, 3, 4], b: [4, 2] }],
    ['size-1 batch axis broadcast', { a: [1, 3, 2], b: [3, 2, 2] }],
  ];
  for (const [name, c] of gradCases) {
    it(`has the finite-difference gradient: ${name}`, async () => {
      const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
      await gradcheck(rt, (a, b) => g.matmul(a!, b!, { transposeA: c.transposeA, transposeB: c.transposeB }), [
        { data: randomArray(size(c.a), 41), shape: c.a },
        { data: randomArray(size(c.b), 42), shape: c.b },
      ]);
    });
  }
});
