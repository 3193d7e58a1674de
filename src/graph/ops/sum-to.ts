// Sums a broadcast gradient back down to the shape of the input that was broadcast. Only backward
// rules call it, and the tape runs them without recording (scope.noGrad), so it launches the
// reduction kernel itself rather than going through a differentiable op; this keeps it below every
// op module that needs it (elementwise, fused, matmul) with no import going back up.
import { reduce } from '../../kernels/reduce';
import { reducedAxes } from '../broadcast';
import { isGradEnabled } from '../scope';
import type { Tensor } from '../tensor';
import { empty } from './create';
import { reshape } from './shape';

/** `gradient` summed over the axes `shape` was broadcast along, times `scale` (-1: a subtrahend's). */
export function sumTo(gradient: Tensor, shape: readonly number[], scale = 1): Tensor {
  if (gradient.requiresGrad && isGradEnabled()) {
    throw new Error('sumTo is for backward rules, which run without the tape; in a forward pass use sum(x, axes, true) and reshape');
  }
  const axes = reducedAxes(gradient.shape, shape);
  if (axes.length === 0 && scale === 1) return gradient.rank === shape.length ? gradient : reshape(gradient, shape);
  // The kernel keeps the summed axes' order, which is `shape`'s; with no axes it is a scaled copy.
  const out = empty(gradient.runtime, shape);
  reduce(gradient.runtime, 'sum', gradient.buffer, gradient.shape, axes, out.buffer, scale);
  return out;
}
