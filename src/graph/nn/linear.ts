// Linear: y = x W^T + b on the last axis, W [out, in] as PyTorch (so checkpoints translate directly;
// the same weight reshaped to [out, 1, 1, 1, in] is a 1x1x1 convolution's).
import type { Runtime } from '../../gpu/runtime';
import { add } from '../ops/elementwise';
import { compose, fused, fx, type FusedExpr } from '../ops/fused';
import { matmul } from '../ops/matmul';
import { reshape } from '../ops/shape';
import { deriveSeed } from '../ops/random';
import { shapeString, type Tensor } from '../tensor';
import { fanInUniform, kaimingUniform, nextInitSeed } from './init';
import { Module } from './module';

export interface LinearOptions {
  /** Fixes the initial weights; without it the next seed of manualSeed()'s stream is used. */
  seed?: number;
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    runtime: Runtime,
    readonly inFeatures: number,
    readonly outFeatures: number,
    bias = true,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, n] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`Linear: ${name} must be a positive integer, got ${n}`);
    }
    const seed = options.seed ?? nextInitSeed();
    this.weight = this.registerParameter('weight', kaimingUniform(runtime, [outFeatures, inFeatures], inFeatures, deriveSeed(seed, 0)));
    this.bias = bias ? this.registerParameter('bias', fanInUniform(runtime, [outFeatures], inFeatures, deriveSeed(seed, 1))) : null;
  }

  /**
   * x [..., in] -> [..., out]. `activation`, an expression of fx.input(0), is applied to the result in
   * the kernel that adds the bias.
   */
  forward(x: Tensor, activation?: FusedExpr): Tensor {
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.inFeatures) {
      throw new RangeError(`Linear: input ${shapeString(x.shape)} must end in ${this.inFeatures} features`);
    }
    const rows = x.rank === 2 ? x : reshape(x, [-1, this.inFeatures]);
    const product = matmul(rows, this.weight, { transposeB: true });
    let y: Tensor;
    if (!activation) y = this.bias ? add(product, this.bias) : product;
    else if (!this.bias) y = fused(activation, [product], 'linearActivation');
    else y = fused(compose(activation, [fx.add(fx.input(0), fx.input(1))]), [product, this.bias], 'linearActivation');
    return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), this.outFeatures]);
  }
}

