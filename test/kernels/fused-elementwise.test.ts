// Generated elementwise kernels against a float64 evaluation of the same expression: every op of the
// expression language, broadcasting over channels-last shapes of odd sizes, several outputs in one
// kernel, inputs an expression skips; outputs are poisoned with NaN first (test runtime). The symbolic
// derivatives are checked against float64 finite differences.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/gpu/runtime';
import { fusedElementwise } from '../../src/kernels/fused-elementwise';
import { derivative, fx, inputCount, usedInputs, type FusedExpr } from '../../src/kernels/fused-expression';
import { broadcastStridesOf, evaluateFused, evaluateFusedOver } from '../helpers/fused-reference';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

interface Input {
  data: Float64Array;
  shape: number[];
}

const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** Runs `exprs` on the GPU over `inputs` broadcast to `shape`; returns each output. */
async function runFused(exprs: FusedExpr[], shape: number[], inputs: Input[]): Promise<Float32Array[]> {
  const buffers = inputs.map((x) => rt.upload(Float32Array.from(x.data)));
  const outs = exprs.map(() => rt.buffer(Math.max(4, 4 * size(shape))));
  try {
    fusedElementwise(rt, exprs, shape, inputs.map((x, i) => ({ buffer: buffers[i]!, strides: broadcastStridesOf(x.shape, shape) })), outs);
    return await Promise.all(outs.map((o) => rt.readFloat32(o, size(shape))));
  } finally {
    for (const b of [...buffers, ...outs]) rt.release(b);
  }
}

/** f32-rounded inputs, so that the reference sees exactly what the kernel reads. */
function input(shape: number[], seed: number, low: number, high: number): Input {
  return { data: Float64Array.from(Float32Array.from(randomArray(size(shape), seed, low, high))), shape };
}

const [x0, x1, x2] = [fx.input(0), fx.input(1), fx.input(2)];

// Each unary op on a [2, 3, 5, 7] map, plus a per-channel [7] vector (the broadcast of a bias).
const unaryCases: [string, FusedExpr, number, number][] = [
  ['neg', fx.neg(x0), -3, 3],
  ['exp', fx.exp(x0), -3, 3],
  ['log', fx.log(x0), 0.1, 5],
  ['sqrt', fx.sqrt(x0), 0.1, 5],
  ['abs', fx.abs(x0), -3, 3],
  ['relu', fx.relu(x0), -3, 3],
  ['leakyRelu', fx.leakyRelu(x0, 0.1), -3, 3],
  ['silu', fx.silu(x0), -6, 6],
  ['sigmoid', fx.sigmoid(x0), -30, 30],
  ['softplus', fx.softplus(x0), -5, 25],
  ['tanh', fx.tanh(x0), -3, 3],
  ['reciprocal', fx.reciprocal(x0), 0.5, 3],
  ['square', fx.square(x0), -3, 3],
  ['sign', fx.sign(x0), -3, 3],
  ['positive', fx.positive(x0), -3, 3],
];

const binaryCases: [string, FusedExpr][] = [
  ['add', fx.add(x0, x1)],
  ['sub', fx.sub(x0, x1)],
  ['mul', fx.mul(x0, x1)],
  ['div', fx.div(x0, x1)],
  ['maximum', fx.maximum(x0, x1)],
  ['minimum', fx.minimum(x0, x1)],
  ['greaterEqual', fx.greaterEqual(x0, x1)],
];

