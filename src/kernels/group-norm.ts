// Launchers for group normalisation of channels-last x [N, S, C] (S = product of the spatial extents):
// statistics per (sample, group), the normalise-and-affine pass, and the backward kernels.
import source from '../../shaders/group_norm.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { derivative, FUSED_HELPERS, unaryFunction, type FusedExpr } from './fused-expression';

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
type Variant = 'stats' | 'apply' | 'gradStats' | 'gradInput' | 'gradAffine';
const variantDefines: Record<Variant, Record<string, boolean>> = {
  stats: { STATS: true, GROUP_STATS: true },
  apply: {},
  gradStats: { GRAD_STATS: true, GRAD: true, GROUP_STATS: true },
  gradInput: { GRAD_INPUT: true, GRAD: true },
  gradAffine: { GRAD_AFFINE: true, GRAD: true },
};
const codes = new Map<string, string>();

/**
 * The kernel text of a variant, with `activation` (an expression of fx.input(0)) fused after the
 * affine: its function and its derivative's are generated and put before the shader.
 */
function code(variant: Variant, activation?: FusedExpr, vec4 = false): string {
  const key = `${variant}:${activation?.key ?? ''}${vec4 ? ':vec4' : ''}`;
  let text = codes.get(key);
  if (!text) {
    const fused = activation
      ? `${FUSED_HELPERS}${unaryFunction('activation', activation)}${unaryFunction('activation_grad', derivative(activation, 0))}`
      : '';
    text = kernelSource(fused + source, { ...variantDefines[variant], ACTIVATION: Boolean(activation), VEC4: vec4 });
    codes.set(key, text);
  }
  return text;
}

/**
 * An activation fused after the affine (see shaders/group_norm.wgsl): the gradient kernels recompute
 * its input from x, gamma and beta.
 */
export interface GroupNormEpilogue {
  activation: FusedExpr;
  gamma: GPUBuffer;
  beta: GPUBuffer;
}

function pack(g: GroupNormGeometry): Uint8Array {
  return uniforms()
    .u32(g.batch * g.spatial * g.channels, g.batch, g.spatial, g.channels, g.groups, g.channels / g.groups)
    .f32(g.eps)
    .bytes();
}

/** The per-element kernels take four channels at a time when the channel count allows it. */
const elementsInVec4s = (g: GroupNormGeometry) => g.channels % 4 === 0;
const elementGroups = (g: GroupNormGeometry) => Math.ceil((g.batch * g.spatial * g.channels) / (elementsInVec4s(g) ? 4 : 1) / WORKGROUP);
const vec4Suffix = (g: GroupNormGeometry) => (elementsInVec4s(g) ? ' (vec4)' : '');

/**
 * y = (x - mean) / sqrt(var + eps) * gamma + beta, then `activation` of it where given;
 * `stats` holds FORWARD_STATS floats per (n, g).
 */
export function groupNormForward(
  runtime: Runtime, g: GroupNormGeometry, x: GPUBuffer, gamma: GPUBuffer, beta: GPUBuffer, stats: GPUBuffer, y: GPUBuffer, activation?: FusedExpr,
): void {
  const u = pack(g);
  runtime.dispatch({ kernel: 'group_norm_stats', source: code('stats'), buffers: [x, stats], uniforms: u, workgroups: g.batch * g.groups });
  runtime.dispatch({
    kernel: `${activation ? 'group_norm_activation' : 'group_norm'}${vec4Suffix(g)}`,
    source: code('apply', activation, elementsInVec4s(g)),
    buffers: [x, gamma, beta, stats, y],
    uniforms: u,
    workgroups: elementGroups(g),
  });
}

/**
 * Fills `stats` (BACKWARD_STATS floats per (n, g)) for groupNormGradInput and groupNormGradAffine.
 * With an epilogue, dy is the gradient at the activation's output.
 */
export function groupNormGradStats(
  runtime: Runtime, g: GroupNormGeometry, x: GPUBuffer, dy: GPUBuffer, gamma: GPUBuffer, stats: GPUBuffer, epilogue?: GroupNormEpilogue,
): void {
  runtime.dispatch({
    kernel: 'group_norm_grad_stats',
    source: code('gradStats', epilogue?.activation),
    buffers: [x, dy, gamma, stats, ...(epilogue ? [epilogue.beta] : [])],
    uniforms: pack(g),
    workgroups: g.batch * g.groups,
  });
}

export function groupNormGradInput(
  runtime: Runtime, g: GroupNormGeometry, x: GPUBuffer, dy: GPUBuffer, gamma: GPUBuffer, stats: GPUBuffer, dx: GPUBuffer, epilogue?: GroupNormEpilogue,
): void {
  runtime.dispatch({
    kernel: `group_norm_grad_input${vec4Suffix(g)}`,
    source: code('gradInput', epilogue?.activation, elementsInVec4s(g)),
    buffers: [x, dy, gamma, stats, dx, ...(epilogue ? [epilogue.beta] : [])],
    uniforms: pack(g),
    workgroups: elementGroups(g),
  });
}

export function groupNormGradAffine(
  runtime: Runtime, g: GroupNormGeometry, x: GPUBuffer, dy: GPUBuffer, stats: GPUBuffer, dgamma: GPUBuffer, dbeta: GPUBuffer, epilogue?: GroupNormEpilogue,
): void {
  runtime.dispatch({
    kernel: 'group_norm_grad_affine',
    source: code('gradAffine', epilogue?.activation),
    buffers: [x, dy, stats, dgamma, dbeta, ...(epilogue ? [epilogue.gamma, epilogue.beta] : [])],
    uniforms: pack(g),
    workgroups: g.channels,
  });
}
