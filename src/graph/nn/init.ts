// Parameter initialisation as PyTorch's defaults, drawn from the GPU's counter-based generator, so a
// seed fixes a model's initial weights on every host and device.
//
// A module given `seed` uses it; one given none takes the next seed of a process-wide stream that
// manualSeed() restarts (PyTorch's torch.manual_seed followed by building the model).
import type { Runtime } from '../../gpu/runtime';
import { deriveSeed, randomUniform } from '../ops/random';
import type { Tensor } from '../tensor';

let streamSeed = 0;
let streamIndex = 0;

/** Restarts the stream of seeds that modules built without an explicit seed draw from. */
export function manualSeed(seed: number): void {
  deriveSeed(seed, 0); // validates
  streamSeed = seed;
  streamIndex = 0;
}

/** The next seed of the process-wide initialisation stream. */
export function nextInitSeed(): number {
  return deriveSeed(streamSeed, streamIndex++);
}

/**
 * Kaiming-uniform (He et al.) with negative slope a: U(-bound, bound), bound = gain * sqrt(3 / fanIn),
 * gain = sqrt(2 / (1 + a^2)). PyTorch's Linear and Conv weights use a = sqrt(5): bound = 1 / sqrt(fanIn).
 */
export function kaimingUniform(runtime: Runtime, shape: readonly number[], fanIn: number, seed: number, a = Math.sqrt(5)): Tensor {
  checkFanIn('kaimingUniform', fanIn);
  const bound = Math.sqrt(2 / (1 + a * a)) * Math.sqrt(3 / fanIn);
  return randomUniform(runtime, shape, seed, -bound, bound);
}

/** PyTorch's default bias of Linear and Conv: U(-1/sqrt(fanIn), 1/sqrt(fanIn)). */
export function fanInUniform(runtime: Runtime, shape: readonly number[], fanIn: number, seed: number): Tensor {
  checkFanIn('fanInUniform', fanIn);
  const bound = 1 / Math.sqrt(fanIn);
  return randomUniform(runtime, shape, seed, -bound, bound);
}

function checkFanIn(name: string, fanIn: number): void {
  if (!Number.isInteger(fanIn) || fanIn < 1) throw new RangeError(`${name}: fanIn must be a positive integer, got ${fanIn}`);
}
