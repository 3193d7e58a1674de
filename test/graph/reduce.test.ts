// Reductions over any axes against float64 references, with finite-difference gradients.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray, unravel } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

type Reducer = (values: number[]) => number;
const refs: Record<string, Reducer> = {
  sum: (v) => v.reduce((a, b) => a + b, 0),
  mean: (v) => v.reduce((a, b) => a + b, 0) / v.length,
  max: (v) => Math.max(...v),
  logsumexp: (v) => {
    const m = Math.max(...v);
    return m + Math.log(v.reduce((a, b) => a + Math.exp(b - m), 0));
  },
  variance: (v) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length;
  },
};
const ops: Record<string, (x: g.Tensor, axes: number[], keep: boolean) => g.Tensor> = {
  sum: g.sum,
  mean: g.mean,
  max: g.max,
  logsumexp: g.logsumexp,
  variance: (x, axes, keep) => g.variance(x, axes, keep),
};

function reduceRef(data: Float64Array, shape: number[], axes: number[], f: Reducer): number[] {
  const outShape = shape.map((d, i) => (axes.includes(i) ? 1 : d));
  const groups = new Map<number, number[]>();
  data.forEach((v, i) => {
    const coords = unravel(i, shape).map((c, d) => (axes.includes(d) ? 0 : c));
    const key = coords.reduce((k, c, d) => k * outShape[d]! + c, 0);
    (groups.get(key) ?? groups.set(key, []).get(key)!).push(v);
  });
  return [...groups.keys()].sort((a, b) => a - b).map((k) => f(groups.get(k)!));
}

describe('reductions', () => {
  const shape = [3, 4, 5];
  const axesCases = [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]];
  for (const name of Object.keys(ops)) {
    it(`${name} matches float64 over every axis combination`, async () => {
      const x = randomArray(60, 11, -2, 2);
      for (const axes of axesCases) {
        const out = await g.tidyAsync(async () => {
          const t = ops[name]!(g.fromArray(rt, x, shape), axes, false);
          expect(t.shape).toEqual(shape.filter((_, i) => !axes.includes(i)));
          return t.read();
        });
        expectClose(out, reduceRef(x, shape, axes, refs[name]!), 1e-5, 1e-6, `${name} over ${axes}`);
      }
    });

    it(`${name} has the finite-difference gradient`, async () => {
      await gradcheck(rt, (x) => ops[name]!(x, [0, 2], true), [{ data: randomArray(24, 12, -2, 2), shape: [2, 3, 4] }]);
    });
  }

  // More terms than one invocation takes: partial results per chunk, then a second pass over them;
  // one reduced run ([1]) and two separated by a kept axis ([1, 3]).
  for (const { shape, axes } of [
    { shape: [3, 700, 2], axes: [1] },
    { shape: [2, 150, 3, 5], axes: [1, 3] },
  ]) {
    it(`every reduction over ${axes} of [${shape}] matches float64 when split into chunks`, async () => {
      const n = shape.reduce((p, d) => p * d, 1);
      const x = randomArray(n, 13, -3, 3);
      for (const name of Object.keys(ops)) {
        const out = await g.tidyAsync(async () => ops[name]!(g.fromArray(rt, x, shape), axes, false).read());
        expectClose(out, reduceRef(x, shape, axes, refs[name]!), 1e-5, 1e-5, `${name} over ${axes}`);
      }
    });
  }

  it('sums a million terms to f32 accuracy', async () => {
    const n = 1 << 20;
    const x = new Float32Array(n).fill(0.1);
    const total = await g.tidyAsync(async () => g.sum(g.fromArray(rt, x, [n])).item());
    expectClose([total], [n * Math.fround(0.1)], 1e-6, 0);
  });

  it('sums every term of a million random ones, a run that is no multiple of the block', async () => {
    const n = (1 << 20) + 37;
    const x = Float32Array.from(randomArray(n, 7, 0, 1));
    const exact = x.reduce((a, b) => a + b, 0); // float64 accumulator over the float32 terms
    const total = await g.tidyAsync(async () => g.sum(g.fromArray(rt, x, [n])).item());
    expectClose([total], [exact], 1e-6, 0);
  });

  it('negative axes count from the end and keepDims keeps them as 1', () => {
    g.tidy(() => {
      const t = g.mean(g.zeros(rt, [2, 3, 4]), -1, true);
      expect(t.shape).toEqual([2, 3, 1]);
      expect(() => g.sum(g.zeros(rt, [2]), 3)).toThrow(/out of range/);
    });
  });
});
