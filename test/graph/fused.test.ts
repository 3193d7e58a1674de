// The fused elementwise op: forward against float64 with broadcasting, finite-difference gradients of
// its generated backward kernels (broadcast inputs included), and GroupNorm with a fused activation
// against the unfused GroupNorm-then-activation chain the model ran before.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { activationExpression } from '../../src/model/unet';
import { evaluateFusedOver } from '../helpers/fused-reference';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

const { fx } = g;
const [x0, x1, x2] = [fx.input(0), fx.input(1), fx.input(2)];
const size = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);
const f32 = (a: ArrayLike<number>) => Float64Array.from(Float32Array.from(a));

const chains: [string, g.FusedExpr, number[][]][] = [
  // GroupNorm's affine and an activation, with per-channel [C] scale and shift.
  ['affine + silu', fx.silu(fx.add(fx.mul(x0, x1), x2)), [[2, 3, 5, 3], [3], [3]]],
  ['affine + leaky relu', fx.leakyRelu(fx.add(fx.mul(x0, x1), x2), 0.01), [[2, 3, 5, 3], [3], [3]]],
  // The coupling layer: log sigmoid(s + 2) and (x + shift) * scale.
  ['coupling log-scale', fx.neg(fx.softplus(fx.sub(fx.neg(x0), 2))), [[3, 5, 2]]],
  ['coupling transform', fx.mul(fx.add(x0, x1), fx.exp(x2)), [[3, 5, 2], [3, 5, 2], [3, 5, 2]]],
  // A broadcast along an outer axis and a scalar.
  ['quotient', fx.div(fx.sub(x0, x1), fx.add(fx.square(x2), 0.5)), [[4, 3, 5], [4, 1, 1], []]],
  ['hinge', fx.relu(fx.sub(1, fx.sqrt(fx.add(x0, 1e-4)))), [[7]]],
];

describe('fused op', () => {
  for (const [name, expr, shapes] of chains) {
    it(`${name} matches float64 with broadcasting`, async () => {
      const inputs = shapes.map((shape, k) => ({ data: f32(randomArray(size(shape), 20 + k, 0.2, 1.5)), shape }));
      const outShape = g.broadcastShapes(...shapes);
      const out = await g.tidyAsync(async () => {
        const t = g.fused(expr, inputs.map((x) => g.fromArray(rt, x.data, x.shape)));
        expect(t.shape).toEqual(outShape);
        return t.read();
      });
      expectClose(out, evaluateFusedOver(expr, outShape, inputs), 1e-5, 1e-6, name);
    });

    it(`${name} has finite-difference gradients for every input`, async () => {
      // Inputs kept away from the leaky ReLU's and the hinge's kinks.
      const inputs: { data: ArrayLike<number>; shape: number[] }[] = shapes.map((shape, k) => ({ data: randomArray(size(shape), 30 + k, 0.3, 1.2).map((v, i) => (i % 2 ? -v : v)), shape }));
      // The affine's shift kept small, so x * gamma + beta stays at least 0.04 from the kink at 0.
      if (name.startsWith('affine')) inputs[2]!.data = randomArray(3, 32, -0.05, 0.05);
      if (name === 'hinge') inputs[0]!.data = randomArray(7, 31, 0.1, 3).map((v) => (Math.abs(v - 1) < 0.1 ? v + 0.3 : v));
      await gradcheck(rt, (...xs) => g.fused(expr, xs), inputs);
    });
  }

  it('splits a backward pass that would bind more buffers than the adapter has', async () => {
    // A product of k inputs: each gradient reads all k, so one kernel would bind k + 1 + k buffers.
    const k = Math.ceil(rt.limits.maxStorageBuffersPerShaderStage / 2) + 1;
    const product = Array.from({ length: k }, (_, i) => fx.input(i)).reduce((a, b) => fx.mul(a, b));
    const inputs = Array.from({ length: k }, (_, i) => ({ data: randomArray(3, 40 + i, 0.5, 1.5), shape: [3] }));
    await gradcheck(rt, (...xs) => g.fused(product, xs), inputs);
  });

  it('refuses too few inputs and non-f32 inputs', () => {
    g.tidy(() => {
      expect(() => g.fused(fx.add(x0, x1), [g.zeros(rt, [2])])).toThrow(/reads 2 inputs, 1 were given/);
      expect(() => g.fused(x0, [])).toThrow(/at least one input/);
    });
  });
});

