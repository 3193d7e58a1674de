// Launchers for the direct (reference) 3-D convolution: forward, gradient with respect to the input
// (also the forward pass of a transposed convolution) and gradient with respect to the weights.
// Activations [N, D, H, W, C], weights [Cout, kD, kH, kW, Cin]; the geometry is checked by the caller
// (src/graph/ops/conv.ts) through conv3dGeometry().
import forwardSource from '../../shaders/conv3d_direct.wgsl';
import gradInputSource from '../../shaders/conv3d_direct_grad_input.wgsl';
import gradWeightSource from '../../shaders/conv3d_direct_grad_weight.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';

export type Triple = [number, number, number];

/** Everything that fixes the index arithmetic of one convolution. */
export interface Conv3dGeometry {
  batch: number;
  /** Input extents (D, H, W) and channels. */
  input: Triple;
  inChannels: number;
  /** Output extents (D, H, W) and channels. */
  output: Triple;
  outChannels: number;
  kernel: Triple;
  stride: Triple;
  padding: Triple;
}

/** Output extent along one axis: floor((in + 2p - k) / s) + 1. */
export function convOutputExtent(input: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((input + 2 * padding - kernel) / stride) + 1;
}

const WORKGROUP = 64;
const codes = {
  forward: kernelSource(forwardSource, {}),
  forwardBias: kernelSource(forwardSource, { BIAS: true }),
  gradInput: kernelSource(gradInputSource, {}),
  gradWeight: kernelSource(gradWeightSource, {}),
};

function pack(g: Conv3dGeometry, total: number): Uint8Array {
  return uniforms()
    .u32(total, g.batch)
    .vec4u(...g.input, g.inChannels)
    .vec4u(...g.output, g.outChannels)
    .vec4u(...g.kernel)
    .vec4u(...g.stride)
    .vec4i(...g.padding)
    .bytes();
}

const volume = (t: Triple) => t[0] * t[1] * t[2];

/** y = conv3d(x, w) + bias, with y of the geometry's output shape. */
export function conv3dForward(runtime: Runtime, g: Conv3dGeometry, x: GPUBuffer, w: GPUBuffer, bias: GPUBuffer | null, y: GPUBuffer): void {
  const total = g.batch * volume(g.output) * g.outChannels;
  runtime.dispatch({
    kernel: 'conv3d_direct',
    source: bias ? codes.forwardBias : codes.forward,
    buffers: bias ? [x, w, bias, y] : [x, w, y],
    uniforms: pack(g, total),
    workgroups: Math.ceil(total / WORKGROUP),
  });
}

/** dx = the gradient of conv3d with respect to its input, given dy (of the output's shape). */
export function conv3dGradInput(runtime: Runtime, g: Conv3dGeometry, dy: GPUBuffer, w: GPUBuffer, dx: GPUBuffer): void {
  const total = g.batch * volume(g.input) * g.inChannels;
  runtime.dispatch({
    kernel: 'conv3d_direct_grad_input',
    source: codes.gradInput,
    buffers: [dy, w, dx],
    uniforms: pack(g, total),
    workgroups: Math.ceil(total / WORKGROUP),
  });
}

/** dw = the gradient of conv3d with respect to its weights, given its input x and dy. */
export function conv3dGradWeight(runtime: Runtime, g: Conv3dGeometry, x: GPUBuffer, dy: GPUBuffer, dw: GPUBuffer): void {
  const total = g.outChannels * volume(g.kernel) * g.inChannels;
  runtime.dispatch({
    kernel: 'conv3d_direct_grad_weight',
    source: codes.gradWeight,
    buffers: [x, dy, dw],
    uniforms: pack(g, total),
    workgroups: Math.ceil(total / WORKGROUP),
  });
}
