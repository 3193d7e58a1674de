// Launcher for the fused AdamW update (shaders/adamw.wgsl): parameters, first and second moments
// updated in place over one range of flat arrays, optionally with gradients scaled by a device-side
// factor (gradient-norm clipping without a readback).
import source from '../../shaders/adamw.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { ELEMENTWISE_WORKGROUP } from './fill';

const codes = { plain: kernelSource(source), scaled: kernelSource(source, { SCALED: true }) };

export interface AdamWStepParams {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** The step being taken, counted from 1 (for the bias corrections). */
  step: number;
}

export interface AdamWBuffers {
  param: GPUBuffer;
  grad: GPUBuffer;
  m: GPUBuffer;
  v: GPUBuffer;
  /** One element: every gradient is multiplied by it first (the clip factor). */
  gradScale?: GPUBuffer;
}

/** Updates elements [first, first + n) of the four arrays. */
export function adamwStep(runtime: Runtime, buffers: AdamWBuffers, range: { first?: number; n: number }, p: AdamWStepParams): void {
  if (!Number.isInteger(p.step) || p.step < 1) throw new RangeError(`adamwStep: step must be an integer >= 1, got ${p.step}`);
  // Bias corrections in float64: for beta2 = 0.999, 1 - beta2^t is tiny in early steps.
  const stepSize = p.lr / (1 - p.beta1 ** p.step);
  const sqrtBias2 = Math.sqrt(1 - p.beta2 ** p.step);
  const scaled = buffers.gradScale !== undefined;
  runtime.dispatch({
    kernel: scaled ? 'adamw_scaled' : 'adamw',
    source: scaled ? codes.scaled : codes.plain,
    buffers: [buffers.param, buffers.grad, buffers.m, buffers.v, ...(scaled ? [buffers.gradScale!] : [])],
    uniforms: uniforms()
      .u32(range.first ?? 0, range.n)
      .f32(p.beta1, p.beta2, p.eps, 1 - p.lr * p.weightDecay, stepSize, sqrtBias2)
      .bytes(),
    workgroups: Math.ceil(range.n / ELEMENTWISE_WORKGROUP),
  });
}