describe('GroupNorm with a fused activation', () => {
  const shape = [2, 3, 2, 5, 6];
  const channels = 6;

  for (const kind of ['leakyRelu', 'silu'] as const) {
    it(`${kind}: the same values and gradients as GroupNorm followed by the activation`, async () => {
      const x = randomArray(size(shape), 50, -2, 2);
      const w = randomArray(size(shape), 51, 0.5, 1.5);
      const gammaData = randomArray(channels, 52, 0.5, 1.5);
      const betaData = randomArray(channels, 53, -0.5, 0.5);
      const run = async (fusedBlock: boolean) =>
        g.tidyAsync(async () => {
          const xs = g.fromArray(rt, x, shape, { requiresGrad: true });
          const norm = new g.GroupNorm(rt, 3, channels, fusedBlock ? { activation: activationExpression(kind) } : {});
          norm.weight!.requiresGrad = true;
          norm.bias!.requiresGrad = true;
          rt.write(norm.weight!.buffer, Float32Array.from(gammaData));
          rt.write(norm.bias!.buffer, Float32Array.from(betaData));
          const normed = norm.forward(xs);
          const y = fusedBlock ? normed : kind === 'silu' ? g.silu(normed) : g.leakyRelu(normed, 0.01);
          g.backward(g.sum(g.mul(y, g.fromArray(rt, w, shape))));
          const result = [await y.read(), await xs.grad!.read(), await norm.weight!.grad!.read(), await norm.bias!.grad!.read()];
          xs.grad!.dispose();
          norm.dispose();
          return result;
        });
      const fusedResult = await run(true);
      const chain = await run(false);
      const names = ['output', 'd input', 'd gamma', 'd beta'];
      // The same f32 operations in the same order, in one kernel instead of two.
      fusedResult.forEach((values, i) => expectClose(values, chain[i]!, 1e-5, 1e-6, `${kind} ${names[i]}`));
    });
  }

  it('has finite-difference gradients for x, gamma and beta', async () => {
    const activation = activationExpression('silu');
    await gradcheck(rt, (x, gamma, beta) => g.groupNorm(x, 2, gamma, beta, 1e-5, activation), [
      { data: randomArray(2 * 3 * 4, 60, -2, 2), shape: [2, 3, 4] },
      { data: randomArray(4, 61, 0.5, 1.5), shape: [4] },
      { data: randomArray(4, 62, -0.5, 0.5), shape: [4] },
    ]);
  });
});

describe('Linear with a fused activation', () => {
  it('an MLP gives the same values and gradients as its layers run one by one', async () => {
    const x = randomArray(7 * 5, 70, -1, 1);
    const w = randomArray(7 * 3, 71, 0.5, 1.5);
    const run = async (fusedLayers: boolean) =>
      g.tidyAsync(async () => {
        const mlp = new g.MLP(rt, [5, 6, 6, 3], 'silu', { seed: 72 });
        const xs = g.fromArray(rt, x, [7, 5], { requiresGrad: true });
        let y = xs;
        if (fusedLayers) y = mlp.forward(xs);
        else for (let i = 0; i < mlp.length; i++) y = mlp.at(i).forward(y);
        g.backward(g.sum(g.mul(y, g.fromArray(rt, w, [7, 3]))));
        const first = mlp.at(0) as g.Linear;
        const result = [await y.read(), await xs.grad!.read(), await first.weight.grad!.read(), await first.bias!.grad!.read()];
        xs.grad!.dispose();
        mlp.dispose();
        return result;
      });
    const fusedResult = await run(true);
    const chain = await run(false);
    fusedResult.forEach((values, i) => expectClose(values, chain[i]!, 1e-5, 1e-6, `MLP result ${i}`));
  });

  it('has finite-difference gradients with and without a bias', async () => {
    for (const bias of [true, false]) {
      const layer = new g.Linear(rt, 3, 2, bias, { seed: 73 });
      layer.weight.requiresGrad = true;
      await gradcheck(rt, (x) => layer.forward(x, fx.tanh(fx.input(0))), [{ data: randomArray(12, 74, -1, 1), shape: [2, 2, 3] }]);
      layer.dispose();
    }
  });
});

describe('sums the tape makes with fused kernels', () => {
  it('sumAll adds more tensors than one kernel binds, left to right', async () => {
    const k = rt.limits.maxStorageBuffersPerShaderStage + 3;
    const data = Array.from({ length: k }, (_, i) => f32(randomArray(11, 80 + i, -2, 2)));
    const out = await g.tidyAsync(async () => g.sumAll(data.map((d) => g.fromArray(rt, d, [11]))).read());
    const expected = Array.from({ length: 11 }, (_, j) => data.reduce((acc, d) => acc + d[j]!, 0));
    expectClose(out, expected, 1e-5, 1e-6, 'sumAll');
  });

  it('a tensor used by several ops gets the sum of their gradients', async () => {
    // x feeds four ops, so backward sums four contributions in one kernel.
    await gradcheck(rt, (x) => g.add(g.add(g.mul(x, x), g.exp(x)), g.sub(g.tanh(x), x)), [{ data: randomArray(6, 90, -1, 1), shape: [2, 3] }]);
  });

  it('scaledSum and mean have finite-difference gradients', async () => {
    await gradcheck(rt, (x) => g.scaledSum(x, [0, 2], true, -0.75), [{ data: randomArray(2 * 3 * 4, 91, -1, 1), shape: [2, 3, 4] }]);
    await gradcheck(rt, (x) => g.mean(x, 1), [{ data: randomArray(2 * 3 * 4, 92, -1, 1), shape: [2, 3, 4] }]);
  });
});