describe('fused elementwise kernels', () => {
  for (const [name, op, low, high] of unaryCases) {
    it(`${name}, plus a broadcast per-channel vector, matches float64`, async () => {
      const shape = [2, 3, 5, 7];
      const inputs = [input(shape, 1, low, high), input([7], 2, -1, 1)];
      const expr = fx.add(op, x1);
      const [out] = await runFused([expr], shape, inputs);
      expectClose(out!, evaluateFusedOver(expr, shape, inputs), 1e-5, 1e-6, name);
    });
  }

  it('every binary op matches float64 with both operands broadcast', async () => {
    // [3, 1, 5] against [4, 1]: each operand is broadcast along an axis the other has.
    const shape = [3, 4, 5];
    const inputs = [input([3, 1, 5], 3, 0.5, 2), input([4, 1], 4, 0.5, 2)];
    for (const [name, expr] of binaryCases) {
      const [out] = await runFused([expr], shape, inputs);
      expectClose(out!, evaluateFusedOver(expr, shape, inputs), 1e-5, 1e-6, name);
    }
  });

  it('where selects by a broadcast condition', async () => {
    const shape = [5, 3, 3];
    const cond = { data: Float64Array.from(randomArray(9, 5), (v) => (v > 0 ? 1 : 0)), shape: [3, 3] };
    const inputs = [input(shape, 6, -2, 2), input([5, 1, 1], 7, -2, 2), cond];
    const expr = fx.where(x2, fx.exp(x0), fx.mul(x1, -2));
    const [out] = await runFused([expr], shape, inputs);
    expectClose(out!, evaluateFusedOver(expr, shape, inputs), 1e-5, 1e-6, 'where');
  });

  it('chains with constants and shared subexpressions, with a scalar input', async () => {
    // The coupling layer's transform and a GroupNorm-style affine + SiLU with [C] scale and shift.
    const shape = [3, 5, 3, 7];
    const inputs = [input(shape, 8, -3, 3), input([7], 9, 0.5, 1.5), input([], 10, -1, 1)];
    const s = fx.sigmoid(fx.add(x2, 2));
    const exprs = [
      fx.mul(fx.add(x0, x1), s),
      fx.silu(fx.add(fx.mul(x0, x1), x2)),
      fx.div(fx.sub(fx.mul(x0, s), 0.375), fx.add(fx.square(x1), 1e-3)),
    ];
    for (const expr of exprs) {
      const [out] = await runFused([expr], shape, inputs);
      expectClose(out!, evaluateFusedOver(expr, shape, inputs), 1e-5, 1e-6, expr.key);
    }
  });

  it('writes several outputs in one dispatch and skips inputs no expression reads', async () => {
    const shape = [7, 11];
    const inputs = [input(shape, 11, -2, 2), input(shape, 12, -2, 2), input([11], 13, 0.5, 2)];
    const exprs = [fx.mul(x0, x2), fx.tanh(fx.add(x0, x2)), fx.constant(0.5)];
    expect(usedInputs(exprs)).toEqual([0, 2]);
    const outs = await runFused(exprs, shape, inputs);
    exprs.forEach((expr, j) => expectClose(outs[j]!, evaluateFusedOver(expr, shape, inputs), 1e-5, 1e-6, `output ${j}`));
  });

  it('handles rank 8 with broadcasting on inner and outer axes', async () => {
    const shape = [2, 3, 1, 2, 3, 2, 1, 3];
    const inputs = [input(shape, 14, -2, 2), input([2, 1, 1, 1, 3, 1, 1, 1], 15, -2, 2), input([2, 1, 3], 16, -2, 2)];
    const expr = fx.sub(fx.mul(x0, x1), x2);
    const [out] = await runFused([expr], shape, inputs);
    expectClose(out!, evaluateFusedOver(expr, shape, inputs), 1e-5, 1e-6, 'rank 8');
  });

  it('names what is wrong with its arguments', () => {
    const buffers = Array.from({ length: rt.limits.maxStorageBuffersPerShaderStage + 1 }, () => rt.buffer(16));
    const operands = buffers.map((buffer) => ({ buffer, strides: [1] }));
    try {
      expect(() => fusedElementwise(rt, [fx.add(x0, x1)], [3], operands.slice(0, 1), [buffers[1]!])).toThrow(/reads input 1, but 1 inputs/);
      expect(() => fusedElementwise(rt, [x0], [3], operands.slice(0, 1), [])).toThrow(/1 expressions for 0 outputs/);
      expect(() => fx.constant(Infinity)).toThrow(/not finite/);
      // One input more than the adapter binds, plus the output.
      const all = operands.map((_, i) => fx.input(i)).reduce((a, b) => fx.add(a, b));
      expect(() => fusedElementwise(rt, [all], [1], operands, [buffers[0]!])).toThrow(/storage buffers per kernel/);
    } finally {
      for (const b of buffers) rt.release(b);
    }
  });
});

describe('fused expression derivatives', () => {
  /** Central differences in float64 of expr with respect to input k at `at`. */
  const numeric = (expr: FusedExpr, at: number[], k: number) => {
    const h = 1e-6;
    const moved = (d: number) => evaluateFused(expr, at.map((v, i) => (i === k ? v + d : v)));
    return (moved(h) - moved(-h)) / (2 * h);
  };

  const cases: [string, FusedExpr, number, number][] = [
    ...unaryCases.map(([name, op, low, high]): [string, FusedExpr, number, number] => [name, fx.mul(op, fx.add(x1, 1)), Math.max(low, -5), Math.min(high, 5)]),
    ...binaryCases.map(([name, expr]): [string, FusedExpr, number, number] => [name, expr, 0.5, 2]),
    ['where', fx.where(fx.greaterEqual(x0, 1), fx.square(x0), fx.mul(x0, x1)), 0.5, 2],
    ['coupling', fx.mul(fx.add(x0, x1), fx.exp(fx.neg(fx.softplus(fx.sub(fx.neg(x1), 2))))), -2, 2],
  ];

  for (const [name, expr, low, high] of cases) {
    it(`${name}: the symbolic derivative matches finite differences`, () => {
      const values = randomArray(40 * 2, name.length, low, high);
      for (let p = 0; p < 40; p++) {
        const at = [values[2 * p]!, values[2 * p + 1]!];
        // Skip points within reach of a kink, where finite differences are not the derivative.
        if (at.some((v) => Math.abs(v) < 1e-3) || Math.abs(at[0]! - at[1]!) < 1e-3 || Math.abs(at[0]! - 1) < 1e-3) continue;
        for (let k = 0; k < inputCount(expr); k++) {
          const d = evaluateFused(derivative(expr, k), at);
          const n = numeric(expr, at, k);
          expect(Math.abs(d - n), `${name} d/dx${k} at ${at}: ${d} vs ${n}`).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(n)));
        }
      }
    });
  }

  it('is a constant 0 for an input that does not occur', () => {
    expect(derivative(fx.exp(x0), 1)).toMatchObject({ kind: 'const', value: 0 });
  });
});
