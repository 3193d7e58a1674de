// GroupNorm: normalisation over groups of channels (Wu and He), with per-channel affine parameters
// named weight and bias (initialised to 1 and 0) as PyTorch's nn.GroupNorm, optionally followed by a fused
// activation.
import type { Runtime } from '../../gpu/runtime';
import type { FusedExpr } from '../../kernels/fused-expression';
import { full } from '../ops/create';
import { groupNorm } from '../ops/norm';
import type { Tensor } from '../tensor';
import { Module } from './module';

export interface GroupNormOptions {
  eps?: number;
  /** Learnable per-channel scale and shift (default true). */
  affine?: boolean;
  /**
   * An elementwise function of fx.input(0) applied to the output in the same kernel (an activation);
   * its gradient runs inside GroupNorm's backward kernels.
   */
  activation?: FusedExpr;
}

export class GroupNorm extends Module {
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly eps: number;
  readonly activation: FusedExpr | undefined;

  constructor(
    runtime: Runtime,
    readonly groups: number,
    readonly channels: number,
    options: GroupNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(groups) || groups < 1 || !Number.isInteger(channels) || channels % groups !== 0) {
      throw new RangeError(`GroupNorm: ${channels} channels do not split into ${groups} groups`);
    }
    this.eps = options.eps ?? 1e-5;
    this.activation = options.activation;
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', full(runtime, [channels], 1)) : null;
    this.bias = affine ? this.registerParameter('bias', full(runtime, [channels], 0)) : null;
  }

  /** x [N, ..., C] -> the same shape. */
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.groups, this.weight, this.bias, this.eps, this.activation);
  }
}
