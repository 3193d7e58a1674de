// Seeded random tensors from the counter-based kernel: the values depend only on the seed and the
// element index, so the same seed gives the same tensor in Node, in a browser and on any device.
// None of them records a gradient (random numbers are constants of the graph).
import { random, seedWords } from '../../kernels/random';
import type { Runtime } from '../../gpu/runtime';
import { empty } from './create';
import type { Tensor } from '../tensor';

/** Raw Philox4x32-10 output, 32 random bits per element (dtype u32). */
export function randomBits(runtime: Runtime, shape: readonly number[], seed: number): Tensor {
  const out = empty(runtime, shape, 'u32');
  random(runtime, 'bits', out.buffer, out.size, { key: seedWords(seed) });
  return out;
}

/** Uniform in [low, high) with 24 random bits per value. */
export function randomUniform(runtime: Runtime, shape: readonly number[], seed: number, low = 0, high = 1): Tensor {
  if (!(high >= low)) throw new RangeError(`randomUniform: high (${high}) is below low (${low})`);
  const out = empty(runtime, shape);
  random(runtime, 'uniform', out.buffer, out.size, { key: seedWords(seed), a: low, b: high });
  return out;
}

/** Normal with the given mean and standard deviation (Box-Muller). */
export function randomNormal(runtime: Runtime, shape: readonly number[], seed: number, mean = 0, std = 1): Tensor {
  if (!(std >= 0)) throw new RangeError(`randomNormal: std must be non-negative, got ${std}`);
  const out = empty(runtime, shape);
  random(runtime, 'normal', out.buffer, out.size, { key: seedWords(seed), a: mean, b: std });
  return out;
}

/** 1 with probability p, else 0 (p is resolved to a multiple of 2^-24). */
export function bernoulliMask(runtime: Runtime, shape: readonly number[], seed: number, p: number): Tensor {
  const out = empty(runtime, shape);
  random(runtime, 'bernoulli', out.buffer, out.size, { key: seedWords(seed), p });
  return out;
}

// murmur3's finaliser: a bijection on 32 bits with full avalanche.
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A new seed for the `index`-th independent draw under `seed` (a parameter, a training step, an
 * augmentation): nearby seeds and indices give unrelated keys. Deterministic everywhere.
 */
export function deriveSeed(seed: number, index: number): number {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`deriveSeed: the seed must be an integer in [0, 2^53), got ${seed}`);
  if (!Number.isInteger(index) || index < 0 || index >= 2 ** 32) throw new RangeError(`deriveSeed: the index must be a 32-bit unsigned integer, got ${index}`);
  const lo = seed % 2 ** 32;
  const hi = Math.floor(seed / 2 ** 32);
  const a = fmix32((lo ^ fmix32((index + 0x9e3779b9) >>> 0)) >>> 0);
  const b = fmix32((hi ^ a ^ 0x85ebca6b) >>> 0);
  return (b & 0x1fffff) * 2 ** 32 + a;
}
