// Gradient-norm clipping (torch.nn.utils.clip_grad_norm_ with the 2-norm): the total norm over every
// gradient and the factor min(1, maxNorm / (norm + 1e-6)) are computed on the device and the gradients
// rescaled in place, so a training step needs no readback. The gradients are gathered into one arena
// first, so that the norm and the rescale are one dispatch each whatever the number of parameters.
// AdamW.step({ maxGradNorm }) does the same inside the optimiser's own arena, without the copies back.
import { scaleByFactor } from '../../kernels/grad-norm';
import type { Tensor } from '../tensor';
import { ArenaLayout, arenaNormAndFactor, checkMaxNorm } from './arena';
import { namedEntries, type ParameterList } from './params';

/**
 * Rescales the gradients so that their joint 2-norm is at most maxNorm; returns the norm before
 * clipping as a one-element tensor (still on the device). Parameters without a gradient are skipped.
 * A gradient tensor shared by several parameters counts once per parameter but is scaled once.
 */
export function clipGradNorm(params: ParameterList, maxNorm: number): Tensor {
  checkMaxNorm(maxNorm);
  const grads = namedEntries(params)
    .map(([, p]) => p.grad)
    .filter((g): g is Tensor => g !== null);
  if (grads.length === 0) throw new Error('clipGradNorm: no parameter has a gradient');
  const runtime = grads[0]!.runtime;
  const layout = new ArenaLayout(grads.map((g) => g.size));
  const arena = layout.allocate(runtime, 'clip arena');
  layout.gather(arena, grads);
  const { norm, factor } = arenaNormAndFactor(runtime, arena, [{ first: 0, n: layout.size }], maxNorm);
  if (Number.isFinite(maxNorm)) {
    scaleByFactor(runtime, arena, layout.size, factor.buffer);
    // A shared gradient gets the same scaled values written back once per parameter.
    layout.scatter(arena, grads);
  }
  runtime.release(arena);
  factor.dispose();
  return norm;
}

/** The joint 2-norm of the gradients, without changing them. */
export function gradNorm(params: ParameterList): Tensor {
  return clipGradNorm(params, Infinity);
}
