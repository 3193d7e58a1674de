// Elementwise ops with broadcasting, activations, and their gradients.
import { binary, unary, unaryGrad, type BinaryOp, type UnaryOp } from '../../kernels/elementwise';
import { broadcastShapes, broadcastStrides } from '../broadcast';
import { record, registerGradHelpers } from '../tape';
import { sameShape, stridesOf, Tensor } from '../tensor';
import { empty, full, onesLike } from './create';
import { fused, fx, type FusedExpr } from './fused';
import { sumTo } from './sum-to';

type Operand = Tensor | number;

// ---- unary ---------------------------------------------------------------------------------------

function unaryOp(op: UnaryOp, x: Tensor, alpha = 0, beta = 0): Tensor {
  const out = empty(x.runtime, x.shape);
  unary(x.runtime, op, x.buffer, out.buffer, x.size, alpha, beta);
  return record(out, op, [x], (g) => {
    const dx = empty(x.runtime, x.shape);
    unaryGrad(x.runtime, op, x.buffer, g.buffer, dx.buffer, x.size, alpha, beta);
    return [dx];
  });
}

export const neg = (x: Tensor): Tensor => unaryOp('neg', x);
export const exp = (x: Tensor): Tensor => unaryOp('exp', x);
export const log = (x: Tensor): Tensor => unaryOp('log', x);
export const sqrt = (x: Tensor): Tensor => unaryOp('sqrt', x);
export const abs = (x: Tensor): Tensor => unaryOp('abs', x);
export const reciprocal = (x: Tensor): Tensor => unaryOp('reciprocal', x);
/** x^p for a scalar exponent p. */
export const pow = (x: Tensor, p: number): Tensor => unaryOp('pow', x, p);
export const square = (x: Tensor): Tensor => unaryOp('pow', x, 2);
/** a * x + b in one kernel. */
export const affine = (x: Tensor, a: number, b: number): Tensor => unaryOp('affine', x, a, b);
export const mulScalar = (x: Tensor, a: number): Tensor => unaryOp('affine', x, a, 0);
export const addScalar = (x: Tensor, b: number): Tensor => unaryOp('affine', x, 1, b);
export const clamp = (x: Tensor, min: number, max: number): Tensor => unaryOp('clamp', x, min, max);

export const relu = (x: Tensor): Tensor => unaryOp('relu', x);
export const leakyRelu = (x: Tensor, slope = 0.01): Tensor => unaryOp('leaky_relu', x, slope);
export const silu = (x: Tensor): Tensor => unaryOp('silu', x);
/** GELU with the exact (erf) form, as PyTorch's default. */
export const gelu = (x: Tensor): Tensor => unaryOp('gelu', x);
export const sigmoid = (x: Tensor): Tensor => unaryOp('sigmoid', x);
export const softplus = (x: Tensor): Tensor => unaryOp('softplus', x);
export const tanh = (x: Tensor): Tensor => unaryOp('tanh', x);

// ---- binary --------------------------------------------------------------------------------------

function asTensor(value: Operand, like: Tensor): Tensor {
  return typeof value === 'number' ? full(like.runtime, [], value) : value;
}

/** Runs a broadcasting kernel without recording it. */
function broadcastKernel(op: BinaryOp, a: Tensor, b: Tensor, c?: Tensor): Tensor {
  const shape = broadcastShapes(a.shape, b.shape, ...(c ? [c.shape] : []));
  const out = empty(a.runtime, shape);
  const operand = (t: Tensor) => ({ buffer: t.buffer, strides: broadcastStrides(t.shape, shape) });
  binary(a.runtime, op, shape, operand(a), operand(b), out.buffer, c ? operand(c) : undefined);
  return out;
}

export function add(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return addScalar(a, b);
  const out = broadcastKernel('add', a, b);
  return record(out, 'add', [a, b], (g) => [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? sumTo(g, b.shape) : null]);
}

