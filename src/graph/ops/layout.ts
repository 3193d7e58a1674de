// Layout ops that move elements without changing them: permute, transpose, slice, concat, pad. Each
// makes a contiguous copy with one strided-copy kernel per operand; their gradients are the same ops
// run the other way (permute back, pad a slice's gradient with zeros, slice a concat's gradient apart).
import { stridedCopy } from '../../kernels/copy';
import { record } from '../tape';
import { shapeString, stridesOf, Tensor } from '../tensor';
import { empty, full } from './create';

function axisIndex(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new RangeError(`${op}: axis ${axis} is out of range for rank ${rank}`);
  return a;
}

/** Reorders the axes: output axis i is input axis axes[i] (negative axes count from the end). */
export function permute(x: Tensor, axes: readonly number[]): Tensor {
  const order = axes.map((a) => axisIndex('permute', a, x.rank));
  if (order.length !== x.rank || new Set(order).size !== x.rank) {
    throw new RangeError(`permute: [${axes.join(', ')}] is not a permutation of the ${x.rank} axes of ${shapeString(x.shape)}`);
  }
  const shape = order.map((a) => x.shape[a]!);
  const strides = stridesOf(x.shape);
  const out = empty(x.runtime, shape, x.dtype);
  stridedCopy(x.runtime, shape, { buffer: x.buffer, offset: 0, strides: order.map((a) => strides[a]!) }, { buffer: out.buffer, offset: 0, strides: stridesOf(shape) });
  return record(out, 'permute', [x], (g) => {
    const inverse = new Array<number>(order.length);
    order.forEach((a, i) => (inverse[a] = i));
    return [permute(g, inverse)];
  });
}

/** Swaps two axes. */
export function transpose(x: Tensor, a: number, b: number): Tensor {
  const order = x.shape.map((_, i) => i);
  const i = axisIndex('transpose', a, x.rank);
  const j = axisIndex('transpose', b, x.rank);
  [order[i], order[j]] = [order[j]!, order[i]!];
  return permute(x, order);
}

/**
 * x[starts[0]:ends[0], starts[1]:ends[1], ...] with steps of 1. Axes past the given lists are kept
 * whole; negative bounds count from the end of their axis, as in Python.
 */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[]): Tensor {
  if (starts.length > x.rank || ends.length > x.rank) {
    throw new RangeError(`slice: ${starts.length} starts and ${ends.length} ends for ${shapeString(x.shape)}`);
  }
  const begin = x.shape.map((d, i) => {
    const s = starts[i] ?? 0;
    return s < 0 ? s + d : s;
  });
  const stop = x.shape.map((d, i) => {
    const e = ends[i] ?? d;
    return e < 0 ? e + d : e;
  });
  x.shape.forEach((d, i) => {
    if (!Number.isInteger(begin[i]) || !Number.isInteger(stop[i]) || begin[i]! < 0 || stop[i]! > d || begin[i]! > stop[i]!) {
      throw new RangeError(`slice: [${starts[i] ?? 0}, ${ends[i] ?? d}) on axis ${i} is outside ${shapeString(x.shape)}`);
    }
  });
  const shape = x.shape.map((_, i) => stop[i]! - begin[i]!);
  const strides = stridesOf(x.shape);
  const offset = begin.reduce((o, s, i) => o + s * strides[i]!, 0);
  const out = empty(x.runtime, shape, x.dtype);
  stridedCopy(x.runtime, shape, { buffer: x.buffer, offset, strides }, { buffer: out.buffer, offset: 0, strides: stridesOf(shape) });
  return record(out, 'slice', [x], (g) => [pad(g, x.shape.map((d, i) => [begin[i]!, d - stop[i]!] as [number, number]))]);
}

/** Joins tensors along `axis`; every other axis must agree. */
export function concat(tensors: readonly Tensor[], axis: number): Tensor {
  const first = tensors[0];
  if (!first) throw new RangeError('concat: no tensors given');
  const ax = axisIndex('concat', axis, first.rank);
  for (const t of tensors) {
    const agrees = t.rank === first.rank && t.shape.every((d, i) => i === ax || d === first.shape[i]);
    if (!agrees) throw new RangeError(`concat on axis ${ax}: ${shapeString(t.shape)} does not match ${shapeString(first.shape)}`);
    if (t.dtype !== first.dtype) throw new TypeError(`concat: dtypes differ (${t.dtype} and ${first.dtype})`);
  }
  const shape = [...first.shape];
  shape[ax] = tensors.reduce((s, t) => s + t.shape[ax]!, 0);
  const out = empty(first.runtime, shape, first.dtype);
  const outStrides = stridesOf(shape);
  const starts: number[] = [];
  let at = 0;
  for (const t of tensors) {
    starts.push(at);
    stridedCopy(t.runtime, t.shape, { buffer: t.buffer, offset: 0, strides: stridesOf(t.shape) }, { buffer: out.buffer, offset: at * outStrides[ax]!, strides: outStrides });
    at += t.shape[ax]!;
  }
  return record(out, 'concat', [...tensors], (g) =>
    tensors.map((t, i) => {
      if (!t.requiresGrad) return null;
      const begin = shape.map((_, d) => (d === ax ? starts[i]! : 0));
      const end = shape.map((n, d) => (d === ax ? starts[i]! + t.shape[ax]! : n));
      return slice(g, begin, end);
    }),
  );
}

/** Pads every axis with `padding[axis] = [before, after]` elements of `value` (f32 tensors). */
export function pad(x: Tensor, padding: readonly (readonly [number, number])[], value = 0): Tensor {
  if (x.dtype !== 'f32') throw new TypeError(`pad: needs an f32 tensor, got ${x.dtype}`);
  if (padding.length !== x.rank) throw new RangeError(`pad: ${padding.length} [before, after] pairs for the ${x.rank} axes of ${shapeString(x.shape)}`);
  for (const [before, after] of padding) {
    if (!Number.isInteger(before) || !Number.isInteger(after) || before < 0 || after < 0) {
      throw new RangeError(`pad: padding must be non-negative integers, got [${before}, ${after}]`);
    }
  }
  const shape = x.shape.map((d, i) => padding[i]![0] + d + padding[i]![1]);
  const out = full(x.runtime, shape, value);
  const outStrides = stridesOf(shape);
  const offset = padding.reduce((o, [before], i) => o + before * outStrides[i]!, 0);
  stridedCopy(x.runtime, x.shape, { buffer: x.buffer, offset: 0, strides: stridesOf(x.shape) }, { buffer: out.buffer, offset, strides: outStrides });
  return record(out, 'pad', [x], (g) =>
    [slice(g, padding.map(([before]) => before), padding.map(([before], i) => before + x.shape[i]!))],
  );
}
