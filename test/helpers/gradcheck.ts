// Finite-difference gradient checks on the GPU ops themselves.
//
// The op under test, f(inputs), is reduced to a scalar with fixed random weights, L = sum(w * f).
// backward() gives dL/dx for every input element; central differences of L, evaluated in f32 on the
// device, give the numerical value. Inputs are kept small, so every element is checked.
import { expect } from 'vitest';
import { backward, fromArray, mul, noGrad, sum, tidyAsync, type Tensor } from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { randomArray } from './reference';

export interface GradcheckOptions {
  eps?: number;
  rtol?: number;
  atol?: number;
  seed?: number;
}

export async function gradcheck(
  runtime: Runtime,
  f: (...inputs: Tensor[]) => Tensor,
  inputs: { data: ArrayLike<number>; shape: number[] }[],
  options: GradcheckOptions = {},
): Promise<void> {
  const { eps = 1e-2, rtol = 2e-2, atol = 2e-3, seed = 99 } = options;
  await tidyAsync(async () => {
    const leaves = inputs.map((x) => fromArray(runtime, x.data, x.shape, { requiresGrad: true }));
    const probe = noGrad(() => f(...leaves));
    const weights = fromArray(runtime, randomArray(probe.size, seed, 0.5, 1.5), probe.shape);
    const loss = (xs: Tensor[]) => sum(mul(f(...xs), weights));

    backward(loss(leaves));
    for (let k = 0; k < leaves.length; k++) {
      const analytic = await leaves[k]!.grad!.read();
      const base = Float32Array.from(inputs[k]!.data);
      const numeric = new Float64Array(base.length);
      for (let i = 0; i < base.length; i++) {
        const at = async (delta: number) =>
          tidyAsync(async () => {
            const moved = Float32Array.from(base);
            moved[i] = moved[i]! + delta;
            const xs = leaves.map((leaf, j) => (j === k ? fromArray(runtime, moved, inputs[k]!.shape) : leaf));
            return noGrad(() => loss(xs)).item();
          });
        numeric[i] = ((await at(eps)) - (await at(-eps))) / (2 * eps);
      }
      for (let i = 0; i < base.length; i++) {
        const tolerance = atol + rtol * Math.max(Math.abs(numeric[i]!), Math.abs(analytic[i]!));
        if (!(Math.abs(analytic[i]! - numeric[i]!) <= tolerance)) {
          expect.fail(`input ${k}, element ${i}: analytic gradient ${analytic[i]}, finite difference ${numeric[i]}`);
        }
      }
    }
    for (const leaf of leaves) leaf.grad?.dispose();
  });
}
