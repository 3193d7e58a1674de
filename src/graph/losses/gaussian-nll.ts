// Negative log-likelihood under a diagonal Gaussian whose mean and log-variance are predicted (the
// density model's p(descriptor | condition)). One fused elementwise kernel and one reduction.
import { broadcastShapes } from '../broadcast';
import { shapeString, type Tensor } from '../tensor';
import { fused, fx } from '../ops/fused';
import { mean, sum } from '../ops/reduce';

export type ChannelReduction = 'none' | 'mean' | 'sum';

const LOG_2PI = Math.log(2 * Math.PI);
/** 0.5 * ((x - mu)^2 * exp(-logvar) + logvar) + 0.5 log(2 pi) of (x, mu, logvar). */
const PER_ELEMENT = (() => {
  const [x, mu, logvar] = [fx.input(0), fx.input(1), fx.input(2)];
  const scaled = fx.mul(fx.square(fx.sub(x, mu)), fx.exp(fx.neg(logvar)));
  return fx.add(fx.mul(0.5, fx.add(scaled, logvar)), 0.5 * LOG_2PI);
})();

/**
 * 0.5 * (log(2 pi) + logvar + (x - mu)^2 * exp(-logvar)) per element; x, mu and logvar broadcast.
 * `reduction` 'sum' or 'mean' reduces over the last (channel) axis, so a [N, D, H, W, C] map gives a
 * [N, D, H, W] map of per-voxel NLLs; 'none' keeps every element.
 */
export function gaussianNLL(x: Tensor, mu: Tensor, logvar: Tensor, reduction: ChannelReduction = 'sum'): Tensor {
  let shape: number[];
  try {
    shape = broadcastShapes(x.shape, mu.shape, logvar.shape);
  } catch {
    throw new RangeError(`gaussianNLL: x ${shapeString(x.shape)}, mean ${shapeString(mu.shape)} and log-variance ${shapeString(logvar.shape)} do not broadcast`);
  }
  if (reduction !== 'none' && shape.length === 0) throw new RangeError('gaussianNLL: a channel reduction needs at least one axis');
  const perElement = fused(PER_ELEMENT, [x, mu, logvar], 'gaussianNLL');
  if (reduction === 'none') return perElement;
  return reduction === 'sum' ? sum(perElement, -1) : mean(perElement, -1);
}
