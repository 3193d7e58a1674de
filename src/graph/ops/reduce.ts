// Reductions over axes: sum, mean, max, logsumexp, variance. `keepDims` keeps reduced axes as size 1.
import { reduce as reduceKernel, type ReduceOp } from '../../kernels/reduce';
import { record } from '../tape';
import { shapeString, Tensor } from '../tensor';
import { empty } from './create';
import { reshape } from './shape';
import { div, mul, expandTo, greaterEqualMask } from './elementwise';
import { fused, fx } from './fused';

export type Axes = number | readonly number[] | undefined;

function normaliseAxes(x: Tensor, axes: Axes): number[] {
  const list = axes === undefined ? x.shape.map((_, i) => i) : typeof axes === 'number' ? [axes] : [...axes];
  const out = list.map((a) => (a < 0 ? a + x.rank : a));
  for (const a of out) if (a < 0 || a >= x.rank) throw new RangeError(`axis ${a} is out of range for shape ${shapeString(x.shape)}`);
  return [...new Set(out)].sort((a, b) => a - b);
}

function reducedShape(x: Tensor, axes: number[], keepDims: boolean): number[] {
  return keepDims ? x.shape.map((d, i) => (axes.includes(i) ? 1 : d)) : x.shape.filter((_, i) => !axes.includes(i));
}

function launch(x: Tensor, op: ReduceOp, axes: number[], keepDims: boolean, scale = 1): Tensor {
  const out = empty(x.runtime, reducedShape(x, axes, keepDims));
  reduceKernel(x.runtime, op, x.buffer, x.shape, axes, out.buffer, scale);
  return out;
}

export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  return scaledSum(x, axes, keepDims, 1);
}

/**
 * scale * sum over axes, in one kernel; its gradient, the output's broadcast back and scaled, is one
 * kernel too.
 */
export function scaledSum(x: Tensor, axes: Axes, keepDims: boolean, scale: number, name = scale === 1 ? 'sum' : 'scaledSum'): Tensor {
  const list = normaliseAxes(x, axes);
  const out = launch(x, 'sum', list, keepDims, scale);
  return record(out, name, [x], (g) => {
    const kept = reshape(g, reducedShape(x, list, true));
    return [scale === 1 ? expandTo(kept, x.shape) : fused(fx.mul(fx.input(0), scale), [kept], 'scaledBroadcast', x.shape)];
  });
}

export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const list = normaliseAxes(x, axes);
  const count = list.reduce((p, a) => p * x.shape[a]!, 1);
  return scaledSum(x, list, keepDims, 1 / count, 'mean');
}

/** Maximum over axes; the gradient goes to every element equal to the maximum (ties share it). */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const list = normaliseAxes(x, axes);
  const out = launch(x, 'max', list, keepDims);
  return record(out, 'max', [x], (g) => {
    const kept = reshape(out, reducedShape(x, list, true));
    const mask = greaterEqualMask(x, kept); // 1 where x is the maximum
    const ties = sum(mask, list, true);
    return [div(mul(mask, expandTo(reshape(g, reducedShape(x, list, true)), x.shape)), ties)];
  });
}

export function logsumexp(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const list = normaliseAxes(x, axes);
  const out = launch(x, 'logsumexp', list, keepDims);
  return record(out, 'logsumexp', [x], (g) => {
    const kept = reshape(out, reducedShape(x, list, true));
    // softmax(x) * g = exp(x - logsumexp) * g
    return [fused(fx.mul(fx.exp(fx.sub(fx.input(0), fx.input(1))), fx.input(2)), [x, kept, reshape(g, reducedShape(x, list, true))], 'logsumexpGrad')];
  });
}

/**
 * Variance as the sum of squared deviations from the mean divided by count - correction: the
 * population variance with correction 0 (the default), the unbiased sample variance with 1. The
 * divisor is never below 1, so a single element has variance 0 whatever the correction.
 */
export function variance(x: Tensor, axes?: Axes, keepDims = false, correction = 0): Tensor {
  const list = normaliseAxes(x, axes);
  const count = list.reduce((p, a) => p * x.shape[a]!, 1);
  const squaredDeviation = fused(fx.square(fx.sub(fx.input(0), fx.input(1))), [x, mean(x, list, true)], 'squaredDeviation');
  return scaledSum(squaredDeviation, list, keepDims, 1 / Math.max(count - correction, 1), 'variance');
}