export function sub(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return addScalar(a, -b);
  const out = broadcastKernel('sub', a, b);
  return record(out, 'sub', [a, b], (g) => [a.requiresGrad ? sumTo(g, a.shape) : null, b.requiresGrad ? sumTo(g, b.shape, -1) : null]);
}

export function mul(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return mulScalar(a, b);
  const out = broadcastKernel('mul', a, b);
  return record(out, 'mul', [a, b], (g) => [
    a.requiresGrad ? sumTo(mul(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(mul(g, a), b.shape) : null,
  ]);
}

/** -(g * (a / b)) / b of (g, a / b, b): the gradient of a / b with respect to b. */
const DIVISOR_GRAD = fx.neg(fx.div(fx.mul(fx.input(0), fx.input(1)), fx.input(2)));

export function div(a: Tensor, b: Operand): Tensor {
  if (typeof b === 'number') return mulScalar(a, 1 / b);
  const out = broadcastKernel('div', a, b);
  return record(out, 'div', [a, b], (g) => [
    a.requiresGrad ? sumTo(div(g, b), a.shape) : null,
    b.requiresGrad ? sumTo(fused(DIVISOR_GRAD, [g, out, b], 'divGrad'), b.shape) : null,
  ]);
}

/** cond ? a : b elementwise, with cond nonzero meaning true; all three broadcast. */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const ta = asTensor(a, cond);
  const tb = asTensor(b, cond);
  const out = broadcastKernel('where', ta, tb, cond);
  return record(out, 'where', [ta, tb], (g) => {
    const zero = full(g.runtime, [], 0);
    return [
      ta.requiresGrad ? sumTo(broadcastKernel('where', g, zero, cond), ta.shape) : null,
      tb.requiresGrad ? sumTo(broadcastKernel('where', zero, g, cond), tb.shape) : null,
    ];
  });
}

/** 1 where a > b, else 0; no gradient. */
export const greaterMask = (a: Tensor, b: Operand): Tensor => broadcastKernel('greater', a, asTensor(b, a));
/** 1 where a >= b, else 0; no gradient. */
export const greaterEqualMask = (a: Tensor, b: Operand): Tensor => broadcastKernel('greater_equal', a, asTensor(b, a));

/** x broadcast (copied) to `shape`. */
export function expandTo(x: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(x.shape, shape)) return x;
  const target = broadcastShapes(x.shape, shape);
  const out = empty(x.runtime, target);
  binary(x.runtime, 'left', target, { buffer: x.buffer, strides: broadcastStrides(x.shape, target) }, { buffer: x.buffer, strides: target.map(() => 0) }, out.buffer);
  return record(out, 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

/** A contiguous copy (the gradient flows through unchanged). */
export function copy(x: Tensor): Tensor {
  const out = empty(x.runtime, x.shape);
  binary(x.runtime, 'left', x.shape, { buffer: x.buffer, strides: stridesOf(x.shape) }, { buffer: x.buffer, strides: x.shape.map(() => 0) }, out.buffer);
  return record(out, 'copy', [x], (g) => [g]);
}

/**
 * ((t0 + t1) + t2) + ... of same-shape tensors, in as few kernels as the adapter's storage-buffer limit
 * allows (the tape sums the gradients of a tensor used several times with it).
 */
export function sumAll(tensors: Tensor[]): Tensor {
  if (tensors.length === 0) throw new RangeError('sumAll: no tensors');
  const perKernel = tensors[0]!.runtime.limits.maxStorageBuffersPerShaderStage - 1;
  let total = tensors[0]!;
  for (let from = 1; from < tensors.length; from += perKernel - 1) {
    const group = [total, ...tensors.slice(from, from + perKernel - 1)];
    const chain = group.slice(1).reduce<FusedExpr>((acc, _, i) => fx.add(acc, fx.input(i + 1)), fx.input(0));
    total = group.length === 2 ? add(group[0]!, group[1]!) : fused(chain, group, 'sumAll');
  }
  return total;
}

registerGradHelpers(sumAll, onesLike);
