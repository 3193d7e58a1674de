// Launcher for the counter-based random kernels (shaders/random.wgsl): raw Philox bits, uniforms,
// Box-Muller normals and Bernoulli masks, each a pure function of (seed, element index).
import source from '../../shaders/random.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { ELEMENTWISE_WORKGROUP } from './fill';

export type RandomKind = 'bits' | 'uniform' | 'normal' | 'bernoulli';

const codes: Record<RandomKind, string> = {
  bits: kernelSource(source, { BITS: true }),
  uniform: kernelSource(source, { UNIFORM: true }),
  normal: kernelSource(source, { NORMAL: true }),
  bernoulli: kernelSource(source, { BERNOULLI: true }),
};

/** Each invocation hashes one counter into four outputs. */
export const RANDOM_VALUES_PER_INVOCATION = 4;

export interface RandomParams {
  /** The Philox key, two 32-bit words (see seedWords). */
  key: readonly [number, number];
  /** uniform: low, high; normal: mean, std. */
  a?: number;
  b?: number;
  /** bernoulli: the probability of a 1. */
  p?: number;
  /** Counter of the first block; block b uses (x + b, y, z, w). Defaults to zeros. */
  counter?: readonly [number, number, number, number];
}

/** The Philox key of an integer seed in [0, 2^53): its low and high 32-bit words. */
export function seedWords(seed: number): [number, number] {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`random: the seed must be an integer in [0, 2^53), got ${seed}`);
  return [seed % 2 ** 32, Math.floor(seed / 2 ** 32)];
}

/** Writes n random values of `kind` into `out` (u32 for bits, f32 otherwise). */
export function random(runtime: Runtime, kind: RandomKind, out: GPUBuffer, n: number, params: RandomParams): void {
  const [key0, key1] = params.key;
  let a = params.a ?? 0;
  let b = params.b ?? 1;
  if (kind === 'uniform') b = (params.b ?? 1) - a; // the kernel takes low and the span
  let threshold = 0;
  if (kind === 'bernoulli') {
    const p = params.p ?? 0.5;
    if (!(p >= 0 && p <= 1)) throw new RangeError(`bernoulliMask: p must be in [0, 1], got ${p}`);
    threshold = Math.round(p * 2 ** 24);
    a = 0;
    b = 0;
  }
  const counter = params.counter ?? [0, 0, 0, 0];
  const blocks = Math.ceil(n / RANDOM_VALUES_PER_INVOCATION);
  runtime.dispatch({
    kernel: `random_${kind}`,
    source: codes[kind],
    buffers: [out],
    uniforms: uniforms().u32(n, key0, key1).f32(a, b).u32(threshold).vec4u(...counter).bytes(),
    workgroups: Math.ceil(blocks / ELEMENTWISE_WORKGROUP),
  });
}
