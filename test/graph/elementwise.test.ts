// Elementwise ops and activations against float64 references, with finite-difference gradients.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray, rng, stridesOf, unravel } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

const erf = (x: number): number => {
  // float64 erf by its series / continued fraction is overkill here: use a high-order approximation
  // (W. J. Cody's rational form via Math functions is not in JS); 1e-12-accurate series for |x| < 3.
  let sum = x;
  let term = x;
  for (let n = 1; n < 80; n++) {
    term *= (-x * x) / n;
    sum += term / (2 * n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

interface UnaryCase {
  name: string;
  op: (x: g.Tensor) => g.Tensor;
  ref: (x: number) => number;
  low: number;
  high: number;
}

const unaryCases: UnaryCase[] = [
  { name: 'neg', op: g.neg, ref: (x) => -x, low: -3, high: 3 },
  { name: 'exp', op: g.exp, ref: Math.exp, low: -3, high: 3 },
  { name: 'log', op: g.log, ref: Math.log, low: 0.1, high: 5 },
  { name: 'sqrt', op: g.sqrt, ref: Math.sqrt, low: 0.1, high: 5 },
  { name: 'abs', op: g.abs, ref: Math.abs, low: -3, high: 3 },
  { name: 'reciprocal', op: g.reciprocal, ref: (x) => 1 / x, low: 0.5, high: 3 },
  { name: 'pow 3', op: (x) => g.pow(x, 3), ref: (x) => x ** 3, low: -2, high: 2 },
  { name: 'pow 0.5', op: (x) => g.pow(x, 0.5), ref: (x) => x ** 0.5, low: 0.1, high: 4 },
  { name: 'pow -2', op: (x) => g.pow(x, -2), ref: (x) => x ** -2, low: 0.5, high: 3 },
  { name: 'affine', op: (x) => g.affine(x, -1.5, 0.25), ref: (x) => -1.5 * x + 0.25, low: -3, high: 3 },
  { name: 'clamp', op: (x) => g.clamp(x, -0.5, 0.7), ref: (x) => Math.min(0.7, Math.max(-0.5, x)), low: -2, high: 2 },
  { name: 'relu', op: g.relu, ref: (x) => Math.max(0, x), low: -3, high: 3 },
  { name: 'leakyRelu', op: (x) => g.leakyRelu(x, 0.1), ref: (x) => (x > 0 ? x : 0.1 * x), low: -3, high: 3 },
  { name: 'silu', op: g.silu, ref: (x) => x * sigmoid(x), low: -4, high: 4 },
  { name: 'gelu', op: g.gelu, ref: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), low: -3, high: 3 },
  { name: 'sigmoid', op: g.sigmoid, ref: sigmoid, low: -6, high: 6 },
  { name: 'softplus', op: g.softplus, ref: (x) => (x > 20 ? x : Math.log1p(Math.exp(x))), low: -5, high: 25 },
  { name: 'tanh', op: g.tanh, ref: Math.tanh, low: -3, high: 3 },
];

/** Values bounded away from the kinks at 0 and at clamp's bounds, so finite differences are fair. */
function smoothInputs(n: number, seed: number, low: number, high: number): Float64Array {
  const next = rng(seed);
  return Float64Array.from({ length: n }, () => {
    for (;;) {
      const v = low + (high - low) * next();
      if ([0, -0.5, 0.7].every((k) => Math.abs(v - k) > 0.05)) return v;
    }
  });
}

describe('unary ops', () => {
  for (const c of unaryCases) {
    it(`${c.name} matches float64 on an odd shape`, async () => {
      const shape = [3, 5, 7];
      const x = randomArray(105, 7, c.low, c.high);
      const out = await g.tidyAsync(async () => c.op(g.fromArray(rt, x, shape)).read());
      expectClose(out, Array.from(x, c.ref), 1e-4, 1e-6, c.name);
    });

    it(`${c.name} has the finite-difference gradient`, async () => {
      const low = Math.max(c.low, -2);
      const high = Math.min(c.high, 3);
      await gradcheck(rt, c.op, [{ data: smoothInputs(6, 3, low, high), shape: [2, 3] }]);
    });
  }
});

function broadcastRef(op: (a: number, b: number) => number, a: Float64Array, as: number[], b: Float64Array, bs: number[], out: number[]): number[] {
  const n = out.reduce((p, d) => p * d, 1);
  const pick = (data: Float64Array, shape: number[], coords: number[]) => {
    const strides = stridesOf(shape);
    const offset = coords.length - shape.length;
    let index = 0;
    shape.forEach((d, i) => (index += (d === 1 ? 0 : coords[i + offset]!) * strides[i]!));
    return data[index]!;
  };
  return Array.from({ length: n }, (_, i) => {
    const coords = unravel(i, out);
    return op(pick(a, as, coords), pick(b, bs, coords));
  });
}

describe('binary ops with broadcasting', () => {
  const ops: [string, (a: g.Tensor, b: g.Tensor) => g.Tensor, (a: number, b: number) => number][] = [
    ['add', g.add, (a, b) => a + b],
    ['sub', g.sub, (a, b) => a - b],
    ['mul', g.mul, (a, b) => a * b],
    ['div', g.div, (a, b) => a / b],
  ];
  const pairs: [number[], number[], number[]][] = [
    [[3, 1, 5], [4, 1], [3, 4, 5]],
    [[7], [2, 3, 7], [2, 3, 7]],
    [[2, 3], [2, 3], [2, 3]],
    [[], [3, 2], [3, 2]],
  ];
  for (const [name, op, ref] of ops) {
    it(`${name} matches float64 for broadcast shapes`, async () => {
      for (const [as, bs, os] of pairs) {
        const a = randomArray(as.reduce((p, d) => p * d, 1), 1, 0.5, 2);
        const b = randomArray(bs.reduce((p, d) => p * d, 1), 2, 0.5, 2);
        const out = await g.tidyAsync(async () => {
          const t = op(g.fromArray(rt, a, as), g.fromArray(rt, b, bs));
          expect(t.shape).toEqual(os);
          return t.read();
        });
        expectClose(out, broadcastRef(ref, a, as, b, bs, os), 1e-5, 1e-6, `${name} ${as} ${bs}`);
      }
    });

    it(`${name} has finite-difference gradients for both broadcast operands`, async () => {
      await gradcheck(rt, op, [
        { data: randomArray(6, 4, 0.5, 2), shape: [2, 1, 3] },
        { data: randomArray(4, 5, 0.5, 2), shape: [4, 1] },
      ]);
    });
  }

  it('computes four elements at a time where every operand allows it, with the same values', async () => {
    const cases: [number[], number[], boolean][] = [
      [[3, 5, 8], [3, 5, 8], true], // same shape
      [[3, 5, 8], [8], true], // per channel, 8 channels
      [[3, 5, 8], [5, 1], false], // broadcast along the innermost axis
      [[3, 5, 6], [6], false], // 6 channels
    ];
    const ops: [string, (a: g.Tensor, b: g.Tensor) => g.Tensor, (a: number, b: number) => number][] = [
      ['add', g.add, (a, b) => a + b],
      ['div', g.div, (a, b) => a / b],
      ['greater', g.greaterMask, (a, b) => (Math.fround(a) > Math.fround(b) ? 1 : 0)],
    ];
    for (const [as, bs, vec4] of cases) {
      const a = randomArray(as.reduce((p, d) => p * d, 1), 11, -2, 2);
      const b = randomArray(bs.reduce((p, d) => p * d, 1), 12, 0.5, 2);
      for (const [name, op, ref] of ops) {
        const dispatch = vi.spyOn(rt, 'dispatch');
        let out: Float32Array;
        let kernels: string[];
        try {
          out = await g.tidyAsync(async () => op(g.fromArray(rt, a, as), g.fromArray(rt, b, bs)).read());
          kernels = dispatch.mock.calls.map(([d]) => d.kernel).filter((k) => k.startsWith('binary_'));
        } finally {
          dispatch.mockRestore();
        }
        expectClose(out, broadcastRef(ref, a, as, b, bs, as), 1e-6, 1e-7, `${name} ${as} ${bs}`);
        expect({ op: `${name} ${as} ${bs}`, kernels }).toEqual({ op: `${name} ${as} ${bs}`, kernels: [`binary_${name}${vec4 ? ' (vec4)' : ''}`] });
      }
    }
    // where, with a same-shape condition: four at a time, each lane choosing for itself.
    const cond = Array.from({ length: 16 }, (_, i) => (i * 7) % 3 === 0 ? 1 : 0);
    const a = randomArray(16, 13);
    const b = randomArray(16, 14);
    const picked = await g.tidyAsync(async () => g.where(g.fromArray(rt, cond, [2, 8]), g.fromArray(rt, a, [2, 8]), g.fromArray(rt, b, [2, 8])).read());
    expectClose(picked, cond.map((c, i) => Math.fround(c ? a[i]! : b[i]!)), 0, 0, 'where');
  });

  it('refuses shapes that do not broadcast', () => {
    g.tidy(() => {
      expect(() => g.add(g.zeros(rt, [2, 3]), g.zeros(rt, [4]))).toThrow(/do not broadcast/);
    });
  });

  it('where selects by a broadcast condition and routes gradients to the chosen side', async () => {
    const cond = [1, 0, 0, 1, 1, 0];
    const a = randomArray(6, 8);
    const b = randomArray(3, 9);
    const out = await g.tidyAsync(async () => g.where(g.fromArray(rt, cond, [2, 3]), g.fromArray(rt, a, [2, 3]), g.fromArray(rt, b, [3])).read());
    expectClose(out, cond.map((c, i) => Math.fround(c ? a[i]! : b[i % 3]!)), 0, 0);
    await gradcheck(rt, (x, y) => g.where(g.fromArray(rt, cond, [2, 3]), x, y), [
      { data: a, shape: [2, 3] },
      { data: b, shape: [3] },
    ]);
  });
});

describe('the tape', () => {
  it('sums the gradients of a tensor used several times', async () => {
    await g.tidyAsync(async () => {
      const x = g.fromArray(rt, [1, -2, 3], [3], { requiresGrad: true });
      g.backward(g.sum(g.add(g.mul(x, x), x))); // d/dx (x^2 + x) = 2x + 1
      expectClose(await x.grad!.read(), [3, -3, 7], 0, 1e-6);
      x.grad!.dispose();
    });
  });

  it('records nothing under noGrad and refuses backward on such a result', () => {
    g.tidy(() => {
      const x = g.fromArray(rt, [1, 2], [2], { requiresGrad: true });
      const y = g.noGrad(() => g.exp(x));
      expect(y.requiresGrad).toBe(false);
      expect(() => g.backward(y)).toThrow(/does not require a gradient/);
    });
  });

  it('tidy frees every intermediate but what it returns', () => {
    const before = rt.poolStats().liveBytes;
    const kept = g.tidy(() => {
      const a = g.fromArray(rt, randomArray(1000, 1), [1000]);
      return g.exp(g.mul(a, a));
    });
    expect(rt.poolStats().liveBytes - before).toBe(4096);
    kept.dispose();
    expect(rt.poolStats().liveBytes).toBe(before);
    expect(() => kept.buffer).toThrow(/after dispose/);
  });

  it('reshape is a view: it shares storage and keeps it alive until both are disposed', async () => {
    const before = rt.poolStats().liveBytes;
    const x = g.fromArray(rt, [1, 2, 3, 4, 5, 6], [2, 3]);
    const y = g.reshape(x, [3, -1]);
    expect(y.shape).toEqual([3, 2]);
    expect(y.buffer).toBe(x.buffer);
    x.dispose();
    expect(Array.from(await y.read())).toEqual([1, 2, 3, 4, 5, 6]);
    y.dispose();
    expect(rt.poolStats().liveBytes).toBe(before);
  });
});
