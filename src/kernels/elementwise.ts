// Launchers for elementwise kernels: unary functions and their derivatives, and broadcasting binary
// operations. Buffers in, buffers out; shapes are checked by the caller (src/graph/ops).
import binarySource from '../../shaders/binary.wgsl';
import unarySource from '../../shaders/unary.wgsl';
import unaryGradSource from '../../shaders/unary_grad.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms, type Uniforms } from '../gpu/uniforms';
import { collapseAxes, inVec4s } from './axes';
import { ELEMENTWISE_WORKGROUP } from './fill';

export type UnaryOp =
  | 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'affine' | 'pow' | 'clamp' | 'relu' | 'leaky_relu'
  | 'silu' | 'gelu' | 'sigmoid' | 'softplus' | 'tanh' | 'reciprocal';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'maximum' | 'minimum' | 'greater' | 'greater_equal' | 'left' | 'where';

export const MAX_RANK = 8;

const compiled = new Map<string, string>();
function compile(source: string, family: string, op: string, vec4 = false): string {
  const key = `${family}:${op}${vec4 ? ':vec4' : ''}`;
  let code = compiled.get(key);
  if (!code) compiled.set(key, (code = kernelSource(source, { [op.toUpperCase()]: true, VEC4: vec4 })));
  return code;
}

export function unary(runtime: Runtime, op: UnaryOp, x: GPUBuffer, y: GPUBuffer, n: number, alpha = 0, beta = 0): void {
  runtime.dispatch({
    kernel: `unary_${op}`,
    source: compile(unarySource, 'unary', op),
    buffers: [x, y],
    uniforms: uniforms().u32(n).f32(alpha, beta).bytes(),
    workgroups: Math.ceil(n / ELEMENTWISE_WORKGROUP),
  });
}

export function unaryGrad(runtime: Runtime, op: UnaryOp, x: GPUBuffer, dy: GPUBuffer, dx: GPUBuffer, n: number, alpha = 0, beta = 0): void {
  runtime.dispatch({
    kernel: `unary_grad_${op}`,
    source: compile(unaryGradSource, 'unary_grad', op),
    buffers: [x, dy, dx],
    uniforms: uniforms().u32(n).f32(alpha, beta).bytes(),
    workgroups: Math.ceil(n / ELEMENTWISE_WORKGROUP),
  });
}

function vec8(u: Uniforms, values: readonly number[]): void {
  const padded = [...values, 0, 0, 0, 0, 0, 0, 0, 0].slice(0, MAX_RANK);
  u.vec4u(...padded.slice(0, 4)).vec4u(...padded.slice(4));
}

/**
 * out[shape] = a op b (op = where: cond ? a : b, cond given as `c`). Each operand comes with strides over
 * the output's axes: 0 where it is broadcast.
 */
export function binary(
  runtime: Runtime,
  op: BinaryOp,
  shape: readonly number[],
  a: { buffer: GPUBuffer; strides: number[] },
  b: { buffer: GPUBuffer; strides: number[] },
  out: GPUBuffer,
  c?: { buffer: GPUBuffer; strides: number[] },
): void {
  if (shape.length > MAX_RANK) throw new RangeError(`elementwise ops support rank up to ${MAX_RANK}, got ${shape.length}`);
  if ((op === 'where') !== Boolean(c)) throw new Error('binary: "where" takes a condition operand, the others do not');
  const n = shape.reduce((p, d) => p * d, 1);
  const operands = c ? [a, b, c] : [a, b];
  const merged = collapseAxes(shape, operands.map((o) => o.strides));
  // Four elements at a time where every operand allows it (same-shape and per-channel operands do).
  const vec4 = inVec4s(merged);
  const view = vec4 ?? merged;
  const count = vec4 ? n / 4 : n;
  const u = uniforms().u32(count);
  vec8(u, view.shape);
  for (const strides of view.strides) vec8(u, strides);
  if (!c) vec8(u, []);
  runtime.dispatch({
    kernel: `binary_${op}${vec4 ? ' (vec4)' : ''}`,
    source: compile(binarySource, 'binary', op, vec4 !== null),
    constants: { RANK: view.shape.length },
    buffers: c ? [a.buffer, b.buffer, c.buffer, out] : [a.buffer, b.buffer, out],
    uniforms: u.bytes(),
    workgroups: Math.ceil(count / ELEMENTWISE_WORKGROUP),
  });
}

export { vec8 as packShape8 };
