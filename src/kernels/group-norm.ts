// Launchers for group normalisation of channels-last x [N, S, C] (S = product of the spatial extents):
// statistics per (sample, group), the normalise-and-affine pass, and the backward kernels.
import source from '../../shaders/group_norm.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';

export interface GroupNormGeometry {
  batch: number;
  spatial: number;
  channels: number;
  groups: number;
  eps: number;
}

/** Floats per (sample, group) in the forward statistics buffer (mean, 1/std). */
export const FORWARD_STATS = 2;
/** Floats per (sample, group) in the backward statistics buffer (mean, 1/std, mean(dx_hat), mean(dx_hat x_hat)). */
export const BACKWARD_STATS = 4;

const WORKGROUP = 64;
const codes = {
  stats: kernelSource(source, { STATS: true }),
  apply: kernelSource(source, {}),
  gradStats: kernelSource(source, { GRAD_STATS: true }),
  gradInput: kernelSource(source, { GRAD_INPUT: true }),
  gradAffine: kernelSource(source, { GRAD_AFFINE: true }),
};

function pack(g: GroupNormGeometry): Uint8Array {
  return uniforms()
    .u32(g.batch * g.spatial * g.channels, g.batch, g.spatial, g.channels, g.groups, g.channels / g.groups)
    .f32(g.eps)
    .bytes();
}

const elementGroups = (g: GroupNormGeometry) => Math.ceil((g.batch * g.spatial * g.channels) / WORKGROUP);

/** y = (x - mean) / sqrt(var + eps) * gamma + beta; `stats` holds FORWARD_STATS floats per (n, g). */
export function groupNormForward(runtime: Runtime, g: GroupNormGeometry, x: GPUBuffer, gamma: GPUBuffer, beta: GPUBuffer, stats: GPUBuffer, y: GPUBuffer): void {
  const u = pack(g);
  runtime.dispatch({ kernel: 'group_norm_stats', source: codes.stats, buffers: [x, stats], uniforms: u, workgroups: g.batch * g.groups });
  runtime.dispatch({ kernel: 'group_norm', source: codes.apply, buffers: [x, gamma, beta, stats, y], uniforms: u, workgroups: elementGroups(g) });
}

/** Fills `stats` (BACKWARD_STATS floats per (n, g)) for groupNormGradInput and groupNormGradAffine. */
export function groupNormGradStats(runtime: Runtime, g: GroupNormGeometry, x: GPUBuffer, dy: GPUBuffer, gamma: GPUBuffer, stats: GPUBuffer): void {
  runtime.dispatch({ kernel: 'group_norm_grad_stats', source: codes.gradStats, buffers: [x, dy, gamma, stats], uniforms: pack(g), workgroups: g.batch * g.groups });
}

export function groupNormGradInput(runtime: Runtime, g: GroupNormGeometry, x: GPUBuffer, dy: GPUBuffer, gamma: GPUBuffer, stats: GPUBuffer, dx: GPUBuffer): void {
  runtime.dispatch({ kernel: 'group_norm_grad_input', source: codes.gradInput, buffers: [x, dy, gamma, stats, dx], uniforms: pack(g), workgroups: elementGroups(g) });
}

export function groupNormGradAffine(runtime: Runtime, g: GroupNormGeometry, x: GPUBuffer, dy: GPUBuffer, stats: GPUBuffer, dgamma: GPUBuffer, dbeta: GPUBuffer): void {
  runtime.dispatch({ kernel: 'group_norm_grad_affine', source: codes.gradAffine, buffers: [x, dy, stats, dgamma, dbeta], uniforms: pack(g), workgroups: g.channels });
}
