// Gradient-norm clipping (torch.nn.utils.clip_grad_norm_ with the 2-norm): the total norm over every
// gradient and the factor min(1, maxNorm / (norm + 1e-6)) are computed on the device and the gradients
// rescaled in place, so a training step needs no readback.
import { finishNorm, partialCount, scaleByFactor, squaredSumPartials } from '../../kernels/grad-norm';
import { empty } from '../ops/create';
import type { Tensor } from '../tensor';
import { namedEntries, type ParameterList } from './params';

function gradients(params: ParameterList): Tensor[] {
  return namedEntries(params)
    .map(([, p]) => p.grad)
    .filter((g): g is Tensor => g !== null);
}

/**
 * Rescales the gradients so that their joint 2-norm is at most maxNorm; returns the norm before
 * clipping as a one-element tensor (still on the device). Parameters without a gradient are skipped.
 * A gradient tensor shared by several parameters counts once per parameter but is scaled once.
 */
export function clipGradNorm(params: ParameterList, maxNorm: number): Tensor {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be positive, got ${maxNorm}`);
  const grads = gradients(params);
  if (grads.length === 0) throw new Error('clipGradNorm: no parameter has a gradient');
  const runtime = grads[0]!.runtime;
  const total = grads.reduce((n, g) => n + partialCount(g.size), 0);
  const partials = empty(runtime, [total]);
  const norm = empty(runtime, [1]);
  const factor = empty(runtime, [1]);
  let first = 0;
  for (const g of grads) {
    squaredSumPartials(runtime, g.buffer, g.size, partials.buffer, first);
    first += partialCount(g.size);
  }
  // An infinite maxNorm only measures; the kernel's uniforms take finite values.
  finishNorm(runtime, partials.buffer, total, Number.isFinite(maxNorm) ? maxNorm : 3.4e38, norm.buffer, factor.buffer);
  if (Number.isFinite(maxNorm)) {
    const scaled = new Set<GPUBuffer>();
    for (const g of grads) {
      if (scaled.has(g.buffer)) continue;
      scaled.add(g.buffer);
      scaleByFactor(runtime, g.buffer, g.size, factor.buffer);
    }
  }
  partials.dispose();
  factor.dispose();
  return norm;
}

/** The joint 2-norm of the gradients, without changing them. */
export function gradNorm(params: ParameterList): Tensor {
  return clipGradNorm(params, Infinity);
}
