// Launcher for the fused AdamW update (shaders/adamw.wgsl): parameter, first and second moments
// updated in place, one dispatch per parameter tensor.
import source from '../../shaders/adamw.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { ELEMENTWISE_WORKGROUP } from './fill';

const code = kernelSource(source);

export interface AdamWStepParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** The step being taken, counted from 1 (for the bias corrections). */
  step: number;
}

export function adamwStep(
  runtime: Runtime,
  buffers: { param: GPUBuffer; grad: GPUBuffer; m: GPUBuffer; v: GPUBuffer },
  n: number,
  p: AdamWStepParams,
): void {
  if (!Number.isInteger(p.step) || p.step < 1) throw new RangeError(`adamwStep: step must be an integer >= 1, got ${p.step}`);
  // Bias corrections in float64: for beta2 = 0.999, 1 - beta2^t is tiny in early steps.
  const stepSize = p.lr / (1 - p.beta1 ** p.step);
  const sqrtBias2 = Math.sqrt(1 - p.beta2 ** p.step);
  runtime.dispatch({
    kernel: 'adamw',
    source: code,
    buffers: [buffers.param, buffers.grad, buffers.m, buffers.v],
    uniforms: uniforms().u32(n).f32(p.beta1, p.beta2, p.eps, 1 - p.lr * p.weightDecay, stepSize, sqrtBias2).bytes(),
    workgroups: Math.ceil(n / ELEMENTWISE_WORKGROUP),
  });
}
