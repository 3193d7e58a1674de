// GroupNorm and InstanceNorm on channels-last activations [N, ..., C] (Screener uses [N, D, H, W, C]).
// Statistics in f32 per sample and group over every spatial position and the group's channels.
import {
  BACKWARD_STATS,
  FORWARD_STATS,
  groupNormForward,
  groupNormGradAffine,
  groupNormGradInput,
  groupNormGradStats,
  type GroupNormEpilogue,
  type GroupNormGeometry,
} from '../../kernels/group-norm';
import type { FusedExpr } from '../../kernels/fused-expression';
import { record } from '../tape';
import { shapeString, type Tensor } from '../tensor';
import { empty, full } from './create';

function checkAffine(name: string, t: Tensor | null, channels: number): void {
  if (t && (t.rank !== 1 || t.shape[0] !== channels)) {
    throw new RangeError(`groupNorm: ${name} ${shapeString(t.shape)} must have shape [${channels}]`);
  }
}

/**
 * y = (x - mean) / sqrt(var + eps) * gamma + beta, with mean and (biased) variance per sample over the
 * spatial positions and the channels of each of `groups` channel groups, as PyTorch's GroupNorm.
 * gamma and beta are per channel, [C]; null means 1 and 0. `activation`, an elementwise expression of
 * fx.input(0) (an activation such as fx.silu(fx.input(0))), is applied to y in the same kernel, and its
 * derivative inside the backward kernels: a GroupNorm-activation pair costs no dispatch of its own.
 */
export function groupNorm(x: Tensor, groups: number, gamma: Tensor | null, beta: Tensor | null, eps = 1e-5, activation?: FusedExpr): Tensor {
  if (x.rank < 2) throw new RangeError(`groupNorm: input ${shapeString(x.shape)} needs a batch and a channel axis`);
  const channels = x.shape[x.rank - 1]!;
  if (!Number.isInteger(groups) || groups < 1 || channels % groups !== 0) {
    throw new RangeError(`groupNorm: ${channels} channels of input ${shapeString(x.shape)} do not split into ${groups} groups`);
  }
  checkAffine('gamma', gamma, channels);
  checkAffine('beta', beta, channels);
  const geometry: GroupNormGeometry = { batch: x.shape[0]!, spatial: x.size / (x.shape[0]! * channels), channels, groups, eps };
  const runtime = x.runtime;
  // Missing affine parameters become temporary ones and zeros. Neither they nor the statistics are kept
  // for backward, which recomputes what it needs: it then works however the caller scoped the forward
  // pass. (Releasing a buffer right after a dispatch that reads it is safe: see src/gpu/pool.ts.)
  const scaleOrOnes = () => gamma ?? full(runtime, [channels], 1);
  const scale = scaleOrOnes();
  const shift = beta ?? full(runtime, [channels], 0);
  const stats = empty(runtime, [geometry.batch * groups * FORWARD_STATS]);
  const y = empty(runtime, x.shape);
  groupNormForward(runtime, geometry, x.buffer, scale.buffer, shift.buffer, stats.buffer, y.buffer, activation);
  stats.dispose();
  if (!gamma) scale.dispose();
  if (!beta) shift.dispose();

  const inputs = [x, ...(gamma ? [gamma] : []), ...(beta ? [beta] : [])];
  return record(y, activation ? 'groupNormActivation' : 'groupNorm', inputs, (dy) => {
    const scale = scaleOrOnes();
    const shift = activation ? beta ?? full(runtime, [channels], 0) : null;
    const epilogue: GroupNormEpilogue | undefined = activation ? { activation, gamma: scale.buffer, beta: shift!.buffer } : undefined;
    const gradStats = empty(runtime, [geometry.batch * groups * BACKWARD_STATS]);
    groupNormGradStats(runtime, geometry, x.buffer, dy.buffer, scale.buffer, gradStats.buffer, epilogue);
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = empty(runtime, x.shape);
      groupNormGradInput(runtime, geometry, x.buffer, dy.buffer, scale.buffer, gradStats.buffer, dx.buffer, epilogue);
    }
    let dgamma: Tensor | null = null;
    let dbeta: Tensor | null = null;
    if (gamma?.requiresGrad || beta?.requiresGrad) {
      // One kernel computes both; the one not asked for is dropped.
      dgamma = empty(runtime, [channels]);
      dbeta = empty(runtime, [channels]);
      groupNormGradAffine(runtime, geometry, x.buffer, dy.buffer, gradStats.buffer, dgamma.buffer, dbeta.buffer, epilogue);
      if (!gamma?.requiresGrad) {
        dgamma.dispose();
        dgamma = null;
      }
      if (!beta?.requiresGrad) {
        dbeta.dispose();
        dbeta = null;
      }
    }
    gradStats.dispose();
    if (!gamma) scale.dispose();
    if (shift && !beta) shift.dispose();
    return [dx, ...(gamma ? [dgamma] : []), ...(beta ? [dbeta] : [])];
  });
}

/** InstanceNorm with per-channel affine parameters: GroupNorm with one channel per group. */
export function instanceNorm(x: Tensor, gamma: Tensor | null, beta: Tensor | null, eps = 1e-5): Tensor {
  if (x.rank < 2) throw new RangeError(`instanceNorm: input ${shapeString(x.shape)} needs a batch and a channel axis`);
  return groupNorm(x, x.shape[x.rank - 1]!, gamma, beta, eps);
}
