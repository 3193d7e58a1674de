// Negative log-likelihood under a diagonal Gaussian whose mean and log-variance are predicted (the
// density model's p(descriptor | condition)), and its energy term alone (half the squared
// Mahalanobis distance). One fused elementwise kernel and one reduction each.
import { broadcastShapes } from '../broadcast';
import { shapeString, type Tensor } from '../tensor';
import { fused, fx, type FusedExpr } from '../ops/fused';
import { mean, sum } from '../ops/reduce';

export type ChannelReduction = 'none' | 'mean' | 'sum';

const LOG_2PI = Math.log(2 * Math.PI);
/** (x - mu)^2 * exp(-logvar) of the inputs (x, mu, logvar): the squared standardised distance both expressions share. */
const SCALED = fx.mul(fx.square(fx.sub(fx.input(0), fx.input(1))), fx.exp(fx.neg(fx.input(2))));
/** 0.5 * ((x - mu)^2 * exp(-logvar) + logvar) + 0.5 log(2 pi) of (x, mu, logvar). */
const PER_ELEMENT = fx.add(fx.mul(0.5, fx.add(SCALED, fx.input(2))), 0.5 * LOG_2PI);
/** 0.5 * (x - mu)^2 * exp(-logvar) of (x, mu, logvar). */
const ENERGY_PER_ELEMENT = fx.mul(0.5, SCALED);

/**
 * 0.5 * (log(2 pi) + logvar + (x - mu)^2 * exp(-logvar)) per element; x, mu and logvar broadcast.
 * `reduction` 'sum' or 'mean' reduces over the last (channel) axis, so a [N, D, H, W, C] map gives a
 * [N, D, H, W] map of per-voxel NLLs; 'none' keeps every element.
 */
export function gaussianNLL(x: Tensor, mu: Tensor, logvar: Tensor, reduction: ChannelReduction = 'sum'): Tensor {
  return perElementReduced(PER_ELEMENT, 'gaussianNLL', x, mu, logvar, reduction);
}

/**
 * 0.5 * (x - mu)^2 * exp(-logvar) per element: the NLL without its normalising terms (log(2 pi) and
 * the log-variance). Summed over channels it is half the squared Mahalanobis distance, which for data
 * the Gaussian fits follows the same chi-square law at every position, however wide the distribution
 * there. Broadcasting and `reduction` as gaussianNLL.
 */
export function gaussianEnergy(x: Tensor, mu: Tensor, logvar: Tensor, reduction: ChannelReduction = 'sum'): Tensor {
  return perElementReduced(ENERGY_PER_ELEMENT, 'gaussianEnergy', x, mu, logvar, reduction);
}

function perElementReduced(expr: FusedExpr, name: string, x: Tensor, mu: Tensor, logvar: Tensor, reduction: ChannelReduction): Tensor {
  let shape: number[];
  try {
    shape = broadcastShapes(x.shape, mu.shape, logvar.shape);
  } catch {
    throw new RangeError(`${name}: x ${shapeString(x.shape)}, mean ${shapeString(mu.shape)} and log-variance ${shapeString(logvar.shape)} do not broadcast`);
  }
  if (reduction !== 'none' && shape.length === 0) throw new RangeError(`${name}: a channel reduction needs at least one axis`);
  const perElement = fused(expr, [x, mu, logvar], name);
  if (reduction === 'none') return perElement;
  return reduction === 'sum' ? sum(perElement, -1) : mean(perElement, -1);
}
