// Conv3d: a 3-D convolution layer on channels-last [N, D, H, W, C] activations, weight
// [out, kD, kH, kW, in], initialised as PyTorch's Conv3d (Kaiming-uniform, a = sqrt(5); bias
// U(+-1/sqrt(fan_in)) with fan_in = in * kD * kH * kW).
import type { Runtime } from '../../gpu/runtime';
import type { Triple } from '../../kernels/conv3d';
import { conv3d, type Conv3dOptions } from '../ops/conv';
import { deriveSeed } from '../ops/random';
import type { Tensor } from '../tensor';
import { fanInUniform, kaimingUniform, nextInitSeed } from './init';
import { Module } from './module';

export interface Conv3dLayerOptions extends Conv3dOptions {
  bias?: boolean;
  /** Fixes the initial weights; without it the next seed of manualSeed()'s stream is used. */
  seed?: number;
}

export class Conv3d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly kernel: Triple;
  readonly stride: number | Triple;
  readonly padding: number | Triple;

  constructor(
    runtime: Runtime,
    readonly inChannels: number,
    readonly outChannels: number,
    kernel: number | Triple,
    options: Conv3dLayerOptions = {},
  ) {
    super();
    this.kernel = typeof kernel === 'number' ? [kernel, kernel, kernel] : [...kernel];
    const checks: [string, number][] = [['inChannels', inChannels], ['outChannels', outChannels], ...this.kernel.map((k): [string, number] => ['kernel', k])];
    for (const [name, n] of checks) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`Conv3d: ${name} must be a positive integer, got ${n}`);
    }
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    const fanIn = inChannels * this.kernel[0] * this.kernel[1] * this.kernel[2];
    const seed = options.seed ?? nextInitSeed();
    this.weight = this.registerParameter('weight', kaimingUniform(runtime, [outChannels, ...this.kernel, inChannels], fanIn, deriveSeed(seed, 0)));
    this.bias = (options.bias ?? true) ? this.registerParameter('bias', fanInUniform(runtime, [outChannels], fanIn, deriveSeed(seed, 1))) : null;
  }

  /** x [N, D, H, W, in] -> [N, D', H', W', out]. */
  forward(x: Tensor): Tensor {
    return conv3d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }
}
