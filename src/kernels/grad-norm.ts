// Launchers for gradient-norm clipping on the device (shaders/grad_norm.wgsl): partial sums of
// squares per gradient, the total norm and clip factor, and the in-place rescale.
import source from '../../shaders/grad_norm.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';

const WORKGROUP = 256;
// Enough workgroups to occupy a GPU, few enough that one workgroup can sum all partials.
const MAX_PARTIALS_PER_TENSOR = 64;

const codes = {
  partial: kernelSource(source, { PARTIAL: true }),
  finish: kernelSource(source, { FINISH: true }),
  scale: kernelSource(source, { SCALE: true }),
};

/** How many partial sums squaredSumPartials() writes for a tensor of n elements. */
export function partialCount(n: number): number {
  return Math.max(1, Math.min(MAX_PARTIALS_PER_TENSOR, Math.ceil(n / (WORKGROUP * 16))));
}

/** Writes partialCount(n) sums of squares of grad[start .. start + n) into partials[first ...]. */
export function squaredSumPartials(runtime: Runtime, grad: GPUBuffer, n: number, partials: GPUBuffer, first: number, start = 0): void {
  const workgroups = partialCount(n);
  runtime.dispatch({
    kernel: 'grad_norm_partial',
    source: codes.partial,
    buffers: [grad, partials],
    uniforms: uniforms().u32(n, first, workgroups).f32(0).u32(start).bytes(),
    workgroups,
  });
}

/** norm[0] = sqrt(sum of count partials); factor[0] = min(1, maxNorm / (norm + 1e-6)). */
export function finishNorm(runtime: Runtime, partials: GPUBuffer, count: number, maxNorm: number, norm: GPUBuffer, factor: GPUBuffer): void {
  runtime.dispatch({
    kernel: 'grad_norm_finish',
    source: codes.finish,
    buffers: [partials, norm, factor],
    uniforms: uniforms().u32(count, 0, 1).f32(maxNorm).u32(0).bytes(),
    workgroups: 1,
  });
}

/** grad[0 .. n) *= factor[0], in place. */
export function scaleByFactor(runtime: Runtime, grad: GPUBuffer, n: number, factor: GPUBuffer): void {
  runtime.dispatch({
    kernel: 'grad_norm_scale',
    source: codes.scale,
    buffers: [grad, factor],
    uniforms: uniforms().u32(n, 0, 0).f32(0).u32(0).bytes(),
    workgroups: Math.ceil(n / WORKGROUP),
  });
}
